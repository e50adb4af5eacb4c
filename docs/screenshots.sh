#!/usr/bin/env bash
# Regenerates the two Fiji screenshots of the README from the real plugin jar and the
# real ImageJ 1, on a virtual display (Xvfb):
#
#   docs/fiji-dialog.png        the "Deconvolve (m-rBCR)" options dialog, as it opens
#   docs/fiji-before-after.png  examples/data/widefield-sample.tif and its restoration
#                               by the bundled default model, side by side
#
# Usage, from anywhere:   docs/screenshots.sh
#
# Needs: cargo, mvn, java, Xvfb, xdotool and ImageMagick (import, identify); on Debian
# `apt-get install xvfb xdotool imagemagick`. The library and the jar are taken from the
# build and brought up to date first: `cargo build --release` (a no-op when nothing
# changed; the bundled model is compiled into the library, so a new
# models/default.safetensors is picked up here) and the Maven package when the jar is
# missing or older than the library or the plugin's sources. Nothing in this script
# depends on the model's weights: re-run it as it is after the model is replaced.
#
# Environment (all optional): CARGO_TARGET_DIR (as for cargo), IJ_JAR (ImageJ's
# ij.jar; default: the version the pom names, from ~/.m2), SCREEN (default 1400x800).
#
# Besides the two PNGs it writes only under a mktemp directory, which is removed at the
# end; on failure it is kept (ImageJ's output and a picture of the screen are in it) and
# the PNGs in docs/ are left as they were. Exit status: 0 on success, non-zero otherwise.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
plugin=$root/fiji-plugin
sample=$root/examples/data/widefield-sample.tif
screen=${SCREEN:-1400x800}
# Generous limits for a busy 2-core machine (seconds).
startup_timeout=180   # ImageJ up and the dialog shown
restore_timeout=900   # the restoration done and both windows shown

say() { printf 'screenshots: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

for tool in cargo mvn java Xvfb xdotool import identify; do
    command -v "$tool" > /dev/null || die "$tool is not installed (see the head of $0)"
done
[ -f "$sample" ] || die "no sample image at $sample"

# --- 1. The library and the plugin jar, from the build -------------------------------

cd "$root"
say "cargo build --release"
nice -n 19 cargo build --release --quiet
native_dir=${CARGO_TARGET_DIR:-$root/target}/release
case $native_dir in /*) ;; *) native_dir=$root/$native_dir ;; esac
[ -f "$native_dir/libmrbcr.so" ] || die "cargo did not make $native_dir/libmrbcr.so"

# The jar's name and ImageJ's version, as the pom gives them.
version=$(awk '/<artifactId>mrbcr-fiji<\/artifactId>/ { found = 1 }
               found && /<version>/ { gsub(/.*<version>|<\/version>.*/, ""); print; exit }' "$plugin/pom.xml")
ij_version=$(sed -n 's:.*<ij.version>\(.*\)</ij.version>.*:\1:p' "$plugin/pom.xml")
if [ -z "$version" ] || [ -z "$ij_version" ]; then
    die "cannot read the versions from $plugin/pom.xml"
fi
jar=$plugin/target/mrbcr_Fiji-$version.jar
ij_jar=${IJ_JAR:-$HOME/.m2/repository/net/imagej/ij/$ij_version/ij-$ij_version.jar}

# (Re)package when the jar is missing or older than what goes into it; the package
# build also fetches ij.jar into ~/.m2 if it is not there yet.
if [ ! -f "$jar" ] || { [ -z "${IJ_JAR:-}" ] && [ ! -f "$ij_jar" ]; } ||
    [ -n "$(find "$native_dir/libmrbcr.so" "$plugin/pom.xml" "$plugin/src/main" -newer "$jar" -print -quit)" ]; then
    say "mvn package (the jar is missing or out of date)"
    (cd "$plugin" && nice -n 19 mvn -B -ntp -q -Dstyle.color=never -DskipTests -Dmrbcr.native.dir="$native_dir" package)
fi
[ -f "$jar" ] || die "the Maven build did not make $jar"
[ -f "$ij_jar" ] || die "no ImageJ jar at $ij_jar (set IJ_JAR)"

# --- 2. A scratch ImageJ: its own plugins folder, home and temp dir ------------------

work=$(mktemp -d "${TMPDIR:-/tmp}/mrbcr-screenshots.XXXXXX")
xvfb_pid='' ij_pid=''
cleanup() {
    status=$?
    # Only the two processes this script started, by their ids.
    for pid in $ij_pid $xvfb_pid; do
        kill "$pid" 2> /dev/null || true
    done
    for pid in $ij_pid $xvfb_pid; do
        wait "$pid" 2> /dev/null || true
    done
    if [ "$status" -eq 0 ]; then
        rm -rf "$work"
    else
        say "failed; ImageJ's output and the last screen are kept in $work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/ImageJ/plugins" "$work/home" "$work/tmp" "$work/sync"
cp "$jar" "$work/ImageJ/plugins/"

# The macro ImageJ runs. It talks with this script through files in $work/sync: it
# creates one to say where it is, and waits for the files this script creates.
cat > "$work/screenshots.ijm" << 'MACRO'
args = split(getArgument(), "\n");
sync = args[0];
sample = args[1];

open(sample);
original = getImageID();
run("Enhance Contrast", "saturated=0.35");   // display range only; pixels unchanged

// 1. The dialog, as Plugins > Deconvolution > m-rBCR > Deconvolve (m-rBCR) opens it.
//    doCommand runs the command in its own thread, so this macro goes on while the
//    dialog waits for the user (the script captures it, then presses Esc).
doCommand("Deconvolve (m-rBCR)");
File.saveString("", sync + "/dialog-requested");
awaitFile(sync + "/dialog-done");

// 2. The restoration, by the bundled model (model=[]: the empty model field) and the
//    dialog's other values as pictured (a macro's options string leaves out a field to
//    take its default): what OK in that dialog gives.
selectImage(original);
run("Deconvolve (m-rBCR)", "model=[]");
restored = getImageID();
if (restored == original || !endsWith(getTitle(), "-mrbcr")) {
    File.saveString("no result window after the command; log:\n" + getInfo("log"), sync + "/error");
    exit;
}
run("Enhance Contrast", "saturated=0.35");   // the same display stretch as the original

// Side by side under ImageJ's own window, 10 pixels apart, at 100 %.
selectImage(original);
setLocation(20, 110);
getLocationAndSize(x, y, width, height);
geometry = "" + x + " " + y + " " + width + " " + height + "\n";
selectImage(restored);
setLocation(x + width + 10, y);
getLocationAndSize(x, y, width, height);
geometry = geometry + x + " " + y + " " + width + " " + height + "\n";
wait(1000);   // let both windows paint
File.saveString(geometry, sync + "/windows");
awaitFile(sync + "/windows-done");

close("*");
run("Quit");

function awaitFile(path) {
    while (!File.exists(path))
        wait(100);
}
MACRO

# --- 3. Helpers for driving the screen -------------------------------------------------

# The X window of a top-level window named exactly $1, if it is shown.
window_named() {
    { xdotool search --onlyvisible --name "^$1\$" 2> /dev/null || true; } | head -1
}

# The titles of the windows on the screen (AWT's inner X windows left out).
open_windows() {
    xdotool search --onlyvisible --name . getwindowname %@ 2> /dev/null |
        grep -v '^sun-awt-\|^FocusProxy$\|^Content window$' | paste -sd '|' || true
}

# Stops the script with message $1, keeping a picture of the screen in $work.
fail() {
    import -window root "$work/screen-at-failure.png" 2> /dev/null || true
    die "$1 (windows: $(open_windows))"
}

# Waits (at most $2 seconds) until the test $1 (a function) succeeds, while ImageJ runs
# and its macro reports no error (neither by the file "error" nor by ImageJ's own
# "Macro Error" window, where for instance an error of the command stops the macro).
# $3 says what is awaited.
await() {
    local test=$1 timeout=$2 what=$3 start=$SECONDS
    until "$test"; do
        kill -0 "$ij_pid" 2> /dev/null || fail "ImageJ exited early: $(tail -20 "$work/imagej.log")"
        [ ! -e "$work/sync/error" ] || fail "the macro failed: $(cat "$work/sync/error")"
        [ -z "$(window_named 'Macro Error')" ] || fail "the macro stopped with an error"
        [ $((SECONDS - start)) -lt "$timeout" ] || fail "timed out after ${timeout}s waiting for $what"
        sleep 0.2
    done
}

# The tests await waits on. The dialog's title, as a regular expression:
dialog_title='Deconvolve \(m-rBCR\)'
dialog_open() { [ -e "$work/sync/dialog-requested" ] && [ -n "$(window_named "$dialog_title")" ]; }
dialog_closed() { [ -z "$(window_named "$dialog_title")" ]; }
images_shown() {
    [ -e "$work/sync/windows" ] && return 0
    # Should the command report an error in a message box titled as its dialog (which
    # a macro with options does not show), stop at once rather than at the time limit.
    [ -z "$(window_named "$dialog_title")" ] || fail "m-rBCR reported an error"
    return 1
}

# A capture must not be a blank (unpainted) window: a real one has many colours.
check_painted() {
    local colours
    colours=$(identify -format '%k' "$1")
    [ "$colours" -ge 16 ] || fail "$1 looks blank ($colours colours)"
}

# --- 4. Xvfb and ImageJ ---------------------------------------------------------------

# Xvfb picks a free display and writes its number to fd 3 once it accepts clients.
Xvfb -displayfd 3 -br -nolisten tcp -screen 0 "${screen}x24" 3> "$work/display" > "$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 100); do
    [ -s "$work/display" ] && break
    kill -0 "$xvfb_pid" 2> /dev/null || die "Xvfb did not start: $(cat "$work/xvfb.log")"
    sleep 0.1
done
[ -s "$work/display" ] || die "Xvfb did not report a display"
display=$(tr -d '[:space:]' < "$work/display")
export DISPLAY=:$display
say "Xvfb on $DISPLAY ($screen)"

# The plain ImageJ 1 a user runs, with the plugin in its plugins folder. Its preferences
# (and so the dialog's remembered values) start from nothing, in a scratch home.
nice -n 19 java -Xmx1g -Djava.awt.headless=false -Dawt.useSystemAAFontSettings=on \
    -Duser.home="$work/home" -Djava.io.tmpdir="$work/tmp" \
    -jar "$ij_jar" -ijpath "$work/ImageJ" \
    -macro "$work/screenshots.ijm" "$work/sync"$'\n'"$sample" > "$work/imagej.log" 2>&1 &
ij_pid=$!

# --- 5. The dialog ---------------------------------------------------------------------

say "waiting for the dialog"
await dialog_open "$startup_timeout" "ImageJ and the dialog"
dialog=$(window_named "$dialog_title")
sleep 1.5   # let it paint
import -window "$dialog" -strip -define png:exclude-chunks=date,time "$work/fiji-dialog.png"
check_painted "$work/fiji-dialog.png"
say "dialog captured ($(identify -format '%wx%h' "$work/fiji-dialog.png"))"

# Cancel it as a user does: click into it (on the label column, not a field), press Esc.
xdotool mousemove --window "$dialog" 12 12 click 1
sleep 0.3
xdotool key Escape
await dialog_closed 30 "the dialog to close"
touch "$work/sync/dialog-done"

# --- 6. Before and after ---------------------------------------------------------------

say "restoring $(basename "$sample") with the bundled model"
start=$SECONDS
await images_shown "$restore_timeout" "the restoration"
say "restored and shown in $((SECONDS - start)) s"
sleep 0.5

# The rectangle holding both image windows (x y width height, one window a line).
read -r x0 y0 x1 y1 < <(awk '
    NR == 1 || $1 < x0 { x0 = $1 }          NR == 1 || $2 < y0 { y0 = $2 }
    NR == 1 || $1 + $3 > x1 { x1 = $1 + $3 } NR == 1 || $2 + $4 > y1 { y1 = $2 + $4 }
    END { if (NR == 2) print x0, y0, x1, y1 }' "$work/sync/windows") || true
[ -n "${y1:-}" ] || fail "ImageJ did not report two windows: $(cat "$work/sync/windows")"
screen_w=${screen%x*} screen_h=${screen#*x}
if [ "$x0" -lt 0 ] || [ "$y0" -lt 0 ] || [ "$x1" -gt "$screen_w" ] || [ "$y1" -gt "$screen_h" ]; then
    fail "the two windows ($x0,$y0)-($x1,$y1) do not fit on the $screen screen"
fi
import -window root -crop "$((x1 - x0))x$((y1 - y0))+$x0+$y0" +repage \
    -strip -define png:exclude-chunks=date,time "$work/fiji-before-after.png"
check_painted "$work/fiji-before-after.png"
say "before/after captured ($(identify -format '%wx%h' "$work/fiji-before-after.png"))"

touch "$work/sync/windows-done"
# ImageJ quits by itself now; the clean-up kills it if it does not within 20 s.
for _ in $(seq 100); do
    kill -0 "$ij_pid" 2> /dev/null || break
    sleep 0.2
done

# --- 7. Only now, with both pictures made, replace the old ones ---------------------

mv "$work/fiji-dialog.png" "$root/docs/fiji-dialog.png"
mv "$work/fiji-before-after.png" "$root/docs/fiji-before-after.png"
say "wrote docs/fiji-dialog.png and docs/fiji-before-after.png"
