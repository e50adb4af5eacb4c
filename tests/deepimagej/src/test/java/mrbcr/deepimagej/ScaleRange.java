package mrbcr.deepimagej;

import java.util.Arrays;

/**
 * The bioimage.io preprocessing scale_range over each (batch, channel) plane of a
 * [batch, channel, y, x] tensor: x to (x - low) / (high - low + eps), low and high
 * the plane's min_percentile and max_percentile.
 */
final class ScaleRange {
    /** How a percentile is read from a plane's sorted values. */
    enum Rule {
        /**
         * JDLL's ScaleRangeTransformation (deepImageJ): the sorted value at index
         * (int) (n * p / 100), the last one if that is past the end.
         */
        JDLL,
        /**
         * numpy's default (linear interpolation at p / 100 * (n - 1)): what
         * bioimageio.core computes, and mrbcr.
         */
        LINEAR
    }

    private ScaleRange() {
    }

    /** The percentile `p` (0 to 100) of the ascending `sorted` under `rule`. */
    static double percentile(double[] sorted, double p, Rule rule) {
        int n = sorted.length;
        if (rule == Rule.JDLL) {
            int index = (int) (n * (p / 100));
            return sorted[Math.min(index, n - 1)];
        }
        double position = p / 100 * (n - 1);
        int below = (int) Math.floor(position);
        double fraction = position - below;
        if (below + 1 >= n || fraction == 0) {
            return sorted[below];
        }
        return sorted[below] + fraction * (sorted[below + 1] - sorted[below]);
    }

    /**
     * `values` (a [batch, channel, y, x] tensor of `shape`, C order) scaled plane by
     * plane, the percentiles read under `rule`; the arithmetic in double, stored as
     * float (JDLL's FloatType.setReal).
     */
    static float[] apply(float[] values, long[] shape, double minPercentile, double maxPercentile,
            double eps, Rule rule) {
        int plane = (int) (shape[2] * shape[3]);
        float[] out = new float[values.length];
        for (int start = 0; start < values.length; start += plane) {
            double[] sorted = new double[plane];
            for (int i = 0; i < plane; i++) {
                sorted[i] = values[start + i];
            }
            Arrays.sort(sorted);
            double low = percentile(sorted, minPercentile, rule);
            double high = percentile(sorted, maxPercentile, rule);
            for (int i = 0; i < plane; i++) {
                out[start + i] = (float) ((values[start + i] - low) / (high - low + eps));
            }
        }
        return out;
    }
}
