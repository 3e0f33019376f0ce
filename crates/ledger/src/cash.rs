//! Cash accounts: money held by participants for trading, in the market's currency (minor units).
//!
//! Money comes in by deposit and leaves by withdrawal; everything else moves it between accounts
//! or into the fees collected, so `deposited - withdrawn = sum of balances + fees collected`
//! always holds ([`CashLedger::audit`]). A balance has three parts: available (can be reserved or
//! withdrawn), reserved (backing open buy orders), and proceeds that become available on a given
//! date (sale proceeds are withdrawable from the next trading day).

use crate::AccountNo;
use std::collections::{BTreeMap, HashMap};

/// One account's cash, minor units. All parts are never negative.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CashBalance {
    /// Free to reserve or withdraw.
    pub available: i64,
    /// Reserved for open buy orders.
    pub reserved: i64,
    /// Proceeds not yet available, by the date they become available.
    pub pending: BTreeMap<chrono::NaiveDate, i64>,
}

impl CashBalance {
    /// available + reserved + pending.
    pub fn total(&self) -> i64 {
        self.available + self.reserved + self.pending.values().sum::<i64>()
    }
}

/// Why a cash operation was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CashError {
    /// Not enough available cash.
    #[error("available cash {available} is less than the {requested} required")]
    Insufficient {
        /// Available, minor units.
        available: i64,
        /// Requested, minor units.
        requested: i64,
    },
    /// Not enough reserved cash to release or spend.
    #[error("reserved cash {reserved} is less than the {requested} required")]
    ReservationShort {
        /// Reserved, minor units.
        reserved: i64,
        /// Requested, minor units.
        requested: i64,
    },
    /// A zero or negative amount.
    #[error("amount must be positive")]
    NonPositive,
    /// A sum would overflow.
    #[error("amount overflows")]
    Overflow,
}

/// All cash balances and the totals that make cash auditable.
#[derive(Debug, Clone, Default)]
pub struct CashLedger {
    balances: HashMap<AccountNo, CashBalance>,
    deposited: i64,
    withdrawn: i64,
    fees: i64,
}

impl CashLedger {
    /// The balance of `account` (zero when it never held cash).
    pub fn balance(&self, account: AccountNo) -> CashBalance {
        self.balances.get(&account).cloned().unwrap_or_default()
    }

    /// Cash available to `account` on `date`, counting proceeds that have become available.
    pub fn available_on(&self, account: AccountNo, date: chrono::NaiveDate) -> i64 {
        self.balances.get(&account).map_or(0, |b| {
            b.available + b.pending.range(..=date).map(|(_, v)| v).sum::<i64>()
        })
    }

    /// Total fees collected, minor units.
    pub fn fees(&self) -> i64 {
        self.fees
    }

    /// (deposited, withdrawn), minor units.
    pub fn flows(&self) -> (i64, i64) {
        (self.deposited, self.withdrawn)
    }

    /// Moves proceeds due on or before `date` into available.
    pub fn mature(&mut self, account: AccountNo, date: chrono::NaiveDate) {
        if let Some(b) = self.balances.get_mut(&account) {
            let due: Vec<_> = b.pending.range(..=date).map(|(d, v)| (*d, *v)).collect();
            for (d, v) in due {
                b.pending.remove(&d);
                b.available += v;
            }
        }
    }

    /// Money paid in from outside.
    pub fn deposit(&mut self, account: AccountNo, amount: i64) -> Result<(), CashError> {
        positive(amount)?;
        let deposited = self
            .deposited
            .checked_add(amount)
            .ok_or(CashError::Overflow)?;
        let b = self.balances.entry(account).or_default();
        b.available = b.available.checked_add(amount).ok_or(CashError::Overflow)?;
        self.deposited = deposited;
        Ok(())
    }

    /// Money paid out; only available cash (call [`CashLedger::mature`] first).
    pub fn withdraw(&mut self, account: AccountNo, amount: i64) -> Result<(), CashError> {
        positive(amount)?;
        let b = self.balances.entry(account).or_default();
        if b.available < amount {
            return Err(CashError::Insufficient {
                available: b.available,
                requested: amount,
            });
        }
        b.available -= amount;
        self.withdrawn += amount;
        Ok(())
    }

    /// Moves available cash to reserved.
    pub fn reserve(&mut self, account: AccountNo, amount: i64) -> Result<(), CashError> {
        if amount == 0 {
            return Ok(());
        }
        positive(amount)?;
        let b = self.balances.entry(account).or_default();
        if b.available < amount {
            return Err(CashError::Insufficient {
                available: b.available,
                requested: amount,
            });
        }
        b.available -= amount;
        b.reserved += amount;
        Ok(())
    }

    /// Reserves `amount` of the cash available on `date`, sale proceeds due by then included.
    pub fn reserve_on(
        &mut self,
        account: AccountNo,
        amount: i64,
        date: chrono::NaiveDate,
    ) -> Result<(), CashError> {
        self.mature(account, date);
        self.reserve(account, amount)
    }

    /// Pays out `amount` of the cash available on `date`, sale proceeds due by then included.
    pub fn withdraw_on(
        &mut self,
        account: AccountNo,
        amount: i64,
        date: chrono::NaiveDate,
    ) -> Result<(), CashError> {
        self.mature(account, date);
        self.withdraw(account, amount)
    }

    /// Moves reserved cash back to available.
    pub fn release(&mut self, account: AccountNo, amount: i64) -> Result<(), CashError> {
        if amount == 0 {
            return Ok(());
        }
        let b = self.balances.entry(account).or_default();
        if amount < 0 || b.reserved < amount {
            return Err(CashError::ReservationShort {
                reserved: b.reserved,
                requested: amount,
            });
        }
        b.reserved -= amount;
        b.available += amount;
        Ok(())
    }

    /// Settles a payment: `amount + buyer_fee` leaves the payer's reservation; `amount - seller_fee`
    /// becomes available to the payee on `available_from`; both fees are collected. Checks before
    /// changing anything.
    pub fn settle(
        &mut self,
        payer: AccountNo,
        payee: AccountNo,
        amount: i64,
        buyer_fee: i64,
        seller_fee: i64,
        available_from: chrono::NaiveDate,
    ) -> Result<(), CashError> {
        positive(amount)?;
        if buyer_fee < 0 || seller_fee < 0 || seller_fee > amount {
            return Err(CashError::NonPositive);
        }
        let debit = amount.checked_add(buyer_fee).ok_or(CashError::Overflow)?;
        let reserved = self.balances.get(&payer).map_or(0, |b| b.reserved);
        if reserved < debit {
            return Err(CashError::ReservationShort {
                reserved,
                requested: debit,
            });
        }
        let fees = self
            .fees
            .checked_add(buyer_fee + seller_fee)
            .ok_or(CashError::Overflow)?;
        self.balances.get_mut(&payer).expect("checked").reserved -= debit;
        *self
            .balances
            .entry(payee)
            .or_default()
            .pending
            .entry(available_from)
            .or_default() += amount - seller_fee;
        self.fees = fees;
        Ok(())
    }

    /// Checks `deposited - withdrawn = sum of balances + fees` and that no part of any balance is
    /// negative. Returns what is wrong, if anything.
    pub fn audit(&self) -> Vec<String> {
        let mut findings = Vec::new();
        let mut total: i128 = i128::from(self.fees);
        for (account, b) in &self.balances {
            if b.available < 0 || b.reserved < 0 || b.pending.values().any(|v| *v < 0) {
                findings.push(format!(
                    "account #{} has a negative cash balance part: {b:?}",
                    account.0
                ));
            }
            total += i128::from(b.available)
                + i128::from(b.reserved)
                + b.pending.values().map(|v| i128::from(*v)).sum::<i128>();
        }
        let net = i128::from(self.deposited) - i128::from(self.withdrawn);
        if total != net {
            findings.push(format!(
                "cash not conserved: deposited - withdrawn = {net} but balances + fees = {total}"
            ));
        }
        findings
    }
}

fn positive(amount: i64) -> Result<(), CashError> {
    if amount <= 0 {
        Err(CashError::NonPositive)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, d).unwrap()
    }

    #[test]
    fn trade_cycle_conserves_cash() {
        let (buyer, seller) = (AccountNo(1), AccountNo(2));
        let mut c = CashLedger::default();
        c.deposit(buyer, 100_000).unwrap();
        // Buy 10 t at up to 85.00: reserve 10 x 8,500 + fee at 10 bp (85).
        c.reserve(buyer, 85_085).unwrap();
        // Filled at 84.00: pays 84,000 + 84 fee; seller gets 84,000 - 84 on the next day.
        c.settle(buyer, seller, 84_000, 84, 84, day(5)).unwrap();
        c.release(buyer, 85_085 - 84_084).unwrap();
        assert_eq!(c.balance(buyer).available, 100_000 - 84_084);
        assert_eq!(c.available_on(seller, day(4)), 0);
        assert_eq!(c.available_on(seller, day(5)), 83_916);
        assert!(matches!(
            c.withdraw(seller, 1),
            Err(CashError::Insufficient { .. })
        ));
        c.mature(seller, day(5));
        c.withdraw(seller, 83_916).unwrap();
        assert_eq!(c.fees(), 168);
        assert!(c.audit().is_empty(), "{:?}", c.audit());
    }

    #[test]
    fn refusals_change_nothing() {
        let a = AccountNo(1);
        let mut c = CashLedger::default();
        c.deposit(a, 100).unwrap();
        assert_eq!(c.deposit(a, 0), Err(CashError::NonPositive));
        assert_eq!(
            c.withdraw(a, 101),
            Err(CashError::Insufficient {
                available: 100,
                requested: 101
            })
        );
        assert_eq!(
            c.reserve(a, 101),
            Err(CashError::Insufficient {
                available: 100,
                requested: 101
            })
        );
        assert!(matches!(
            c.release(a, 1),
            Err(CashError::ReservationShort { .. })
        ));
        assert!(matches!(
            c.settle(a, AccountNo(2), 50, 0, 0, NaiveDate::MIN),
            Err(CashError::ReservationShort { .. })
        ));
        assert_eq!(c.balance(a).available, 100);
        assert!(c.audit().is_empty());
    }
}
