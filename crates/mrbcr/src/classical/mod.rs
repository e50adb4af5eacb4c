//! Classical, physics-based deconvolution: PSF models, FFT convolution,
//! Richardson-Lucy (with optional total-variation regularisation) and Wiener
//! filtering. These are the baselines m-rBCR is compared with, and the tools for
//! users who know their PSF.
//!
//! - [`psf`]: widefield PSFs (Born-Wolf diffraction integral, Gaussian approximation).
//! - [`convolution`]: convolution with a fixed kernel (by planned 2-D FFTs).
//! - [`richardson_lucy`] and [`wiener`]: the deconvolution methods, mirror-padded at
//!   the edges.
//! - [`stack`]: any per-plane method over the planes of a stack, in parallel, with
//!   progress and cancellation.

mod bessel;
pub mod convolution;
pub(crate) mod fft;
mod padding;
pub mod psf;
mod quadrature;
pub(crate) mod richardson_lucy;
pub(crate) mod stack;
pub mod wiener;

pub use convolution::{convolve_direct, ConvolutionMode, Convolver};
pub use psf::{born_wolf_psf, gaussian_psf, normalize_psf, PsfParams};
pub use richardson_lucy::{richardson_lucy, IterationCallback, RichardsonLucyParams};
pub use stack::{map_planes, planes_to_stack, stack_planes, PlaneProgress};
pub use wiener::wiener;
