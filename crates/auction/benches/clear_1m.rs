//! Clears one million bids (many tied at each price, purchase limits cutting) and prints
//! `bids=1000000 median_ms=<x>`, the median of several clearings of bids generated in memory
//! beforehand. Without `--bench` (as under `cargo test --benches`) it clears once.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Instant;
use yrd_auction::{AuctionRules, BidBook, TieRule, UnderSubscription, clear};

const BIDS: usize = 1_000_000;
const BIDS_PER_BIDDER: usize = 50;
const BIDDERS_PER_GROUP: usize = 100;
const LOT: u64 = 1_000;
/// 400 distinct prices for a million bids: some 2,500 bids tie at every price.
const PRICE_LEVELS: u64 = 400;

fn bids() -> BidBook {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut book = BidBook::new(LOT);
    for i in 0..BIDS {
        let bidder = i / BIDS_PER_BIDDER;
        let k = (i % BIDS_PER_BIDDER) as u64;
        // 13 is prime to 400, so one bidder's 50 prices are distinct.
        let price = 1_000 + (bidder as u64 * 7 + k * 13) % PRICE_LEVELS;
        let lots = rng.random_range(1..=10u64);
        let name = format!("b{bidder}");
        let group = format!("g{}", bidder / BIDDERS_PER_GROUP);
        book.push(i as u64 + 2, &name, &group, price as i64, lots * LOT)
            .expect("generated bids are valid");
    }
    book
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let runs = if bench { 11 } else { 1 };
    let book = bids();
    // About 40 % of the demand; each group of 100 bidders asks some 0.5 % of all bids, i.e.
    // 1.4 % of the supply, so a 1 % limit cuts every group.
    let rules = AuctionRules {
        supply: book.demand_total() * 2 / 5 / LOT * LOT,
        lot: LOT,
        reserve_price_minor: 1_050,
        purchase_limit_pct: Some(1),
        tie: TieRule::ProRata,
        seed: 42,
        under_subscription: UnderSubscription::SellBids,
        ccr: None,
        ecr: None,
    };
    let mut samples = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let outcome = clear(black_box(&book), black_box(&rules)).expect("valid rules");
        samples.push(start.elapsed());
        last = Some(outcome);
    }
    let outcome = last.expect("at least one run");
    assert!(
        outcome.tied_bids > 0,
        "the benchmark must exercise the tie rule"
    );
    assert!(
        outcome
            .bid_eligible
            .iter()
            .zip(book.bids())
            .any(|(e, b)| *e < b.quantity && b.price_minor >= rules.reserve_price_minor),
        "the benchmark must exercise the purchase limit"
    );
    samples.sort();
    let median = samples[samples.len() / 2];
    println!(
        "bids={BIDS} median_ms={:.1} (price {:?}, sold {}, tied bids {}, winners {})",
        median.as_secs_f64() * 1e3,
        outcome.clearing_price_minor,
        outcome.sold,
        outcome.tied_bids,
        outcome.winners
    );
}
