//! Training options across the C ABI: a handle made with the core's defaults, one
//! setter per setting of `mrbcr train` and one getter each, so that front ends read
//! the defaults instead of repeating them.

use std::ffi::{c_char, c_int};

use super::model::path_parameter;
use super::{guard, guard_value, mrbcr_status, non_null, non_null_mut, Failure, FfiResult};
use mrbcr::train::{BatchLoss, Initialization, TrainConfig};

/// Settings of a training run (opaque). Made by `mrbcr_train_options_new` with the
/// defaults of `mrbcr train`, changed by the `mrbcr_train_options_set_*` functions,
/// freed by `mrbcr_train_options_free`. The settings are checked when a run starts
/// (`mrbcr_train_simulated`, `mrbcr_train_tiff_pairs`), whose message names the one
/// that is wrong, so they can be set in any order.
///
/// Options may be shared by threads that only read them, but must not be changed
/// while another thread uses them.
#[allow(non_camel_case_types)]
pub struct mrbcr_train_options {
    _private: [u8; 0],
}

/// What a training run is given beside its data: what a `mrbcr_train_options` handle
/// points to.
pub(crate) struct TrainRequest {
    /// The run's settings.
    pub(crate) config: TrainConfig,
    /// The weights to start from.
    pub(crate) init: Initialization,
    /// The seed `init` was drawn with if it is fresh weights (None: a model's weights).
    pub(crate) fresh_seed: Option<u64>,
    /// Continue the run whose checkpoint is in the output directory.
    pub(crate) resume: bool,
    /// Worker threads (0: every core).
    pub(crate) threads: usize,
}

impl TrainRequest {
    /// The core's defaults, writing into `output_dir`.
    pub(crate) fn new(output_dir: std::path::PathBuf) -> TrainRequest {
        TrainRequest {
            config: TrainConfig {
                output_dir,
                ..TrainConfig::default()
            },
            init: Initialization::fresh(Initialization::DEFAULT_SEED),
            fresh_seed: Some(Initialization::DEFAULT_SEED),
            resume: false,
            threads: mrbcr::threads::EVERY_CORE,
        }
    }
}

/// The request behind a handle, or [`mrbcr_status::NullParameter`].
///
/// # Safety
/// `options` is NULL or a handle from `mrbcr_train_options_new` not yet freed, not used
/// by another thread for the lifetime `'a`.
unsafe fn request_mut<'a>(options: *mut mrbcr_train_options) -> FfiResult<&'a mut TrainRequest> {
    // SAFETY: a non-NULL handle points to a TrainRequest, by the caller's contract.
    unsafe { non_null_mut(options.cast::<TrainRequest>(), "options") }
}

/// Makes training options with the defaults of `mrbcr train`, writing into the
/// directory `output_dir` (made if missing): patches of 128 x 128, batches of 8,
/// 10000 steps, Adam with a constant learning rate of 1e-3, seed 1, random flips and
/// rotations and the authors' noise augmentation, the mean of the samples' losses, a
/// progress call every 10 steps, validation every 200 steps with early stopping after
/// 10 validations without a new best, a checkpoint every 100 steps, fresh
/// Glorot-uniform weights (seed 1), no resume, every core. The
/// `mrbcr_train_options_get_*` functions read them. The caller frees them with
/// `mrbcr_train_options_free`.
///
/// The directory receives the checkpoint, `best.safetensors` (the weights of the
/// lowest validation loss so far) and, at the end, `model.safetensors`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL.
///
/// # Safety
/// `output_dir` is NULL or a NUL-terminated path; `options_out` is NULL or points to
/// writable memory for a pointer.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_new(
    output_dir: *const c_char,
    options_out: *mut *mut mrbcr_train_options,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or NUL-terminated, by the caller's contract.
        let output_dir = unsafe { path_parameter(output_dir, "output_dir") }?;
        // SAFETY: NULL or writable, by the caller's contract.
        let options_out = unsafe { non_null_mut(options_out, "options_out") }?;
        *options_out = Box::into_raw(Box::new(TrainRequest::new(output_dir))).cast();
        Ok(())
    })
}

/// Frees training options. NULL is accepted and does nothing.
///
/// # Safety
/// `options` is NULL or options from `mrbcr_train_options_new` that have not been
/// freed and that no other thread is using.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_free(options: *mut mrbcr_train_options) {
    guard_value((), || {
        if !options.is_null() {
            // SAFETY: made by Box::into_raw in mrbcr_train_options_new, freed once.
            drop(unsafe { Box::from_raw(options.cast::<TrainRequest>()) });
        }
    })
}

/// Changes the request behind `options` with `change`.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
unsafe fn update(
    options: *mut mrbcr_train_options,
    change: impl FnOnce(&mut TrainRequest),
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        change(unsafe { request_mut(options) }?);
        Ok(())
    })
}

/// Sets the side of the square training patches: a multiple of 4 of at least 16.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_patch_size(
    options: *mut mrbcr_train_options,
    patch_size: usize,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.config.patch_size = patch_size;
        })
    }
}

/// Sets the number of patches per step (at least 1); memory grows with it.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_batch_size(
    options: *mut mrbcr_train_options,
    batch_size: usize,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.config.batch_size = batch_size;
        })
    }
}

/// Sets the number of steps in all (a resumed run counts the earlier ones).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_steps(
    options: *mut mrbcr_train_options,
    steps: u64,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.config.max_steps = steps;
        })
    }
}

/// Sets Adam's learning rate: `first` (positive) at the first step, decaying along a
/// cosine to `last` (positive, at most `first`) at the last step; `last` = 0 keeps it
/// constant at `first` (the default: 1e-3, constant).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_learning_rate(
    options: *mut mrbcr_train_options,
    first: f64,
    last: f64,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.config.adam.learning_rate = first;
            r.config.final_learning_rate = (last != 0.0).then_some(last);
        })
    }
}

/// Sets the seed of the patch draws and of the augmentation.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_seed(
    options: *mut mrbcr_train_options,
    seed: u64,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.config.seed = seed;
        })
    }
}

/// Turns the augmentation on (nonzero) or off (0): `flips`, the random flips and
/// 90-degree rotations of the patches; `noise`, the authors' Gaussian noise on the
/// input. Both are on by default.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_augmentation(
    options: *mut mrbcr_train_options,
    flips: c_int,
    noise: c_int,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.config.flips = flips != 0;
            r.config.noise = noise != 0;
        })
    }
}

/// Sets how the samples' losses make the loss of a step (and of the validation set):
/// `log_loss` 0 for their mean (the default, the authors' choice); nonzero for the mean
/// of `ln(sample loss + floor)`, which weighs each patch by its relative error, as an
/// image counts in a mean PSNR (`mrbcr train --log-loss FLOOR`; `floor`, at least 0,
/// keeps nearly empty patches from taking over; 0.5 suits 256-pixel patches). `floor`
/// is ignored when `log_loss` is 0; a negative or non-finite `floor` is refused when
/// the run starts.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_log_loss(
    options: *mut mrbcr_train_options,
    log_loss: c_int,
    floor: f64,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.config.batch_loss = if log_loss != 0 {
                BatchLoss::MeanLog { floor }
            } else {
                BatchLoss::Mean
            };
        })
    }
}

/// Measures the validation loss every `every` steps (0: never; the final model is then
/// the last weights) and stops the run after `patience` validations without a new
/// lowest loss (0: never stop early).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_validation(
    options: *mut mrbcr_train_options,
    every: u64,
    patience: usize,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.config.validate_every = every;
            r.config.patience = patience;
        })
    }
}

/// Sets how often the progress callback is called, in steps (at least 1).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_log_every(
    options: *mut mrbcr_train_options,
    steps: u64,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.config.log_every = steps;
        })
    }
}

/// Sets how often a checkpoint is saved, in steps (at least 1; one is always saved at
/// the end and when the callback stops the run).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_checkpoint_every(
    options: *mut mrbcr_train_options,
    steps: u64,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.config.checkpoint_every = steps;
        })
    }
}

/// Continue (nonzero) the run whose checkpoint is in the output directory, which must
/// have been made with the same settings and data; or start a new run (0, the
/// default), which refuses a directory that holds a checkpoint.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_resume(
    options: *mut mrbcr_train_options,
    resume: c_int,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.resume = resume != 0;
        })
    }
}

/// Sets the number of worker threads (0: every core, the default). The result does
/// not depend on it. A run asked for more than 4 threads per core fails with
/// `MRBCR_STATUS_INVALID_INPUT` (a message naming the limit).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_threads(
    options: *mut mrbcr_train_options,
    threads: usize,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.threads = threads;
        })
    }
}

/// Starts from fresh Glorot-uniform weights with zero biases drawn with `seed` (the
/// default, with seed 1).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_init_seed(
    options: *mut mrbcr_train_options,
    seed: u64,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.init = Initialization::fresh(seed);
            r.fresh_seed = Some(seed);
        })
    }
}

/// Starts from the weights of the bundled default model (fine-tuning it).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL.
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_init_default(
    options: *mut mrbcr_train_options,
) -> mrbcr_status {
    // SAFETY: `update` needs `options` to be NULL or live training options that no
    // other thread uses during the call, which is this function's own `# Safety` contract.
    unsafe {
        update(options, |r| {
            r.init = Initialization::bundled();
            r.fresh_seed = None;
        })
    }
}

/// Starts from the weights of a model file (fine-tuning it). The file is read now.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL; `MRBCR_STATUS_IO` if the
/// file cannot be read, `MRBCR_STATUS_MODEL_FILE` if it is not a valid model file (the
/// options are then unchanged).
///
/// # Safety
/// `options` is NULL or valid training options not used by another thread meanwhile;
/// `path` is NULL or a NUL-terminated file name.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_set_init_model_file(
    options: *mut mrbcr_train_options,
    path: *const c_char,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and unshared, by the caller's contract.
        let request = unsafe { request_mut(options) }?;
        // SAFETY: NULL or NUL-terminated, by the caller's contract.
        let path = unsafe { path_parameter(path, "path") }?;
        request.init = Initialization::from_model_file(&path)?;
        request.fresh_seed = None;
        Ok(())
    })
}

/// Reads one value of the request behind `options` into `out` (named `name` in the
/// message if it is NULL).
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile; `out` is
/// NULL or writable for a `T`.
unsafe fn get<T>(
    options: *const mrbcr_train_options,
    out: *mut T,
    name: &str,
    value: impl FnOnce(&TrainRequest) -> T,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and not changed meanwhile, by the caller's contract.
        let request = unsafe { non_null(options.cast::<TrainRequest>(), "options") }?;
        // SAFETY: NULL or writable, by the caller's contract.
        let out = unsafe { non_null_mut(out, name) }?;
        *out = value(request);
        Ok(())
    })
}

/// Reads two values of the request behind `options` into `first` and `second` (named
/// in the message if NULL; nothing is written then).
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile; `first`
/// and `second` are each NULL or writable for their type.
unsafe fn get_pair<A, B>(
    options: *const mrbcr_train_options,
    (first, first_name): (*mut A, &str),
    (second, second_name): (*mut B, &str),
    value: impl FnOnce(&TrainRequest) -> (A, B),
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and not changed meanwhile, by the caller's contract.
        let request = unsafe { non_null(options.cast::<TrainRequest>(), "options") }?;
        // SAFETY: each NULL or writable, by the caller's contract.
        let (first, second) = unsafe {
            (
                non_null_mut(first, first_name)?,
                non_null_mut(second, second_name)?,
            )
        };
        (*first, *second) = value(request);
        Ok(())
    })
}

/// Reads the side of the training patches (`mrbcr_train_options_set_patch_size`). On
/// options fresh from `mrbcr_train_options_new` this, like every
/// `mrbcr_train_options_get_*` function, gives the default.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL.
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile;
/// `patch_size_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_patch_size(
    options: *const mrbcr_train_options,
    patch_size_out: *mut usize,
) -> mrbcr_status {
    // SAFETY: `get` needs what this function's `# Safety` contract gives.
    unsafe {
        get(options, patch_size_out, "patch_size_out", |r| {
            r.config.patch_size
        })
    }
}

/// Reads the number of patches per step (`mrbcr_train_options_set_batch_size`).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL.
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile;
/// `batch_size_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_batch_size(
    options: *const mrbcr_train_options,
    batch_size_out: *mut usize,
) -> mrbcr_status {
    // SAFETY: `get` needs what this function's `# Safety` contract gives.
    unsafe {
        get(options, batch_size_out, "batch_size_out", |r| {
            r.config.batch_size
        })
    }
}

/// Reads the number of steps in all (`mrbcr_train_options_set_steps`).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL.
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile;
/// `steps_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_steps(
    options: *const mrbcr_train_options,
    steps_out: *mut u64,
) -> mrbcr_status {
    // SAFETY: `get` needs what this function's `# Safety` contract gives.
    unsafe { get(options, steps_out, "steps_out", |r| r.config.max_steps) }
}

/// Reads Adam's learning rate at the first step and at the last (0: constant), as
/// `mrbcr_train_options_set_learning_rate` takes them.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL (nothing is written then).
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile;
/// `first_out` and `last_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_learning_rate(
    options: *const mrbcr_train_options,
    first_out: *mut f64,
    last_out: *mut f64,
) -> mrbcr_status {
    // SAFETY: `get_pair` needs what this function's `# Safety` contract gives.
    unsafe {
        get_pair(
            options,
            (first_out, "first_out"),
            (last_out, "last_out"),
            |r| {
                let last = r.config.final_learning_rate.unwrap_or(0.0);
                (r.config.adam.learning_rate, last)
            },
        )
    }
}

/// Reads the seed of the patch draws and of the augmentation
/// (`mrbcr_train_options_set_seed`).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL.
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile; `seed_out`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_seed(
    options: *const mrbcr_train_options,
    seed_out: *mut u64,
) -> mrbcr_status {
    // SAFETY: `get` needs what this function's `# Safety` contract gives.
    unsafe { get(options, seed_out, "seed_out", |r| r.config.seed) }
}

/// Reads whether each augmentation is on (1) or off (0)
/// (`mrbcr_train_options_set_augmentation`).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL (nothing is written then).
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile;
/// `flips_out` and `noise_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_augmentation(
    options: *const mrbcr_train_options,
    flips_out: *mut c_int,
    noise_out: *mut c_int,
) -> mrbcr_status {
    // SAFETY: `get_pair` needs what this function's `# Safety` contract gives.
    unsafe {
        get_pair(
            options,
            (flips_out, "flips_out"),
            (noise_out, "noise_out"),
            |r| (c_int::from(r.config.flips), c_int::from(r.config.noise)),
        )
    }
}

/// Reads how the samples' losses make a step's loss (`mrbcr_train_options_set_log_loss`):
/// `log_loss_out` 1 and the floor for the mean of their logarithms, 0 and 0 for their
/// mean.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL (nothing is written then).
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile;
/// `log_loss_out` and `floor_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_log_loss(
    options: *const mrbcr_train_options,
    log_loss_out: *mut c_int,
    floor_out: *mut f64,
) -> mrbcr_status {
    // SAFETY: `get_pair` needs what this function's `# Safety` contract gives.
    unsafe {
        get_pair(
            options,
            (log_loss_out, "log_loss_out"),
            (floor_out, "floor_out"),
            |r| match r.config.batch_loss {
                BatchLoss::Mean => (0, 0.0),
                BatchLoss::MeanLog { floor } => (1, floor),
            },
        )
    }
}

/// Reads the steps between validations (0: never) and the patience (0: never stop
/// early), as `mrbcr_train_options_set_validation` takes them.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL (nothing is written then).
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile;
/// `every_out` and `patience_out` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_validation(
    options: *const mrbcr_train_options,
    every_out: *mut u64,
    patience_out: *mut usize,
) -> mrbcr_status {
    // SAFETY: `get_pair` needs what this function's `# Safety` contract gives.
    unsafe {
        get_pair(
            options,
            (every_out, "every_out"),
            (patience_out, "patience_out"),
            |r| (r.config.validate_every, r.config.patience),
        )
    }
}

/// Reads the steps between progress calls (`mrbcr_train_options_set_log_every`).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL.
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile;
/// `steps_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_log_every(
    options: *const mrbcr_train_options,
    steps_out: *mut u64,
) -> mrbcr_status {
    // SAFETY: `get` needs what this function's `# Safety` contract gives.
    unsafe { get(options, steps_out, "steps_out", |r| r.config.log_every) }
}

/// Reads the steps between checkpoints (`mrbcr_train_options_set_checkpoint_every`).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL.
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile;
/// `steps_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_checkpoint_every(
    options: *const mrbcr_train_options,
    steps_out: *mut u64,
) -> mrbcr_status {
    // SAFETY: `get` needs what this function's `# Safety` contract gives.
    unsafe {
        get(options, steps_out, "steps_out", |r| {
            r.config.checkpoint_every
        })
    }
}

/// Reads whether the run continues the checkpoint in the output directory (1) or
/// starts anew (0) (`mrbcr_train_options_set_resume`).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL.
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile;
/// `resume_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_resume(
    options: *const mrbcr_train_options,
    resume_out: *mut c_int,
) -> mrbcr_status {
    // SAFETY: `get` needs what this function's `# Safety` contract gives.
    unsafe { get(options, resume_out, "resume_out", |r| c_int::from(r.resume)) }
}

/// Reads the number of worker threads (0: every core;
/// `mrbcr_train_options_set_threads`).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL.
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile;
/// `threads_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_threads(
    options: *const mrbcr_train_options,
    threads_out: *mut usize,
) -> mrbcr_status {
    // SAFETY: `get` needs what this function's `# Safety` contract gives.
    unsafe { get(options, threads_out, "threads_out", |r| r.threads) }
}

/// Reads the seed of the fresh weights the run starts from
/// (`mrbcr_train_options_set_init_seed`).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL; `MRBCR_STATUS_INVALID_INPUT`
/// if the options start from a model's weights (`mrbcr_train_options_set_init_default`,
/// `mrbcr_train_options_set_init_model_file`) instead (nothing is written then).
///
/// # Safety
/// `options` is NULL or valid training options no thread changes meanwhile;
/// `seed_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_options_get_init_seed(
    options: *const mrbcr_train_options,
    seed_out: *mut u64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or valid and not changed meanwhile, by the caller's contract.
        let request = unsafe { non_null(options.cast::<TrainRequest>(), "options") }?;
        // SAFETY: NULL or writable, by the caller's contract.
        let seed_out = unsafe { non_null_mut(seed_out, "seed_out") }?;
        *seed_out = request.fresh_seed.ok_or_else(|| {
            Failure::invalid(format!(
                "the options start from a model's weights ({}), not from fresh weights \
                 drawn with a seed",
                request.init.description
            ))
        })?;
        Ok(())
    })
}
