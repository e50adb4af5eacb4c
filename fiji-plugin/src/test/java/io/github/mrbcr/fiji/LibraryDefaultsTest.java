package io.github.mrbcr.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.scijava.plugin.Parameter;

/**
 * The plugin's defaults and normalisation names are the Rust core's: the options a dialog,
 * a macro and the SciJava command start from are those {@code mrbcr deconvolve} (whose
 * defaults are the core's: crates/mrbcr-cli's default_drift test) uses with no options,
 * read from its {@code --help}; and the names the plugin offers are the ones the library
 * gives. A default changed in the core, or a literal put back in the plugin, fails here.
 */
class LibraryDefaultsTest {
    /** The {@code [default: ...]} of the tool's {@code option} in {@code help}. */
    private static String toolDefault(String help, String option) {
        Matcher m = Pattern.compile("--" + option + " <[A-Z_]+>[^\\[]*\\[default: ([^\\]]+)\\]").matcher(help);
        assertTrue(m.find(), "no default for --" + option + " in:\n" + help);
        return m.group(1);
    }

    @Test
    void theOptionsDefaultsAreThoseOfTheToolWithoutOptions() throws Exception {
        String help = TestSupport.run(List.of(TestSupport.cli().toString(), "deconvolve", "--help"));
        DeconvolveOptions defaults = new DeconvolveOptions();
        assertEquals(toolDefault(help, "tile"), Integer.toString(defaults.tile));
        // The tool's overlap is the model's own (no number); the plugin's -1 says the same.
        assertTrue(help.contains("default: the overlap the model's file records"), help);
        assertEquals(-1, defaults.overlap);
        assertEquals(toolDefault(help, "threads"), Integer.toString(defaults.threads));
        // The tool prints the normalisation as the library writes it: percentile:1:99.8.
        assertEquals(toolDefault(help, "norm"), defaults.normalizationText());
        assertEquals(LibraryDefaults.TILE, defaults.tile);
        assertEquals(LibraryDefaults.NORMALIZATION, defaults.normalization.text);
        // The tool's names of the output types the plugin offers.
        Map<String, DeconvolveOptions.OutputType> toolNames =
                Map.of("f32", DeconvolveOptions.OutputType.FLOAT32, "same", DeconvolveOptions.OutputType.SAME);
        assertEquals(toolNames.get(toolDefault(help, "output-type")), defaults.outputType);
        assertEquals(LibraryDefaults.OUTPUT_TYPE, defaults.outputType.text);
        DeconvolveScijavaCommand command = new DeconvolveScijavaCommand();
        Field outputType = DeconvolveScijavaCommand.class.getDeclaredField("outputType");
        outputType.setAccessible(true);
        assertEquals(defaults.outputType.text, outputType.get(command));
    }

    @Test
    void theNormalizationNamesAreTheLibrarys() throws Exception {
        List<String> names = new ArrayList<>();
        for (DeconvolveOptions.Normalization n : DeconvolveOptions.Normalization.values()) {
            names.add(n.text);
        }
        assertEquals(LibraryDefaults.NORMALIZATIONS, names);
        String[] choices = DeconvolveScijavaCommand.class.getDeclaredField("normalization")
                .getAnnotation(Parameter.class)
                .choices();
        assertEquals(LibraryDefaults.NORMALIZATIONS, Arrays.asList(choices));
        assertEquals(LibraryDefaults.NORMALIZATIONS.get(0), LibraryDefaults.NORMALIZATION);
    }
}
