//! The exchange inside the registry: order books per instrument, pre-trade reservations, and
//! delivery-versus-payment settlement of every trade in the same transaction that matched it.
//!
//! An order command is one registry transaction: checked (trading rules, reservations), matched by
//! the instrument's [`yrd_book::OrderBook`], and every resulting trade settled - units from seller
//! to buyer, cash from buyer's reservation to seller's proceeds (available from the next trading
//! day), fees collected - before the transaction is journaled. There is no state between match
//! and settlement, so a crash can neither lose a match nor settle it twice: replaying the journal
//! re-runs the same matching deterministically.
//!
//! Instruments are unit classes (`CN-SH/CEA/2024`) of the unit types the market configuration
//! lists as tradable; an instrument exists once units of its class were issued.

use crate::command::{Effect, OrderSide, TimeInForce};
use crate::rules::{RuleCode, Violation};
use crate::state::RegistryState;
use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use yrd_book::{
    BookConfig, CancelReason, Event, OrderBook, OrderId, OrderKind, SelfTradePrevention, Side,
    UserId,
};
use yrd_ledger::AccountNo;
use yrd_market::{DayStats, TradingRules};
use yrd_types::{AccountId, AccountKind, OrderRef, UnitClass};

/// How many recent trades each instrument keeps for market data.
pub const RECENT_TRADES: usize = 1_000;

/// A trade as published (market data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trade {
    /// Business date.
    pub date: NaiveDate,
    /// Time of the matching order.
    pub time: NaiveTime,
    /// Price, minor units per base unit.
    pub price: i64,
    /// Quantity, base units.
    pub quantity: u64,
    /// Side of the order that took liquidity.
    pub aggressor: OrderSide,
}

/// One instrument's market.
#[derive(Debug, Clone)]
pub struct Instrument {
    /// The order book.
    pub book: OrderBook,
    /// Trading halted by the operator.
    pub halted: bool,
    /// Previous closing price, minor units: the centre of the price band.
    pub previous_close: i64,
    /// Today's statistics (open, high, low, volume, turnover, VWAP).
    pub day: DayStats,
    /// The most recent trades, oldest first (at most [`RECENT_TRADES`]).
    pub trades: VecDeque<Trade>,
}

#[derive(Debug, Clone)]
pub(crate) struct OpenOrder {
    book_id: u64,
    class: UnitClass,
    account: AccountNo,
    side: OrderSide,
    /// Price the reservation is computed at (the limit, or the band's upper bound for a market buy).
    reservation_price: i64,
    /// Units not yet traded or cancelled.
    remaining: u64,
    /// Cash reserved for it (buys).
    reserved_cash: i64,
}

/// Exchange state kept by the registry.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pub(crate) instruments: BTreeMap<UnitClass, Instrument>,
    pub(crate) orders: HashMap<OrderRef, OpenOrder>,
    used_refs: HashSet<OrderRef>,
    by_book_id: HashMap<u64, OrderRef>,
    next_book_id: u64,
    pub(crate) reserved_units: HashMap<(AccountNo, UnitClass), u64>,
    trading_date: Option<NaiveDate>,
    blocks: HashMap<OrderRef, BlockProposal>,
}

/// A block trade proposed by one party and awaiting the other's confirmation. The proposer's side
/// is reserved at proposal (units for a seller, cash for a buyer).
#[derive(Debug, Clone)]
pub(crate) struct BlockProposal {
    class: UnitClass,
    seller: AccountNo,
    buyer: AccountNo,
    proposer: AccountNo,
    price: i64,
    quantity: u64,
    reserved_cash: i64,
}

impl Exchange {
    /// The current trading day (the date of the last order command), if trading has begun.
    pub fn trading_date(&self) -> Option<NaiveDate> {
        self.trading_date
    }

    /// Units of `class` that `account` has reserved for open sell orders.
    pub fn reserved_units(&self, account: AccountNo, class: &UnitClass) -> u64 {
        self.reserved_units
            .get(&(account, class.clone()))
            .copied()
            .unwrap_or(0)
    }

    /// Reserves `quantity` units of `class` in `account` (for a sell order, a block trade, an
    /// auction's supply, a call-market sell step or a pending transfer): they stay held but
    /// cannot be spent elsewhere.
    pub(crate) fn reserve_units(&mut self, account: AccountNo, class: &UnitClass, quantity: u64) {
        *self
            .reserved_units
            .entry((account, class.clone()))
            .or_insert(0) += quantity;
    }

    /// Releases `quantity` reserved units of `class` in `account`, forgetting the entry at zero.
    ///
    /// # Panics
    ///
    /// If fewer are reserved: the caller reserved them, so that would be a registry bug.
    pub(crate) fn release_units(&mut self, account: AccountNo, class: &UnitClass, quantity: u64) {
        let key = (account, class.clone());
        let reserved = self
            .reserved_units
            .get_mut(&key)
            .expect("released units were reserved");
        assert!(*reserved >= quantity, "the reservation covers the release");
        *reserved -= quantity;
        if *reserved == 0 {
            self.reserved_units.remove(&key);
        }
    }

    /// The instruments with a market, in class order.
    pub fn instruments(&self) -> impl Iterator<Item = (&UnitClass, &Instrument)> {
        self.instruments.iter()
    }

    /// Open orders of an account: (reference, class, side, reservation price, remaining).
    pub fn open_orders(
        &self,
        account: AccountNo,
    ) -> Vec<(OrderRef, UnitClass, OrderSide, i64, u64)> {
        let mut v: Vec<_> = self
            .orders
            .iter()
            .filter(|(_, o)| o.account == account)
            .map(|(r, o)| {
                (
                    r.clone(),
                    o.class.clone(),
                    o.side,
                    o.reservation_price,
                    o.remaining,
                )
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Reserved cash per account implied by the open orders (audited against the cash ledger).
    pub(crate) fn reserved_cash_by_account(&self) -> HashMap<AccountNo, i64> {
        let mut m = HashMap::new();
        for o in self.orders.values() {
            *m.entry(o.account).or_insert(0) += o.reserved_cash;
        }
        for b in self.blocks.values() {
            *m.entry(b.buyer).or_insert(0) += b.reserved_cash;
        }
        m
    }
}

fn side(s: OrderSide) -> Side {
    match s {
        OrderSide::Buy => Side::Bid,
        OrderSide::Sell => Side::Ask,
    }
}

/// The field a trading-rule violation concerns: the price for tick and band, the quantity for
/// lot and block size.
fn rule_field(v: &yrd_market::RuleViolation) -> &'static str {
    use yrd_market::RuleViolation as R;
    match v {
        R::ZeroQuantity
        | R::QuantityNotMultipleOfLot { .. }
        | R::BlockSizeOnBook { .. }
        | R::BlockTooSmall { .. } => "quantity",
        _ => "price_minor",
    }
}

fn violation(code: RuleCode, field: &'static str, message: impl Into<String>) -> Vec<Violation> {
    vec![Violation::new(code, field, message)]
}

/// Cash a buy of `quantity` at `price` needs: notional plus the buyer's fee. `None` on overflow.
fn buy_cost(rules: &TradingRules, price: i64, quantity: u64) -> Option<i64> {
    let notional = price.checked_mul(i64::try_from(quantity).ok()?)?;
    let fee = yrd_market::fee(rules, price, quantity).ok()?;
    notional.checked_add(fee.0)
}

/// Cash a buy order reserves for `quantity` units at `price`: the cost, plus one minor unit per
/// unit. Each trade's fee is rounded half-up on its own, so the fees of an order filled in several
/// trades can exceed the fee on its total by up to half a minor unit per trade; a trade is at
/// least one unit, so this margin always covers it. What is left is released when the order ends.
fn order_reservation(rules: &TradingRules, price: i64, quantity: u64) -> Option<i64> {
    buy_cost(rules, price, quantity)?.checked_add(i64::try_from(quantity).ok()?)
}

/// A new order's parameters, as the command carries them.
pub(crate) struct NewOrder<'a> {
    pub order: &'a OrderRef,
    pub account: &'a AccountId,
    pub class: &'a UnitClass,
    pub side: OrderSide,
    pub price: Option<i64>,
    pub quantity: u64,
    pub time_in_force: TimeInForce,
    pub time: NaiveTime,
}

impl RegistryState {
    fn trading_rules(&self) -> Result<&TradingRules, Vec<Violation>> {
        self.config()
            .exchange
            .as_ref()
            .map(|e| &e.rules)
            .ok_or_else(|| {
                violation(
                    RuleCode::ExchangeNotConfigured,
                    "type",
                    "this market configuration has no [exchange] section",
                )
            })
    }

    pub(crate) fn participant_pub(
        &self,
        account: &AccountId,
        field: &'static str,
    ) -> Result<AccountNo, Vec<Violation>> {
        self.participant(account, field)
    }

    /// A participant (operator holding or trading) account that is open.
    fn participant(
        &self,
        account: &AccountId,
        field: &'static str,
    ) -> Result<AccountNo, Vec<Violation>> {
        let no = self
            .open_account_no_pub(account, field)
            .map_err(|v| vec![v])?;
        let kind = self.ledger().account(no).spec.kind;
        if !matches!(kind, AccountKind::OperatorHolding | AccountKind::Trading) {
            return Err(violation(
                RuleCode::NotAParticipant,
                field,
                format!(
                    "account {account} is of kind {kind}; only operator_holding and trading accounts trade and hold cash"
                ),
            ));
        }
        Ok(no)
    }

    /// The participant account of a deposit or withdrawal of `amount` (which must be positive).
    fn cash_participant(
        &self,
        account: &AccountId,
        amount: i64,
    ) -> Result<AccountNo, Vec<Violation>> {
        let no = self.participant(account, "account")?;
        if amount <= 0 {
            let code = if amount == 0 {
                RuleCode::ZeroQuantity
            } else {
                RuleCode::InvalidField
            };
            return Err(violation(code, "amount_minor", "amount must be positive"));
        }
        Ok(no)
    }

    /// Refuses with INSUFFICIENT_CASH (naming `field`) unless `account` has `amount` available on
    /// `date`, sale proceeds due by then included; `purpose` says what the cash is for.
    pub(crate) fn require_cash(
        &self,
        account: AccountNo,
        amount: i64,
        date: NaiveDate,
        field: &'static str,
        purpose: &str,
    ) -> Result<(), Vec<Violation>> {
        let available = self.cash().available_on(account, date);
        if available < amount {
            let id = &self.ledger().account(account).spec.id;
            return Err(violation(
                RuleCode::InsufficientCash,
                field,
                format!(
                    "account {id} has {available} (minor currency units) available on {date}; {purpose} needs {amount}"
                ),
            ));
        }
        Ok(())
    }

    /// Deposits cash (from the participant's bank).
    pub(crate) fn deposit(
        &mut self,
        account: &AccountId,
        amount: i64,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let no = self.cash_participant(account, amount)?;
        self.cash_mut()
            .deposit(no, amount)
            .map_err(|e| violation(RuleCode::QuantityOverflow, "amount_minor", e.to_string()))?;
        Ok(vec![Effect::CashDeposited {
            account: account.clone(),
            amount_minor: amount,
        }])
    }

    /// Withdraws available cash (sale proceeds count from the day they become available).
    pub(crate) fn withdraw(
        &mut self,
        account: &AccountId,
        amount: i64,
        date: NaiveDate,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let no = self.cash_participant(account, amount)?;
        self.require_cash(no, amount, date, "amount_minor", "the withdrawal")?;
        self.cash_mut()
            .withdraw_on(no, amount, date)
            .expect("checked: available suffices");
        Ok(vec![Effect::CashWithdrawn {
            account: account.clone(),
            amount_minor: amount,
        }])
    }

    /// Starts a new trading day when `date` is later than the current one: day orders are
    /// cancelled and each instrument's close (VWAP of the day's book trades, else the previous
    /// close) becomes the centre of the next day's price band.
    fn roll_trading_day(&mut self, date: NaiveDate, effects: &mut Vec<Effect>) {
        let current = self.exchange().trading_date;
        if current.is_some_and(|d| d >= date) {
            return;
        }
        if let Some(closing_date) = current {
            let tick = self
                .config()
                .exchange
                .as_ref()
                .map_or(1, |e| e.rules.tick_minor);
            let classes: Vec<UnitClass> = self.exchange().instruments.keys().cloned().collect();
            for class in classes {
                let mut events = Vec::new();
                let inst = self
                    .exchange_mut()
                    .instruments
                    .get_mut(&class)
                    .expect("listed");
                inst.book.end_of_day(&mut events);
                let close = inst.day.closing_price(inst.previous_close);
                let volume = inst.day.volume();
                inst.previous_close = close;
                inst.day = DayStats::new(tick);
                // Orders resting at prices outside the new day's band could trade outside it:
                // they are cancelled with the day, like the day orders.
                let (pct, tick_minor) = self
                    .config()
                    .exchange
                    .as_ref()
                    .map_or((10, 1), |e| (e.rules.price_band_pct, e.rules.tick_minor));
                let (lower, upper) = yrd_market::band(close, pct, tick_minor);
                let mut stale: Vec<u64> = self
                    .exchange()
                    .orders
                    .values()
                    .filter(|o| o.class == class && !(lower..=upper).contains(&o.reservation_price))
                    .map(|o| o.book_id)
                    .collect();
                stale.sort_unstable();
                self.book_events(&class, &events, closing_date, NaiveTime::MIN, effects);
                let mut stale_events = Vec::new();
                let book = &mut self
                    .exchange_mut()
                    .instruments
                    .get_mut(&class)
                    .expect("listed")
                    .book;
                for id in stale {
                    // Day orders already left at end of day; the others still rest in the book.
                    let _ = book.cancel(OrderId(id), &mut stale_events);
                }
                let first_stale = effects.len();
                self.book_events(&class, &stale_events, closing_date, NaiveTime::MIN, effects);
                for effect in &mut effects[first_stale..] {
                    if let Effect::OrderCancelled { reason, .. } = effect {
                        *reason = "outside_new_price_band".to_string();
                    }
                }
                effects.push(Effect::DayClosed {
                    class,
                    close_minor: close,
                    volume,
                });
            }
        }
        // Block trade proposals live for their trading day: unconfirmed ones lapse with it.
        if current.is_some() {
            let mut lapsed: Vec<OrderRef> = self.exchange().blocks.keys().cloned().collect();
            lapsed.sort();
            for trade in lapsed {
                self.release_block(&trade);
                effects.push(Effect::BlockWithdrawn { trade });
            }
        }
        self.exchange_mut().trading_date = Some(date);
    }

    /// Forgets a block proposal and releases the proposer's reservation.
    fn release_block(&mut self, trade: &OrderRef) {
        let Some(b) = self.exchange_mut().blocks.remove(trade) else {
            return;
        };
        if b.reserved_cash > 0 {
            self.cash_mut()
                .release(b.buyer, b.reserved_cash)
                .expect("reserved at proposal");
        }
        if b.proposer == b.seller {
            let key = (b.seller, b.class.clone());
            *self
                .exchange_mut()
                .reserved_units
                .get_mut(&key)
                .expect("reserved at proposal") -= b.quantity;
            self.exchange_mut().reserved_units.retain(|_, q| *q > 0);
        }
    }

    /// The instrument of `class`, created on first use if the class is tradable and issued.
    fn instrument_for(&mut self, class: &UnitClass) -> Result<(), Vec<Violation>> {
        if self.exchange().instruments.contains_key(class) {
            return Ok(());
        }
        let exchange = self
            .config()
            .exchange
            .as_ref()
            .expect("checked by trading_rules");
        if !exchange.unit_types.contains(&class.unit_type) {
            return Err(violation(
                RuleCode::UnknownInstrument,
                "class",
                format!("{} is not traded on the exchange", class.unit_type),
            ));
        }
        if self.ledger().class_no(class).is_none() {
            return Err(violation(
                RuleCode::UnknownInstrument,
                "class",
                format!("no units of {class} were ever issued"),
            ));
        }
        let book = OrderBook::new(BookConfig {
            self_trade: SelfTradePrevention::CancelNewest,
            price_window_log2: 12,
        });
        let previous_close = exchange.rules.initial_reference_price_minor;
        let day = DayStats::new(exchange.rules.tick_minor);
        let inst = Instrument {
            book,
            halted: false,
            previous_close,
            day,
            trades: VecDeque::new(),
        };
        self.exchange_mut().instruments.insert(class.clone(), inst);
        Ok(())
    }

    pub(crate) fn place_order(
        &mut self,
        date: NaiveDate,
        o: NewOrder<'_>,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let rules = self.trading_rules()?.clone();
        let account = self.participant(o.account, "account")?;
        if self.exchange().used_refs.contains(o.order) {
            return Err(violation(
                RuleCode::DuplicateOrderRef,
                "order",
                format!("order reference {} was used before", o.order),
            ));
        }
        if o.quantity == 0 {
            return Err(violation(
                RuleCode::ZeroQuantity,
                "quantity",
                "quantity must be positive",
            ));
        }
        if o.side == OrderSide::Buy {
            self.may_receive_pub(account, o.class, "account")
                .map_err(|v| vec![v])?;
        }
        let mut effects = Vec::new();
        let previous_close =
            self.enter_market(&rules, date, o.time, o.class, false, &mut effects)?;
        let (lower, upper) =
            yrd_market::band(previous_close, rules.price_band_pct, rules.tick_minor);
        let (kind, price) = match (o.time_in_force, o.price) {
            // A market order trades what it can within today's band and cancels the rest: an
            // immediate-or-cancel at the band's bound, so that it can neither trade with a stale
            // resting order outside the band nor cost more than it reserved.
            (TimeInForce::Market, None) => (
                OrderKind::Ioc,
                if o.side == OrderSide::Buy {
                    upper
                } else {
                    lower
                },
            ),
            (TimeInForce::Market, Some(_)) => {
                return Err(violation(
                    RuleCode::InvalidField,
                    "price_minor",
                    "a market order has no price",
                ));
            }
            (_, None) => {
                return Err(violation(
                    RuleCode::InvalidField,
                    "price_minor",
                    "a limit order needs a price",
                ));
            }
            (tif, Some(p)) => {
                yrd_market::check_order(&rules, previous_close, p, o.quantity)
                    .map_err(|e| violation(RuleCode::TradingRule, rule_field(&e), e.to_string()))?;
                let kind = match tif {
                    TimeInForce::Gtc => OrderKind::Gtc,
                    TimeInForce::Day => OrderKind::Day,
                    TimeInForce::Ioc => OrderKind::Ioc,
                    TimeInForce::Fok => OrderKind::Fok,
                    TimeInForce::Market => unreachable!("matched above"),
                };
                (kind, p)
            }
        };
        if o.time_in_force == TimeInForce::Market {
            yrd_market::check_order(&rules, previous_close, price, o.quantity)
                .map_err(|e| violation(RuleCode::TradingRule, rule_field(&e), e.to_string()))?;
        }
        // Pre-trade reservation: no credit, no short sales.
        let reserved_cash = match o.side {
            OrderSide::Buy => {
                let cost = order_reservation(&rules, price, o.quantity).ok_or_else(|| {
                    violation(
                        RuleCode::QuantityOverflow,
                        "quantity",
                        "order value overflows",
                    )
                })?;
                self.require_cash(
                    account,
                    cost,
                    date,
                    "quantity",
                    "the order (price x quantity + fee + 1 per unit for fee rounding)",
                )?;
                cost
            }
            OrderSide::Sell => {
                let free = self.free_units(account, o.class);
                if free < o.quantity {
                    return Err(violation(
                        RuleCode::InsufficientHoldings,
                        "quantity",
                        format!(
                            "account {} has {free} units of {} free to sell; {} requested",
                            o.account, o.class, o.quantity
                        ),
                    ));
                }
                0
            }
        };
        // Match first on a copy of nothing: the book refuses a fill-or-kill without changing.
        let book_id = self.exchange().next_book_id + 1;
        let mut events = Vec::new();
        let user = UserId(u64::from(account.0));
        let placed = self
            .exchange_mut()
            .instruments
            .get_mut(o.class)
            .expect("created above")
            .book
            .place(
                OrderId(book_id),
                user,
                side(o.side),
                price,
                o.quantity,
                kind,
                &mut events,
            );
        if let Err(reject) = placed {
            return Err(violation(
                RuleCode::TradingRule,
                "time_in_force",
                reject.to_string(),
            ));
        }
        // Accepted: record the order and its reservation, then settle what the book did.
        if reserved_cash > 0 {
            self.cash_mut()
                .reserve_on(account, reserved_cash, date)
                .expect("checked: available suffices");
        } else {
            self.exchange_mut()
                .reserve_units(account, o.class, o.quantity);
        }
        let ex = self.exchange_mut();
        ex.next_book_id = book_id;
        ex.used_refs.insert(o.order.clone());
        ex.by_book_id.insert(book_id, o.order.clone());
        ex.orders.insert(
            o.order.clone(),
            OpenOrder {
                book_id,
                class: o.class.clone(),
                account,
                side: o.side,
                reservation_price: price,
                remaining: o.quantity,
                reserved_cash,
            },
        );
        effects.push(Effect::OrderAccepted {
            order: o.order.clone(),
            class: o.class.clone(),
            side: o.side,
            price_minor: price,
            quantity: o.quantity,
        });
        self.book_events(o.class, &events, date, o.time, &mut effects);
        Ok(effects)
    }

    /// Cancels, reduces or re-prices an open order of `account`.
    pub(crate) fn change_order(
        &mut self,
        date: NaiveDate,
        time: NaiveTime,
        order: &OrderRef,
        account: &AccountId,
        change: OrderChange,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let rules = self.trading_rules()?.clone();
        let no = self.participant(account, "account")?;
        // A new business date starts a new trading day first: yesterday's day orders are gone and
        // an amend is judged against today's band.
        let mut effects = Vec::new();
        self.roll_trading_day(date, &mut effects);
        let Some(open) = self.exchange().orders.get(order).cloned() else {
            return Err(violation(
                RuleCode::UnknownOrder,
                "order",
                format!("no open order {order}"),
            ));
        };
        if open.account != no {
            return Err(violation(
                RuleCode::NotOrderOwner,
                "order",
                format!("order {order} is not an order of account {account}"),
            ));
        }
        let mut events = Vec::new();
        match change {
            OrderChange::Cancel => {
                let book = &mut self
                    .exchange_mut()
                    .instruments
                    .get_mut(&open.class)
                    .expect("open order")
                    .book;
                book.cancel(OrderId(open.book_id), &mut events)
                    .expect("open orders rest in the book");
            }
            OrderChange::Reduce(by) => {
                if by == 0 {
                    return Err(violation(
                        RuleCode::ZeroQuantity,
                        "quantity",
                        "quantity must be positive",
                    ));
                }
                let book = &mut self
                    .exchange_mut()
                    .instruments
                    .get_mut(&open.class)
                    .expect("open order")
                    .book;
                book.reduce(OrderId(open.book_id), by, &mut events)
                    .expect("open orders rest in the book");
            }
            OrderChange::Amend(price) => {
                if !yrd_market::session_open(&rules, date, time) {
                    return Err(violation(
                        RuleCode::OutsideTradingHours,
                        "time",
                        format!(
                            "{date} {} is outside the continuous trading sessions",
                            time.format("%H:%M")
                        ),
                    ));
                }
                let inst = &self.exchange().instruments[&open.class];
                if inst.halted {
                    return Err(violation(
                        RuleCode::InstrumentHalted,
                        "order",
                        format!("trading in {} is halted", open.class),
                    ));
                }
                yrd_market::check_order(&rules, inst.previous_close, price, open.remaining)
                    .map_err(|e| violation(RuleCode::TradingRule, rule_field(&e), e.to_string()))?;
                if open.side == OrderSide::Buy {
                    let needed =
                        order_reservation(&rules, price, open.remaining).ok_or_else(|| {
                            violation(
                                RuleCode::QuantityOverflow,
                                "price_minor",
                                "order value overflows",
                            )
                        })?;
                    let extra = needed - open.reserved_cash;
                    if extra > 0 {
                        self.require_cash(no, extra, date, "price_minor", "the new price")?;
                        self.cash_mut()
                            .reserve_on(no, extra, date)
                            .expect("checked");
                    } else if extra < 0 {
                        self.cash_mut()
                            .release(no, -extra)
                            .expect("reserved for this order");
                    }
                    let o = self.exchange_mut().orders.get_mut(order).expect("open");
                    o.reserved_cash = needed;
                }
                self.exchange_mut()
                    .orders
                    .get_mut(order)
                    .expect("open")
                    .reservation_price = price;
                let book = &mut self
                    .exchange_mut()
                    .instruments
                    .get_mut(&open.class)
                    .expect("open order")
                    .book;
                book.move_order(OrderId(open.book_id), price, &mut events)
                    .expect("open orders rest in the book");
                effects.push(Effect::OrderAmended {
                    order: order.clone(),
                    price_minor: price,
                });
            }
        }
        self.book_events(&open.class, &events, date, time, &mut effects);
        Ok(effects)
    }

    /// Checks that the market of `class` is open for an order (continuous session) or a block
    /// trade (`block`) at `date` `time`, starting the trading day and listing the instrument if
    /// needed (undone by the caller if the command is then refused), and that trading is not
    /// halted. Returns the previous close, the centre of today's price band.
    fn enter_market(
        &mut self,
        rules: &TradingRules,
        date: NaiveDate,
        time: NaiveTime,
        class: &UnitClass,
        block: bool,
        effects: &mut Vec<Effect>,
    ) -> Result<i64, Vec<Violation>> {
        let open = if block {
            yrd_market::block_session_open(rules, date, time)
        } else {
            yrd_market::session_open(rules, date, time)
        };
        if !open {
            let which = if block {
                "block trading session"
            } else {
                "continuous trading sessions"
            };
            return Err(violation(
                RuleCode::OutsideTradingHours,
                "time",
                format!("{date} {} is outside the {which}", time.format("%H:%M")),
            ));
        }
        self.roll_trading_day(date, effects);
        self.instrument_for(class)?;
        let inst = &self.exchange().instruments[class];
        if inst.halted {
            return Err(violation(
                RuleCode::InstrumentHalted,
                "class",
                format!("trading in {class} is halted"),
            ));
        }
        Ok(inst.previous_close)
    }

    /// Proposes a block trade (negotiated off the book between two named parties, at or above the
    /// block threshold, within the block band): reserves the proposer's side.
    pub(crate) fn propose_block(
        &mut self,
        date: NaiveDate,
        p: BlockTerms<'_>,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let rules = self.trading_rules()?.clone();
        let seller = self.participant(p.seller, "seller")?;
        let buyer = self.participant(p.buyer, "buyer")?;
        let proposer = self.participant(p.proposer, "proposed_by")?;
        if proposer != seller && proposer != buyer {
            return Err(violation(
                RuleCode::InvalidField,
                "proposed_by",
                format!("{} is neither the seller nor the buyer", p.proposer),
            ));
        }
        if seller == buyer {
            return Err(violation(
                RuleCode::InvalidField,
                "buyer",
                "seller and buyer are the same account",
            ));
        }
        if self.exchange().used_refs.contains(p.trade) {
            return Err(violation(
                RuleCode::DuplicateOrderRef,
                "trade",
                format!("reference {} was used before", p.trade),
            ));
        }
        let mut effects = Vec::new();
        let previous_close =
            self.enter_market(&rules, date, p.time, p.class, true, &mut effects)?;
        yrd_market::check_block(&rules, previous_close, p.price, p.quantity)
            .map_err(|e| violation(RuleCode::TradingRule, rule_field(&e), e.to_string()))?;
        self.may_receive_pub(buyer, p.class, "buyer")
            .map_err(|v| vec![v])?;
        let reserved_cash = if proposer == buyer {
            self.block_cash_check(&rules, buyer, p.price, p.quantity, date)?
        } else {
            0
        };
        if proposer == seller {
            self.block_units_check(seller, p.seller, p.class, p.quantity)?;
            self.exchange_mut()
                .reserve_units(seller, p.class, p.quantity);
        } else {
            self.cash_mut()
                .reserve_on(buyer, reserved_cash, date)
                .expect("checked");
        }
        let ex = self.exchange_mut();
        ex.used_refs.insert(p.trade.clone());
        ex.blocks.insert(
            p.trade.clone(),
            BlockProposal {
                class: p.class.clone(),
                seller,
                buyer,
                proposer,
                price: p.price,
                quantity: p.quantity,
                reserved_cash,
            },
        );
        effects.push(Effect::BlockProposed {
            trade: p.trade.clone(),
            class: p.class.clone(),
            price_minor: p.price,
            quantity: p.quantity,
        });
        Ok(effects)
    }

    /// The counterparty confirms a proposed block trade: its side is checked and the trade settles
    /// delivery-versus-payment at once. Block trades do not set the closing price.
    pub(crate) fn confirm_block(
        &mut self,
        date: NaiveDate,
        time: NaiveTime,
        trade: &OrderRef,
        account: &AccountId,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let rules = self.trading_rules()?.clone();
        let confirmer = self.participant(account, "account")?;
        let Some(b) = self.exchange().blocks.get(trade).cloned() else {
            return Err(violation(
                RuleCode::UnknownOrder,
                "trade",
                format!("no proposed block trade {trade}"),
            ));
        };
        if confirmer == b.proposer || (confirmer != b.buyer && confirmer != b.seller) {
            return Err(violation(
                RuleCode::NotOrderOwner,
                "account",
                format!("block trade {trade} must be confirmed by the other party, not {account}"),
            ));
        }
        if !yrd_market::block_session_open(&rules, date, time) {
            return Err(violation(
                RuleCode::OutsideTradingHours,
                "time",
                format!(
                    "{date} {} is outside the block trading session",
                    time.format("%H:%M")
                ),
            ));
        }
        let mut effects = Vec::new();
        self.roll_trading_day(date, &mut effects);
        if !self.exchange().blocks.contains_key(trade) {
            return Err(violation(
                RuleCode::UnknownOrder,
                "trade",
                format!(
                    "block trade {trade} lapsed at the end of the trading day it was proposed on"
                ),
            ));
        }
        // Judged again at confirmation: the instrument may have been halted since.
        let inst = &self.exchange().instruments[&b.class];
        if inst.halted {
            return Err(violation(
                RuleCode::InstrumentHalted,
                "trade",
                format!("trading in {} is halted", b.class),
            ));
        }
        yrd_market::check_block(&rules, inst.previous_close, b.price, b.quantity)
            .map_err(|e| violation(RuleCode::TradingRule, rule_field(&e), e.to_string()))?;
        let (seller_id, buyer_id) = (
            self.ledger().account(b.seller).spec.id.clone(),
            self.ledger().account(b.buyer).spec.id.clone(),
        );
        let cost = if confirmer == b.buyer {
            let cost = self.block_cash_check(&rules, b.buyer, b.price, b.quantity, date)?;
            self.cash_mut()
                .reserve_on(b.buyer, cost, date)
                .expect("checked");
            cost
        } else {
            self.block_units_check(b.seller, &seller_id, &b.class, b.quantity)?;
            b.reserved_cash
        };
        // Settle: the buyer's reservation pays price x quantity + fee; the seller's units move.
        let notional = b.price * i64::try_from(b.quantity).expect("bounded quantity");
        let fee = yrd_market::fee(&rules, b.price, b.quantity)
            .expect("bounded")
            .0;
        let available_from = yrd_market::next_trading_day(&rules, date).unwrap_or(date);
        self.cash_mut()
            .settle(b.buyer, b.seller, notional, fee, fee, available_from)
            .expect("reserved above");
        let leftover = cost - notional - fee;
        if leftover > 0 {
            self.cash_mut()
                .release(b.buyer, leftover)
                .expect("reserved above");
        }
        if b.proposer == b.seller {
            *self
                .exchange_mut()
                .reserved_units
                .get_mut(&(b.seller, b.class.clone()))
                .expect("reserved at proposal") -= b.quantity;
            self.exchange_mut().reserved_units.retain(|_, q| *q > 0);
        }
        let ranges = self.move_units_pub(b.seller, b.buyer, &b.class, b.quantity);
        self.exchange_mut().blocks.remove(trade);
        let inst = self
            .exchange_mut()
            .instruments
            .get_mut(&b.class)
            .expect("created at proposal");
        let _ = inst.day.record_block_trade(b.price, b.quantity);
        effects.push(Effect::BlockTraded {
            trade: trade.clone(),
            class: b.class,
            price_minor: b.price,
            quantity: b.quantity,
            buyer: buyer_id,
            seller: seller_id,
            fee_minor: fee,
            ranges,
        });
        Ok(effects)
    }

    /// The proposer withdraws a block trade not yet confirmed; its reservation is released.
    pub(crate) fn withdraw_block(
        &mut self,
        trade: &OrderRef,
        account: &AccountId,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        self.trading_rules()?;
        let who = self.participant(account, "account")?;
        let Some(b) = self.exchange().blocks.get(trade).cloned() else {
            return Err(violation(
                RuleCode::UnknownOrder,
                "trade",
                format!("no proposed block trade {trade}"),
            ));
        };
        if who != b.proposer {
            return Err(violation(
                RuleCode::NotOrderOwner,
                "account",
                format!("only the proposer may withdraw block trade {trade}"),
            ));
        }
        self.release_block(trade);
        Ok(vec![Effect::BlockWithdrawn {
            trade: trade.clone(),
        }])
    }

    fn block_cash_check(
        &self,
        rules: &TradingRules,
        buyer: AccountNo,
        price: i64,
        quantity: u64,
        date: NaiveDate,
    ) -> Result<i64, Vec<Violation>> {
        let cost = buy_cost(rules, price, quantity).ok_or_else(|| {
            violation(
                RuleCode::QuantityOverflow,
                "quantity",
                "trade value overflows",
            )
        })?;
        self.require_cash(buyer, cost, date, "quantity", "the block trade")?;
        Ok(cost)
    }

    fn block_units_check(
        &self,
        seller: AccountNo,
        id: &AccountId,
        class: &UnitClass,
        quantity: u64,
    ) -> Result<(), Vec<Violation>> {
        let free = self.free_units(seller, class);
        if free < quantity {
            return Err(violation(
                RuleCode::InsufficientHoldings,
                "quantity",
                format!("seller {id} has {free} units of {class} free; {quantity} requested"),
            ));
        }
        Ok(())
    }

    /// Halts or resumes trading in an instrument.
    pub(crate) fn set_halt(
        &mut self,
        class: &UnitClass,
        halted: bool,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        self.trading_rules()?;
        self.instrument_for(class)?;
        self.exchange_mut()
            .instruments
            .get_mut(class)
            .expect("created")
            .halted = halted;
        Ok(vec![Effect::TradingHalted {
            class: class.clone(),
            halted,
        }])
    }

    /// Applies the book's events: settles fills and releases what cancellations and reductions free.
    fn book_events(
        &mut self,
        class: &UnitClass,
        events: &[Event],
        date: NaiveDate,
        time: NaiveTime,
        effects: &mut Vec<Effect>,
    ) {
        for event in events {
            match *event {
                Event::Fill {
                    maker_order_id,
                    taker_order_id,
                    taker_side,
                    price_ticks,
                    quantity,
                    ..
                } => {
                    let (buy, sell) = match taker_side {
                        Side::Bid => (taker_order_id, maker_order_id),
                        Side::Ask => (maker_order_id, taker_order_id),
                    };
                    let aggressor = if taker_side == Side::Bid {
                        OrderSide::Buy
                    } else {
                        OrderSide::Sell
                    };
                    self.settle_fill(
                        class,
                        buy.0,
                        sell.0,
                        price_ticks,
                        quantity,
                        date,
                        time,
                        aggressor,
                        effects,
                    );
                }
                Event::Cancelled {
                    order_id,
                    quantity,
                    reason,
                    ..
                } => {
                    let order = self.order_done(order_id.0, quantity);
                    effects.push(Effect::OrderCancelled {
                        order,
                        quantity,
                        reason: cancel_reason(reason).to_string(),
                    });
                }
                Event::Reduced {
                    order_id,
                    reduced_by,
                    ..
                } => {
                    let order = self.order_done(order_id.0, reduced_by);
                    effects.push(Effect::OrderReduced {
                        order,
                        quantity: reduced_by,
                    });
                }
                Event::Rested { .. } | Event::Rejected { .. } => {}
            }
        }
    }

    /// Takes `quantity` units off an order (cancelled or reduced) and releases what they reserved;
    /// forgets the order when nothing is left. Returns its reference.
    fn order_done(&mut self, book_id: u64, quantity: u64) -> OrderRef {
        let rules = self
            .config()
            .exchange
            .as_ref()
            .expect("exchange configured")
            .rules
            .clone();
        let reference = self.exchange().by_book_id[&book_id].clone();
        let mut o = self.exchange().orders[&reference].clone();
        o.remaining -= quantity;
        match o.side {
            OrderSide::Buy => {
                let keep = if o.remaining == 0 {
                    0
                } else {
                    order_reservation(&rules, o.reservation_price, o.remaining)
                        .expect("smaller than reserved")
                };
                let release = o.reserved_cash - keep;
                self.cash_mut()
                    .release(o.account, release)
                    .expect("reserved for this order");
                o.reserved_cash = keep;
            }
            OrderSide::Sell => {
                let r = self
                    .exchange_mut()
                    .reserved_units
                    .get_mut(&(o.account, o.class.clone()))
                    .expect("reserved for this order");
                *r -= quantity;
            }
        }
        self.store_order(reference.clone(), o);
        reference
    }

    fn store_order(&mut self, reference: OrderRef, o: OpenOrder) {
        let ex = self.exchange_mut();
        if o.remaining == 0 {
            ex.by_book_id.remove(&o.book_id);
            ex.orders.remove(&reference);
            ex.reserved_units.retain(|_, q| *q > 0);
        } else {
            ex.orders.insert(reference, o);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn settle_fill(
        &mut self,
        class: &UnitClass,
        buy_id: u64,
        sell_id: u64,
        price: i64,
        quantity: u64,
        date: NaiveDate,
        time: NaiveTime,
        aggressor: OrderSide,
        effects: &mut Vec<Effect>,
    ) {
        let rules = self
            .config()
            .exchange
            .as_ref()
            .expect("exchange configured")
            .rules
            .clone();
        let buy_ref = self.exchange().by_book_id[&buy_id].clone();
        let sell_ref = self.exchange().by_book_id[&sell_id].clone();
        let mut buy = self.exchange().orders[&buy_ref].clone();
        let mut sell = self.exchange().orders[&sell_ref].clone();
        let notional = price * i64::try_from(quantity).expect("bounded quantity");
        let fee = yrd_market::fee(&rules, price, quantity)
            .expect("bounded by the reservation")
            .0;
        // Validated rules have working days, so a next trading day exists; failing that, at once.
        let available_from = yrd_market::next_trading_day(&rules, date).unwrap_or(date);
        self.cash_mut()
            .settle(
                buy.account,
                sell.account,
                notional,
                fee,
                fee,
                available_from,
            )
            .expect("the buy order's reservation covers price x quantity + fee");
        let ranges = self.move_units_pub(sell.account, buy.account, class, quantity);
        // Reservations shrink with the traded quantity; a better price frees cash at once.
        buy.remaining -= quantity;
        buy.reserved_cash -= notional + fee;
        let keep = if buy.remaining == 0 {
            0
        } else {
            order_reservation(&rules, buy.reservation_price, buy.remaining).expect("bounded")
        };
        let release = buy.reserved_cash - keep;
        if release > 0 {
            self.cash_mut()
                .release(buy.account, release)
                .expect("reserved for this order");
        }
        buy.reserved_cash = keep;
        sell.remaining -= quantity;
        *self
            .exchange_mut()
            .reserved_units
            .get_mut(&(sell.account, class.clone()))
            .expect("reserved for this order") -= quantity;
        let (buyer, seller) = (
            self.ledger().account(buy.account).spec.id.clone(),
            self.ledger().account(sell.account).spec.id.clone(),
        );
        self.store_order(buy_ref.clone(), buy);
        self.store_order(sell_ref.clone(), sell);
        let inst = self
            .exchange_mut()
            .instruments
            .get_mut(class)
            .expect("listed");
        let _ = inst.day.record_book_trade(price, quantity);
        inst.trades.push_back(Trade {
            date,
            time,
            price,
            quantity,
            aggressor,
        });
        if inst.trades.len() > RECENT_TRADES {
            inst.trades.pop_front();
        }
        effects.push(Effect::Traded {
            class: class.clone(),
            price_minor: price,
            quantity,
            buy_order: buy_ref,
            sell_order: sell_ref,
            buyer,
            seller,
            fee_minor: fee,
            ranges,
        });
    }
}

/// The terms of a proposed block trade, as the command carries them.
pub(crate) struct BlockTerms<'a> {
    pub trade: &'a OrderRef,
    pub proposer: &'a AccountId,
    pub seller: &'a AccountId,
    pub buyer: &'a AccountId,
    pub class: &'a UnitClass,
    pub price: i64,
    pub quantity: u64,
    pub time: NaiveTime,
}

/// A change to an open order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OrderChange {
    Cancel,
    Reduce(u64),
    Amend(i64),
}

fn cancel_reason(reason: CancelReason) -> &'static str {
    match reason {
        CancelReason::Requested => "requested",
        CancelReason::Unfilled => "unfilled",
        CancelReason::SelfTrade => "self_trade_prevention",
        CancelReason::EndOfDay => "end_of_day",
    }
}
