package io.github.mrbcr.fiji;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.IJ;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** "About m-rBCR models" as ImageJ runs it headless: the text goes to standard output. */
class AboutModelsCommandTest {
    private static final String COMMAND = "About m-rBCR models";

    @BeforeAll
    static void setUp() throws Exception {
        TestSupport.installCommands();
    }

    /** What {@code IJ.run(COMMAND, options)} prints. */
    private static String printedBy(String options) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            IJ.run(COMMAND, options);
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void anEmptyModelShowsTheBundledModel() {
        for (String options : new String[] {"model=[]", ""}) {
            String printed = printedBy(options);
            assertTrue(printed.contains("m-rBCR model <bundled default model>"), options + ": " + printed);
            assertTrue(printed.contains("provenance: trained by mrbcr train"), options + ": " + printed);
            assertTrue(printed.contains("mrbcr library: 0.1.0"), options + ": " + printed);
        }
    }

    @Test
    void aModelFileShowsThatFile() throws Exception {
        String printed = printedBy("model=[" + TestSupport.model() + "]");
        assertTrue(printed.contains("m-rBCR model " + TestSupport.model()), printed);
        assertTrue(printed.contains("license: MIT"), printed);
    }

    @Test
    void aMissingModelFileGivesTheLibraryMessage() {
        String printed = printedBy("model=/no/such/model.safetensors");
        assertTrue(printed.contains("/no/such/model.safetensors: No such file or directory"), printed);
    }
}
