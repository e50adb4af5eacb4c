package mrbcr.deepimagej;

import java.io.File;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;

/**
 * ONNX weights run as JDLL's ONNX engine (dl-modelrunner-onnx, which deepImageJ loads)
 * runs them: a session with the BASIC optimisation level; the input tensor, a float
 * buffer in C order with the rdf's axes, bound to the graph's first input by position;
 * every graph output fetched, and there must be as many as the rdf lists outputs (the
 * engine refuses the result otherwise).
 */
final class JdllOnnxEngine implements AutoCloseable {
    private final OrtEnvironment environment = OrtEnvironment.getEnvironment();
    private final SessionOptions options = new SessionOptions();
    private final OrtSession session;

    /** Loads the weights `onnx`. */
    JdllOnnxEngine(File onnx) throws OrtException {
        options.setOptimizationLevel(OptLevel.BASIC_OPT);
        session = environment.createSession(onnx.getAbsolutePath(), options);
    }

    /** The number of graph inputs. */
    long inputCount() {
        return session.getNumInputs();
    }

    /** The number of graph outputs. */
    long outputCount() {
        return session.getNumOutputs();
    }

    /**
     * The first output for `input` of `shape`; `rdfOutputs` is the number of outputs
     * the rdf lists, which the graph's must equal, and the first output's shape must be
     * `outputShape`.
     */
    float[] run(float[] input, long[] shape, int rdfOutputs, long[] outputShape) throws OrtException {
        String inputName = session.getInputNames().iterator().next();
        try (OnnxTensor tensor = OnnxTensor.createTensor(environment, FloatBuffer.wrap(input), shape)) {
            Map<String, OnnxTensor> inputs = Collections.singletonMap(inputName, tensor);
            try (OrtSession.Result result = session.run(inputs)) {
                if (result.size() != rdfOutputs) {
                    throw new AssertionError("the graph gives " + result.size() + " outputs, the rdf lists "
                            + rdfOutputs + ": JDLL's ONNX engine refuses the result");
                }
                OnnxTensor first = (OnnxTensor) result.get(0);
                long[] shapeFound = first.getInfo().getShape();
                if (!Arrays.equals(shapeFound, outputShape)) {
                    throw new AssertionError("output shape " + Arrays.toString(shapeFound) + ", expected "
                            + Arrays.toString(outputShape));
                }
                FloatBuffer values = first.getFloatBuffer();
                float[] out = new float[values.remaining()];
                values.get(out);
                return out;
            }
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
        options.close();
    }
}
