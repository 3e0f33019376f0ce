//! Real input for yrd-ets: readers for the EUTL and CEADs files, and the seeded facility generator.

pub mod ceads;
pub mod demo;
pub mod error;
pub mod eutl;
pub mod eutl_replay;
pub mod facilities;

pub use error::DataError;
