//! The unit ledger: who holds which units.
//!
//! Accounts hold units of a [`UnitClass`] (jurisdiction x unit type x vintage) as disjoint serial
//! blocks. Units come into existence only by [`Ledger::issue`], which hands out the next serials of
//! the class, and move only by [`Ledger::move_units`] / [`Ledger::move_ranges`], which split and
//! merge blocks. No unit is ever created or destroyed by a move, so per class:
//! `issued = holdings + surrendered + cancelled + deleted` (terminal accounts keep retired units),
//! and the blocks of all accounts together are exactly `1..=issued`. [`Ledger::audit`] checks both.
//!
//! The ledger knows nothing of rules (who may send what to whom): the registry layer checks those
//! before it calls here. What the ledger refuses on its own is arithmetic it cannot do: moving more
//! than an account holds, ranges an account does not hold, overflowing a class.

mod audit;
mod cash;
mod holding;

pub use audit::{AuditFinding, ClassTotals};
pub use cash::{CashBalance, CashError, CashLedger};
pub use holding::Holding;

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use yrd_types::{AccountId, AccountKind, InstallationId, JurisdictionCode, SerialRange, UnitClass};

/// Dense index of an account in the ledger (its position in opening order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountNo(pub u32);

/// Dense index of a unit class in the ledger (its position in first-issuance order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassNo(pub u32);

/// Whether an account can send and receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Can send and receive.
    Open,
    /// Closed with zero holdings; can do nothing (EU Reg. 2019/1122 Art. 26).
    Closed,
}

/// What identifies an account, fixed when it is opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSpec {
    /// Identifier chosen at opening.
    pub id: AccountId,
    /// Kind, which decides what it may hold and do.
    pub kind: AccountKind,
    /// Jurisdiction that administers the account.
    pub jurisdiction: JurisdictionCode,
    /// Name of the account holder (company, authority).
    pub holder_name: String,
    /// For an operator holding account: the installation it belongs to.
    pub installation: Option<InstallationId>,
}

/// An account and its holdings.
#[derive(Debug, Clone)]
pub struct Account {
    /// Identification.
    pub spec: AccountSpec,
    /// Open or closed.
    pub status: AccountStatus,
    holdings: BTreeMap<ClassNo, Holding>,
}

impl Account {
    /// Holdings by class, in class order.
    pub fn holdings(&self) -> impl Iterator<Item = (ClassNo, &Holding)> {
        self.holdings.iter().map(|(c, h)| (*c, h))
    }

    /// Units of one class held, 0 when none.
    pub fn quantity(&self, class: ClassNo) -> u64 {
        self.holdings.get(&class).map_or(0, Holding::quantity)
    }

    /// True when the account holds no units at all.
    pub fn is_empty(&self) -> bool {
        self.holdings.is_empty()
    }
}

/// A unit class and how many units of it were ever issued.
#[derive(Debug, Clone)]
pub struct ClassRecord {
    /// The class.
    pub class: UnitClass,
    /// Units issued so far; serials `1..=issued` exist.
    pub issued: u64,
}

/// Why the ledger refused an operation. The registry checks rules first, so reaching one of these
/// from user input means a rule check is missing; they are still values, not panics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// An account id is already taken.
    #[error("account {0} already exists")]
    DuplicateAccount(AccountId),
    /// The account holds fewer units of the class than requested.
    #[error("account {account} holds {held} units of {class}, {requested} requested")]
    InsufficientUnits {
        /// Sending account.
        account: AccountId,
        /// Unit class.
        class: UnitClass,
        /// Units held.
        held: u64,
        /// Units requested.
        requested: u64,
    },
    /// The account does not hold (all of) the given serial ranges.
    #[error("account {account} does not hold serials {range} of {class}")]
    RangesNotHeld {
        /// Sending account.
        account: AccountId,
        /// Unit class.
        class: UnitClass,
        /// First range not held.
        range: SerialRange,
    },
    /// Issuing would overflow the class's serial space.
    #[error("issuing {0} more units would overflow the serial numbers of the class")]
    SerialOverflow(u64),
    /// A quantity of zero units.
    #[error("quantity must be positive")]
    ZeroQuantity,
    /// The account still holds units.
    #[error("account {0} still holds units and cannot be closed")]
    NotEmpty(AccountId),
}

/// All accounts and unit classes.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    accounts: Vec<Account>,
    account_index: HashMap<AccountId, AccountNo>,
    classes: Vec<ClassRecord>,
    class_index: HashMap<UnitClass, ClassNo>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens an account.
    pub fn open_account(&mut self, spec: AccountSpec) -> Result<AccountNo, LedgerError> {
        if self.account_index.contains_key(&spec.id) {
            return Err(LedgerError::DuplicateAccount(spec.id));
        }
        let no = AccountNo(u32::try_from(self.accounts.len()).expect("fewer than 2^32 accounts"));
        self.account_index.insert(spec.id.clone(), no);
        self.accounts.push(Account {
            spec,
            status: AccountStatus::Open,
            holdings: BTreeMap::new(),
        });
        Ok(no)
    }

    /// Closes an account that holds nothing.
    pub fn close_account(&mut self, no: AccountNo) -> Result<(), LedgerError> {
        let account = &mut self.accounts[no.0 as usize];
        if !account.is_empty() {
            return Err(LedgerError::NotEmpty(account.spec.id.clone()));
        }
        account.status = AccountStatus::Closed;
        Ok(())
    }

    /// The account with this id.
    pub fn find(&self, id: &AccountId) -> Option<AccountNo> {
        self.account_index.get(id).copied()
    }

    /// The account at `no`. `no` must come from this ledger.
    pub fn account(&self, no: AccountNo) -> &Account {
        &self.accounts[no.0 as usize]
    }

    /// All accounts in opening order.
    pub fn accounts(&self) -> impl Iterator<Item = (AccountNo, &Account)> {
        self.accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (AccountNo(i as u32), a))
    }

    /// The class number of `class`, if any unit of it was ever issued.
    pub fn class_no(&self, class: &UnitClass) -> Option<ClassNo> {
        self.class_index.get(class).copied()
    }

    /// The class at `no`.
    pub fn class(&self, no: ClassNo) -> &ClassRecord {
        &self.classes[no.0 as usize]
    }

    /// All classes in first-issuance order.
    pub fn classes(&self) -> impl Iterator<Item = (ClassNo, &ClassRecord)> {
        self.classes
            .iter()
            .enumerate()
            .map(|(i, c)| (ClassNo(i as u32), c))
    }

    /// Units of `class` held by `account` (0 if the class was never issued).
    pub fn quantity(&self, account: AccountNo, class: &UnitClass) -> u64 {
        self.class_no(class)
            .map_or(0, |c| self.account(account).quantity(c))
    }

    /// Creates `quantity` new units of `class` with the next serials and puts them in `to`.
    pub fn issue(
        &mut self,
        class: &UnitClass,
        quantity: u64,
        to: AccountNo,
    ) -> Result<SerialRange, LedgerError> {
        if quantity == 0 {
            return Err(LedgerError::ZeroQuantity);
        }
        let class_no = self.class_no_or_create(class);
        let record = &mut self.classes[class_no.0 as usize];
        let last = record
            .issued
            .checked_add(quantity)
            .ok_or(LedgerError::SerialOverflow(quantity))?;
        let range = SerialRange {
            first: record.issued + 1,
            last,
        };
        record.issued = last;
        self.accounts[to.0 as usize]
            .holdings
            .entry(class_no)
            .or_default()
            .insert(range);
        Ok(range)
    }

    /// Moves `quantity` units of `class` from `from` to `to`, lowest serials first, and returns the
    /// serial ranges moved (ascending).
    pub fn move_units(
        &mut self,
        from: AccountNo,
        to: AccountNo,
        class: &UnitClass,
        quantity: u64,
    ) -> Result<Vec<SerialRange>, LedgerError> {
        if quantity == 0 {
            return Err(LedgerError::ZeroQuantity);
        }
        let held = self.quantity(from, class);
        let Some(class_no) = self.class_no(class).filter(|_| held >= quantity) else {
            return Err(LedgerError::InsufficientUnits {
                account: self.account(from).spec.id.clone(),
                class: class.clone(),
                held,
                requested: quantity,
            });
        };
        let ranges = self.take_lowest(from, class_no, quantity);
        self.put(to, class_no, &ranges);
        Ok(ranges)
    }

    /// Moves exactly the given serial ranges of `class` from `from` to `to` (used to reverse a
    /// surrender: the same serials go back).
    pub fn move_ranges(
        &mut self,
        from: AccountNo,
        to: AccountNo,
        class: &UnitClass,
        ranges: &[SerialRange],
    ) -> Result<(), LedgerError> {
        let not_held = |range: SerialRange| LedgerError::RangesNotHeld {
            account: self.account(from).spec.id.clone(),
            class: class.clone(),
            range,
        };
        let Some(class_no) = self.class_no(class) else {
            return Err(not_held(
                ranges
                    .first()
                    .copied()
                    .unwrap_or(SerialRange { first: 0, last: 0 }),
            ));
        };
        let source = self.accounts[from.0 as usize].holdings.get(&class_no);
        if let Some(r) = ranges
            .iter()
            .find(|r| !source.is_some_and(|h| h.contains(**r)))
        {
            return Err(not_held(*r));
        }
        let holding = self.accounts[from.0 as usize]
            .holdings
            .get_mut(&class_no)
            .expect("checked above");
        for r in ranges {
            holding.remove(*r);
        }
        if holding.quantity() == 0 {
            self.accounts[from.0 as usize].holdings.remove(&class_no);
        }
        self.put(to, class_no, ranges);
        Ok(())
    }

    fn class_no_or_create(&mut self, class: &UnitClass) -> ClassNo {
        if let Some(no) = self.class_index.get(class) {
            return *no;
        }
        let no = ClassNo(u32::try_from(self.classes.len()).expect("fewer than 2^32 classes"));
        self.class_index.insert(class.clone(), no);
        self.classes.push(ClassRecord {
            class: class.clone(),
            issued: 0,
        });
        no
    }

    fn take_lowest(&mut self, from: AccountNo, class: ClassNo, quantity: u64) -> Vec<SerialRange> {
        let holdings = &mut self.accounts[from.0 as usize].holdings;
        let holding = holdings
            .get_mut(&class)
            .expect("caller checked the quantity");
        let ranges = holding.take_lowest(quantity);
        if holding.quantity() == 0 {
            holdings.remove(&class);
        }
        ranges
    }

    fn put(&mut self, to: AccountNo, class: ClassNo, ranges: &[SerialRange]) {
        let holding = self.accounts[to.0 as usize]
            .holdings
            .entry(class)
            .or_default();
        for r in ranges {
            holding.insert(*r);
        }
    }
}

#[cfg(test)]
mod tests;
