//! Naive reference book: the rules written the obvious way, for checking [`crate::OrderBook`].
//! Same API and same events; no attention to speed.

use crate::hash::StateHasher;
use crate::{
    BookConfig, CancelReason, Command, Event, EventSink, Level, OrderId, OrderKind, Reject,
    RestingOrder, SelfTradePrevention, Side, UserId, budget_met,
};
use std::collections::{BTreeMap, HashMap, VecDeque};

#[derive(Debug, Clone, Copy)]
struct RefOrder {
    order_id: u64,
    user: u64,
    quantity: u64,
    day: bool,
}

/// Reference order book: `BTreeMap<price, VecDeque<order>>` per side.
#[derive(Debug, Clone, Default)]
pub struct ReferenceBook {
    config: BookConfig,
    bids: BTreeMap<i64, VecDeque<RefOrder>>,
    asks: BTreeMap<i64, VecDeque<RefOrder>>,
    /// Where each resting order is: side and price.
    index: HashMap<u64, (Side, i64)>,
}

impl ReferenceBook {
    /// An empty book.
    #[must_use]
    pub fn new(config: BookConfig) -> Self {
        ReferenceBook {
            config,
            ..ReferenceBook::default()
        }
    }

    /// Same as [`crate::OrderBook::execute`].
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

    fn side_map(&mut self, side: Side) -> &mut BTreeMap<i64, VecDeque<RefOrder>> {
        match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        }
    }

    /// Prices of one side, best first.
    fn prices_best_first(&self, side: Side) -> Vec<i64> {
        match side {
            Side::Bid => self.bids.keys().rev().copied().collect(),
            Side::Ask => self.asks.keys().copied().collect(),
        }
    }

    fn level(&self, side: Side, price: i64) -> &VecDeque<RefOrder> {
        match side {
            Side::Bid => &self.bids[&price],
            Side::Ask => &self.asks[&price],
        }
    }

    /// Whether a taker on `side` with `limit` (None = no limit) may trade at resting `price`.
    fn crosses(side: Side, limit: Option<i64>, price: i64) -> bool {
        match (side, limit) {
            (_, None) => true,
            (Side::Bid, Some(limit)) => price <= limit,
            (Side::Ask, Some(limit)) => price >= limit,
        }
    }

    /// Same as [`crate::OrderBook::place`].
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
        if quantity == 0 {
            return reject(order_id, Reject::ZeroQuantity, sink);
        }
        if self.index.contains_key(&order_id.0) {
            return reject(order_id, Reject::DuplicateOrderId, sink);
        }
        if kind.has_limit() && price_ticks == i64::MIN {
            return reject(order_id, Reject::InvalidPrice, sink);
        }
        let limit = kind.has_limit().then_some(price_ticks);
        if let OrderKind::Fok | OrderKind::FokBudget { .. } = kind {
            match self.fill_total(side, user.0, quantity, limit) {
                None => return reject(order_id, Reject::FokUnfillable, sink),
                Some(total) => {
                    if let OrderKind::FokBudget { budget_ticks } = kind
                        && !budget_met(side, total, budget_ticks)
                    {
                        return reject(order_id, Reject::FokBudgetNotMet, sink);
                    }
                }
            }
        }
        let (left, stopped) = self.match_incoming(order_id.0, user.0, side, quantity, limit, sink);
        if left == 0 {
            return Ok(());
        }
        if stopped {
            sink.event(Event::Cancelled {
                order_id,
                user,
                quantity: left,
                reason: CancelReason::SelfTrade,
            });
            return Ok(());
        }
        match kind {
            OrderKind::Gtc | OrderKind::Day => {
                let day = kind == OrderKind::Day;
                self.rest(
                    side,
                    price_ticks,
                    RefOrder {
                        order_id: order_id.0,
                        user: user.0,
                        quantity: left,
                        day,
                    },
                );
                sink.event(Event::Rested {
                    order_id,
                    user,
                    side,
                    price_ticks,
                    quantity: left,
                });
            }
            _ => sink.event(Event::Cancelled {
                order_id,
                user,
                quantity: left,
                reason: CancelReason::Unfilled,
            }),
        }
        Ok(())
    }

    /// Cost of filling `quantity` for a taker, or None if not fully fillable.
    fn fill_total(&self, side: Side, user: u64, quantity: u64, limit: Option<i64>) -> Option<i128> {
        let mut needed = quantity;
        let mut total = 0i128;
        for price in self.prices_best_first(side.opposite()) {
            if needed == 0 || !Self::crosses(side, limit, price) {
                break;
            }
            for order in self.level(side.opposite(), price) {
                if needed == 0 {
                    break;
                }
                if self.config.self_trade != SelfTradePrevention::None && order.user == user {
                    if self.config.self_trade == SelfTradePrevention::CancelNewest {
                        return None;
                    }
                    continue;
                }
                let take = needed.min(order.quantity);
                needed -= take;
                total += i128::from(price) * i128::from(take);
            }
        }
        (needed == 0).then_some(total)
    }

    /// Matches a taker; returns units left and whether self-trade prevention stopped it.
    fn match_incoming<S: EventSink>(
        &mut self,
        taker_id: u64,
        user: u64,
        side: Side,
        mut left: u64,
        limit: Option<i64>,
        sink: &mut S,
    ) -> (u64, bool) {
        let opposite = side.opposite();
        let self_trade = self.config.self_trade;
        while left > 0 {
            let best = match opposite {
                Side::Bid => self.bids.keys().next_back(),
                Side::Ask => self.asks.keys().next(),
            };
            let Some(&price) = best else { break };
            if !Self::crosses(side, limit, price) {
                break;
            }
            let queue = self
                .side_map(opposite)
                .get_mut(&price)
                .expect("level exists");
            let maker = *queue.front().expect("levels are never empty");
            if self_trade != SelfTradePrevention::None && maker.user == user {
                if self_trade == SelfTradePrevention::CancelNewest {
                    return (left, true);
                }
                queue.pop_front();
                self.drop_if_empty(opposite, price);
                self.index.remove(&maker.order_id);
                sink.event(Event::Cancelled {
                    order_id: OrderId(maker.order_id),
                    user: UserId(maker.user),
                    quantity: maker.quantity,
                    reason: CancelReason::SelfTrade,
                });
                continue;
            }
            let take = left.min(maker.quantity);
            left -= take;
            sink.event(Event::Fill {
                maker_order_id: OrderId(maker.order_id),
                taker_order_id: OrderId(taker_id),
                maker_user: UserId(maker.user),
                taker_user: UserId(user),
                taker_side: side,
                price_ticks: price,
                quantity: take,
            });
            if take == maker.quantity {
                queue.pop_front();
                self.index.remove(&maker.order_id);
                self.drop_if_empty(opposite, price);
            } else {
                queue.front_mut().expect("maker").quantity -= take;
            }
        }
        (left, false)
    }

    fn drop_if_empty(&mut self, side: Side, price: i64) {
        let map = self.side_map(side);
        if map.get(&price).is_some_and(VecDeque::is_empty) {
            map.remove(&price);
        }
    }

    fn rest(&mut self, side: Side, price: i64, order: RefOrder) {
        self.index.insert(order.order_id, (side, price));
        self.side_map(side)
            .entry(price)
            .or_default()
            .push_back(order);
    }

    /// Removes a resting order from its queue and the index.
    fn take_out(&mut self, order_id: u64) -> Option<(Side, i64, RefOrder)> {
        let (side, price) = self.index.remove(&order_id)?;
        let queue = self.side_map(side).get_mut(&price).expect("indexed level");
        let position = queue
            .iter()
            .position(|order| order.order_id == order_id)
            .expect("indexed");
        let order = queue.remove(position).expect("position");
        self.drop_if_empty(side, price);
        Some((side, price, order))
    }

    /// Same as [`crate::OrderBook::cancel`].
    pub fn cancel<S: EventSink>(&mut self, order_id: OrderId, sink: &mut S) -> Result<(), Reject> {
        let Some((_, _, order)) = self.take_out(order_id.0) else {
            return reject(order_id, Reject::UnknownOrderId, sink);
        };
        sink.event(Event::Cancelled {
            order_id,
            user: UserId(order.user),
            quantity: order.quantity,
            reason: CancelReason::Requested,
        });
        Ok(())
    }

    /// Same as [`crate::OrderBook::reduce`].
    pub fn reduce<S: EventSink>(
        &mut self,
        order_id: OrderId,
        quantity: u64,
        sink: &mut S,
    ) -> Result<(), Reject> {
        if quantity == 0 {
            return reject(order_id, Reject::ZeroQuantity, sink);
        }
        let Some(&(side, price)) = self.index.get(&order_id.0) else {
            return reject(order_id, Reject::UnknownOrderId, sink);
        };
        let queue = self.side_map(side).get_mut(&price).expect("indexed level");
        let order = queue
            .iter_mut()
            .find(|order| order.order_id == order_id.0)
            .expect("indexed");
        let reduced_by = quantity.min(order.quantity);
        order.quantity -= reduced_by;
        let remaining = order.quantity;
        if remaining == 0 {
            self.take_out(order_id.0);
        }
        sink.event(Event::Reduced {
            order_id,
            reduced_by,
            remaining,
        });
        Ok(())
    }

    /// Same as [`crate::OrderBook::move_order`].
    pub fn move_order<S: EventSink>(
        &mut self,
        order_id: OrderId,
        price_ticks: i64,
        sink: &mut S,
    ) -> Result<(), Reject> {
        if !self.index.contains_key(&order_id.0) {
            return reject(order_id, Reject::UnknownOrderId, sink);
        }
        if price_ticks == i64::MIN {
            return reject(order_id, Reject::InvalidPrice, sink);
        }
        let (side, _, order) = self.take_out(order_id.0).expect("checked");
        let (left, stopped) = self.match_incoming(
            order.order_id,
            order.user,
            side,
            order.quantity,
            Some(price_ticks),
            sink,
        );
        if left == 0 {
            return Ok(());
        }
        if stopped {
            sink.event(Event::Cancelled {
                order_id,
                user: UserId(order.user),
                quantity: left,
                reason: CancelReason::SelfTrade,
            });
            return Ok(());
        }
        self.rest(
            side,
            price_ticks,
            RefOrder {
                quantity: left,
                ..order
            },
        );
        sink.event(Event::Rested {
            order_id,
            user: UserId(order.user),
            side,
            price_ticks,
            quantity: left,
        });
        Ok(())
    }

    /// Same as [`crate::OrderBook::end_of_day`].
    pub fn end_of_day<S: EventSink>(&mut self, sink: &mut S) {
        for side in [Side::Bid, Side::Ask] {
            let mut day_orders = Vec::new();
            for price in self.prices_best_first(side) {
                for order in self.level(side, price) {
                    if order.day {
                        day_orders.push(*order);
                    }
                }
            }
            for order in day_orders {
                self.take_out(order.order_id);
                sink.event(Event::Cancelled {
                    order_id: OrderId(order.order_id),
                    user: UserId(order.user),
                    quantity: order.quantity,
                    reason: CancelReason::EndOfDay,
                });
            }
        }
    }

    /// Same as [`crate::OrderBook::best_bid`].
    #[must_use]
    pub fn best_bid(&self) -> Option<Level> {
        self.l2(1).into_iter().find(|level| level.side == Side::Bid)
    }

    /// Same as [`crate::OrderBook::best_ask`].
    #[must_use]
    pub fn best_ask(&self) -> Option<Level> {
        self.l2(1).into_iter().find(|level| level.side == Side::Ask)
    }

    /// Same as [`crate::OrderBook::l2`].
    #[must_use]
    pub fn l2(&self, depth: usize) -> Vec<Level> {
        let mut out = Vec::new();
        for side in [Side::Bid, Side::Ask] {
            for price in self.prices_best_first(side).into_iter().take(depth) {
                let queue = self.level(side, price);
                out.push(Level {
                    side,
                    price_ticks: price,
                    volume: queue.iter().map(|order| order.quantity).sum(),
                    orders: u32::try_from(queue.len()).expect("level size"),
                });
            }
        }
        out
    }

    /// Same as [`crate::OrderBook::order`].
    #[must_use]
    pub fn order(&self, order_id: OrderId) -> Option<RestingOrder> {
        let &(side, price) = self.index.get(&order_id.0)?;
        let order = self
            .level(side, price)
            .iter()
            .find(|order| order.order_id == order_id.0)?;
        Some(RestingOrder {
            order_id,
            user: UserId(order.user),
            side,
            price_ticks: price,
            quantity: order.quantity,
            day: order.day,
        })
    }

    /// Same as [`crate::OrderBook::len`].
    #[must_use]
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Same as [`crate::OrderBook::is_empty`].
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Same as [`crate::OrderBook::state_hash`].
    #[must_use]
    pub fn state_hash(&self) -> u64 {
        let mut hasher = StateHasher::new();
        for side in [Side::Bid, Side::Ask] {
            for price in self.prices_best_first(side) {
                for order in self.level(side, price) {
                    hasher.order(
                        side,
                        price,
                        order.order_id,
                        order.user,
                        order.quantity,
                        order.day,
                    );
                }
            }
        }
        hasher.finish()
    }
}

fn reject<S: EventSink>(order_id: OrderId, reason: Reject, sink: &mut S) -> Result<(), Reject> {
    sink.event(Event::Rejected { order_id, reason });
    Err(reason)
}
