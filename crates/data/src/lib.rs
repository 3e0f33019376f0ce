//! Real input for yrd-ets: readers for the EUTL and CEADs files, and the seeded facility generator.

pub mod ceads;
pub mod error;
pub mod eutl;
pub mod facilities;

pub use error::DataError;
