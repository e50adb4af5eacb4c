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
arguments = split(getArgument(), ",");
if (arguments.length == 2 || arguments.length == 3) {
    input = arguments[0];
    output = arguments[1];
    model = "";
    if (arguments.length == 3)
        model = arguments[2];
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

setBatchMode(true);
files = getFileList(input);
restored = 0;
for (i = 0; i < files.length; i++) {
    name = toLowerCase(files[i]);
    if (!endsWith(name, ".tif") && !endsWith(name, ".tiff"))
        continue;
    open(input + File.separator + files[i]);
    // model=[] is the bundled model, as no model= at all.
    run("Deconvolve (m-rBCR)", "model=[" + model + "] normalization=percentile low=1 high=99.8 tile=512 overlap=128 threads=0 output=[32-bit float]");
    saveAs("Tiff", output + File.separator + getTitle());
    close("*");
    restored++;
}
print("m-rBCR: restored " + restored + " images into " + output);
