// Restores one image with m-rBCR and saves the result as a TIFF (32-bit float, in the
// input's intensity units). The model file is optional: without one, the default model
// bundled with the plugin restores the image.
//
//   ImageJ-linux64 --headless -batch deconvolve.ijm "/data/cells.tif,/data/cells-mrbcr.tif"
//   ImageJ-linux64 --headless -batch deconvolve.ijm "/data/cells.tif,/data/cells-mrbcr.tif,/models/m-rBCR-official.safetensors"
//
// Interactively: open an image, then Plugins > Deconvolution > m-rBCR > Deconvolve (m-rBCR);
// Plugins > Macros > Record... shows the run(...) line the dialog makes.
//
// Each step is checked: a missing or unreadable input, an RGB image, a failed
// restoration (Java out of memory, a model the library refuses, ...) or a failed write
// stops the macro with the reason, and the input is never saved in place of a result.
// Run from the command line (-batch, without ImageJ's window), ImageJ then exits with
// status 1 (ImageJ itself exits with 0 whatever a macro met), so scripts can tell.
arguments = split(getArgument(), ",");
if (arguments.length != 2 && arguments.length != 3)
    fail("usage: -batch deconvolve.ijm input.tif,output.tif[,model.safetensors]");
input = arguments[0];
output = arguments[1];
// model=[file] chooses a model file; without model= (or with model=[]) the bundled one runs.
model = "";
if (arguments.length == 3)
    model = "model=[" + arguments[2] + "] ";
if (!File.exists(input))
    fail(input + ": no such file");
// ImageJ saves TIFFs with a .tif (or .tiff) extension.
if (!endsWith(output, ".tif") && !endsWith(output, ".tiff"))
    output = output + ".tif";
if (output == input)
    fail("the output " + output + " is the input");

setBatchMode(true);
// IJ.redirectErrorMessages(): an error goes to the log and the macro goes on, so that
// each step's outcome is checked here.
IJ.redirectErrorMessages();
open(input);
if (nImages != 1)
    fail(input + ": ImageJ cannot open it as one image (the reason is above)");
if (bitDepth() == 24)
    fail(input + " is an RGB colour image; m-rBCR restores 8-, 16- and 32-bit grayscale images (split the channels first)");
raw = getImageID();
IJ.redirectErrorMessages();
run("Deconvolve (m-rBCR)", model + "normalization=percentile low=1 high=99.8 tile=512 overlap=128 threads=0 output=[32-bit float]");
// The result is a new image, current, named <title>-mrbcr, in 32-bit; anything else (the
// input still current after an error) is not saved.
if (nImages != 2 || getImageID() == raw || !endsWith(getTitle(), "-mrbcr") || bitDepth() != 32)
    fail(input + ": no result (the reason is above); nothing saved");
if (File.exists(output))
    File.delete(output);
IJ.redirectErrorMessages();
saveAs("Tiff", output);
if (!File.exists(output))
    fail("cannot write " + output);
print("m-rBCR: " + input + " -> " + output);

// Stops the macro after a failure. Without ImageJ's window (ImageJ -batch, where ImageJ
// exits with status 0 after any macro) the JVM exits with status 1; otherwise the message
// is shown.
function fail(message) {
    print("m-rBCR: error: " + message);
    if (noWindow())
        call("java.lang.System.exit", "1");
    exit("m-rBCR: " + message);
}

// True without ImageJ's window (ImageJ -batch): nobody could answer a dialog.
function noWindow() {
    window = "" + call("ij.IJ.getInstance");
    if (window == "null")
        return true;
    return false;
}
