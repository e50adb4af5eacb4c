// Restores every TIFF of a folder with m-rBCR, one after the other, and saves each result
// as <name>-mrbcr.tif in the output folder (32-bit float, in the input's intensity units;
// every channel, slice and frame of a stack or hyperstack). The model is a model file
// given as the third argument, here the authors' published weights:
//
//   ImageJ-linux64 --headless -batch batch_folder.ijm "/data/raw,/data/restored,/models/m-rBCR-official.safetensors"
//
// or, without it, the default model bundled with the plugin:
//
//   ImageJ-linux64 --headless -batch batch_folder.ijm "/data/raw,/data/restored"
//
// Without arguments (from Plugins > Macros > Run...), it asks for the two folders and the
// model file (leave it empty for the bundled model).
//
// Every result is checked before it is saved. An image m-rBCR does not restore (RGB
// colour) is skipped, with the reason in the log. An image that ImageJ cannot open or
// whose restoration fails (Java out of memory, a model the library refuses, ...) is
// logged and left out, never saved in its place, and the batch goes on with the next
// one; at the end the macro stops with an error naming how many failed. Run from the
// command line (-batch, without ImageJ's window), that error ends ImageJ with exit
// status 1 (ImageJ itself exits with 0 whatever a macro met), so scripts can tell.
arguments = split(getArgument(), ",");
if (arguments.length == 2 || arguments.length == 3) {
    input = arguments[0];
    output = arguments[1];
    model = "";
    if (arguments.length == 3)
        model = arguments[2];
} else if (noWindow()) {
    // A dialog here would wait forever for a click.
    fail("usage: -batch batch_folder.ijm input-folder,output-folder[,model.safetensors]");
} else {
    Dialog.create("m-rBCR: restore a folder");
    Dialog.addDirectory("Folder of images to restore", "");
    Dialog.addDirectory("Folder for the results", "");
    Dialog.addFile("Model file (empty: the bundled default model)", "");
    Dialog.show();
    input = Dialog.getString();
    output = Dialog.getString();
    model = Dialog.getString();
}
if (!File.isDirectory(input))
    fail("the input folder " + input + " is not a folder");
if (!File.isDirectory(output))
    fail("the output folder " + output + " is not a folder");
if (model != "" && !File.exists(model))
    fail("the model file " + model + " does not exist");

setBatchMode(true);
files = getFileList(input);
restored = 0;
skipped = 0;
failed = 0;
for (i = 0; i < files.length; i++) {
    name = toLowerCase(files[i]);
    if (!endsWith(name, ".tif") && !endsWith(name, ".tiff"))
        continue;
    close("*");
    // IJ.redirectErrorMessages(): an error goes to the log and the macro goes on, so
    // that each step's outcome is checked here.
    IJ.redirectErrorMessages();
    open(input + File.separator + files[i]);
    if (nImages != 1) {
        print("m-rBCR: FAILED " + files[i] + ": ImageJ cannot open it as one image (the reason is above)");
        failed++;
        continue;
    }
    if (bitDepth() == 24) {
        print("m-rBCR: skipped " + files[i] + ": an RGB colour image; m-rBCR restores 8-, 16- and 32-bit grayscale images (split the channels first)");
        skipped++;
        continue;
    }
    raw = getImageID();
    IJ.redirectErrorMessages();
    // model=[] is the bundled model, as no model= at all.
    run("Deconvolve (m-rBCR)", "model=[" + model + "] normalization=percentile low=1 high=99.8 tile=512 overlap=128 threads=0 output=[32-bit float]");
    // The result is a new image, current, named <title>-mrbcr, in 32-bit; anything else
    // (the raw image still current after an error) is not saved.
    if (nImages != 2 || getImageID() == raw || !endsWith(getTitle(), "-mrbcr") || bitDepth() != 32) {
        print("m-rBCR: FAILED " + files[i] + ": no result (the reason is above); nothing saved");
        failed++;
        continue;
    }
    result = output + File.separator + getTitle() + ".tif";
    if (File.exists(result))
        File.delete(result);
    IJ.redirectErrorMessages();
    saveAs("Tiff", result);
    if (!File.exists(result)) {
        print("m-rBCR: FAILED " + files[i] + ": cannot write " + result);
        failed++;
        continue;
    }
    restored++;
}
close("*");
print("m-rBCR: restored " + restored + " images into " + output + "; " + skipped + " skipped, " + failed + " failed");
if (failed > 0)
    fail("" + failed + " of the images failed (see the log)");

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
