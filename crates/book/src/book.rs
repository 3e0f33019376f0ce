//! The fast book: orders in a slab with intrusive doubly linked lists per price level, levels in a
//! slab, a dense price ladder per side (see `ladder`), and a dense-or-hashed id map.
//!
//! Invariants (checked by `check_invariants`, which the tests call after every command):
//! - every resting order is in exactly one level list, of its side, and in the id map;
//! - a level's `volume` and `count` are the sums over its list, and both are positive;
//! - a side's cached best is the ladder's maximum key;
//! - the book is not crossed: best bid < best ask.

use crate::hash::StateHasher;
use crate::id_map::IdMap;
use crate::ladder::Ladder;
use crate::{
    BookConfig, CancelReason, Command, Event, EventSink, Level, OrderId, OrderKind, Reject,
    RestingOrder, SelfTradePrevention, Side, UserId, budget_met, side_key,
};

/// End of a list / empty slot marker.
const NIL: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct OrderSlot {
    order_id: u64,
    user: u64,
    /// Units left; > 0 while resting.
    quantity: u64,
    level: u32,
    prev: u32,
    /// Next in the level list, or next free slot when free.
    next: u32,
    side: Side,
    day: bool,
}

#[derive(Clone, Copy)]
struct LevelSlot {
    key: i64,
    price_ticks: i64,
    volume: u64,
    count: u32,
    head: u32,
    /// Tail of the list, or next free slot when free.
    tail: u32,
}

#[derive(Clone)]
struct SideBook {
    side: Side,
    ladder: Ladder,
    /// Cached maximum of `ladder`; `best_level == NIL` when the side is empty.
    best_key: i64,
    best_level: u32,
}

/// The incoming side of a match: a new order or a moved one.
#[derive(Clone, Copy)]
struct Taker {
    order_id: u64,
    user: u64,
    side: Side,
    quantity: u64,
    /// Opposite-side ladder keys below this do not cross.
    key_threshold: i64,
}

struct MatchOutcome {
    /// Units not traded.
    quantity_left: u64,
    /// Self-trade prevention stopped the taker (CancelNewest).
    self_trade_stop: bool,
}

/// Fast order book of one instrument. See the crate documentation for the rules.
#[derive(Clone)]
pub struct OrderBook {
    config: BookConfig,
    orders: Vec<OrderSlot>,
    order_free: u32,
    levels: Vec<LevelSlot>,
    level_free: u32,
    ids: IdMap,
    /// Indexed by `Side as usize`.
    sides: [SideBook; 2],
    resting_orders: usize,
}

impl std::fmt::Debug for OrderBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderBook")
            .field("resting_orders", &self.resting_orders)
            .field("best_bid", &self.best_bid())
            .field("best_ask", &self.best_ask())
            .finish_non_exhaustive()
    }
}

impl OrderBook {
    /// An empty book.
    #[must_use]
    pub fn new(config: BookConfig) -> Self {
        let side_book = |side| SideBook {
            side,
            ladder: Ladder::new(config.price_window_log2),
            best_key: i64::MIN,
            best_level: NIL,
        };
        OrderBook {
            config,
            orders: Vec::with_capacity(1024),
            order_free: NIL,
            levels: Vec::with_capacity(256),
            level_free: NIL,
            ids: IdMap::new(),
            sides: [side_book(Side::Bid), side_book(Side::Ask)],
            resting_orders: 0,
        }
    }

    /// The configuration the book was made with.
    #[must_use]
    pub fn config(&self) -> BookConfig {
        self.config
    }

    /// Runs one command; see the method of each variant.
    pub fn execute<S: EventSink>(&mut self, command: &Command, sink: &mut S) -> Result<(), Reject> {
        match *command {
            Command::Place {
                order_id,
                user,
                side,
                price_ticks,
                quantity,
                kind,
            } => self.place(order_id, user, side, price_ticks, quantity, kind, sink),
            Command::Cancel { order_id } => self.cancel(order_id, sink),
            Command::Reduce { order_id, quantity } => self.reduce(order_id, quantity, sink),
            Command::Move {
                order_id,
                price_ticks,
            } => self.move_order(order_id, price_ticks, sink),
            Command::EndOfDay => {
                self.end_of_day(sink);
                Ok(())
            }
        }
    }

    /// New order of `quantity` units at limit `price_ticks` (ignored for `Market` and `FokBudget`).
    ///
    /// Emits the fills in trade order, then for `Gtc`/`Day` a `Rested` event for any remainder, or
    /// for `Ioc`/`Market` a `Cancelled { Unfilled }` event for any remainder (self-trade prevention
    /// may cancel instead, with `SelfTrade`). On `Err` it emits one `Rejected` event and changes
    /// nothing; checks in order: zero quantity, duplicate id, invalid limit, then the FOK checks.
    #[allow(clippy::too_many_arguments)]
    pub fn place<S: EventSink>(
        &mut self,
        order_id: OrderId,
        user: UserId,
        side: Side,
        price_ticks: i64,
        quantity: u64,
        kind: OrderKind,
        sink: &mut S,
    ) -> Result<(), Reject> {
        let check = if quantity == 0 {
            Err(Reject::ZeroQuantity)
        } else if self.ids.get(order_id.0).is_some() {
            Err(Reject::DuplicateOrderId)
        } else if kind.has_limit() && price_ticks == i64::MIN {
            Err(Reject::InvalidPrice)
        } else {
            Ok(())
        };
        if let Err(reason) = check {
            return reject(order_id, reason, sink);
        }
        let key_threshold = if kind.has_limit() {
            side_key(side.opposite(), price_ticks)
        } else {
            i64::MIN
        };
        let taker = Taker {
            order_id: order_id.0,
            user: user.0,
            side,
            quantity,
            key_threshold,
        };
        match kind {
            OrderKind::Fok => {
                if self.fok_fill_total(&taker).is_none() {
                    return reject(order_id, Reject::FokUnfillable, sink);
                }
            }
            OrderKind::FokBudget { budget_ticks } => match self.fok_fill_total(&taker) {
                None => return reject(order_id, Reject::FokUnfillable, sink),
                Some(total_ticks) if !budget_met(side, total_ticks, budget_ticks) => {
                    return reject(order_id, Reject::FokBudgetNotMet, sink);
                }
                Some(_) => {}
            },
            OrderKind::Gtc | OrderKind::Day | OrderKind::Ioc | OrderKind::Market => {}
        }
        let outcome = self.match_taker(&taker, sink);
        let quantity_left = outcome.quantity_left;
        if quantity_left == 0 {
            return Ok(());
        }
        debug_assert!(!matches!(
            kind,
            OrderKind::Fok | OrderKind::FokBudget { .. }
        ));
        if outcome.self_trade_stop {
            sink.event(Event::Cancelled {
                order_id,
                user,
                quantity: quantity_left,
                reason: CancelReason::SelfTrade,
            });
            return Ok(());
        }
        match kind {
            OrderKind::Gtc | OrderKind::Day => {
                let slot = self.alloc_order(OrderSlot {
                    order_id: order_id.0,
                    user: user.0,
                    quantity: quantity_left,
                    level: NIL,
                    prev: NIL,
                    next: NIL,
                    side,
                    day: kind == OrderKind::Day,
                });
                self.ids.insert(order_id.0, slot);
                self.link_at_back(slot, price_ticks);
                sink.event(Event::Rested {
                    order_id,
                    user,
                    side,
                    price_ticks,
                    quantity: quantity_left,
                });
            }
            _ => sink.event(Event::Cancelled {
                order_id,
                user,
                quantity: quantity_left,
                reason: CancelReason::Unfilled,
            }),
        }
        Ok(())
    }

    /// Removes a resting order; emits `Cancelled { Requested }` with the units it had left.
    pub fn cancel<S: EventSink>(&mut self, order_id: OrderId, sink: &mut S) -> Result<(), Reject> {
        let Some(slot) = self.ids.get(order_id.0) else {
            return reject(order_id, Reject::UnknownOrderId, sink);
        };
        let order = self.orders[slot as usize];
        self.remove_order(slot);
        sink.event(Event::Cancelled {
            order_id,
            user: UserId(order.user),
            quantity: order.quantity,
            reason: CancelReason::Requested,
        });
        Ok(())
    }

    /// Takes `quantity` units (capped at what is left) off a resting order, keeping its time
    /// priority; at zero the order leaves the book. Emits `Reduced`.
    pub fn reduce<S: EventSink>(
        &mut self,
        order_id: OrderId,
        quantity: u64,
        sink: &mut S,
    ) -> Result<(), Reject> {
        if quantity == 0 {
            return reject(order_id, Reject::ZeroQuantity, sink);
        }
        let Some(slot) = self.ids.get(order_id.0) else {
            return reject(order_id, Reject::UnknownOrderId, sink);
        };
        let order = self.orders[slot as usize];
        let reduced_by = quantity.min(order.quantity);
        let remaining = order.quantity - reduced_by;
        if remaining == 0 {
            self.remove_order(slot);
        } else {
            self.orders[slot as usize].quantity = remaining;
            self.levels[order.level as usize].volume -= reduced_by;
        }
        sink.event(Event::Reduced {
            order_id,
            reduced_by,
            remaining,
        });
        Ok(())
    }

    /// Re-prices a resting order to `price_ticks`. It loses its time priority (even at an unchanged
    /// price), trades as an incoming order would, and rests what is left at the back of its new
    /// level (`Rested`). It keeps its id, user, side and day flag.
    pub fn move_order<S: EventSink>(
        &mut self,
        order_id: OrderId,
        price_ticks: i64,
        sink: &mut S,
    ) -> Result<(), Reject> {
        let Some(slot) = self.ids.get(order_id.0) else {
            return reject(order_id, Reject::UnknownOrderId, sink);
        };
        if price_ticks == i64::MIN {
            return reject(order_id, Reject::InvalidPrice, sink);
        }
        let order = self.orders[slot as usize];
        self.unlink(slot);
        let taker = Taker {
            order_id: order.order_id,
            user: order.user,
            side: order.side,
            quantity: order.quantity,
            key_threshold: side_key(order.side.opposite(), price_ticks),
        };
        let outcome = self.match_taker(&taker, sink);
        let quantity_left = outcome.quantity_left;
        if quantity_left == 0 || outcome.self_trade_stop {
            self.ids.remove(order.order_id);
            self.free_order(slot);
            if outcome.self_trade_stop {
                sink.event(Event::Cancelled {
                    order_id,
                    user: UserId(order.user),
                    quantity: quantity_left,
                    reason: CancelReason::SelfTrade,
                });
            }
            return Ok(());
        }
        self.orders[slot as usize].quantity = quantity_left;
        self.link_at_back(slot, price_ticks);
        sink.event(Event::Rested {
            order_id,
            user: UserId(order.user),
            side: order.side,
            price_ticks,
            quantity: quantity_left,
        });
        Ok(())
    }

    /// Cancels every `Day` order (`Cancelled { EndOfDay }`), bids best-first then asks best-first,
    /// oldest first within a level. O(resting orders).
    pub fn end_of_day<S: EventSink>(&mut self, sink: &mut S) {
        for side in [Side::Bid, Side::Ask] {
            let mut level = self.sides[side as usize].ladder.max();
            while let Some((key, level_index)) = level {
                let mut cursor = self.levels[level_index as usize].head;
                while cursor != NIL {
                    let order = self.orders[cursor as usize];
                    if order.day {
                        self.remove_order(cursor);
                        sink.event(Event::Cancelled {
                            order_id: OrderId(order.order_id),
                            user: UserId(order.user),
                            quantity: order.quantity,
                            reason: CancelReason::EndOfDay,
                        });
                    }
                    cursor = order.next;
                }
                level = self.sides[side as usize].ladder.max_below(key);
            }
        }
    }

    /// Best bid level.
    #[must_use]
    pub fn best_bid(&self) -> Option<Level> {
        self.best(Side::Bid)
    }

    /// Best ask level.
    #[must_use]
    pub fn best_ask(&self) -> Option<Level> {
        self.best(Side::Ask)
    }

    fn best(&self, side: Side) -> Option<Level> {
        let side_book = &self.sides[side as usize];
        (side_book.best_level != NIL).then(|| self.level_view(side, side_book.best_level))
    }

    /// Up to `depth` levels per side: bids best-first, then asks best-first.
    #[must_use]
    pub fn l2(&self, depth: usize) -> Vec<Level> {
        let mut out = Vec::new();
        for side in [Side::Bid, Side::Ask] {
            let ladder = &self.sides[side as usize].ladder;
            let mut level = ladder.max();
            let mut taken = 0usize;
            while let Some((key, level_index)) = level {
                if taken == depth {
                    break;
                }
                out.push(self.level_view(side, level_index));
                taken += 1;
                level = ladder.max_below(key);
            }
        }
        out
    }

    fn level_view(&self, side: Side, level_index: u32) -> Level {
        let level = &self.levels[level_index as usize];
        Level {
            side,
            price_ticks: level.price_ticks,
            volume: level.volume,
            orders: level.count,
        }
    }

    /// The resting order with this id.
    #[must_use]
    pub fn order(&self, order_id: OrderId) -> Option<RestingOrder> {
        let slot = self.ids.get(order_id.0)?;
        let order = &self.orders[slot as usize];
        Some(RestingOrder {
            order_id,
            user: UserId(order.user),
            side: order.side,
            price_ticks: self.levels[order.level as usize].price_ticks,
            quantity: order.quantity,
            day: order.day,
        })
    }

    /// Number of resting orders.
    #[must_use]
    pub fn len(&self) -> usize {
        self.resting_orders
    }

    /// Whether no order rests.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.resting_orders == 0
    }

    /// FNV-1a 64 over every resting order (side, day flag, price, id, user, units) in price-time
    /// order, bids then asks. Equal for books with equal contents, whichever implementation.
    #[must_use]
    pub fn state_hash(&self) -> u64 {
        let mut hasher = StateHasher::new();
        for side in [Side::Bid, Side::Ask] {
            let ladder = &self.sides[side as usize].ladder;
            let mut level = ladder.max();
            while let Some((key, level_index)) = level {
                let level_slot = &self.levels[level_index as usize];
                let mut cursor = level_slot.head;
                while cursor != NIL {
                    let order = &self.orders[cursor as usize];
                    hasher.order(
                        side,
                        level_slot.price_ticks,
                        order.order_id,
                        order.user,
                        order.quantity,
                        order.day,
                    );
                    cursor = order.next;
                }
                level = ladder.max_below(key);
            }
        }
        hasher.finish()
    }

    /// Panics if an internal invariant is broken (a bug). O(book); for tests.
    pub fn check_invariants(&self) {
        let mut orders_seen = 0usize;
        for side in [Side::Bid, Side::Ask] {
            let side_book = &self.sides[side as usize];
            let max = side_book.ladder.max();
            match max {
                None => assert_eq!(side_book.best_level, NIL),
                Some((key, level)) => {
                    assert_eq!((side_book.best_key, side_book.best_level), (key, level));
                }
            }
            let mut level = max;
            while let Some((key, level_index)) = level {
                let level_slot = &self.levels[level_index as usize];
                assert_eq!(level_slot.key, key);
                assert_eq!(side_key(side, level_slot.price_ticks), key);
                let (mut volume, mut count, mut previous) = (0u64, 0u32, NIL);
                let mut cursor = level_slot.head;
                while cursor != NIL {
                    let order = &self.orders[cursor as usize];
                    assert_eq!(order.prev, previous);
                    assert_eq!(order.level, level_index);
                    assert_eq!(order.side, side);
                    assert!(order.quantity > 0);
                    assert_eq!(self.ids.get(order.order_id), Some(cursor));
                    volume += order.quantity;
                    count += 1;
                    previous = cursor;
                    cursor = order.next;
                }
                assert_eq!(level_slot.tail, previous);
                assert_eq!((level_slot.volume, level_slot.count), (volume, count));
                assert!(count > 0);
                orders_seen += count as usize;
                level = side_book.ladder.max_below(key);
            }
        }
        assert_eq!(orders_seen, self.resting_orders);
        if let (Some(bid), Some(ask)) = (self.best_bid(), self.best_ask()) {
            assert!(bid.price_ticks < ask.price_ticks, "crossed book");
        }
    }

    /// Total price x quantity a fill-or-kill taker would trade for its whole quantity, or `None`
    /// if the crossing liquidity (after self-trade prevention) is short. Changes nothing.
    fn fok_fill_total(&self, taker: &Taker) -> Option<i128> {
        let opposite = &self.sides[taker.side.opposite() as usize];
        let mut needed = taker.quantity;
        let mut total_ticks = 0i128;
        let mut level_index = opposite.best_level;
        while needed > 0 && level_index != NIL {
            let level = &self.levels[level_index as usize];
            if level.key < taker.key_threshold {
                break;
            }
            let price = i128::from(level.price_ticks);
            if self.config.self_trade == SelfTradePrevention::None {
                let quantity = needed.min(level.volume);
                needed -= quantity;
                total_ticks += price * i128::from(quantity);
            } else {
                let mut cursor = level.head;
                while needed > 0 && cursor != NIL {
                    let order = &self.orders[cursor as usize];
                    if order.user == taker.user {
                        if self.config.self_trade == SelfTradePrevention::CancelNewest {
                            return None;
                        }
                    } else {
                        let quantity = needed.min(order.quantity);
                        needed -= quantity;
                        total_ticks += price * i128::from(quantity);
                    }
                    cursor = order.next;
                }
            }
            level_index = match opposite.ladder.max_below(level.key) {
                Some((_, next)) => next,
                None => NIL,
            };
        }
        (needed == 0).then_some(total_ticks)
    }

    /// Trades `taker` against the opposite side, best price first, oldest first. The taker is not
    /// in the book while this runs.
    #[inline]
    fn match_taker<S: EventSink>(&mut self, taker: &Taker, sink: &mut S) -> MatchOutcome {
        let opposite = taker.side.opposite() as usize;
        let self_trade = self.config.self_trade;
        let mut quantity_left = taker.quantity;
        // Bounded: each iteration removes a level or fills the taker.
        while quantity_left > 0 {
            let level_index = self.sides[opposite].best_level;
            if level_index == NIL {
                break;
            }
            let level = self.levels[level_index as usize];
            if level.key < taker.key_threshold {
                break;
            }
            let mut cursor = level.head;
            // Bounded: each iteration removes an order or fills the taker.
            while quantity_left > 0 && cursor != NIL {
                let maker = self.orders[cursor as usize];
                if self_trade != SelfTradePrevention::None && maker.user == taker.user {
                    if self_trade == SelfTradePrevention::CancelNewest {
                        return MatchOutcome {
                            quantity_left,
                            self_trade_stop: true,
                        };
                    }
                    self.remove_order(cursor);
                    sink.event(Event::Cancelled {
                        order_id: OrderId(maker.order_id),
                        user: UserId(maker.user),
                        quantity: maker.quantity,
                        reason: CancelReason::SelfTrade,
                    });
                    cursor = maker.next;
                    continue;
                }
                let quantity = quantity_left.min(maker.quantity);
                quantity_left -= quantity;
                sink.event(Event::Fill {
                    maker_order_id: OrderId(maker.order_id),
                    taker_order_id: OrderId(taker.order_id),
                    maker_user: UserId(maker.user),
                    taker_user: UserId(taker.user),
                    taker_side: taker.side,
                    price_ticks: level.price_ticks,
                    quantity,
                });
                if quantity == maker.quantity {
                    self.remove_order(cursor);
                } else {
                    self.orders[cursor as usize].quantity -= quantity;
                    self.levels[level_index as usize].volume -= quantity;
                }
                cursor = maker.next;
            }
        }
        MatchOutcome {
            quantity_left,
            self_trade_stop: false,
        }
    }

    /// Takes a resting order out of the book entirely (list, level, id map, slab).
    #[inline]
    fn remove_order(&mut self, slot: u32) {
        let order_id = self.orders[slot as usize].order_id;
        self.unlink(slot);
        self.ids.remove(order_id);
        self.free_order(slot);
    }

    /// Detaches a resting order from its level (removing the level if it empties). The order keeps
    /// its slot and id mapping; `resting_orders` drops by one.
    #[inline]
    fn unlink(&mut self, slot: u32) {
        let order = self.orders[slot as usize];
        let level_index = order.level;
        if order.prev == NIL {
            self.levels[level_index as usize].head = order.next;
        } else {
            self.orders[order.prev as usize].next = order.next;
        }
        if order.next == NIL {
            self.levels[level_index as usize].tail = order.prev;
        } else {
            self.orders[order.next as usize].prev = order.prev;
        }
        self.resting_orders -= 1;
        let level = &mut self.levels[level_index as usize];
        debug_assert!(level.volume >= order.quantity && level.count > 0);
        level.volume -= order.quantity;
        level.count -= 1;
        if level.count == 0 {
            debug_assert_eq!(level.volume, 0);
            self.remove_level(order.side, level_index);
        }
    }

    /// Appends an order (already in the slab and id map, not in any list) at the back of the level
    /// `price_ticks` of its side, creating the level if needed.
    #[inline]
    fn link_at_back(&mut self, slot: u32, price_ticks: i64) {
        let side = self.orders[slot as usize].side;
        let key = side_key(side, price_ticks);
        let level_index = match self.sides[side as usize].ladder.get(key) {
            Some(level_index) => level_index,
            None => self.add_level(side, key, price_ticks),
        };
        let quantity = self.orders[slot as usize].quantity;
        let level = &mut self.levels[level_index as usize];
        let tail = level.tail;
        level.tail = slot;
        if tail == NIL {
            level.head = slot;
        }
        level.volume += quantity;
        level.count += 1;
        if tail != NIL {
            self.orders[tail as usize].next = slot;
        }
        let order = &mut self.orders[slot as usize];
        order.level = level_index;
        order.prev = tail;
        order.next = NIL;
        self.resting_orders += 1;
    }

    fn add_level(&mut self, side: Side, key: i64, price_ticks: i64) -> u32 {
        let level = LevelSlot {
            key,
            price_ticks,
            volume: 0,
            count: 0,
            head: NIL,
            tail: NIL,
        };
        let level_index = if self.level_free == NIL {
            self.levels.push(level);
            u32::try_from(self.levels.len() - 1).expect("level slab overflow")
        } else {
            let level_index = self.level_free;
            self.level_free = self.levels[level_index as usize].tail;
            self.levels[level_index as usize] = level;
            level_index
        };
        let side_book = &mut self.sides[side as usize];
        side_book.ladder.insert(key, level_index);
        if side_book.best_level == NIL || key > side_book.best_key {
            side_book.best_key = key;
            side_book.best_level = level_index;
        }
        level_index
    }

    fn remove_level(&mut self, side: Side, level_index: u32) {
        let key = self.levels[level_index as usize].key;
        let side_book = &mut self.sides[side as usize];
        debug_assert_eq!(side_book.side, side);
        side_book.ladder.remove(key);
        if side_book.best_level == level_index {
            (side_book.best_key, side_book.best_level) =
                side_book.ladder.max_below(key).unwrap_or((i64::MIN, NIL));
        }
        self.levels[level_index as usize].tail = self.level_free;
        self.level_free = level_index;
    }

    fn alloc_order(&mut self, order: OrderSlot) -> u32 {
        if self.order_free == NIL {
            self.orders.push(order);
            u32::try_from(self.orders.len() - 1).expect("order slab overflow")
        } else {
            let slot = self.order_free;
            self.order_free = self.orders[slot as usize].next;
            self.orders[slot as usize] = order;
            slot
        }
    }

    /// Returns a slot to the free list. The order must be in no list and out of the id map.
    fn free_order(&mut self, slot: u32) {
        debug_assert!(self.ids.get(self.orders[slot as usize].order_id) != Some(slot));
        self.orders[slot as usize].next = self.order_free;
        self.order_free = slot;
    }
}

/// Emits the rejection and returns it.
#[inline]
fn reject<S: EventSink>(order_id: OrderId, reason: Reject, sink: &mut S) -> Result<(), Reject> {
    sink.event(Event::Rejected { order_id, reason });
    Err(reason)
}
