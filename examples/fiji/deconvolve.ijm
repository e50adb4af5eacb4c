// Restores one image with m-rBCR and saves the result as a TIFF (32-bit float, in the
// input's intensity units). The model file is optional: without one, the default model
// bundled with the plugin restores the image.
//
//   ImageJ-linux64 --headless -batch deconvolve.ijm "/data/cells.tif,/data/cells-mrbcr.tif"
//   ImageJ-linux64 --headless -batch deconvolve.ijm "/data/cells.tif,/data/cells-mrbcr.tif,/models/m-rBCR-official.safetensors"
//
// Interactively: open an image, then Plugins > Deconvolution > m-rBCR > Deconvolve (m-rBCR);
// Plugins > Macros > Record... shows the run(...) line the dialog makes.
arguments = split(getArgument(), ",");
if (arguments.length != 2 && arguments.length != 3)
    exit("usage: -batch deconvolve.ijm input.tif,output.tif[,model.safetensors]");
input = arguments[0];
output = arguments[1];
// model=[file] chooses a model file; without model= (or with model=[]) the bundled one runs.
model = "";
if (arguments.length == 3)
    model = "model=[" + arguments[2] + "] ";

setBatchMode(true);
open(input);
run("Deconvolve (m-rBCR)", model + "normalization=percentile low=1 high=99.8 tile=512 overlap=128 threads=0 output=[32-bit float]");
saveAs("Tiff", output);
print("m-rBCR: " + input + " -> " + output);
