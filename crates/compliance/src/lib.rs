//! The yearly compliance cycle (monitoring, reporting, verification and surrender).
//!
//! For every installation, obligation and year this crate keeps the verified emissions (with their
//! correction history), the units allocated and surrendered for the year, and - once the deadline
//! has been processed - the compliance status with EU Transaction Log meaning:
//!
//! | code | meaning |
//! |------|---------|
//! | A | surrendered >= verified emissions (annual or cumulative, per configuration) |
//! | B | surrendered < verified emissions |
//! | C | verified emissions not entered by the deadline |
//! | D | verified emissions corrected by the competent authority after the deadline; non-compliant |
//! | E | as D, but compliant |
//! | X | the process was suspended, so surrender or entry was impossible |
//! | - | no compliance obligation for the year |
//!
//! It is pure state: the registry layer moves the units and tells this crate what was surrendered.
//! Every operation either succeeds completely or returns an error and changes nothing.

mod cycle;
mod status;

pub use cycle::{
    Compliance, ComplianceError, EmissionsSource, Installation, InstallationNo, ObligationYear,
    StatusRecord, VerifiedEntry, YearKey,
};
pub use status::{StatusCode, judge, penalty};

#[cfg(test)]
mod tests;
