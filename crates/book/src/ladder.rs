//! Price ladder of one side: map from price key to level index, and "best key below" search.
//!
//! Keys are "larger is better" (see `side_key`). Keys within a window of `2^width_log2` ticks sit in
//! a dense array with a two-level bitset (one bit per key, one summary bit per 64-key word), so
//! lookup, insert, remove and next-best are O(1) with a handful of instructions. Keys outside the
//! window go to a `BTreeMap`. The window is placed at the first key of an empty ladder and moved
//! (all levels re-filed) when the fallback map grows past a threshold that doubles each time, so
//! re-filing is amortised and cannot thrash.

use std::collections::BTreeMap;

/// Fallback keys that trigger the first re-centering.
const RECENTER_OUTSIDE_MIN: usize = 64;

#[derive(Clone)]
pub(crate) struct Ladder {
    width_log2: u32,
    /// Key of window position 0.
    base: i64,
    /// `slots[i]` = level + 1 for key `base + i`, 0 = no level.
    slots: Vec<u32>,
    /// Bit `i` set iff `slots[i] != 0`.
    bits: Vec<u64>,
    /// Bit `w` set iff `bits[w] != 0`.
    summary: Vec<u64>,
    in_window: usize,
    outside: BTreeMap<i64, u32>,
    recenter_at: usize,
}

impl Ladder {
    pub(crate) fn new(width_log2: u8) -> Self {
        let width_log2 = u32::from(width_log2.clamp(12, 20));
        let width = 1usize << width_log2;
        Ladder {
            width_log2,
            base: 0,
            slots: vec![0; width],
            bits: vec![0; width / 64],
            summary: vec![0; width / 4096],
            in_window: 0,
            outside: BTreeMap::new(),
            recenter_at: RECENTER_OUTSIDE_MIN,
        }
    }

    #[inline]
    fn width(&self) -> i128 {
        1i128 << self.width_log2
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.in_window == 0 && self.outside.is_empty()
    }

    /// Window position of `key`, if inside the window.
    #[inline]
    fn position(&self, key: i64) -> Option<usize> {
        let offset = i128::from(key) - i128::from(self.base);
        if offset >= 0 && offset < self.width() {
            Some(offset as usize)
        } else {
            None
        }
    }

    #[inline]
    pub(crate) fn get(&self, key: i64) -> Option<u32> {
        match self.position(key) {
            Some(position) => {
                let entry = self.slots[position];
                if entry == 0 { None } else { Some(entry - 1) }
            }
            None if self.outside.is_empty() => None,
            None => self.outside.get(&key).copied(),
        }
    }

    /// `key` must be absent.
    pub(crate) fn insert(&mut self, key: i64, level: u32) {
        debug_assert!(self.get(key).is_none());
        assert!(level < u32::MAX, "level slab overflow");
        if self.is_empty() {
            // Free re-centering: nothing to re-file.
            self.base = Self::base_for(key, self.width_log2);
        }
        match self.position(key) {
            Some(position) => self.set(position, level),
            None => {
                self.outside.insert(key, level);
                if self.outside.len() >= self.recenter_at {
                    self.recenter();
                }
            }
        }
    }

    /// `key` must be present.
    pub(crate) fn remove(&mut self, key: i64) {
        match self.position(key) {
            Some(position) => {
                debug_assert!(self.slots[position] != 0);
                self.slots[position] = 0;
                self.in_window -= 1;
                let word = position >> 6;
                self.bits[word] &= !(1u64 << (position & 63));
                if self.bits[word] == 0 {
                    self.summary[word >> 6] &= !(1u64 << (word & 63));
                }
            }
            None => {
                let removed = self.outside.remove(&key);
                debug_assert!(removed.is_some());
            }
        }
    }

    /// The largest key strictly below `key`, with its level.
    #[inline]
    pub(crate) fn max_below(&self, key: i64) -> Option<(i64, u32)> {
        let mut found = None;
        if self.in_window > 0 {
            let offset = i128::from(key) - i128::from(self.base);
            let end = offset.clamp(0, self.width()) as usize;
            if let Some(position) = self.highest_below(end) {
                found = Some((self.base + position as i64, self.slots[position] - 1));
            }
        }
        if !self.outside.is_empty()
            && let Some((&outside_key, &level)) = self.outside.range(..key).next_back()
            && found.is_none_or(|(window_key, _)| outside_key > window_key)
        {
            found = Some((outside_key, level));
        }
        found
    }

    /// The largest key, with its level.
    pub(crate) fn max(&self) -> Option<(i64, u32)> {
        let window = if self.in_window > 0 {
            self.highest_below(self.slots.len())
                .map(|position| (self.base + position as i64, self.slots[position] - 1))
        } else {
            None
        };
        let outside = self
            .outside
            .last_key_value()
            .map(|(&key, &level)| (key, level));
        match (window, outside) {
            (Some(window), Some(outside)) => Some(if outside.0 > window.0 {
                outside
            } else {
                window
            }),
            (window, outside) => window.or(outside),
        }
    }

    fn base_for(center: i64, width_log2: u32) -> i64 {
        center.saturating_sub(1i64 << (width_log2 - 1))
    }

    fn set(&mut self, position: usize, level: u32) {
        debug_assert!(self.slots[position] == 0);
        self.slots[position] = level + 1;
        self.in_window += 1;
        let word = position >> 6;
        self.bits[word] |= 1u64 << (position & 63);
        self.summary[word >> 6] |= 1u64 << (word & 63);
    }

    /// Highest set position `< end`.
    #[inline]
    fn highest_below(&self, end: usize) -> Option<usize> {
        if end == 0 {
            return None;
        }
        let last = end - 1;
        let word = last >> 6;
        let masked = self.bits[word] & low_mask_through(last & 63);
        if masked != 0 {
            return Some(word * 64 + top_bit(masked));
        }
        if word == 0 {
            return None;
        }
        let last_word = word - 1;
        let mut summary_index = last_word >> 6;
        let mut summary = self.summary[summary_index] & low_mask_through(last_word & 63);
        // Bounded: at most `summary.len()` (<= 256) iterations.
        loop {
            if summary != 0 {
                let word = summary_index * 64 + top_bit(summary);
                debug_assert!(self.bits[word] != 0);
                return Some(word * 64 + top_bit(self.bits[word]));
            }
            if summary_index == 0 {
                return None;
            }
            summary_index -= 1;
            summary = self.summary[summary_index];
        }
    }

    /// Moves the window to the median key and re-files every level. O(window / 64 + levels).
    fn recenter(&mut self) {
        let mut all: Vec<(i64, u32)> = Vec::with_capacity(self.in_window + self.outside.len());
        for word in 0..self.bits.len() {
            let mut bits = self.bits[word];
            while bits != 0 {
                let position = word * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                all.push((self.base + position as i64, self.slots[position] - 1));
                self.slots[position] = 0;
            }
            self.bits[word] = 0;
        }
        self.summary.iter_mut().for_each(|summary| *summary = 0);
        self.in_window = 0;
        all.extend(self.outside.iter().map(|(&key, &level)| (key, level)));
        self.outside.clear();
        all.sort_unstable_by_key(|&(key, _)| key);
        let levels = all.len();
        self.base = Self::base_for(all[levels / 2].0, self.width_log2);
        for (key, level) in all {
            match self.position(key) {
                Some(position) => self.set(position, level),
                None => {
                    self.outside.insert(key, level);
                }
            }
        }
        self.recenter_at = (2 * self.outside.len()).max(RECENTER_OUTSIDE_MIN);
        debug_assert_eq!(self.in_window + self.outside.len(), levels);
    }
}

/// Mask of bits 0..=bit.
#[inline]
fn low_mask_through(bit: usize) -> u64 {
    debug_assert!(bit < 64);
    u64::MAX >> (63 - bit)
}

#[inline]
fn top_bit(word: u64) -> usize {
    debug_assert!(word != 0);
    63 - word.leading_zeros() as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn matches_btreemap_including_far_keys_and_recentering() {
        let mut ladder = Ladder::new(12);
        let mut model: BTreeMap<i64, u32> = BTreeMap::new();
        let mut state = 0x1234_5678_9abc_def0u64;
        for step in 0..200_000u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let spread = if state.is_multiple_of(7) {
                1 << 20
            } else {
                3000
            };
            let key = (state >> 20) as i64 % spread - spread / 2 + i64::from(step / 1000) * 50;
            if model.remove(&key).is_some() {
                ladder.remove(key);
            } else {
                ladder.insert(key, step);
                model.insert(key, step);
            }
            assert_eq!(ladder.get(key), model.get(&key).copied());
            let probe = key + (state % 5) as i64 - 2;
            assert_eq!(
                ladder.max_below(probe),
                model.range(..probe).next_back().map(|(&k, &l)| (k, l))
            );
            assert_eq!(ladder.max(), model.last_key_value().map(|(&k, &l)| (k, l)));
        }
    }
}
