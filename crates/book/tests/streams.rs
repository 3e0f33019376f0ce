//! Replays of the real benchmark streams.

mod common;

use common::streams::{bench_dir, load_exchange_core, load_l2, load_quantcup, same_levels};
use yrd_book::{BookConfig, Command, Event, OrderBook, ReferenceBook};

#[test]
fn stream_3m_final_book_matches_exchange_core_and_reference() {
    let stream = load_exchange_core(&bench_dir().join("stream_3M_1K.csv.gz"));
    assert_eq!(stream.commands.len(), 3_001_000);
    let expected = load_l2(&bench_dir().join("stream_3M_1K.final_l2.csv"));
    assert_eq!(expected.len(), 502);

    let mut book = OrderBook::new(BookConfig::default());
    let mut reference = ReferenceBook::new(BookConfig::default());
    let (mut events, mut reference_events) = (Vec::new(), Vec::new());
    let (mut owner_mismatches, mut rejected) = (0u64, 0u64);
    for (command, &user) in stream.commands.iter().zip(&stream.users) {
        // exchange-core refuses commands on another user's order; check the stream never does it.
        if let Command::Move { order_id, .. }
        | Command::Cancel { order_id }
        | Command::Reduce { order_id, .. } = *command
            && book
                .order(order_id)
                .is_some_and(|order| order.user.0 != user)
        {
            owner_mismatches += 1;
        }
        events.clear();
        reference_events.clear();
        let result = book.execute(command, &mut events);
        let reference_result = reference.execute(command, &mut reference_events);
        assert_eq!(result, reference_result, "{command:?}");
        assert_eq!(events, reference_events, "{command:?}");
        rejected += u64::from(result.is_err());
    }
    book.check_invariants();
    assert_eq!(owner_mismatches, 0);
    // The generator only names live orders and sets budgets that pass.
    assert_eq!(rejected, 0);
    assert_eq!(book.state_hash(), reference.state_hash());
    let actual = book.l2(usize::MAX);
    assert_eq!(actual, reference.l2(usize::MAX));
    assert!(
        same_levels(&actual, &expected),
        "final L2 differs from exchange-core's"
    );
}

#[test]
fn quantcup_volume_is_conserved_and_agrees_with_reference() {
    let commands = load_quantcup(&bench_dir().join("quantcup_orders.csv.gz"));
    assert_eq!(commands.len(), 35_759);
    let mut book = OrderBook::new(BookConfig::default());
    let mut reference = ReferenceBook::new(BookConfig::default());
    let (mut events, mut reference_events) = (Vec::new(), Vec::new());
    let (mut placed, mut traded, mut cancelled, mut reference_traded) = (0u64, 0u64, 0u64, 0u64);
    for command in &commands {
        if let Command::Place { quantity, .. } = *command {
            placed += quantity;
        }
        events.clear();
        reference_events.clear();
        let _ = book.execute(command, &mut events);
        let _ = reference.execute(command, &mut reference_events);
        for event in &events {
            match *event {
                Event::Fill { quantity, .. } => traded += quantity,
                Event::Cancelled { quantity, .. } => cancelled += quantity,
                _ => {}
            }
        }
        for event in &reference_events {
            if let Event::Fill { quantity, .. } = *event {
                reference_traded += quantity;
            }
        }
    }
    book.check_invariants();
    let resting: u64 = book.l2(usize::MAX).iter().map(|level| level.volume).sum();
    assert!(traded > 0);
    assert_eq!(traded, reference_traded);
    // Every placed unit traded (counted on both sides of a trade), was cancelled, or rests.
    assert_eq!(placed, 2 * traded + cancelled + resting);
    assert_eq!(book.state_hash(), reference.state_hash());
}
