//! The order book and matching engine of one instrument.
//!
//! Pure and deterministic: no I/O, no clocks, no cash. Given the same commands in the same order, a
//! book emits the same events and ends in the same [`OrderBook::state_hash`]. Settlement, trading
//! rules (who may trade what, ownership of orders) and journaling are layered on top by the caller.
//!
//! Units: prices are `i64` ticks of the instrument (minor units per unit), quantities are `u64`
//! units; a cost or a budget is `price_ticks x quantity`, in ticks.
//!
//! Rules of matching:
//! - price-time priority: the best price trades first, and within a price the oldest order;
//! - a trade happens at the resting (maker) order's price;
//! - the book is never crossed after a command returns: best bid < best ask.
//!
//! Two books share one API: [`OrderBook`] (fast: dense price ladder, order slab, intrusive lists)
//! and [`ReferenceBook`] (obvious `BTreeMap<price, VecDeque<order>>` code), which the tests and the
//! benchmark hold the fast one against, event for event.
//!
//! Events go to a caller-owned [`EventSink`] (`Vec<Event>` implements it), so a command allocates
//! nothing once the sink and the book have warmed up.

mod book;
mod hash;
mod id_map;
mod ladder;
mod reference;

pub use book::OrderBook;
pub use reference::ReferenceBook;

use std::fmt;

/// Identifier of an order, chosen by the caller (the sequencer). Unique among the resting orders of
/// a book; the book does not remember ids of orders that have left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrderId(pub u64);

/// Opaque handle of the user (trading account) that owns an order; used for self-trade prevention
/// and reported in fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub u64);

/// Side of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// Buy.
    Bid,
    /// Sell.
    Ask,
}

impl Side {
    /// The side this side trades against.
    #[must_use]
    pub fn opposite(self) -> Side {
        match self {
            Side::Bid => Side::Ask,
            Side::Ask => Side::Bid,
        }
    }
}

/// How a new order trades and whether it may rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderKind {
    /// Limit order, good till cancelled: trades what it can at its limit or better, rests the rest.
    Gtc,
    /// Like [`OrderKind::Gtc`], but the resting remainder is cancelled by [`OrderBook::end_of_day`].
    Day,
    /// Immediate or cancel: trades what it can at its limit or better, cancels the rest.
    Ioc,
    /// Fill or kill: trades its whole quantity at its limit or better, or is rejected and changes
    /// nothing.
    Fok,
    /// Fill or kill without a price limit, bounded by the total of `price_ticks x quantity` over its
    /// trades: a bid is accepted only if its cost is at most `budget_ticks` (a maximum cost); an ask
    /// only if its proceeds are at least `budget_ticks` (a minimum proceeds), as in exchange-core's
    /// `FOK_BUDGET`. The order's own price is ignored.
    FokBudget {
        /// Maximum cost (bid) or minimum proceeds (ask), in ticks.
        budget_ticks: i64,
    },
    /// Immediate or cancel without a price limit. The order's own price is ignored.
    Market,
}

impl OrderKind {
    /// Whether the order's price argument is its limit (and so must be valid).
    fn has_limit(self) -> bool {
        !matches!(self, OrderKind::FokBudget { .. } | OrderKind::Market)
    }
}

/// What the book does when an incoming order would trade with a resting order of the same user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SelfTradePrevention {
    /// Users may trade with themselves.
    #[default]
    None,
    /// The incoming order's remainder is cancelled at the first resting order of its own user;
    /// trades done before stay done.
    CancelNewest,
    /// Resting orders of the incoming order's user are cancelled as the incoming order reaches them,
    /// and matching goes on.
    CancelOldest,
}

/// Configuration of a book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookConfig {
    /// Self-trade prevention mode.
    pub self_trade: SelfTradePrevention,
    /// Performance only (no effect on behaviour): log2 of the number of price ticks per side held in
    /// the dense price ladder around the market; prices outside it go to a sorted fallback map.
    /// Clamped to 12..=20. Default 16 (65,536 ticks, 264 KiB per side).
    pub price_window_log2: u8,
}

impl Default for BookConfig {
    fn default() -> Self {
        BookConfig {
            self_trade: SelfTradePrevention::None,
            price_window_log2: 16,
        }
    }
}

/// One command to a book, as a value (for journals, replays and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// See [`OrderBook::place`].
    Place {
        /// New order's id.
        order_id: OrderId,
        /// Owner.
        user: UserId,
        /// Side.
        side: Side,
        /// Limit price in ticks (ignored for [`OrderKind::Market`] and [`OrderKind::FokBudget`]).
        price_ticks: i64,
        /// Quantity in units.
        quantity: u64,
        /// Kind.
        kind: OrderKind,
    },
    /// See [`OrderBook::cancel`].
    Cancel {
        /// Resting order to remove.
        order_id: OrderId,
    },
    /// See [`OrderBook::reduce`].
    Reduce {
        /// Resting order to shrink.
        order_id: OrderId,
        /// Units to take off.
        quantity: u64,
    },
    /// See [`OrderBook::move_order`].
    Move {
        /// Resting order to re-price.
        order_id: OrderId,
        /// New limit price in ticks.
        price_ticks: i64,
    },
    /// See [`OrderBook::end_of_day`].
    EndOfDay,
}

/// Why a command was refused. A refused command changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reject {
    /// A new order with quantity 0, or a reduce by 0.
    ZeroQuantity,
    /// A new order whose id is already resting in the book.
    DuplicateOrderId,
    /// The named order is not resting in the book (never was, or filled, cancelled, reduced away).
    UnknownOrderId,
    /// A limit price of `i64::MIN` ticks (reserved: the book negates ask prices).
    InvalidPrice,
    /// A fill-or-kill order cannot trade its whole quantity within its limit (and self-trade
    /// prevention).
    FokUnfillable,
    /// A [`OrderKind::FokBudget`] order can fill but its cost exceeds the budget (bid) or its
    /// proceeds fall short of it (ask).
    FokBudgetNotMet,
}

impl Reject {
    /// Stable code of the rejection, for logs and journals.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Reject::ZeroQuantity => "BOOK_ZERO_QUANTITY",
            Reject::DuplicateOrderId => "BOOK_DUPLICATE_ORDER_ID",
            Reject::UnknownOrderId => "BOOK_UNKNOWN_ORDER_ID",
            Reject::InvalidPrice => "BOOK_INVALID_PRICE",
            Reject::FokUnfillable => "BOOK_FOK_UNFILLABLE",
            Reject::FokBudgetNotMet => "BOOK_FOK_BUDGET_NOT_MET",
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Reject::ZeroQuantity => "quantity must be positive",
            Reject::DuplicateOrderId => "an order with this id is already in the book",
            Reject::UnknownOrderId => "no order with this id is in the book",
            Reject::InvalidPrice => "price is out of range",
            Reject::FokUnfillable => "fill-or-kill order cannot be filled completely",
            Reject::FokBudgetNotMet => "fill-or-kill order does not meet its budget",
        };
        write!(f, "{}: {text}", self.code())
    }
}

impl std::error::Error for Reject {}

/// Why (part of) an order left the book or was not placed without trading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CancelReason {
    /// [`OrderBook::cancel`].
    Requested,
    /// The remainder of an [`OrderKind::Ioc`] or [`OrderKind::Market`] order that found no more
    /// liquidity within its limit.
    Unfilled,
    /// Self-trade prevention.
    SelfTrade,
    /// A [`OrderKind::Day`] order at [`OrderBook::end_of_day`].
    EndOfDay,
}

/// Something that happened in the book, in the order it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// A trade, at the maker's price.
    Fill {
        /// Resting order.
        maker_order_id: OrderId,
        /// Incoming (or moved) order.
        taker_order_id: OrderId,
        /// Owner of the resting order.
        maker_user: UserId,
        /// Owner of the incoming order.
        taker_user: UserId,
        /// Side of the incoming order (a bid taker buys).
        taker_side: Side,
        /// Trade price in ticks.
        price_ticks: i64,
        /// Traded units.
        quantity: u64,
    },
    /// An order (new or moved) now rests in the book with `quantity` units left.
    Rested {
        /// The order.
        order_id: OrderId,
        /// Owner.
        user: UserId,
        /// Side.
        side: Side,
        /// Its price level, in ticks.
        price_ticks: i64,
        /// Units resting.
        quantity: u64,
    },
    /// `quantity` units of an order were cancelled; the order is no longer in the book (or never
    /// entered it).
    Cancelled {
        /// The order.
        order_id: OrderId,
        /// Owner.
        user: UserId,
        /// Units cancelled.
        quantity: u64,
        /// Why.
        reason: CancelReason,
    },
    /// A resting order shrank; at `remaining == 0` it left the book.
    Reduced {
        /// The order.
        order_id: OrderId,
        /// Units taken off (the request, capped at what was left).
        reduced_by: u64,
        /// Units left resting.
        remaining: u64,
    },
    /// The command was refused and changed nothing.
    Rejected {
        /// The order the command named.
        order_id: OrderId,
        /// Why.
        reason: Reject,
    },
}

/// Receiver of events. Implemented for `Vec<Event>` (appends; the caller clears and reuses it).
pub trait EventSink {
    /// Called once per event, in order.
    fn event(&mut self, event: Event);
}

impl EventSink for Vec<Event> {
    #[inline]
    fn event(&mut self, event: Event) {
        self.push(event);
    }
}

/// One aggregated price level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Level {
    /// Side of the orders at the level.
    pub side: Side,
    /// Price in ticks.
    pub price_ticks: i64,
    /// Sum of resting units.
    pub volume: u64,
    /// Number of resting orders.
    pub orders: u32,
}

/// A resting order, as [`OrderBook::order`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RestingOrder {
    /// Id.
    pub order_id: OrderId,
    /// Owner.
    pub user: UserId,
    /// Side.
    pub side: Side,
    /// Price level, in ticks.
    pub price_ticks: i64,
    /// Units left.
    pub quantity: u64,
    /// Whether [`OrderBook::end_of_day`] will cancel it.
    pub day: bool,
}

/// Ladder key of a price: larger is better on both sides (bids by price, asks by negated price),
/// so one "best = maximum" search serves both. `price_ticks` must not be `i64::MIN`.
#[inline]
fn side_key(side: Side, price_ticks: i64) -> i64 {
    debug_assert!(price_ticks != i64::MIN);
    match side {
        Side::Bid => price_ticks,
        Side::Ask => -price_ticks,
    }
}

/// Whether a FOK_BUDGET order whose fill costs (bid) or yields (ask) `total_ticks` meets its budget.
#[inline]
fn budget_met(side: Side, total_ticks: i128, budget_ticks: i64) -> bool {
    match side {
        Side::Bid => total_ticks <= i128::from(budget_ticks),
        Side::Ask => total_ticks >= i128::from(budget_ticks),
    }
}
