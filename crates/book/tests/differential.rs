//! Random command streams on both books: identical events, results and state after every command.

use proptest::prelude::*;
use yrd_book::{
    BookConfig, Command, OrderBook, OrderId, OrderKind, ReferenceBook, SelfTradePrevention, Side,
    UserId,
};

fn price() -> impl Strategy<Value = i64> {
    // Mostly a narrow band (crossing all the time), sometimes far away (outside the dense window).
    prop_oneof![9 => 95i64..106, 1 => -50_000i64..50_000]
}

fn kind() -> impl Strategy<Value = OrderKind> {
    prop_oneof![
        4 => Just(OrderKind::Gtc),
        2 => Just(OrderKind::Day),
        2 => Just(OrderKind::Ioc),
        1 => Just(OrderKind::Fok),
        1 => (0i64..3_000).prop_map(|budget_ticks| OrderKind::FokBudget { budget_ticks }),
        1 => Just(OrderKind::Market),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    let order_id = (0u64..40).prop_map(OrderId);
    prop_oneof![
        8 => (order_id.clone(), 0u64..4, any::<bool>(), price(), 0u64..12, kind()).prop_map(
            |(order_id, user, bid, price_ticks, quantity, kind)| Command::Place {
                order_id,
                user: UserId(user),
                side: if bid { Side::Bid } else { Side::Ask },
                price_ticks,
                quantity,
                kind,
            }
        ),
        2 => order_id.clone().prop_map(|order_id| Command::Cancel { order_id }),
        2 => (order_id.clone(), 0u64..8).prop_map(|(order_id, quantity)| Command::Reduce { order_id, quantity }),
        4 => (order_id, price()).prop_map(|(order_id, price_ticks)| Command::Move { order_id, price_ticks }),
        1 => Just(Command::EndOfDay),
    ]
}

fn self_trade() -> impl Strategy<Value = SelfTradePrevention> {
    prop_oneof![
        Just(SelfTradePrevention::None),
        Just(SelfTradePrevention::CancelNewest),
        Just(SelfTradePrevention::CancelOldest),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn fast_book_behaves_like_reference(
        self_trade in self_trade(),
        commands in proptest::collection::vec(command(), 1..300),
    ) {
        // The smallest window, so far prices exercise the fallback map and re-centering.
        let config = BookConfig { self_trade, price_window_log2: 12 };
        let mut fast = OrderBook::new(config);
        let mut reference = ReferenceBook::new(config);
        let (mut events, mut reference_events) = (Vec::new(), Vec::new());
        for command in &commands {
            events.clear();
            reference_events.clear();
            let result = fast.execute(command, &mut events);
            let reference_result = reference.execute(command, &mut reference_events);
            prop_assert_eq!(result, reference_result);
            prop_assert_eq!(&events, &reference_events);
            fast.check_invariants();
            prop_assert_eq!(fast.l2(usize::MAX), reference.l2(usize::MAX));
            prop_assert_eq!(fast.l2(2), reference.l2(2));
            prop_assert_eq!(fast.best_bid(), reference.best_bid());
            prop_assert_eq!(fast.best_ask(), reference.best_ask());
            prop_assert_eq!(fast.len(), reference.len());
            prop_assert_eq!(fast.state_hash(), reference.state_hash());
            for id in 0..40 {
                prop_assert_eq!(fast.order(OrderId(id)), reference.order(OrderId(id)));
            }
        }
    }
}
