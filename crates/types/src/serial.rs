use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An inclusive block of unit serial numbers `first..=last` within one unit class. The EU registry
/// tracks holdings as such blocks, splitting them on partial transfers (EU Reg. 389/2013 Annex VI).
/// Written as the pair `[first, last]` in JSON and in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SerialRange {
    /// First serial in the block.
    pub first: u64,
    /// Last serial in the block (inclusive).
    pub last: u64,
}

impl SerialRange {
    /// Number of units in the block. `first <= last` always holds for blocks the registry makes.
    pub fn len(&self) -> u64 {
        debug_assert!(self.first <= self.last);
        self.last - self.first + 1
    }

    /// Never true: a block holds at least one unit. Present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl std::fmt::Display for SerialRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl Serialize for SerialRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.first, self.last).serialize(s)
    }
}

impl<'de> Deserialize<'de> for SerialRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (first, last) = <(u64, u64)>::deserialize(d)?;
        if first == 0 || first > last {
            return Err(serde::de::Error::custom(format!(
                "serial range [{first}, {last}] must have 1 <= first <= last"
            )));
        }
        Ok(SerialRange { first, last })
    }
}
