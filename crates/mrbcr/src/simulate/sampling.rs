//! Random variates for the simulator, drawn from [`SplitMix64`] so that a seed gives
//! the same numbers everywhere: uniform `f64`, standard normal (Box-Muller) and
//! Poisson (multiplication method below a mean of 10, Hormann's PTRS transformed
//! rejection above, the algorithm numpy uses).

use crate::rng::SplitMix64;

/// A uniform `f64` in `[0, 1)` with 53 random bits.
pub fn uniform(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform `f64` in `[lo, hi)` (`lo` when `lo == hi`).
pub fn uniform_in(rng: &mut SplitMix64, (lo, hi): (f64, f64)) -> f64 {
    lo + (hi - lo) * uniform(rng)
}

/// A uniform integer in `lo..=hi`.
pub fn integer_in(rng: &mut SplitMix64, (lo, hi): (usize, usize)) -> usize {
    lo + (uniform(rng) * (hi - lo + 1) as f64) as usize
}

/// A standard normal variate (Box-Muller, one of the pair).
pub fn standard_normal(rng: &mut SplitMix64) -> f64 {
    let u1 = 1.0 - uniform(rng); // in (0, 1]
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A Poisson variate of mean `mean` (0 for a mean of 0 or less, or NaN).
pub fn poisson(rng: &mut SplitMix64, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        0
    } else if mean < 10.0 {
        poisson_by_multiplication(rng, mean)
    } else {
        poisson_ptrs(rng, mean)
    }
}

/// Knuth's method: the number of uniforms multiplied before the product falls below
/// `e^-mean`.
fn poisson_by_multiplication(rng: &mut SplitMix64, mean: f64) -> u64 {
    let limit = (-mean).exp();
    let mut product = uniform(rng);
    let mut count = 0;
    while product > limit {
        count += 1;
        product *= uniform(rng);
    }
    count
}

/// Hormann (1993), "The transformed rejection method for generating Poisson random
/// variables", algorithm PTRS, for `mean >= 10`.
fn poisson_ptrs(rng: &mut SplitMix64, mean: f64) -> u64 {
    let sqrt_mean = mean.sqrt();
    let log_mean = mean.ln();
    let b = 0.931 + 2.53 * sqrt_mean;
    let a = -0.059 + 0.02483 * b;
    let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    let v_r = 0.9277 - 3.6224 / (b - 2.0);
    loop {
        let u = uniform(rng) - 0.5;
        let v = uniform(rng);
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + mean + 0.43).floor();
        if us >= 0.07 && v <= v_r {
            return k as u64;
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            continue;
        }
        let lhs = v.ln() + inv_alpha.ln() - (a / (us * us) + b).ln();
        let rhs = -mean + k * log_mean - ln_factorial(k);
        if lhs <= rhs {
            return k as u64;
        }
    }
}

/// `ln(k!)` for a whole number `k >= 0`: exact products below 20, Stirling's series
/// (error below 1e-14) from 20 on.
fn ln_factorial(k: f64) -> f64 {
    if k < 20.0 {
        (2..=k as u64).map(|i| (i as f64).ln()).sum()
    } else {
        let inv = 1.0 / k;
        let inv2 = inv * inv;
        k * k.ln() - k
            + 0.5 * (2.0 * std::f64::consts::PI * k).ln()
            + inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0))
    }
}

#[cfg(test)]
mod tests {
    use super::poisson;
    use crate::rng::SplitMix64;

    /// The mean and the (unbiased) variance of `values`.
    fn mean_and_variance(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
        let n = values.clone().count() as f64;
        let mean = values.clone().sum::<f64>() / n;
        let variance = values.map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, variance)
    }

    #[test]
    fn poisson_sampler_has_the_right_mean_and_variance() {
        let mut rng = SplitMix64::new(3);
        for mean in [0.5, 3.0, 9.9, 10.0, 57.0, 2500.0] {
            let draws: Vec<f64> = (0..40_000)
                .map(|_| poisson(&mut rng, mean) as f64)
                .collect();
            let (m, v) = mean_and_variance(draws.iter().copied());
            // 5 standard errors of the mean and of the variance.
            let se_mean = (mean / 40_000.0).sqrt();
            let se_var = mean * (2.0 / 40_000.0f64).sqrt() + (mean / 40_000.0).sqrt();
            assert!((m - mean).abs() < 5.0 * se_mean, "mean {mean}: got {m}");
            assert!((v - mean).abs() < 5.0 * se_var, "mean {mean}: variance {v}");
        }
        // P(0) = e^-mean.
        let zeros = (0..40_000).filter(|_| poisson(&mut rng, 2.0) == 0).count() as f64 / 40_000.0;
        assert!((zeros - (-2.0f64).exp()).abs() < 0.01, "P(0) {zeros}");
        assert_eq!(poisson(&mut rng, 0.0), 0);
        assert_eq!(poisson(&mut rng, -1.0), 0);
    }
}
