//! Training across the C ABI: an options handle with one setter per setting (the
//! settings of `mrbcr train`), and two runs, on simulated widefield pairs or on the
//! user's own TIFF pairs. Thin layers over [`mrbcr::train::train`], with the data of
//! [`SimulatedTraining`] and [`TiffTraining`].

use std::ffi::{c_char, c_int, c_void};

use super::model::{path_parameter, LoadedModel};
use super::mrbcr_simulation_params;
use super::{
    guard, guard_value, mrbcr_model, mrbcr_status, non_null, non_null_mut, require_non_null,
    FfiResult,
};
use mrbcr::model::Model;
use mrbcr::simulate::SimulationParams;
use mrbcr::threads::with_worker_pool;
use mrbcr::train::{
    train, Initialization, Progress, SimulatedTraining, TiffTraining, TrainConfig, TrainingSet,
    TruthScaling,
};

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

/// What a training run is given beside its data.
struct TrainRequest {
    config: TrainConfig,
    init: Initialization,
    resume: bool,
    threads: usize,
}

/// Called by `mrbcr_train_simulated` and `mrbcr_train_tiff_pairs` every
/// `log_every` steps and after every validation, with the steps done in all, the
/// mean training loss since the previous call, the validation loss of this step (NaN
/// if it did not validate), the wall-clock seconds per step since the previous call,
/// and the caller's `user_data`. It is called on one of the run's worker threads, not
/// necessarily the caller's, never twice at once. Return nonzero to continue, 0 to stop: the checkpoint
/// of the step just done is saved (so that a run with `resume` set continues exactly
/// where this one stopped), no final model is written, and the run returns
/// `MRBCR_STATUS_CANCELLED`. It must not call the function that called it.
#[allow(non_camel_case_types)]
pub type mrbcr_train_progress_callback = Option<
    unsafe extern "C" fn(
        step: u64,
        train_loss: f64,
        validation_loss: f64,
        seconds_per_step: f64,
        user_data: *mut c_void,
    ) -> c_int,
>;

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
/// 10,000 steps, Adam with a constant learning rate of 1e-3, seed 1, random flips and
/// rotations and the authors' noise augmentation, a progress call every 10 steps,
/// validation every 200 steps with early stopping after 10 validations without a new
/// best, a checkpoint every 100 steps, fresh Glorot-uniform weights (seed 1), no
/// resume, every core. The caller frees them with `mrbcr_train_options_free`.
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
        let request = TrainRequest {
            config: TrainConfig {
                output_dir,
                ..TrainConfig::default()
            },
            init: Initialization::fresh(1),
            resume: false,
            threads: 0,
        };
        *options_out = Box::into_raw(Box::new(request)).cast();
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
        Ok(())
    })
}

/// The caller's `user_data`, handed to the progress callback on the thread that runs
/// the training loop (one of the call's workers), one call at a time.
#[derive(Clone, Copy)]
struct UserData(*mut c_void);

// SAFETY: the pointer is only handed back to the caller's callback, which the
// documentation of `mrbcr_train_progress_callback` says may run on a worker thread.
unsafe impl Send for UserData {}
// SAFETY: as above; the callback is never called from two threads at once.
unsafe impl Sync for UserData {}

impl UserData {
    /// The pointer (a method, so that closures capture the whole wrapper).
    fn get(self) -> *mut c_void {
        self.0
    }
}

/// Makes the data with `data` and trains on it as `request` says, calling `progress`,
/// both in a pool of the call's own threads; the trained model into `model_out` (if
/// not NULL) on success.
///
/// # Safety
/// `user_data` is what `progress` expects; `model_out` is NULL or writable.
unsafe fn run_training(
    request: &TrainRequest,
    data: impl FnOnce() -> mrbcr::Result<TrainingSet> + Send,
    progress: mrbcr_train_progress_callback,
    user_data: *mut c_void,
    model_out: *mut *mut mrbcr_model,
) -> FfiResult {
    let user_data = UserData(user_data);
    let mut log = |p: &Progress| match progress {
        None => true,
        // SAFETY: a valid function taking this user_data, by the caller's contract.
        Some(callback) => unsafe {
            callback(
                p.step,
                p.train_loss,
                p.val_loss.unwrap_or(f64::NAN),
                p.seconds_per_step,
                user_data.get(),
            ) != 0
        },
    };
    let outcome = with_worker_pool(request.threads, |pool| {
        pool.install(|| {
            train(
                &request.config,
                &data()?,
                &request.init,
                request.resume,
                &mut log,
            )
        })
    })??;
    if !model_out.is_null() {
        let model = Model::load(&outcome.model_path)?;
        // SAFETY: not NULL, and writable by the caller's contract.
        unsafe { *model_out = LoadedModel::new(model).into_handle() };
    }
    Ok(())
}

/// Trains m-rBCR on simulated widefield pairs (raw camera counts as input, ground
/// truth as truth), as `mrbcr train` without `--low`/`--high` does.
///
/// `params` sets the simulator (NULL: the training defaults of `mrbcr train`, 256 x
/// 256 images, NA 1.1 to 1.4, emission 500 to 620 nm, 10 to 5000 photons at the
/// brightest pixel over 0 to 20 background photons, otherwise the simulator's
/// defaults). The `images` training and `validation_images` validation images are
/// shared out evenly over the `pixel_size_count` pixel sizes of `pixel_sizes_nm`
/// (none: the pixel size of `params`); the `k`-th size (0-based) simulates its
/// training images with seed `seed + 100 k` and its validation images with seed
/// `seed + 100 k + 1`. The run is deterministic: the same settings give the same
/// model at any thread count.
///
/// On success the output directory holds `model.safetensors` (the weights of the
/// lowest validation loss, or the last ones without validation, with metadata
/// recording how they were made), and `*model_out` (if `model_out` is not NULL)
/// receives it loaded, for the caller to free with `mrbcr_model_free`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options` is NULL, or `pixel_sizes_nm` is NULL
/// with a nonzero count; `MRBCR_STATUS_INVALID_INPUT` (the message names the setting)
/// for an unusable setting or simulation parameter, or a checkpoint in the directory
/// of a new run; `MRBCR_STATUS_TRAINING` for a diverging run, or when resuming a
/// checkpoint that is damaged, of another network or of other settings;
/// `MRBCR_STATUS_CANCELLED` if the callback stopped the run (its checkpoint is saved);
/// `MRBCR_STATUS_IO` if the directory cannot be written. `*model_out` is written only
/// on success.
///
/// # Safety
/// `options` and `params` are NULL or valid handles no thread changes during the call;
/// `pixel_sizes_nm` is NULL or points to `pixel_size_count` doubles; `progress` is
/// NULL or a function as `mrbcr_train_progress_callback` describes, given `user_data`;
/// `model_out` is NULL or points to writable memory for a pointer.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn mrbcr_train_simulated(
    options: *const mrbcr_train_options,
    params: *const mrbcr_simulation_params,
    pixel_sizes_nm: *const f64,
    pixel_size_count: usize,
    images: usize,
    validation_images: usize,
    seed: u64,
    progress: mrbcr_train_progress_callback,
    user_data: *mut c_void,
    model_out: *mut *mut mrbcr_model,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or a valid handle, by the caller's contract.
        let request = unsafe { non_null(options.cast::<TrainRequest>(), "options") }?;
        // SAFETY: NULL or a valid handle, by the caller's contract.
        let params = unsafe { params.cast::<SimulationParams>().as_ref() }
            .cloned()
            .unwrap_or_else(|| SimulatedTraining::default().params);
        let pixel_sizes_nm = if pixel_size_count == 0 {
            vec![params.pixel_size_nm]
        } else {
            require_non_null(pixel_sizes_nm, "pixel_sizes_nm")?;
            // SAFETY: `pixel_size_count` doubles, by the caller's contract.
            unsafe { std::slice::from_raw_parts(pixel_sizes_nm, pixel_size_count) }.to_vec()
        };
        let data = SimulatedTraining {
            params,
            pixel_sizes_nm,
            images,
            validation_images,
            seed,
        };
        let patch_size = request.config.patch_size;
        let make_data = move || data.training_set(patch_size);
        // SAFETY: `run_training` needs `progress` to be NULL or a callback safe to call
        // with `user_data` from another thread, and `model_out` NULL or writable: this
        // function's `# Safety` contract passes both on unchanged.
        unsafe { run_training(request, make_data, progress, user_data, model_out) }
    })
}

/// Trains m-rBCR (or fine-tunes a model: `mrbcr_train_options_set_init_*`) on the
/// user's own pairs, as `mrbcr train --low --high` does: `low` and `high` are each a
/// TIFF file (one plane or a stack) or a folder of TIFF files, matched plane by plane
/// in order (files by name, then pages). The last `round(pairs x
/// validation_fraction)` pairs (at least 1, at most all but one) are held out for
/// validation when the options validate; otherwise every pair trains. Each truth
/// patch is scaled to [0, 1] by its own minimum and maximum, as the authors did, or,
/// if `same_units` is nonzero (the high-quality images are in the units of the
/// low-quality ones: the same camera and settings), by its input patch's transform, so
/// that the model keeps intensities.
///
/// On success, as `mrbcr_train_simulated`.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `options`, `low` or `high` is NULL;
/// `MRBCR_STATUS_INVALID_INPUT` if the two hold different numbers of planes, two
/// matched planes differ in size, a plane has NaN or infinite values, there are fewer
/// than 2 pairs with validation, `validation_fraction` is not between 0 and 1, or as
/// `mrbcr_train_simulated`; `MRBCR_STATUS_IO` and `MRBCR_STATUS_IMAGE_FILE` for files
/// that cannot be read as TIFF images; `MRBCR_STATUS_CANCELLED` as
/// `mrbcr_train_simulated`. `*model_out` is written only on success.
///
/// # Safety
/// `options` is NULL or valid training options no thread changes during the call;
/// `low` and `high` are NULL or NUL-terminated paths; `progress`, `user_data` and
/// `model_out` as for `mrbcr_train_simulated`.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_tiff_pairs(
    options: *const mrbcr_train_options,
    low: *const c_char,
    high: *const c_char,
    validation_fraction: f64,
    same_units: c_int,
    progress: mrbcr_train_progress_callback,
    user_data: *mut c_void,
    model_out: *mut *mut mrbcr_model,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or a valid handle, by the caller's contract.
        let request = unsafe { non_null(options.cast::<TrainRequest>(), "options") }?;
        // SAFETY: NULL or NUL-terminated, by the caller's contract.
        let (low, high) = unsafe { (path_parameter(low, "low")?, path_parameter(high, "high")?) };
        let data = TiffTraining {
            low,
            high,
            validation_fraction,
            truth_scaling: if same_units != 0 {
                TruthScaling::LikeInput
            } else {
                TruthScaling::OwnMinMax
            },
        };
        let (patch_size, validate) = (request.config.patch_size, request.config.validate_every > 0);
        let make_data = move || data.training_set(patch_size, validate);
        // SAFETY: `run_training` needs `progress` to be NULL or a callback safe to call
        // with `user_data` from another thread, and `model_out` NULL or writable: this
        // function's `# Safety` contract passes both on unchanged.
        unsafe { run_training(request, make_data, progress, user_data, model_out) }
    })
}
