//! Recycled buffers for the feature maps of training.
//!
//! A training step allocates over a hundred megabytes of activations and gradients per
//! 128 x 128 sample; fresh memory from the system costs a page fault and a clear for
//! every page, about as much time as the convolutions of the forward pass. Maps made
//! here take their buffer from a process-wide free list and give it back when dropped,
//! so after the first step a run reuses the same memory. The list keeps the largest
//! number of buffers ever in use at once (proportional to the samples in flight).
//!
//! Every map of training keeps zero padding (the kernels write zeros there, and the
//! other operations add, scale or copy maps with zero padding), so a map of the geometry
//! that a free map last served takes over its count of planes with zero padding and
//! clears no padding again.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};

use crate::kernels::layout::{FeatureMap, PlaneGeometry};

/// Maps no longer in use, by the length of their buffer.
static FREE: Mutex<BTreeMap<usize, Vec<FeatureMap>>> = Mutex::new(BTreeMap::new());

/// A feature map whose buffer returns to the pool when it is dropped.
pub struct PooledMap {
    map: Option<FeatureMap>,
}

impl Deref for PooledMap {
    type Target = FeatureMap;
    fn deref(&self) -> &FeatureMap {
        self.map.as_ref().expect("present until dropped")
    }
}

impl DerefMut for PooledMap {
    fn deref_mut(&mut self) -> &mut FeatureMap {
        self.map.as_mut().expect("present until dropped")
    }
}

impl Drop for PooledMap {
    fn drop(&mut self) {
        if let Some(map) = self.map.take() {
            let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
            free.entry(map.capacity()).or_default().push(map);
        }
    }
}

/// The free map with the smallest buffer of at least `len` floats, if any.
fn take(len: usize) -> Option<FeatureMap> {
    let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
    free.range_mut(len..)
        .find(|(_, maps)| !maps.is_empty())
        .and_then(|(_, maps)| maps.pop())
}

/// A map of `channels` planes whose padding is zero and whose image values are
/// arbitrary: for a map every image value of which is about to be written.
pub fn overwritten(geometry: &Arc<PlaneGeometry>, channels: usize) -> PooledMap {
    let map = match take(channels * geometry.plane_len()) {
        Some(earlier) => {
            // The layout of a geometry follows from its height and width.
            let served = earlier.geometry();
            let same = (served.height(), served.width()) == (geometry.height(), geometry.width());
            let clean = if same { earlier.clean_planes() } else { 0 };
            FeatureMap::reuse(earlier, geometry.clone(), channels, clean)
        }
        None => FeatureMap::zeros(geometry.clone(), channels),
    };
    PooledMap { map: Some(map) }
}

/// A map of `channels` planes of zeros: for a map that values are added into.
pub fn zeroed(geometry: &Arc<PlaneGeometry>, channels: usize) -> PooledMap {
    let mut map = overwritten(geometry, channels);
    map.as_mut_slice().fill(0.0);
    map
}
