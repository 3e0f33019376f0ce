//! Hashing helpers: the book's state hash (FNV-1a, stable across runs and platforms) and a fast
//! non-cryptographic hasher for order-id maps (FxHash, the rustc one; no dependency needed).

use crate::Side;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a 64 over the book contents in price-time order. Both books feed it the same fields in the
/// same order, so equal books have equal hashes.
pub(crate) struct StateHasher {
    state: u64,
}

impl StateHasher {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    pub(crate) fn new() -> Self {
        StateHasher {
            state: Self::OFFSET_BASIS,
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.state ^= u64::from(byte);
            self.state = self.state.wrapping_mul(Self::PRIME);
        }
    }

    /// One resting order; call for bids best-first then asks best-first, oldest first per level.
    pub(crate) fn order(
        &mut self,
        side: Side,
        price_ticks: i64,
        order_id: u64,
        user: u64,
        quantity: u64,
        day: bool,
    ) {
        self.bytes(&[side as u8, u8::from(day)]);
        self.bytes(&price_ticks.to_le_bytes());
        self.bytes(&order_id.to_le_bytes());
        self.bytes(&user.to_le_bytes());
        self.bytes(&quantity.to_le_bytes());
    }

    pub(crate) fn finish(&self) -> u64 {
        self.state
    }
}

/// FxHash: one multiply per word. Order ids are not attacker-chosen hash keys here (the sequencer
/// assigns them), so a non-DoS-resistant hash is acceptable.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    #[inline]
    fn write_u64(&mut self, word: u64) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type FxBuildHasher = BuildHasherDefault<FxHasher>;
