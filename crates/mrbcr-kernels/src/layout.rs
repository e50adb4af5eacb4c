//! The memory layout of feature maps: planar (one plane per channel), each plane a
//! zero-padded image stored row by row.
//!
//! A plane of an `h x w` image has [`PAD`] zero rows and columns on every side, a few
//! zeros before the first padded row (so that every read a kernel makes stays inside the
//! plane), and slack at the end (so that the last block of a kernel may run over). With
//! that, a `kh x kw` convolution of output position `p` (a flat index) reads input
//! positions `p + dy * stride + dx`: every tap is a constant offset, and a kernel walks
//! the whole image as one flat range of pixels, blocks of 16-lane vectors at a time.
//!
//! Invariant, kept by every kernel that writes a plane: the padding is zero. Kernels
//! compute blocks that also cover padding positions and then clear them with the
//! plane's interior mask.

use std::alloc::{self, Layout};
use std::sync::Arc;

/// Zero rows/columns around each plane: half of the largest kernel (9x9).
pub const PAD: usize = 4;
/// The largest kernel side the padding allows (9): every tap of a larger kernel would
/// read before or after the plane.
pub const MAX_KERNEL: usize = 2 * PAD + 1;
/// The largest block of pixels any kernel computes at once; the plane's tail slack.
pub const MAX_BLOCK: usize = 192;
/// Alignment of plane starts, in floats (64 bytes: one AVX-512 vector, one cache line).
const ALIGN_FLOATS: usize = 16;

/// Size and layout of the planes of one image size.
#[derive(Debug)]
pub struct PlaneGeometry {
    height: usize,
    width: usize,
    stride: usize,
    first: usize,
    plane_len: usize,
    interior: Vec<u32>,
}

impl PlaneGeometry {
    /// Layout for `height x width` images (both at least 1).
    pub fn new(height: usize, width: usize) -> Arc<PlaneGeometry> {
        assert!(height > 0 && width > 0, "empty image");
        let stride = width + 2 * PAD;
        // The first computed position (row PAD, column 0 of the padded grid) sits on an
        // aligned address, and at least PAD floats precede the first padded row so that
        // the (dy, dx) = (-PAD, -PAD) tap of that position stays inside the plane.
        let front = PAD + (ALIGN_FLOATS - (PAD + PAD * stride) % ALIGN_FLOATS) % ALIGN_FLOATS;
        let first = front + PAD * stride;
        let used = front + (height + 2 * PAD) * stride + MAX_BLOCK + ALIGN_FLOATS;
        let plane_len = used.next_multiple_of(ALIGN_FLOATS);
        let mut interior = vec![0u32; plane_len];
        for r in 0..height {
            let row = first + r * stride + PAD;
            interior[row..row + width].fill(u32::MAX);
        }
        Arc::new(PlaneGeometry {
            height,
            width,
            stride,
            first,
            plane_len,
            interior,
        })
    }

    /// Image height.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Image width.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Distance between two rows, in floats.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Floats per plane.
    pub fn plane_len(&self) -> usize {
        self.plane_len
    }

    /// Flat index of the first position a kernel computes (padded row [`PAD`],
    /// padded column 0).
    pub fn first(&self) -> usize {
        self.first
    }

    /// Number of flat positions a kernel must cover: the image's rows, padding columns
    /// included.
    pub fn compute_len(&self) -> usize {
        self.height * self.stride
    }

    /// Flat index of image pixel `(row, col)`.
    pub fn index(&self, row: usize, col: usize) -> usize {
        self.first + row * self.stride + PAD + col
    }

    /// Flat offsets of the taps of a `kh x kw` kernel centred on a position, in
    /// checkpoint tap order (row-major over the kernel window): tap `(y, x)` of
    /// position `p` reads `p + (y - kh / 2) * stride + (x - kw / 2)`.
    pub fn tap_offsets(&self, kh: usize, kw: usize) -> Vec<isize> {
        let (ch, cw) = ((kh / 2) as isize, (kw / 2) as isize);
        let s = self.stride as isize;
        (0..kh as isize)
            .flat_map(|y| (0..kw as isize).map(move |x| (y - ch) * s + (x - cw)))
            .collect()
    }

    /// Per flat position: all ones inside the image, zero in the padding.
    pub fn interior_mask(&self) -> &[u32] {
        &self.interior
    }

    /// Sets every position of `plane` outside the image to zero.
    pub fn clear_padding(&self, plane: &mut [f32]) {
        let (h, w) = (self.height, self.width);
        plane[..self.index(0, 0)].fill(0.0);
        for r in 0..h - 1 {
            plane[self.index(r, w)..self.index(r + 1, 0)].fill(0.0);
        }
        plane[self.index(h - 1, w)..self.plane_len].fill(0.0);
    }
}

/// Buffers from this size on are mapped directly and backed by huge pages where the
/// system allows: a convolution reads a few rows of every input plane at once, and with
/// 4 KiB pages the many planes of a large tile exhaust the TLB.
const HUGE_PAGE_THRESHOLD: usize = 4 << 20;
/// Size of a (transparent) huge page on x86-64 Linux.
#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

/// A 64-byte aligned, zero-initialised buffer of floats.
struct AlignedBuf {
    ptr: *mut f32,
    len: usize,
    /// For a mapped buffer, the mapping (start, length) to unmap.
    mapping: Option<(*mut libc::c_void, usize)>,
}

// SAFETY: AlignedBuf owns its allocation exclusively, like a Vec<f32>.
unsafe impl Send for AlignedBuf {}
// SAFETY: shared access only hands out shared slices.
unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    /// `len` zeros.
    fn zeroed(len: usize) -> AlignedBuf {
        if len == 0 {
            return AlignedBuf {
                ptr: std::ptr::NonNull::dangling().as_ptr(),
                len,
                mapping: None,
            };
        }
        if len * 4 >= HUGE_PAGE_THRESHOLD {
            if let Some(buf) = Self::mapped(len) {
                return buf;
            }
        }
        let layout = Self::layout(len);
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc::alloc_zeroed(layout) } as *mut f32;
        if ptr.is_null() {
            alloc::handle_alloc_error(layout);
        }
        AlignedBuf {
            ptr,
            len,
            mapping: None,
        }
    }

    /// An anonymous mapping (zero-filled by the kernel), 2 MiB aligned and advised to
    /// use huge pages. None where mapping fails; the caller falls back to the heap.
    #[cfg(target_os = "linux")]
    fn mapped(len: usize) -> Option<AlignedBuf> {
        let bytes = len.checked_mul(4)?;
        let map_len = bytes.checked_add(HUGE_PAGE)?;
        // SAFETY: an anonymous private mapping with no address hint has no
        // preconditions; failure is reported as MAP_FAILED.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        let offset = (HUGE_PAGE - base as usize % HUGE_PAGE) % HUGE_PAGE;
        // SAFETY: offset < HUGE_PAGE, so [base + offset, + bytes) lies in the mapping.
        let ptr = unsafe { (base as *mut u8).add(offset) };
        // SAFETY: the range lies in our own mapping; the advice is only a hint, so its
        // failure (e.g. huge pages disabled) is harmless.
        unsafe { libc::madvise(ptr as *mut libc::c_void, bytes, libc::MADV_HUGEPAGE) };
        Some(AlignedBuf {
            ptr: ptr as *mut f32,
            len,
            mapping: Some((base, map_len)),
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn mapped(_len: usize) -> Option<AlignedBuf> {
        None
    }

    fn layout(len: usize) -> Layout {
        Layout::from_size_align(len * 4, ALIGN_FLOATS * 4).expect("buffer size overflows")
    }

    /// Number of floats.
    fn len(&self) -> usize {
        self.len
    }

    /// The floats.
    fn as_slice(&self) -> &[f32] {
        // SAFETY: ptr is valid for len initialised floats (or dangling with len 0).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The floats, mutably.
    fn as_mut_slice(&mut self) -> &mut [f32] {
        // SAFETY: as above, and &mut self gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        match self.mapping {
            // SAFETY: the mapping was made in `mapped` with exactly this start and length.
            #[cfg(target_os = "linux")]
            Some((base, map_len)) => unsafe {
                libc::munmap(base, map_len);
            },
            // Only Linux maps buffers (`mapped` is None elsewhere).
            #[cfg(not(target_os = "linux"))]
            Some(_) => {}
            // SAFETY: allocated in `zeroed` with this very layout.
            None if self.len > 0 => unsafe {
                alloc::dealloc(self.ptr as *mut u8, Self::layout(self.len))
            },
            None => {}
        }
    }
}

/// A stack of channel planes of one geometry: the activations of one layer.
///
/// Its buffer may be longer than the planes need (when it is reused from a larger map);
/// only the first `channels` planes are part of the map.
pub struct FeatureMap {
    geometry: Arc<PlaneGeometry>,
    channels: usize,
    buf: AlignedBuf,
    /// Planes, from the first, whose padding is known to be zero for `geometry`:
    /// at least `channels`, possibly more of the buffer.
    clean_planes: usize,
}

impl FeatureMap {
    /// `channels` planes, all zero.
    pub fn zeros(geometry: Arc<PlaneGeometry>, channels: usize) -> FeatureMap {
        let buf = AlignedBuf::zeroed(channels * geometry.plane_len());
        FeatureMap {
            geometry,
            channels,
            buf,
            clean_planes: channels,
        }
    }

    /// A map of `channels` planes over the buffer of `earlier`, a map no longer needed
    /// (of any geometry and channel count whose buffer is large enough: see
    /// [`FeatureMap::capacity`]). `clean_planes` is how many planes of that buffer are
    /// known to have zero padding for `geometry`: [`FeatureMap::clean_planes`] if
    /// `earlier` had this geometry, else 0. Clears the padding where it is not known to
    /// be zero; the image values are left as they are, for the caller to overwrite.
    ///
    /// # Panics
    /// If the buffer is too small for `channels` planes.
    pub fn reuse(
        earlier: FeatureMap,
        geometry: Arc<PlaneGeometry>,
        channels: usize,
        clean_planes: usize,
    ) -> FeatureMap {
        let buf = earlier.buf;
        let n = geometry.plane_len();
        assert!(buf.len() >= channels * n, "buffer too small for the map");
        let mut map = FeatureMap {
            geometry,
            channels,
            buf,
            clean_planes: clean_planes.max(channels),
        };
        if clean_planes < channels {
            let g = map.geometry.clone();
            for plane in map.buf.as_mut_slice()[clean_planes * n..channels * n].chunks_exact_mut(n)
            {
                g.clear_padding(plane);
            }
        }
        map
    }

    /// Floats the buffer holds: a map reusing it ([`FeatureMap::reuse`]) may have up to
    /// this many values, padding included.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// How many planes of the buffer, from the first, have zero padding for this map's
    /// geometry (at least its channel count): what [`FeatureMap::reuse`] may be told.
    pub fn clean_planes(&self) -> usize {
        self.clean_planes
    }

    /// The geometry of the planes.
    pub fn geometry(&self) -> &Arc<PlaneGeometry> {
        &self.geometry
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// All planes, one after the other.
    pub fn as_slice(&self) -> &[f32] {
        &self.buf.as_slice()[..self.channels * self.geometry.plane_len()]
    }

    /// All planes, mutably. Callers must keep the padding zero.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        let n = self.channels * self.geometry.plane_len();
        &mut self.buf.as_mut_slice()[..n]
    }

    /// Plane `c`.
    pub fn plane(&self, c: usize) -> &[f32] {
        self.planes(c..c + 1)
    }

    /// Planes `range`, one after the other.
    pub fn planes(&self, range: std::ops::Range<usize>) -> &[f32] {
        let n = self.geometry.plane_len();
        &self.as_slice()[range.start * n..range.end * n]
    }

    /// Planes `range`, mutably. Callers must keep the padding zero.
    pub fn planes_mut(&mut self, range: std::ops::Range<usize>) -> &mut [f32] {
        let n = self.geometry.plane_len();
        &mut self.as_mut_slice()[range.start * n..range.end * n]
    }

    /// Plane `c` as a `height x width` row-major image.
    pub fn read_plane(&self, c: usize, out: &mut [f32]) {
        let g = &self.geometry;
        let plane = self.plane(c);
        for (r, row) in out.chunks_exact_mut(g.width()).take(g.height()).enumerate() {
            let start = g.index(r, 0);
            row.copy_from_slice(&plane[start..start + g.width()]);
        }
    }

    /// Writes a `height x width` row-major image into plane `c`.
    pub fn write_plane(&mut self, c: usize, image: &[f32]) {
        let g = self.geometry.clone();
        let plane = self.planes_mut(c..c + 1);
        for (r, row) in image.chunks_exact(g.width()).take(g.height()).enumerate() {
            let start = g.index(r, 0);
            plane[start..start + g.width()].copy_from_slice(row);
        }
    }
}
