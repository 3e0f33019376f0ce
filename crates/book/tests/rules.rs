//! Hand-computed scenarios for each rule, run on both books (which must agree event for event).

use yrd_book::{
    BookConfig, CancelReason, Command, Event, Level, OrderBook, OrderId, OrderKind, ReferenceBook,
    Reject, SelfTradePrevention, Side, UserId,
};

/// Both books, fed the same commands.
struct Books {
    fast: OrderBook,
    reference: ReferenceBook,
}

impl Books {
    fn new(self_trade: SelfTradePrevention) -> Self {
        let config = BookConfig {
            self_trade,
            ..BookConfig::default()
        };
        Books {
            fast: OrderBook::new(config),
            reference: ReferenceBook::new(config),
        }
    }

    /// Runs one command on both; returns the events (equal on both) and the result.
    fn run(&mut self, command: Command) -> (Vec<Event>, Result<(), Reject>) {
        let (mut events, mut reference_events) = (Vec::new(), Vec::new());
        let result = self.fast.execute(&command, &mut events);
        let reference_result = self.reference.execute(&command, &mut reference_events);
        assert_eq!(events, reference_events, "{command:?}");
        assert_eq!(result, reference_result, "{command:?}");
        self.fast.check_invariants();
        assert_eq!(self.fast.state_hash(), self.reference.state_hash());
        assert_eq!(self.fast.l2(usize::MAX), self.reference.l2(usize::MAX));
        (events, result)
    }

    fn ok(&mut self, command: Command) -> Vec<Event> {
        let (events, result) = self.run(command);
        assert_eq!(result, Ok(()), "{command:?}");
        events
    }

    /// Runs a command that must be rejected with `reason` and change nothing.
    fn rejected(&mut self, command: Command, reason: Reject) {
        let hash_before = self.fast.state_hash();
        let (events, result) = self.run(command);
        assert_eq!(result, Err(reason));
        assert!(matches!(events.as_slice(), [Event::Rejected { reason: r, .. }] if *r == reason));
        assert_eq!(self.fast.state_hash(), hash_before);
    }

    fn l2(&self) -> Vec<Level> {
        self.fast.l2(usize::MAX)
    }
}

fn place(id: u64, user: u64, side: Side, price: i64, quantity: u64, kind: OrderKind) -> Command {
    Command::Place {
        order_id: OrderId(id),
        user: UserId(user),
        side,
        price_ticks: price,
        quantity,
        kind,
    }
}

fn gtc(id: u64, user: u64, side: Side, price: i64, quantity: u64) -> Command {
    place(id, user, side, price, quantity, OrderKind::Gtc)
}

fn fill(
    maker: u64,
    taker: u64,
    maker_user: u64,
    taker_user: u64,
    side: Side,
    price: i64,
    quantity: u64,
) -> Event {
    Event::Fill {
        maker_order_id: OrderId(maker),
        taker_order_id: OrderId(taker),
        maker_user: UserId(maker_user),
        taker_user: UserId(taker_user),
        taker_side: side,
        price_ticks: price,
        quantity,
    }
}

fn rested(id: u64, user: u64, side: Side, price: i64, quantity: u64) -> Event {
    Event::Rested {
        order_id: OrderId(id),
        user: UserId(user),
        side,
        price_ticks: price,
        quantity,
    }
}

fn cancelled(id: u64, user: u64, quantity: u64, reason: CancelReason) -> Event {
    Event::Cancelled {
        order_id: OrderId(id),
        user: UserId(user),
        quantity,
        reason,
    }
}

fn level(side: Side, price: i64, volume: u64, orders: u32) -> Level {
    Level {
        side,
        price_ticks: price,
        volume,
        orders,
    }
}

use Side::{Ask, Bid};

#[test]
fn price_then_time_priority_and_trades_at_resting_prices() {
    let mut books = Books::new(SelfTradePrevention::None);
    books.ok(gtc(1, 11, Ask, 101, 5));
    books.ok(gtc(2, 12, Ask, 100, 5));
    books.ok(gtc(3, 13, Ask, 100, 5));
    let events = books.ok(gtc(4, 14, Bid, 105, 12));
    assert_eq!(
        events,
        vec![
            fill(2, 4, 12, 14, Bid, 100, 5),
            fill(3, 4, 13, 14, Bid, 100, 5),
            fill(1, 4, 11, 14, Bid, 101, 2)
        ]
    );
    assert_eq!(books.l2(), vec![level(Ask, 101, 3, 1)]);
    assert_eq!(
        books.fast.order(OrderId(1)).map(|order| order.quantity),
        Some(3)
    );
    assert_eq!(books.fast.order(OrderId(2)), None);
}

#[test]
fn partial_fills_leave_the_rest_resting() {
    let mut books = Books::new(SelfTradePrevention::None);
    books.ok(gtc(1, 1, Ask, 100, 10));
    assert_eq!(
        books.ok(gtc(2, 2, Bid, 100, 4)),
        vec![fill(1, 2, 1, 2, Bid, 100, 4)]
    );
    assert_eq!(books.l2(), vec![level(Ask, 100, 6, 1)]);
    assert_eq!(
        books.ok(gtc(3, 2, Bid, 100, 10)),
        vec![fill(1, 3, 1, 2, Bid, 100, 6), rested(3, 2, Bid, 100, 4)]
    );
    assert_eq!(books.l2(), vec![level(Bid, 100, 4, 1)]);
    assert_eq!(books.fast.best_bid(), Some(level(Bid, 100, 4, 1)));
    assert_eq!(books.fast.best_ask(), None);
}

#[test]
fn ioc_and_market_remainders_are_cancelled() {
    let mut books = Books::new(SelfTradePrevention::None);
    books.ok(gtc(1, 1, Ask, 100, 3));
    books.ok(gtc(2, 1, Ask, 200, 3));
    assert_eq!(
        books.ok(place(3, 2, Bid, 150, 5, OrderKind::Ioc)),
        vec![
            fill(1, 3, 1, 2, Bid, 100, 3),
            cancelled(3, 2, 2, CancelReason::Unfilled)
        ]
    );
    assert_eq!(
        books.ok(place(4, 2, Bid, 150, 5, OrderKind::Ioc)),
        vec![cancelled(4, 2, 5, CancelReason::Unfilled)]
    );
    assert_eq!(
        books.ok(place(5, 2, Bid, 0, 10, OrderKind::Market)),
        vec![
            fill(2, 5, 1, 2, Bid, 200, 3),
            cancelled(5, 2, 7, CancelReason::Unfilled)
        ]
    );
    assert!(books.fast.is_empty());
}

#[test]
fn fok_is_all_or_nothing_within_its_limit() {
    let mut books = Books::new(SelfTradePrevention::None);
    books.ok(gtc(1, 1, Ask, 100, 3));
    books.ok(gtc(2, 1, Ask, 101, 3));
    books.rejected(
        place(3, 2, Bid, 101, 7, OrderKind::Fok),
        Reject::FokUnfillable,
    );
    books.rejected(
        place(3, 2, Bid, 100, 6, OrderKind::Fok),
        Reject::FokUnfillable,
    );
    assert_eq!(
        books.ok(place(3, 2, Bid, 101, 6, OrderKind::Fok)),
        vec![fill(1, 3, 1, 2, Bid, 100, 3), fill(2, 3, 1, 2, Bid, 101, 3)]
    );
    assert!(books.fast.is_empty());
}

#[test]
fn fok_budget_bid_is_a_maximum_cost_and_ask_a_minimum_proceeds() {
    let mut books = Books::new(SelfTradePrevention::None);
    books.ok(gtc(1, 1, Ask, 100, 3));
    books.ok(gtc(2, 1, Ask, 101, 3));
    // 5 units cost 3 x 100 + 2 x 101 = 502; the price argument is ignored.
    let bid = |budget_ticks| place(3, 2, Bid, 0, 5, OrderKind::FokBudget { budget_ticks });
    books.rejected(bid(501), Reject::FokBudgetNotMet);
    books.rejected(
        place(
            3,
            2,
            Bid,
            0,
            7,
            OrderKind::FokBudget {
                budget_ticks: 10_000,
            },
        ),
        Reject::FokUnfillable,
    );
    assert_eq!(
        books.ok(bid(502)),
        vec![fill(1, 3, 1, 2, Bid, 100, 3), fill(2, 3, 1, 2, Bid, 101, 2)]
    );

    books.ok(gtc(4, 1, Bid, 50, 2));
    books.ok(gtc(5, 1, Bid, 40, 2));
    // 3 units yield 2 x 50 + 1 x 40 = 140.
    let ask = |budget_ticks| {
        place(
            6,
            2,
            Ask,
            i64::MAX,
            3,
            OrderKind::FokBudget { budget_ticks },
        )
    };
    books.rejected(ask(141), Reject::FokBudgetNotMet);
    assert_eq!(
        books.ok(ask(140)),
        vec![fill(4, 6, 1, 2, Ask, 50, 2), fill(5, 6, 1, 2, Ask, 40, 1)]
    );
    assert_eq!(
        books.l2(),
        vec![level(Bid, 40, 1, 1), level(Ask, 101, 1, 1)]
    );
}

#[test]
fn reduce_keeps_time_priority_and_to_zero_removes() {
    let mut books = Books::new(SelfTradePrevention::None);
    books.ok(gtc(1, 1, Bid, 100, 5));
    books.ok(gtc(2, 2, Bid, 100, 5));
    assert_eq!(
        books.ok(Command::Reduce {
            order_id: OrderId(1),
            quantity: 2
        }),
        vec![Event::Reduced {
            order_id: OrderId(1),
            reduced_by: 2,
            remaining: 3
        }]
    );
    assert_eq!(books.l2(), vec![level(Bid, 100, 8, 2)]);
    assert_eq!(
        books.ok(gtc(3, 3, Ask, 100, 4)),
        vec![fill(1, 3, 1, 3, Ask, 100, 3), fill(2, 3, 2, 3, Ask, 100, 1)]
    );
    assert_eq!(
        books.ok(Command::Reduce {
            order_id: OrderId(2),
            quantity: 99
        }),
        vec![Event::Reduced {
            order_id: OrderId(2),
            reduced_by: 4,
            remaining: 0
        }]
    );
    assert!(books.fast.is_empty());
}

#[test]
fn move_loses_time_priority_and_may_trade() {
    let mut books = Books::new(SelfTradePrevention::None);
    books.ok(gtc(1, 1, Bid, 100, 5));
    books.ok(gtc(2, 2, Bid, 100, 5));
    // Same price: still goes to the back.
    assert_eq!(
        books.ok(Command::Move {
            order_id: OrderId(1),
            price_ticks: 100
        }),
        vec![rested(1, 1, Bid, 100, 5)]
    );
    assert_eq!(
        books.ok(gtc(3, 3, Ask, 100, 5)),
        vec![fill(2, 3, 2, 3, Ask, 100, 5)]
    );
    books.ok(gtc(4, 4, Ask, 105, 3));
    assert_eq!(
        books.ok(Command::Move {
            order_id: OrderId(1),
            price_ticks: 106
        }),
        vec![fill(4, 1, 4, 1, Bid, 105, 3), rested(1, 1, Bid, 106, 2)]
    );
    assert_eq!(books.l2(), vec![level(Bid, 106, 2, 1)]);
}

#[test]
fn self_trade_cancel_newest_stops_the_incoming_order() {
    let mut books = Books::new(SelfTradePrevention::CancelNewest);
    books.ok(gtc(1, 2, Ask, 100, 2));
    books.ok(gtc(2, 1, Ask, 100, 5));
    books.ok(gtc(3, 2, Ask, 100, 5));
    assert_eq!(
        books.ok(gtc(4, 1, Bid, 100, 10)),
        vec![
            fill(1, 4, 2, 1, Bid, 100, 2),
            cancelled(4, 1, 8, CancelReason::SelfTrade)
        ]
    );
    assert_eq!(books.l2(), vec![level(Ask, 100, 10, 2)]);
    // A FOK that would reach its own order is unfillable.
    books.rejected(
        place(5, 1, Bid, 100, 3, OrderKind::Fok),
        Reject::FokUnfillable,
    );
}

#[test]
fn self_trade_cancel_oldest_removes_resting_orders_and_goes_on() {
    let mut books = Books::new(SelfTradePrevention::CancelOldest);
    books.ok(gtc(1, 2, Ask, 100, 2));
    books.ok(gtc(2, 1, Ask, 100, 5));
    books.ok(gtc(3, 2, Ask, 100, 5));
    assert_eq!(
        books.ok(gtc(4, 1, Bid, 100, 10)),
        vec![
            fill(1, 4, 2, 1, Bid, 100, 2),
            cancelled(2, 1, 5, CancelReason::SelfTrade),
            fill(3, 4, 2, 1, Bid, 100, 5),
            rested(4, 1, Bid, 100, 3),
        ]
    );
    assert_eq!(books.l2(), vec![level(Bid, 100, 3, 1)]);
}

#[test]
fn end_of_day_cancels_day_orders_only() {
    let mut books = Books::new(SelfTradePrevention::None);
    books.ok(place(1, 1, Bid, 99, 5, OrderKind::Day));
    books.ok(gtc(2, 2, Bid, 100, 5));
    books.ok(place(3, 3, Bid, 100, 4, OrderKind::Day));
    books.ok(place(4, 4, Ask, 110, 6, OrderKind::Day));
    assert_eq!(
        books.fast.order(OrderId(3)).map(|order| order.day),
        Some(true)
    );
    assert_eq!(
        books.ok(Command::EndOfDay),
        vec![
            cancelled(3, 3, 4, CancelReason::EndOfDay),
            cancelled(1, 1, 5, CancelReason::EndOfDay),
            cancelled(4, 4, 6, CancelReason::EndOfDay),
        ]
    );
    assert_eq!(books.l2(), vec![level(Bid, 100, 5, 1)]);
}

#[test]
fn every_rejection_is_a_value_and_changes_nothing() {
    let mut books = Books::new(SelfTradePrevention::None);
    books.ok(gtc(1, 1, Bid, 100, 5));
    books.rejected(gtc(2, 1, Bid, 100, 0), Reject::ZeroQuantity);
    books.rejected(gtc(1, 1, Ask, 200, 5), Reject::DuplicateOrderId);
    books.rejected(gtc(2, 1, Bid, i64::MIN, 5), Reject::InvalidPrice);
    books.rejected(
        Command::Cancel {
            order_id: OrderId(9),
        },
        Reject::UnknownOrderId,
    );
    books.rejected(
        Command::Reduce {
            order_id: OrderId(9),
            quantity: 1,
        },
        Reject::UnknownOrderId,
    );
    books.rejected(
        Command::Reduce {
            order_id: OrderId(1),
            quantity: 0,
        },
        Reject::ZeroQuantity,
    );
    books.rejected(
        Command::Move {
            order_id: OrderId(9),
            price_ticks: 1,
        },
        Reject::UnknownOrderId,
    );
    books.rejected(
        Command::Move {
            order_id: OrderId(1),
            price_ticks: i64::MIN,
        },
        Reject::InvalidPrice,
    );
    // An order no longer in the book.
    books.ok(gtc(3, 2, Ask, 100, 5));
    books.rejected(
        Command::Cancel {
            order_id: OrderId(1),
        },
        Reject::UnknownOrderId,
    );
    books.rejected(
        Command::Move {
            order_id: OrderId(3),
            price_ticks: 90,
        },
        Reject::UnknownOrderId,
    );
    // Its id may be used again once it has left.
    books.ok(gtc(1, 1, Bid, 100, 1));
    assert_eq!(
        books.ok(Command::Cancel {
            order_id: OrderId(1)
        }),
        vec![cancelled(1, 1, 1, CancelReason::Requested)]
    );
    assert!(
        Reject::DuplicateOrderId
            .to_string()
            .starts_with("BOOK_DUPLICATE_ORDER_ID: ")
    );
}

#[test]
fn far_prices_and_large_ids_work_outside_the_dense_structures() {
    let mut books = Books::new(SelfTradePrevention::None);
    let big = u64::MAX - 5;
    books.ok(gtc(big, 1, Bid, -1_000_000_000, 5));
    books.ok(gtc(7, 1, Bid, 1_000_000_000, 5));
    books.ok(gtc(8, 1, Ask, i64::MAX, 5));
    books.ok(gtc(9, 1, Bid, 0, 5));
    assert_eq!(
        books.ok(place(10, 2, Ask, i64::MIN + 1, 12, OrderKind::Ioc)),
        vec![
            fill(7, 10, 1, 2, Ask, 1_000_000_000, 5),
            fill(9, 10, 1, 2, Ask, 0, 5),
            fill(big, 10, 1, 2, Ask, -1_000_000_000, 2),
        ]
    );
    assert_eq!(
        books.l2(),
        vec![level(Bid, -1_000_000_000, 3, 1), level(Ask, i64::MAX, 5, 1)]
    );
}
