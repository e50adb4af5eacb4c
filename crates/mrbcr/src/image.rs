//! Images as microscopes produce them: a stack of equally sized 2-D planes (Z slices,
//! time points, channels, in the file's order) of one pixel type.

use ndarray::{ArrayView3, ArrayViewMut3};

use crate::error::{Error, Result};
use crate::memory::filled_vec;

/// The pixel types mrbcr reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelType {
    /// 8-bit unsigned.
    U8,
    /// 16-bit unsigned (most scientific cameras).
    U16,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
}

impl PixelType {
    /// Bytes per pixel.
    pub fn bytes(self) -> usize {
        match self {
            PixelType::U8 => 1,
            PixelType::U16 => 2,
            PixelType::F32 => 4,
            PixelType::F64 => 8,
        }
    }

    /// Name as users know it: `8-bit`, `16-bit`, `32-bit float`, `64-bit float`.
    pub fn name(self) -> &'static str {
        match self {
            PixelType::U8 => "8-bit",
            PixelType::U16 => "16-bit",
            PixelType::F32 => "32-bit float",
            PixelType::F64 => "64-bit float",
        }
    }
}

/// The pixel values of a stack, planes one after the other, each row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum Pixels {
    /// 8-bit unsigned values.
    U8(Vec<u8>),
    /// 16-bit unsigned values.
    U16(Vec<u16>),
    /// 32-bit float values.
    F32(Vec<f32>),
    /// 64-bit float values.
    F64(Vec<f64>),
}

impl Pixels {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Pixels::U8(v) => v.len(),
            Pixels::U16(v) => v.len(),
            Pixels::F32(v) => v.len(),
            Pixels::F64(v) => v.len(),
        }
    }

    /// True if there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pixel type.
    pub fn pixel_type(&self) -> PixelType {
        match self {
            Pixels::U8(_) => PixelType::U8,
            Pixels::U16(_) => PixelType::U16,
            Pixels::F32(_) => PixelType::F32,
            Pixels::F64(_) => PixelType::F64,
        }
    }
}

/// The size and pixel type of a stack, without its pixels: what a file holds before
/// its planes are read, or will hold before they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackLayout {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Number of planes.
    pub planes: usize,
    /// The pixel type.
    pub pixel_type: PixelType,
}

impl StackLayout {
    /// Bytes of all the pixels (saturating at `u64::MAX`).
    pub fn bytes(&self) -> u64 {
        [self.height, self.planes, self.pixel_type.bytes()]
            .iter()
            .fold(self.width as u64, |n, &k| n.saturating_mul(k as u64))
    }
}

/// A stack of `planes` images of `width x height` pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageStack {
    width: usize,
    height: usize,
    planes: usize,
    pixels: Pixels,
}

impl ImageStack {
    /// A stack from its pixel values (planes one after the other, rows in order).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if a dimension is zero or the number of values is not
    /// `width * height * planes`.
    pub fn new(width: usize, height: usize, planes: usize, pixels: Pixels) -> Result<ImageStack> {
        if width == 0 || height == 0 || planes == 0 {
            return Err(Error::InvalidInput(format!(
                "an image needs at least one pixel and one plane, got {width} x {height} x {planes}"
            )));
        }
        let expected = width
            .checked_mul(height)
            .and_then(|n| n.checked_mul(planes))
            .ok_or_else(|| Error::InvalidInput("image dimensions overflow".into()))?;
        if pixels.len() != expected {
            return Err(Error::InvalidInput(format!(
                "{width} x {height} x {planes} needs {expected} values, got {}",
                pixels.len()
            )));
        }
        Ok(ImageStack {
            width,
            height,
            planes,
            pixels,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Number of planes.
    pub fn planes(&self) -> usize {
        self.planes
    }

    /// The pixel values.
    pub fn pixels(&self) -> &Pixels {
        &self.pixels
    }

    /// The pixel values, taking them out of the stack.
    pub fn into_pixels(self) -> Pixels {
        self.pixels
    }

    /// The pixel type.
    pub fn pixel_type(&self) -> PixelType {
        self.pixels.pixel_type()
    }

    /// The stack's size and pixel type.
    pub fn layout(&self) -> StackLayout {
        StackLayout {
            width: self.width,
            height: self.height,
            planes: self.planes,
            pixel_type: self.pixel_type(),
        }
    }
}

impl ImageStack {
    /// A view of the pixels as `planes x height x width`.
    pub fn view(&self) -> StackView<'_> {
        let shape = (self.planes, self.height, self.width);
        match &self.pixels {
            Pixels::U8(v) => {
                StackView::U8(ArrayView3::from_shape(shape, v).expect("checked in new"))
            }
            Pixels::U16(v) => {
                StackView::U16(ArrayView3::from_shape(shape, v).expect("checked in new"))
            }
            Pixels::F32(v) => {
                StackView::F32(ArrayView3::from_shape(shape, v).expect("checked in new"))
            }
            Pixels::F64(v) => {
                StackView::F64(ArrayView3::from_shape(shape, v).expect("checked in new"))
            }
        }
    }

    /// A mutable view of the pixels as `planes x height x width`.
    pub fn view_mut(&mut self) -> StackViewMut<'_> {
        let shape = (self.planes, self.height, self.width);
        match &mut self.pixels {
            Pixels::U8(v) => {
                StackViewMut::U8(ArrayViewMut3::from_shape(shape, v).expect("checked in new"))
            }
            Pixels::U16(v) => {
                StackViewMut::U16(ArrayViewMut3::from_shape(shape, v).expect("checked in new"))
            }
            Pixels::F32(v) => {
                StackViewMut::F32(ArrayViewMut3::from_shape(shape, v).expect("checked in new"))
            }
            Pixels::F64(v) => {
                StackViewMut::F64(ArrayViewMut3::from_shape(shape, v).expect("checked in new"))
            }
        }
    }

    /// A stack of zeros.
    ///
    /// # Errors
    /// As [`ImageStack::new`]; [`Error::OutOfMemory`] if the memory cannot be had.
    pub fn zeros(
        width: usize,
        height: usize,
        planes: usize,
        pixel_type: PixelType,
    ) -> Result<ImageStack> {
        let n = width
            .checked_mul(height)
            .and_then(|n| n.checked_mul(planes))
            .ok_or_else(|| Error::InvalidInput("image dimensions overflow".into()))?;
        let task = || {
            format!(
                "a {width} x {height} x {planes} stack of {}",
                pixel_type.name()
            )
        };
        let pixels = match pixel_type {
            PixelType::U8 => Pixels::U8(filled_vec(n, 0, task)?),
            PixelType::U16 => Pixels::U16(filled_vec(n, 0, task)?),
            PixelType::F32 => Pixels::F32(filled_vec(n, 0.0, task)?),
            PixelType::F64 => Pixels::F64(filled_vec(n, 0.0, task)?),
        };
        ImageStack::new(width, height, planes, pixels)
    }
}

/// Borrowed pixels of a stack, `planes x height x width`, with any strides (rows with
/// padding, planes apart): what callers in C, Java and Python hand over without a copy.
#[derive(Debug, Clone)]
pub enum StackView<'a> {
    /// 8-bit unsigned.
    U8(ArrayView3<'a, u8>),
    /// 16-bit unsigned.
    U16(ArrayView3<'a, u16>),
    /// 32-bit float.
    F32(ArrayView3<'a, f32>),
    /// 64-bit float.
    F64(ArrayView3<'a, f64>),
}

/// Borrowed writable pixels of a stack, `planes x height x width`, any strides.
#[derive(Debug)]
pub enum StackViewMut<'a> {
    /// 8-bit unsigned.
    U8(ArrayViewMut3<'a, u8>),
    /// 16-bit unsigned.
    U16(ArrayViewMut3<'a, u16>),
    /// 32-bit float.
    F32(ArrayViewMut3<'a, f32>),
    /// 64-bit float.
    F64(ArrayViewMut3<'a, f64>),
}

macro_rules! each_view {
    ($v:expr, $a:ident => $body:expr) => {
        match $v {
            Self::U8($a) => $body,
            Self::U16($a) => $body,
            Self::F32($a) => $body,
            Self::F64($a) => $body,
        }
    };
}

impl StackView<'_> {
    /// `(planes, height, width)`.
    pub fn dim(&self) -> (usize, usize, usize) {
        each_view!(self, a => a.dim())
    }

    /// The pixel type.
    pub fn pixel_type(&self) -> PixelType {
        match self {
            StackView::U8(_) => PixelType::U8,
            StackView::U16(_) => PixelType::U16,
            StackView::F32(_) => PixelType::F32,
            StackView::F64(_) => PixelType::F64,
        }
    }
}

impl StackViewMut<'_> {
    /// `(planes, height, width)`.
    pub fn dim(&self) -> (usize, usize, usize) {
        each_view!(self, a => a.dim())
    }

    /// The pixel type.
    pub fn pixel_type(&self) -> PixelType {
        match self {
            StackViewMut::U8(_) => PixelType::U8,
            StackViewMut::U16(_) => PixelType::U16,
            StackViewMut::F32(_) => PixelType::F32,
            StackViewMut::F64(_) => PixelType::F64,
        }
    }
}
