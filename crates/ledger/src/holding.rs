use std::collections::BTreeMap;
use yrd_types::SerialRange;

/// The units of one class in one account: disjoint, non-adjacent serial blocks and their count.
/// Adjacent blocks are merged on insert, so the block count stays as small as the history allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holding {
    quantity: u64,
    /// first serial -> last serial (inclusive).
    blocks: BTreeMap<u64, u64>,
}

impl Holding {
    /// Number of units held.
    pub fn quantity(&self) -> u64 {
        self.quantity
    }

    /// The serial blocks, ascending.
    pub fn blocks(&self) -> impl Iterator<Item = SerialRange> + '_ {
        self.blocks.iter().map(|(f, l)| SerialRange {
            first: *f,
            last: *l,
        })
    }

    /// Number of blocks.
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// True when every serial of `range` is held.
    pub fn contains(&self, range: SerialRange) -> bool {
        self.blocks
            .range(..=range.first)
            .next_back()
            .is_some_and(|(_, last)| *last >= range.last)
    }

    /// Adds a block that must not overlap a held one; merges with neighbours it touches.
    pub(crate) fn insert(&mut self, range: SerialRange) {
        let mut first = range.first;
        let mut last = range.last;
        if let Some((&pf, &pl)) = self.blocks.range(..first).next_back() {
            assert!(
                pl < first,
                "serial block {range} overlaps held block {pf}-{pl}"
            );
            if pl + 1 == first {
                self.blocks.remove(&pf);
                first = pf;
            }
        }
        if let Some((&nf, &nl)) = self.blocks.range(range.first..).next() {
            assert!(
                nf > range.last,
                "serial block {range} overlaps held block {nf}-{nl}"
            );
            if range.last + 1 == nf {
                self.blocks.remove(&nf);
                last = nl;
            }
        }
        self.blocks.insert(first, last);
        self.quantity += range.len();
    }

    /// Removes a block that `contains` confirmed is held; splits the block holding it.
    pub(crate) fn remove(&mut self, range: SerialRange) {
        let (&bf, &bl) = self
            .blocks
            .range(..=range.first)
            .next_back()
            .expect("caller checked contains");
        assert!(bl >= range.last, "serials {range} not held");
        self.blocks.remove(&bf);
        if bf < range.first {
            self.blocks.insert(bf, range.first - 1);
        }
        if range.last < bl {
            self.blocks.insert(range.last + 1, bl);
        }
        self.quantity -= range.len();
    }

    /// Removes `quantity` units, lowest serials first; the caller checked `quantity <= self.quantity()`.
    pub(crate) fn take_lowest(&mut self, quantity: u64) -> Vec<SerialRange> {
        assert!(
            quantity <= self.quantity,
            "taking {quantity} of {}",
            self.quantity
        );
        let mut taken = Vec::new();
        let mut remaining = quantity;
        while remaining > 0 {
            let (first, last) = self
                .blocks
                .pop_first()
                .expect("quantity covers the remainder");
            let len = last - first + 1;
            if len <= remaining {
                taken.push(SerialRange { first, last });
                remaining -= len;
            } else {
                let split = first + remaining;
                taken.push(SerialRange {
                    first,
                    last: split - 1,
                });
                self.blocks.insert(split, last);
                remaining = 0;
            }
        }
        self.quantity -= quantity;
        taken
    }
}
