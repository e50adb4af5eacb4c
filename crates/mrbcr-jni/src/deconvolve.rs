//! The deconvolution native: a stack given as Java arrays, one per plane (ImageJ's
//! `ImageStack` layout), copied into Rust memory with `GetArrayRegion`, deconvolved by
//! [`mrbcr::deconvolve_into`] and copied back with `SetArrayRegion`. No Java array is
//! pinned during inference.
//!
//! Planes go through in chunks of at most [`CHUNK_BYTES`] (input plus output), so a
//! large stack does not need a second full copy in native memory; planes are
//! independent in the core, so the result is the same as one call on the whole stack.

use jni::objects::{JClass, JObject, JObjectArray, JPrimitiveArray, JString, TypeArray};
use jni::sys::{jbyte, jfloat, jint, jlong, jshort};
use jni::{jni_sig, jni_str, Env, EnvUnowned, JValue};
use ndarray::{ArrayView3, ArrayViewMut3};

use super::{handles, invalid, NativeFailure, NativeResult, ThrowMrbcrException};
use mrbcr::deconvolve::{deconvolve_into, DeconvolveOptions, Normalization, OutputRange};
use mrbcr::model::Model;
use mrbcr::{StackView, StackViewMut};

/// The `overlap` that stands for the model's own: what its file records (measured for
/// it), else [`DeconvolveOptions::DEFAULT_OVERLAP`].
pub(crate) const OVERLAP_OF_MODEL: jint = -1;

/// Native memory for one chunk of planes: input and output copies together.
const CHUNK_BYTES: usize = 256 << 20;

/// `static native void deconvolve(long handle, Object[] inputPlanes, int inputBits,
/// Object[] outputPlanes, int outputBits, int width, int height, int tile, int overlap,
/// String normalization, String outputRange, int threads, ProgressListener progress)`.
///
/// Deconvolves the planes of `inputPlanes` into those of `outputPlanes`, each a Java
/// array of `width * height` pixels, rows in order. `inputBits` and `outputBits` give
/// their types: 8 (`byte[]`, unsigned as in ImageJ), 16 (`short[]`, unsigned) or 32
/// (`float[]`). `tile`, `overlap` (`-1`: the model's own), `normalization` (`percentile`,
/// `percentile:LOW:HIGH`, `minmax`, `per-tile-minmax`, `none`), `outputRange`
/// (`input`, `normalized`) and `threads` are [`DeconvolveOptions`]. `progress` may be
/// null; otherwise its `boolean progress(double fraction)` is called on this thread
/// after each tile with the fraction of the stack done, and returning false cancels.
///
/// # Errors
/// Throws `MrbcrException` with the library's message for a handle that is not live,
/// null or mismatched arrays, a plane of the wrong type or length, bad options, or
/// NaN/infinite input; `MrbcrCancelledException` if the listener returned false. An
/// exception thrown by the listener cancels the run and propagates. After an
/// exception the output arrays' contents are unspecified.
#[no_mangle]
#[allow(clippy::too_many_arguments)] // the Java method's parameters, one by one
pub extern "system" fn Java_io_github_mrbcr_fiji_MrbcrNative_deconvolve<'local>(
    mut unowned_env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    input_planes: JObjectArray<'local>,
    input_bits: jint,
    output_planes: JObjectArray<'local>,
    output_bits: jint,
    width: jint,
    height: jint,
    tile: jint,
    overlap: jint,
    normalization: JString<'local>,
    output_range: JString<'local>,
    threads: jint,
    progress: JObject<'local>,
) {
    unowned_env
        .with_env(|env| -> NativeResult<()> {
            let model = handles::model(handle)?;
            let options = DeconvolveOptions {
                tile: non_negative(tile, "tile size")?,
                overlap: match overlap {
                    OVERLAP_OF_MODEL => None,
                    pixels => Some(non_negative(pixels, "overlap")?),
                },
                normalization: text(env, &normalization, "normalization")?
                    .parse::<Normalization>()?,
                output_range: text(env, &output_range, "output range")?.parse::<OutputRange>()?,
                threads: non_negative(threads, "thread count")?,
                memory_limit: 0,
            };
            options.validate()?;
            let stack = Stack::new(env, input_planes, output_planes, width, height)?;
            macro_rules! with_output {
                ($input:ty) => {
                    match output_bits {
                        8 => stack.run::<$input, u8>(env, &model, &options, &progress),
                        16 => stack.run::<$input, u16>(env, &model, &options, &progress),
                        32 => stack.run::<$input, f32>(env, &model, &options, &progress),
                        _ => Err(bad_bits(output_bits, "output")),
                    }
                };
            }
            match input_bits {
                8 => with_output!(u8),
                16 => with_output!(u16),
                32 => with_output!(f32),
                _ => Err(bad_bits(input_bits, "input")),
            }
        })
        .resolve::<ThrowMrbcrException>()
}

/// The failure for a bit depth other than 8, 16 or 32.
fn bad_bits(bits: jint, which: &str) -> NativeFailure {
    invalid(format!(
        "the {which} bit depth {bits} is not 8, 16 or 32 (ImageJ's grayscale types)"
    ))
}

/// A Java `int` that must not be negative.
fn non_negative(value: jint, name: &str) -> NativeResult<usize> {
    usize::try_from(value).map_err(|_| invalid(format!("the {name} {value} is negative")))
}

/// The text of a Java string that must not be null.
fn text(env: &Env, string: &JString, name: &str) -> NativeResult<String> {
    if string.is_null() {
        return Err(invalid(format!("the {name} is null")));
    }
    Ok(string.try_to_string(env)?)
}

/// A pixel type as Java holds it in a primitive array.
trait JavaPixel: Copy + Default {
    /// The Java array's element type.
    type Element: TypeArray;
    /// The Java array type's name, for messages.
    const JAVA_ARRAY: &'static str;

    /// The plane `object` as this type's Java array.
    ///
    /// # Errors
    /// [`jni::errors::Error::WrongObjectType`] if it is another kind of object.
    fn cast<'any>(
        env: &mut Env,
        object: JObject<'any>,
    ) -> jni::errors::Result<JPrimitiveArray<'any, Self::Element>>;

    /// The values as Java elements (the same bits).
    fn as_java(values: &[Self]) -> &[Self::Element];

    /// The values as Java elements (the same bits), writable.
    fn as_java_mut(values: &mut [Self]) -> &mut [Self::Element];

    /// The stack view of the library's API.
    fn view(values: ArrayView3<Self>) -> StackView;

    /// The writable stack view of the library's API.
    fn view_mut(values: ArrayViewMut3<Self>) -> StackViewMut;
}

/// Implements [`JavaPixel`] for a pixel type stored in a Java array of `$element`
/// values of the same size, every bit pattern being valid for both.
macro_rules! java_pixel {
    ($pixel:ty, $element:ty, $array:literal, $variant:ident) => {
        impl JavaPixel for $pixel {
            type Element = $element;
            const JAVA_ARRAY: &'static str = $array;

            fn cast<'any>(
                env: &mut Env,
                object: JObject<'any>,
            ) -> jni::errors::Result<JPrimitiveArray<'any, $element>> {
                JPrimitiveArray::<$element>::cast_local(env, object)
            }

            fn as_java(values: &[$pixel]) -> &[$element] {
                // SAFETY: same size and alignment, and every bit pattern is a valid
                // value of both types; the lifetime and length are the input's.
                unsafe { std::slice::from_raw_parts(values.as_ptr().cast(), values.len()) }
            }

            fn as_java_mut(values: &mut [$pixel]) -> &mut [$element] {
                // SAFETY: as in `as_java`, and the borrow is exclusive.
                unsafe { std::slice::from_raw_parts_mut(values.as_mut_ptr().cast(), values.len()) }
            }

            fn view(values: ArrayView3<$pixel>) -> StackView {
                StackView::$variant(values)
            }

            fn view_mut(values: ArrayViewMut3<$pixel>) -> StackViewMut {
                StackViewMut::$variant(values)
            }
        }
    };
}

java_pixel!(u8, jbyte, "byte[]", U8);
java_pixel!(u16, jshort, "short[]", U16);
java_pixel!(f32, jfloat, "float[]", F32);

/// The Java planes of one call, checked for count and dimensions.
struct Stack<'local> {
    input: JObjectArray<'local>,
    output: JObjectArray<'local>,
    planes: usize,
    height: usize,
    width: usize,
}

impl<'local> Stack<'local> {
    /// Checks that both arrays are there, hold as many planes, and that the plane
    /// dimensions are positive.
    fn new(
        env: &Env,
        input: JObjectArray<'local>,
        output: JObjectArray<'local>,
        width: jint,
        height: jint,
    ) -> NativeResult<Stack<'local>> {
        if input.is_null() || output.is_null() {
            return Err(invalid("the input or output planes are null"));
        }
        let (width, height) = match (usize::try_from(width), usize::try_from(height)) {
            (Ok(w), Ok(h)) if w > 0 && h > 0 => (w, h),
            _ => {
                return Err(invalid(format!(
                    "the plane size {width} x {height} is not positive"
                )))
            }
        };
        let planes = input.len(env)?;
        let output_planes = output.len(env)?;
        if planes == 0 || output_planes != planes {
            return Err(invalid(format!(
                "{planes} input planes and {output_planes} output planes: \
                 need the same number, at least one"
            )));
        }
        Ok(Stack {
            input,
            output,
            planes,
            height,
            width,
        })
    }

    /// Pixels in a plane.
    fn plane_len(&self) -> usize {
        self.width * self.height
    }

    /// Runs the deconvolution chunk by chunk.
    fn run<I: JavaPixel, O: JavaPixel>(
        &self,
        env: &mut Env,
        model: &Model,
        options: &DeconvolveOptions,
        listener: &JObject,
    ) -> NativeResult<()> {
        let plane_len = self.plane_len();
        let plane_bytes = plane_len * (size_of::<I>() + size_of::<O>());
        let chunk = (CHUNK_BYTES / plane_bytes).clamp(1, self.planes);
        let mut input = vec![I::default(); chunk * plane_len];
        let mut output = vec![O::default(); chunk * plane_len];
        let mut listener_failure = None;
        for first in (0..self.planes).step_by(chunk) {
            let count = chunk.min(self.planes - first);
            let input = &mut input[..count * plane_len];
            let output = &mut output[..count * plane_len];
            for (i, plane) in input.chunks_exact_mut(plane_len).enumerate() {
                self.read_plane::<I>(env, first + i, plane)?;
            }
            let shape = (count, self.height, self.width);
            let input_view = ArrayView3::from_shape(shape, &*input).expect("sized above");
            let output_view = ArrayViewMut3::from_shape(shape, &mut *output).expect("sized above");
            let total = self.planes as f64;
            let mut report = |fraction: f64| -> bool {
                let done = (first as f64 + fraction * count as f64) / total;
                match call_listener(env, listener, done) {
                    Ok(go_on) => go_on,
                    Err(failure) => {
                        listener_failure = Some(failure);
                        false
                    }
                }
            };
            let progress: Option<&mut dyn FnMut(f64) -> bool> = if listener.is_null() {
                None
            } else {
                Some(&mut report)
            };
            let result = deconvolve_into(
                model,
                I::view(input_view),
                O::view_mut(output_view),
                options,
                progress,
            );
            if let Some(failure) = listener_failure.take() {
                return Err(NativeFailure::Jni(failure));
            }
            result?;
            for (i, plane) in output.chunks_exact(plane_len).enumerate() {
                self.write_plane::<O>(env, first + i, plane)?;
            }
        }
        Ok(())
    }

    /// Copies input plane `index` into `values`.
    fn read_plane<P: JavaPixel>(
        &self,
        env: &mut Env,
        index: usize,
        values: &mut [P],
    ) -> NativeResult<()> {
        let array = self.plane::<P>(env, &self.input, index, "input")?;
        array.get_region(env, 0, P::as_java_mut(values))?;
        env.delete_local_ref(array);
        Ok(())
    }

    /// Copies `values` into output plane `index`.
    fn write_plane<P: JavaPixel>(
        &self,
        env: &mut Env,
        index: usize,
        values: &[P],
    ) -> NativeResult<()> {
        let array = self.plane::<P>(env, &self.output, index, "output")?;
        array.set_region(env, 0, P::as_java(values))?;
        env.delete_local_ref(array);
        Ok(())
    }

    /// Plane `index` of `planes`, checked for its type and length.
    fn plane<'any, P: JavaPixel>(
        &self,
        env: &mut Env<'any>,
        planes: &JObjectArray,
        index: usize,
        which: &str,
    ) -> NativeResult<JPrimitiveArray<'any, P::Element>> {
        let object = planes.get_element(env, index)?;
        if object.is_null() {
            return Err(invalid(format!("{which} plane {index} is null")));
        }
        let array = P::cast(env, object).map_err(|_| {
            invalid(format!(
                "{which} plane {index} is not a {}, as the bit depth says",
                P::JAVA_ARRAY
            ))
        })?;
        let len = array.len(env)?;
        if len != self.plane_len() {
            return Err(invalid(format!(
                "{which} plane {index} has {len} pixels, a {} x {} plane has {}",
                self.width,
                self.height,
                self.plane_len()
            )));
        }
        Ok(array)
    }
}

/// Calls the listener's `boolean progress(double)`.
fn call_listener(env: &mut Env, listener: &JObject, fraction: f64) -> jni::errors::Result<bool> {
    env.call_method(
        listener,
        jni_str!("progress"),
        jni_sig!("(D)Z"),
        &[JValue::Double(fraction)],
    )?
    .z()
}
