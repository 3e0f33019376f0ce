//! The registry: the system of record of yrd-ets.
//!
//! A [`Submission`] (idempotency id, business date, [`Command`]) is checked against named business
//! rules ([`RuleCode`]), applied to the [`RegistryState`] (the unit ledger and the compliance
//! cycle), and appended to a hash-chained journal through a [`JournalStore`] before it is
//! acknowledged. State is only ever derived from the journal; [`audit::audit`] re-derives it
//! independently and checks every invariant.
//!
//! ```text
//! Submission -> RegistryState::apply (checks, then ledger + compliance) -> JournalStore::append -> Receipt
//! ```

pub mod auction;
pub mod audit;
pub mod call_market;
pub mod command;
pub mod exchange;
pub mod journal;
pub mod regional;
mod registry;
pub mod reports;
pub mod rules;
pub mod security;
pub mod state;

pub use command::{Command, Effect, OrderSide, Receipt, Submission, TimeInForce};
pub use journal::{JournalEntry, JournalStore, MemoryStore, StorageError};
pub use registry::{OpenError, Registry, SubmitResult};
pub use rules::{Rejection, RuleCode, Violation};
pub use security::Process;
pub use state::{RegistryState, system_account_id, transfer_permitted};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_regional;
#[cfg(test)]
mod tests_security;
