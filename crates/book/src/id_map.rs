//! Map from order id to slab index: a dense table for small ids (sequencers hand out ids
//! 1, 2, 3, ...), a hash map for the rest.

use crate::hash::FxBuildHasher;
use std::collections::HashMap;

/// Ids below this go to the dense table (at most 4 Mi entries x 4 bytes = 16 MiB).
const DENSE_ID_LIMIT: u64 = 1 << 22;

#[derive(Clone)]
pub(crate) struct IdMap {
    /// `dense[id]` = slot + 1, 0 = absent. Grows by doubling up to `DENSE_ID_LIMIT`.
    dense: Vec<u32>,
    sparse: HashMap<u64, u32, FxBuildHasher>,
}

impl IdMap {
    pub(crate) fn new() -> Self {
        IdMap {
            dense: Vec::new(),
            sparse: HashMap::default(),
        }
    }

    #[inline]
    pub(crate) fn get(&self, id: u64) -> Option<u32> {
        if id < DENSE_ID_LIMIT {
            match self.dense.get(id as usize) {
                Some(&entry) if entry != 0 => Some(entry - 1),
                _ => None,
            }
        } else {
            self.sparse.get(&id).copied()
        }
    }

    /// `id` must be absent.
    #[inline]
    pub(crate) fn insert(&mut self, id: u64, slot: u32) {
        debug_assert!(self.get(id).is_none());
        assert!(slot < u32::MAX, "order slab overflow");
        if id < DENSE_ID_LIMIT {
            let index = id as usize;
            if index >= self.dense.len() {
                let len = (index + 1)
                    .next_power_of_two()
                    .max(1024)
                    .min(DENSE_ID_LIMIT as usize);
                self.dense.resize(len, 0);
            }
            self.dense[index] = slot + 1;
        } else {
            self.sparse.insert(id, slot);
        }
    }

    /// `id` must be present.
    #[inline]
    pub(crate) fn remove(&mut self, id: u64) {
        debug_assert!(self.get(id).is_some());
        if id < DENSE_ID_LIMIT {
            self.dense[id as usize] = 0;
        } else {
            self.sparse.remove(&id);
        }
    }
}
