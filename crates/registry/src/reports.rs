//! Reports derived from registry state: the public compliance table, holdings of an account,
//! supply by jurisdiction and vintage, a per-jurisdiction compliance summary, and the exchange's
//! market data (summary per instrument, depth, recent trades), cash balances and open orders.
//!
//! Reports only read. Serial numbers appear in holdings (a regulator's view), never in the public
//! compliance table. Prices are in minor currency units per base unit (fen per t CO2e in the YRD
//! market: the book's ticks are minor units), quantities in base units, money in minor units.

use crate::command::OrderSide;
use crate::exchange::Trade;
use crate::state::RegistryState;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use yrd_compliance::StatusCode;
use yrd_types::{AccountId, JurisdictionCode, Money, OrderRef, SerialRange, UnitClass};

/// One row of the public compliance table (EU Reg. 2019/1122 Art. 79 publishes the same).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplianceRow {
    /// Installation id.
    pub installation: String,
    /// Installation name.
    pub name: String,
    /// Competent jurisdiction.
    pub jurisdiction: String,
    /// Sector.
    pub sector: String,
    /// Obligation code.
    pub obligation: String,
    /// Year.
    pub year: u16,
    /// Units allocated free for the year, base units (net of any deduction).
    pub allocated: u64,
    /// Units withheld from the year's allocation for an earlier shortfall.
    pub deducted: u64,
    /// Verified emissions, base units (`None`: not entered).
    pub verified: Option<u64>,
    /// Net units surrendered for the year.
    pub surrendered: u64,
    /// Status code (`None` before the deadline is processed or when inactive).
    pub status: Option<StatusCode>,
    /// Changed after the deadline (the EUTL's `*`).
    pub changed_after_deadline: bool,
    /// Shortfall judged, base units.
    pub shortfall: u64,
    /// Penalty, minor currency units.
    pub penalty: Money,
}

/// The public compliance table, optionally for one year and/or one jurisdiction, ordered by
/// jurisdiction, installation, year.
pub fn compliance_table(
    state: &RegistryState,
    year: Option<u16>,
    jurisdiction: Option<&JurisdictionCode>,
) -> Vec<ComplianceRow> {
    let comp = state.compliance();
    let obligations = &state.config().compliance.obligations;
    let mut rows: Vec<ComplianceRow> = comp
        .years()
        .filter(|(k, _)| year.is_none_or(|y| k.year == y))
        .filter_map(|(k, y)| {
            let inst = comp.installation(k.installation);
            if jurisdiction.is_some_and(|j| &inst.jurisdiction != j) {
                return None;
            }
            Some(ComplianceRow {
                installation: inst.id.to_string(),
                name: inst.name.clone(),
                jurisdiction: inst.jurisdiction.to_string(),
                sector: inst.sector.clone(),
                obligation: obligations[k.obligation as usize].code.to_string(),
                year: k.year,
                allocated: y.allocated,
                deducted: y.deducted,
                verified: y.verified,
                surrendered: y.surrendered,
                status: y.status.as_ref().map(|s| s.code),
                changed_after_deadline: y.status.as_ref().is_some_and(|s| s.changed_after_deadline),
                shortfall: y.status.as_ref().map_or(0, |s| s.shortfall),
                penalty: y.status.as_ref().map_or(Money(0), |s| s.penalty),
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.jurisdiction, &a.installation, a.year, &a.obligation).cmp(&(
            &b.jurisdiction,
            &b.installation,
            b.year,
            &b.obligation,
        ))
    });
    rows
}

/// One unit class held by an account, with its serial blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldingRow {
    /// Class.
    pub class: UnitClass,
    /// Units held.
    pub quantity: u64,
    /// Serial blocks, ascending.
    pub blocks: Vec<SerialRange>,
}

/// What `account` holds, by class; `None` if there is no such account.
pub fn holdings(state: &RegistryState, account: &AccountId) -> Option<Vec<HoldingRow>> {
    let ledger = state.ledger();
    let no = ledger.find(account)?;
    let mut rows: Vec<HoldingRow> = ledger
        .account(no)
        .holdings()
        .map(|(c, h)| HoldingRow {
            class: ledger.class(c).class.clone(),
            quantity: h.quantity(),
            blocks: h.blocks().collect(),
        })
        .collect();
    rows.sort_by(|a, b| a.class.cmp(&b.class));
    Some(rows)
}

/// Supply of one unit class: where its units are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupplyRow {
    /// Issuing jurisdiction.
    pub jurisdiction: String,
    /// Unit type.
    pub unit_type: String,
    /// Vintage.
    pub vintage: u16,
    /// Units issued.
    pub issued: u64,
    /// Units in live accounts.
    pub held: u64,
    /// Units surrendered.
    pub surrendered: u64,
    /// Units voluntarily cancelled.
    pub cancelled: u64,
    /// Units deleted.
    pub deleted: u64,
}

/// Supply by jurisdiction, unit type and vintage, in that order.
pub fn supply(state: &RegistryState) -> Vec<SupplyRow> {
    supply_from_totals(&state.ledger().class_totals())
}

/// Supply rows from per-class totals (as the ledger or an audit computed them), sorted by
/// jurisdiction, unit type and vintage.
pub fn supply_from_totals(totals: &[(UnitClass, yrd_ledger::ClassTotals)]) -> Vec<SupplyRow> {
    let mut rows: Vec<SupplyRow> = totals
        .iter()
        .map(|(c, t)| SupplyRow {
            jurisdiction: c.jurisdiction.to_string(),
            unit_type: c.unit_type.to_string(),
            vintage: c.vintage.year(),
            issued: t.issued,
            held: t.held,
            surrendered: t.surrendered,
            cancelled: t.cancelled,
            deleted: t.deleted,
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.jurisdiction, &a.unit_type, a.vintage).cmp(&(&b.jurisdiction, &b.unit_type, b.vintage))
    });
    rows
}

impl SupplyRow {
    /// issued = held + surrendered + cancelled + deleted.
    pub fn is_conserved(&self) -> bool {
        [self.held, self.surrendered, self.cancelled, self.deleted]
            .iter()
            .try_fold(0u64, |sum, x| sum.checked_add(*x))
            == Some(self.issued)
    }
}

/// Compliance of one jurisdiction, obligation and year, summed over its installations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JurisdictionSummary {
    /// Jurisdiction.
    pub jurisdiction: String,
    /// Obligation.
    pub obligation: String,
    /// Year.
    pub year: u16,
    /// Installations with a record.
    pub installations: u64,
    /// Units allocated free.
    pub allocated: u64,
    /// Units withheld from allocation for earlier shortfalls.
    pub deducted: u64,
    /// Verified emissions entered.
    pub verified: u64,
    /// Units surrendered.
    pub surrendered: u64,
    /// Installations by status code (`A`, `B`, ..., `-`, and `none` for no status).
    pub by_status: BTreeMap<String, u64>,
    /// Total shortfall judged.
    pub shortfall: u64,
    /// Total penalties, minor currency units.
    pub penalties: Money,
}

/// Per jurisdiction x obligation x year summaries of the compliance table.
pub fn jurisdiction_summaries(rows: &[ComplianceRow]) -> Vec<JurisdictionSummary> {
    let mut map: BTreeMap<(String, String, u16), JurisdictionSummary> = BTreeMap::new();
    for r in rows {
        let s = map
            .entry((r.jurisdiction.clone(), r.obligation.clone(), r.year))
            .or_insert_with(|| JurisdictionSummary {
                jurisdiction: r.jurisdiction.clone(),
                obligation: r.obligation.clone(),
                year: r.year,
                ..Default::default()
            });
        // Every figure is at most Quantity::MAX (10^15), so these sums stay far below u64::MAX;
        // saturating rather than wrapping guards a report against anything beyond that.
        s.installations += 1;
        s.allocated = s.allocated.saturating_add(r.allocated);
        s.deducted = s.deducted.saturating_add(r.deducted);
        s.verified = s.verified.saturating_add(r.verified.unwrap_or(0));
        s.surrendered = s.surrendered.saturating_add(r.surrendered);
        s.shortfall = s.shortfall.saturating_add(r.shortfall);
        s.penalties = Money(s.penalties.0.saturating_add(r.penalty.0));
        let code = r
            .status
            .map_or("none".to_string(), |c| c.as_str().to_string());
        *s.by_status.entry(code).or_default() += 1;
    }
    map.into_values().collect()
}

/// The best price on one side of a book and what rests there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quote {
    /// Price, minor units per base unit.
    pub price: i64,
    /// Units resting at that price.
    pub volume: u64,
    /// Number of orders resting at that price.
    pub orders: u32,
}

/// One instrument's market today: the band's centre, the best bid and ask, and the day's
/// statistics of book trades since the trading day began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstrumentSummary {
    /// Instrument (unit class).
    pub class: UnitClass,
    /// Previous closing price (the centre of today's price band), minor units per base unit.
    pub previous_close: i64,
    /// Trading halted by the operator.
    pub halted: bool,
    /// Best bid, if any order rests on the buy side.
    pub best_bid: Option<Quote>,
    /// Best ask, if any order rests on the sell side.
    pub best_ask: Option<Quote>,
    /// Price of today's first trade, minor units per base unit.
    pub open: Option<i64>,
    /// Highest trade price today.
    pub high: Option<i64>,
    /// Lowest trade price today.
    pub low: Option<i64>,
    /// Price of today's latest trade.
    pub last: Option<i64>,
    /// Units traded today, base units.
    pub volume: u64,
    /// Value traded today (sum of price x quantity), minor units.
    pub turnover: Money,
    /// Volume-weighted average price of today's trades, rounded half-up to the minor unit.
    pub vwap: Option<i64>,
    /// Number of trades today.
    pub trades: u64,
}

/// The market summary: one row per instrument with a market (an instrument gets one when it is
/// first traded or halted), in class order.
pub fn market_summary(state: &RegistryState) -> Vec<InstrumentSummary> {
    let quote = |l: yrd_book::Level| Quote {
        price: l.price_ticks,
        volume: l.volume,
        orders: l.orders,
    };
    state
        .exchange()
        .instruments()
        .map(|(class, inst)| InstrumentSummary {
            class: class.clone(),
            previous_close: inst.previous_close,
            halted: inst.halted,
            best_bid: inst.book.best_bid().map(quote),
            best_ask: inst.book.best_ask().map(quote),
            open: inst.day.open(),
            high: inst.day.high(),
            low: inst.day.low(),
            last: inst.day.last(),
            volume: inst.day.volume(),
            turnover: inst.day.turnover(),
            vwap: inst.day.vwap(),
            trades: inst.day.trade_count(),
        })
        .collect()
}

/// One aggregated price level of a book (market by price, L2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DepthLevel {
    /// Buy (bid) or sell (ask) side.
    pub side: OrderSide,
    /// Price, minor units per base unit.
    pub price: i64,
    /// Units resting at the price.
    pub volume: u64,
    /// Number of orders resting at the price.
    pub orders: u32,
}

/// The book of `class` to `levels` price levels per side: bids best (highest) first, then asks
/// best (lowest) first. `None` if the instrument has no market.
pub fn depth(state: &RegistryState, class: &UnitClass, levels: usize) -> Option<Vec<DepthLevel>> {
    let inst = state.exchange().instruments().find(|(c, _)| *c == class)?.1;
    Some(
        inst.book
            .l2(levels)
            .into_iter()
            .map(|l| DepthLevel {
                side: match l.side {
                    yrd_book::Side::Bid => OrderSide::Buy,
                    yrd_book::Side::Ask => OrderSide::Sell,
                },
                price: l.price_ticks,
                volume: l.volume,
                orders: l.orders,
            })
            .collect(),
    )
}

/// The last `n` trades of `class`, most recent first (the exchange keeps at most
/// [`crate::exchange::RECENT_TRADES`]). `None` if the instrument has no market.
pub fn recent_trades(state: &RegistryState, class: &UnitClass, n: usize) -> Option<Vec<Trade>> {
    let inst = state.exchange().instruments().find(|(c, _)| *c == class)?.1;
    Some(inst.trades.iter().rev().take(n).cloned().collect())
}

/// A participant's cash, minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CashRow {
    /// Account.
    pub account: AccountId,
    /// Free to reserve or withdraw now (not counting proceeds that have become due).
    pub available: i64,
    /// Reserved for open buy orders.
    pub reserved: i64,
    /// Sale proceeds not yet available, by the date they become available.
    pub pending: Vec<(NaiveDate, i64)>,
    /// The date `available_on` refers to.
    pub date: NaiveDate,
    /// Cash that can be reserved or withdrawn on `date`: available plus proceeds due by then.
    pub available_on: i64,
    /// available + reserved + pending.
    pub total: i64,
}

/// The cash balance of `account`, and what is available on `date`. `None` if there is no such
/// account; an account that never held cash has a zero balance.
pub fn cash_balance(
    state: &RegistryState,
    account: &AccountId,
    date: NaiveDate,
) -> Option<CashRow> {
    let no = state.ledger().find(account)?;
    let b = state.cash().balance(no);
    Some(CashRow {
        account: account.clone(),
        available: b.available,
        reserved: b.reserved,
        pending: b.pending.iter().map(|(d, v)| (*d, *v)).collect(),
        date,
        available_on: state.cash().available_on(no, date),
        total: b.total(),
    })
}

/// An open order as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenOrderRow {
    /// The participant's order reference.
    pub order: OrderRef,
    /// Instrument.
    pub class: UnitClass,
    /// Buy or sell.
    pub side: OrderSide,
    /// Limit price (for a market order, the band bound its reservation used), minor units per
    /// base unit.
    pub price: i64,
    /// Units not yet traded or cancelled.
    pub remaining: u64,
}

/// The open orders of `account`, by order reference. `None` if there is no such account.
pub fn open_orders(state: &RegistryState, account: &AccountId) -> Option<Vec<OpenOrderRow>> {
    let no = state.ledger().find(account)?;
    Some(
        state
            .exchange()
            .open_orders(no)
            .into_iter()
            .map(|(order, class, side, price, remaining)| OpenOrderRow {
                order,
                class,
                side,
                price,
                remaining,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Command, MemoryStore, Registry, Submission, TimeInForce};
    use chrono::NaiveTime;
    use yrd_types::{AccountKind, TransactionId, UnitTypeCode, Vintage};

    fn class() -> UnitClass {
        "CN-SH/CEA/2019".parse().unwrap()
    }

    fn acc(s: &str) -> AccountId {
        AccountId::new(s).unwrap()
    }

    /// Monday 4 March 2024: S (holding 1,000 t) offers 300 t at 81.00 and 200 t at 81.50; B (with
    /// CNY 100,000.00) bids 100 t at 80.00, then buys 120 t at 81.00.
    fn market() -> Registry<MemoryStore> {
        let (_, yrd) = yrd_config::MarketConfig::builtin("yrd").unwrap();
        let monday = NaiveDate::from_ymd_opt(2024, 3, 4).unwrap();
        let mut r = Registry::create(MemoryStore::new(), yrd, "yrd", monday).unwrap();
        let sh = JurisdictionCode::new("CN-SH").unwrap();
        let open = |a: &str| Command::OpenAccount {
            account: acc(a),
            kind: AccountKind::Trading,
            jurisdiction: sh.clone(),
            holder_name: a.into(),
        };
        let transfer = |from: &str, to: &str| Command::Transfer {
            from: acc(from),
            to: acc(to),
            class: class(),
            quantity: 1_000,
        };
        let order = |o: &str, a: &str, side, price, quantity, m| Command::PlaceOrder {
            order: OrderRef::new(o).unwrap(),
            account: acc(a),
            class: class(),
            side,
            price_minor: Some(price),
            quantity,
            time_in_force: TimeInForce::Gtc,
            time: NaiveTime::from_hms_opt(10, m, 0).unwrap(),
        };
        let commands = vec![
            open("S"),
            open("B"),
            Command::Issue {
                jurisdiction: sh.clone(),
                unit_type: UnitTypeCode::new("CEA").unwrap(),
                vintage: Vintage::new(2019).unwrap(),
                quantity: 1_000,
            },
            transfer("CN-SH-GOV", "CN-SH-AUCTION"),
            transfer("CN-SH-AUCTION", "S"),
            Command::Deposit {
                account: acc("B"),
                amount_minor: 10_000_000,
            },
            order("S1", "S", OrderSide::Sell, 8_100, 300, 1),
            order("S2", "S", OrderSide::Sell, 8_150, 200, 2),
            order("B1", "B", OrderSide::Buy, 8_000, 100, 3),
            order("B2", "B", OrderSide::Buy, 8_100, 120, 4),
        ];
        for (i, command) in commands.into_iter().enumerate() {
            let s = Submission {
                id: TransactionId::new(format!("t{i}")).unwrap(),
                date: monday,
                command,
            };
            r.submit(s).unwrap().unwrap();
        }
        r
    }

    #[test]
    fn market_data_reports_the_book_the_day_and_the_trades() {
        let r = market();
        let s = r.state();
        let summary = market_summary(s);
        assert_eq!(summary.len(), 1);
        let m = &summary[0];
        assert_eq!((m.previous_close, m.halted), (8_000, false));
        assert_eq!(
            m.best_bid,
            Some(Quote {
                price: 8_000,
                volume: 100,
                orders: 1
            })
        );
        assert_eq!(
            m.best_ask,
            Some(Quote {
                price: 8_100,
                volume: 180,
                orders: 1
            })
        );
        // One trade: 120 t at 81.00 = 972,000 fen.
        assert_eq!(
            (m.open, m.high, m.low, m.last),
            (Some(8_100), Some(8_100), Some(8_100), Some(8_100))
        );
        assert_eq!(
            (m.volume, m.turnover, m.vwap, m.trades),
            (120, Money(972_000), Some(8_100), 1)
        );

        let levels = depth(s, &class(), 5).unwrap();
        let view: Vec<_> = levels.iter().map(|l| (l.side, l.price, l.volume)).collect();
        assert_eq!(
            view,
            vec![
                (OrderSide::Buy, 8_000, 100),
                (OrderSide::Sell, 8_100, 180),
                (OrderSide::Sell, 8_150, 200)
            ]
        );
        assert_eq!(depth(s, &class(), 1).unwrap().len(), 2);
        let other: UnitClass = "CN-JS/CEA/2019".parse().unwrap();
        assert!(depth(s, &other, 5).is_none());

        let trades = recent_trades(s, &class(), 10).unwrap();
        assert_eq!(trades.len(), 1);
        assert_eq!(
            (trades[0].price, trades[0].quantity, trades[0].aggressor),
            (8_100, 120, OrderSide::Buy)
        );
        assert!(recent_trades(s, &other, 10).is_none());
    }

    #[test]
    fn cash_and_open_orders_of_an_account() {
        let r = market();
        let s = r.state();
        let monday = NaiveDate::from_ymd_opt(2024, 3, 4).unwrap();
        let tuesday = monday.succ_opt().unwrap();
        // B paid 972,000 + fee 486 and reserves at least 8,000 x 100 + fee 400 for B1.
        let b = cash_balance(s, &acc("B"), monday).unwrap();
        assert_eq!(b.total, 10_000_000 - 972_486);
        assert!(b.reserved >= 800_400, "{b:?}");
        assert_eq!(b.available + b.reserved, b.total);
        // S's proceeds, 972,000 - 486, are available from Tuesday.
        let sc = cash_balance(s, &acc("S"), monday).unwrap();
        assert_eq!(sc.pending, vec![(tuesday, 971_514)]);
        assert_eq!(sc.available_on, 0);
        assert_eq!(
            cash_balance(s, &acc("S"), tuesday).unwrap().available_on,
            971_514
        );
        assert!(cash_balance(s, &acc("NOBODY"), monday).is_none());

        let orders = open_orders(s, &acc("S")).unwrap();
        let view: Vec<_> = orders
            .iter()
            .map(|o| (o.order.as_str(), o.price, o.remaining))
            .collect();
        assert_eq!(view, vec![("S1", 8_100, 180), ("S2", 8_150, 200)]);
        assert_eq!(open_orders(s, &acc("B")).unwrap().len(), 1);
        assert!(open_orders(s, &acc("NOBODY")).is_none());
    }
}

/// One row of the net-flow ledger between jurisdictions: units issued by `issuer` that are now in
/// the hands of `user` - held by its accounts, surrendered by its installations, or retired in its
/// accounts (California and Quebec account for their linked market the same way). Base units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetFlowRow {
    /// Issuing jurisdiction.
    pub issuer: String,
    /// Jurisdiction whose accounts hold, surrendered or retired the units.
    pub user: String,
    /// Unit type.
    pub unit_type: String,
    /// Held in the user's operator holding and trading accounts.
    pub held: u64,
    /// Surrendered by the user's installations.
    pub surrendered: u64,
    /// Cancelled by the user's account holders (voluntary retirement).
    pub cancelled: u64,
}

impl NetFlowRow {
    /// held + surrendered + cancelled.
    pub fn total(&self) -> u64 {
        self.held
            .saturating_add(self.surrendered)
            .saturating_add(self.cancelled)
    }
}

/// The net-flow ledger: for each ordered pair of different jurisdictions and unit type, the units
/// issued by the first and now held, surrendered or cancelled in the second, from the ledger's
/// holdings (so it is cumulative: units that went back are not counted). System accounts other
/// than surrender hold only their own jurisdiction's units and do not appear. Sorted by issuer,
/// user, unit type; pairs with nothing are left out.
pub fn net_flows(state: &RegistryState) -> Vec<NetFlowRow> {
    use yrd_types::AccountKind;
    let ledger = state.ledger();
    let mut rows: BTreeMap<(String, String, String), NetFlowRow> = BTreeMap::new();
    for (no, account) in ledger.accounts() {
        let user = &account.spec.jurisdiction;
        for (class_no, _) in account.holdings() {
            let class = &ledger.class(class_no).class;
            if &class.jurisdiction == user {
                continue;
            }
            let quantity = ledger.quantity(no, class);
            let key = (
                class.jurisdiction.to_string(),
                user.to_string(),
                class.unit_type.to_string(),
            );
            let row = rows.entry(key.clone()).or_insert_with(|| NetFlowRow {
                issuer: key.0,
                user: key.1,
                unit_type: key.2,
                ..NetFlowRow::default()
            });
            match account.spec.kind {
                AccountKind::Surrender => row.surrendered += quantity,
                AccountKind::Cancellation => row.cancelled += quantity,
                _ => row.held += quantity,
            }
        }
    }
    rows.into_values().filter(|r| r.total() > 0).collect()
}

/// Net position of a pair: units of `first` used in `second` minus units of `second` used in
/// `first`, per unit type (positive: `first` is a net exporter to `second`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairBalance {
    /// First jurisdiction (the smaller code).
    pub first: String,
    /// Second jurisdiction.
    pub second: String,
    /// Unit type.
    pub unit_type: String,
    /// Units of `first` in `second`.
    pub first_to_second: u64,
    /// Units of `second` in `first`.
    pub second_to_first: u64,
    /// `first_to_second - second_to_first`.
    pub net: i128,
}

/// Pairwise balances from the net-flow rows, sorted by pair and unit type.
pub fn pair_balances(rows: &[NetFlowRow]) -> Vec<PairBalance> {
    let mut m: BTreeMap<(String, String, String), (u64, u64)> = BTreeMap::new();
    for r in rows {
        let forward = r.issuer < r.user;
        let (a, b) = if forward {
            (&r.issuer, &r.user)
        } else {
            (&r.user, &r.issuer)
        };
        let e = m
            .entry((a.clone(), b.clone(), r.unit_type.clone()))
            .or_insert((0, 0));
        if forward {
            e.0 += r.total();
        } else {
            e.1 += r.total();
        }
    }
    m.into_iter()
        .map(|((first, second, unit_type), (f, s))| PairBalance {
            first,
            second,
            unit_type,
            first_to_second: f,
            second_to_first: s,
            net: i128::from(f) - i128::from(s),
        })
        .collect()
}
