//! Training across the C ABI: two runs, on simulated widefield pairs or on the user's
//! own TIFF pairs, with the options of `train_options.rs`, and the defaults of their
//! data arguments. Thin layers over [`mrbcr::train::train`], with the data of
//! [`SimulatedTraining`] and [`TiffTraining`].

use std::ffi::{c_char, c_int, c_void};

use super::model::{path_parameter, LoadedModel};
use super::mrbcr_simulation_params;
use super::train_options::{mrbcr_train_options, TrainRequest};
use super::{
    guard, mrbcr_model, mrbcr_status, non_null, non_null_mut, require_non_null, FfiResult,
};
use mrbcr::model::Model;
use mrbcr::simulate::SimulationParams;
use mrbcr::threads::with_worker_pool;
use mrbcr::train::{train, Progress, SimulatedTraining, TiffTraining, TrainingSet, TruthScaling};

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
/// (none: the pixel size of `params`, or with `params` NULL the training defaults'
/// pixel sizes, 65 nm); the `k`-th size (0-based) simulates its
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
        let given = unsafe { params.cast::<SimulationParams>().as_ref() };
        let defaults = SimulatedTraining::default();
        let sizes = if pixel_size_count > 0 {
            require_non_null(pixel_sizes_nm, "pixel_sizes_nm")?;
            // SAFETY: `pixel_size_count` doubles, by the caller's contract.
            unsafe { std::slice::from_raw_parts(pixel_sizes_nm, pixel_size_count) }.to_vec()
        } else if let Some(params) = given {
            vec![params.pixel_size_nm]
        } else {
            defaults.pixel_sizes_nm
        };
        let params = given.cloned().unwrap_or(defaults.params);
        let data = SimulatedTraining {
            params,
            pixel_sizes_nm: sizes,
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

/// Writes the defaults of `mrbcr_train_simulated`'s data (those of `mrbcr train`):
/// the number of training images and of validation images, and the seed.
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if a parameter is NULL (nothing is written then).
///
/// # Safety
/// Each parameter is NULL or writable for its type.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_simulated_defaults(
    images_out: *mut usize,
    validation_images_out: *mut usize,
    seed_out: *mut u64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: each NULL or writable, by the caller's contract.
        let (images_out, validation_images_out, seed_out) = unsafe {
            (
                non_null_mut(images_out, "images_out")?,
                non_null_mut(validation_images_out, "validation_images_out")?,
                non_null_mut(seed_out, "seed_out")?,
            )
        };
        let defaults = SimulatedTraining::default();
        *images_out = defaults.images;
        *validation_images_out = defaults.validation_images;
        *seed_out = defaults.seed;
        Ok(())
    })
}

/// Writes the default of `mrbcr_train_tiff_pairs`'s `validation_fraction` (that of
/// `mrbcr train --val-fraction`).
///
/// # Errors
/// `MRBCR_STATUS_NULL_PARAMETER` if `validation_fraction_out` is NULL.
///
/// # Safety
/// `validation_fraction_out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn mrbcr_train_tiff_pairs_defaults(
    validation_fraction_out: *mut f64,
) -> mrbcr_status {
    guard(|| {
        // SAFETY: NULL or writable, by the caller's contract.
        let out = unsafe { non_null_mut(validation_fraction_out, "validation_fraction_out") }?;
        *out = TiffTraining::DEFAULT_VALIDATION_FRACTION;
        Ok(())
    })
}
