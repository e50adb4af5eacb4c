//! Gauss-Legendre quadrature on `[0, 1]`, for the pupil integrals of the PSF models.

/// Nodes and weights of the `n`-point Gauss-Legendre rule on `[0, 1]`: it integrates
/// polynomials of degree up to `2n - 1` exactly. The nodes are the roots of the
/// Legendre polynomial `P_n`, found by Newton's method from Tricomi's estimate; the
/// weights sum to 1 (the length of the interval) up to rounding.
pub fn gauss_legendre_unit(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    let nf = n as f64;
    for i in 0..n.div_ceil(2) {
        // Root i of P_n on [-1, 1], from the largest down.
        let mut t = (std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
        let mut derivative = 1.0;
        for _ in 0..100 {
            let (p, dp) = legendre_with_derivative(n, t);
            derivative = dp;
            let step = p / dp;
            t -= step;
            if step.abs() < 1e-15 {
                let (_, dp) = legendre_with_derivative(n, t);
                derivative = dp;
                break;
            }
        }
        let w = 2.0 / ((1.0 - t * t) * derivative * derivative);
        // Map [-1, 1] to [0, 1]: x = (t + 1) / 2, weight halved.
        nodes[i] = (1.0 - t) / 2.0;
        nodes[n - 1 - i] = (1.0 + t) / 2.0;
        weights[i] = w / 2.0;
        weights[n - 1 - i] = w / 2.0;
    }
    (nodes, weights)
}

/// `(P_n(t), P_n'(t))` by the three-term recurrence.
fn legendre_with_derivative(n: usize, t: f64) -> (f64, f64) {
    let (mut p_prev, mut p) = (1.0f64, t);
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=n {
        let kf = k as f64;
        let next = ((2.0 * kf - 1.0) * t * p - (kf - 1.0) * p_prev) / kf;
        p_prev = p;
        p = next;
    }
    let nf = n as f64;
    (p, nf * (t * p - p_prev) / (t * t - 1.0))
}
