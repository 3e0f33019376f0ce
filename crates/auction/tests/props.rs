//! Properties of every clearing, over random bids and rules: sold within the quantity offered,
//! awards in whole lots summing to sold, no winner below the clearing price, no bid above it left
//! short, purchase limits kept, and the same seed giving the same outcome.

use proptest::prelude::*;
use yrd_auction::{
    AuctionRules, BidBook, CostContainmentReserve, EmissionsContainmentReserve, TieRule,
    UnderSubscription, clear,
};

const LOT: u64 = 500;

fn arb_bids() -> impl Strategy<Value = Vec<(u8, i64, u64)>> {
    // Few bidders and prices, so ties, limits and duplicates (skipped) all happen.
    prop::collection::vec((0u8..12, 1i64..30, 1u64..8), 0..60)
}

fn arb_rules() -> impl Strategy<Value = AuctionRules> {
    (
        1u64..40,
        1i64..12,
        prop::option::of(20u32..=100),
        any::<bool>(),
        any::<u64>(),
        any::<bool>(),
        prop::option::of((12i64..30, 1u64..10)),
        prop::option::of((2i64..12, 1u32..=50)),
    )
        .prop_map(|(lots, reserve, limit, pro_rata, seed, cancel, ccr, ecr)| {
            let ccr = ccr.map(|(t, q)| CostContainmentReserve {
                trigger_price_minor: t,
                quantity: q * LOT,
            });
            let ecr = ecr.map(|(t, pct)| EmissionsContainmentReserve {
                trigger_price_minor: t,
                withheld_pct: pct,
            });
            AuctionRules {
                supply: lots * LOT,
                lot: LOT,
                reserve_price_minor: reserve,
                purchase_limit_pct: limit,
                tie: if pro_rata {
                    TieRule::ProRata
                } else {
                    TieRule::Random
                },
                seed,
                under_subscription: if cancel {
                    UnderSubscription::Cancel
                } else {
                    UnderSubscription::SellBids
                },
                ccr,
                ecr,
            }
        })
        .prop_filter("valid rules", |r| r.validate().is_ok())
}

fn book(bids: &[(u8, i64, u64)]) -> BidBook {
    let mut book = BidBook::new(LOT);
    for (i, &(bidder, price, lots)) in bids.iter().enumerate() {
        let name = format!("b{bidder}");
        let group = format!("g{}", bidder / 3);
        // A repeated (bidder, price) is refused and skipped, as a CSV run would stop on it.
        let _ = book.push(i as u64 + 2, &name, &group, price, lots * LOT);
    }
    book
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn every_clearing_keeps_the_rules(bids in arb_bids(), rules in arb_rules()) {
        let book = book(&bids);
        let o = clear(&book, &rules).unwrap();
        let ccr = rules.ccr.map_or(0, |c| c.quantity);
        prop_assert!(o.sold <= o.quantity_offered);
        prop_assert!(o.sold <= rules.supply + ccr);
        if rules.ccr.is_none() {
            prop_assert!(o.sold <= rules.supply);
        }
        prop_assert_eq!(o.bid_awarded.iter().sum::<u64>(), o.sold);
        prop_assert_eq!(o.bidder_awarded.iter().sum::<u64>(), o.sold);
        prop_assert_eq!(o.unsold, o.quantity_offered - o.sold);
        for (i, bid) in book.bids().iter().enumerate() {
            let awarded = o.bid_awarded[i];
            prop_assert_eq!(awarded % LOT, 0);
            prop_assert!(awarded <= bid.quantity);
            if bid.price_minor < rules.reserve_price_minor {
                prop_assert_eq!(awarded, 0);
            }
            match o.clearing_price_minor {
                None => prop_assert_eq!(awarded, 0),
                Some(price) => {
                    prop_assert!(price >= rules.reserve_price_minor);
                    if awarded > 0 {
                        prop_assert!(bid.price_minor >= price, "winner below the price");
                    }
                    if bid.price_minor > price {
                        prop_assert_eq!(awarded, o.bid_eligible[i], "loser above the price");
                    }
                }
            }
            if rules.purchase_limit_pct.is_none() && bid.price_minor >= rules.reserve_price_minor {
                prop_assert_eq!(o.bid_eligible[i], bid.quantity);
            }
        }
        if let Some(limit) = rules.purchase_limit() {
            let mut per_group = vec![0u64; book.groups().len()];
            for (b, &a) in o.bidder_awarded.iter().enumerate() {
                per_group[book.bidder_groups()[b] as usize] += a;
            }
            prop_assert!(per_group.iter().all(|&g| g <= limit));
        }
        // Without containment reserves, a covered supply sells out and an uncovered one sells
        // every qualified bid (or, cancelled, nothing).
        if rules.ccr.is_none() && rules.ecr.is_none() {
            if o.qualified_quantity >= rules.supply {
                prop_assert_eq!(o.sold, rules.supply);
            } else if o.cancelled {
                prop_assert_eq!(o.sold, 0);
            } else {
                prop_assert_eq!(o.sold, o.qualified_quantity);
            }
        }
        prop_assert_eq!(clear(&book, &rules).unwrap(), o);
    }
}
