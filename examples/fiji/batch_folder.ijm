// Restores every TIFF of a folder with m-rBCR, one after the other, and saves each result
// as <name>-mrbcr.tif in the output folder (32-bit float, in the input's intensity units;
// every channel, slice and frame of a stack or hyperstack).
//
//   ImageJ-linux64 --headless -batch batch_folder.ijm "/data/raw,/data/restored,/models/m-rBCR-official.safetensors"
//
// Without arguments (from Plugins > Macros > Run...), it asks for the two folders and the model.
arguments = split(getArgument(), ",");
if (arguments.length == 3) {
    input = arguments[0];
    output = arguments[1];
    model = arguments[2];
} else {
    input = getDirectory("Folder of images to restore");
    output = getDirectory("Folder for the results");
    model = File.openDialog("m-rBCR model (.safetensors)");
}

setBatchMode(true);
files = getFileList(input);
restored = 0;
for (i = 0; i < files.length; i++) {
    name = toLowerCase(files[i]);
    if (!endsWith(name, ".tif") && !endsWith(name, ".tiff"))
        continue;
    open(input + File.separator + files[i]);
    run("Deconvolve (m-rBCR)", "model=[" + model + "] normalization=percentile low=1 high=99.8 tile=512 overlap=128 threads=0 output=[32-bit float]");
    saveAs("Tiff", output + File.separator + getTitle());
    close("*");
    restored++;
}
print("m-rBCR: restored " + restored + " images into " + output);
