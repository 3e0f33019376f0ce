//! Golden cases from the rulebooks (RGGI, California-Quebec, EU EEX), every expected value worked
//! out by hand in the comments. Lot 1,000 unless said; prices in cents.

use rand::{RngCore, SeedableRng};
use yrd_auction::{
    AuctionRules, BidBook, CostContainmentReserve, EmissionsContainmentReserve, Outcome,
    PriceSetBy, PublicReport, TieRule, UnderSubscription, clear, read_bids_csv,
};

/// Bids `(bidder, group, price, quantity)`, numbered as CSV lines from 2.
fn book(lot: u64, bids: &[(&str, &str, i64, u64)]) -> BidBook {
    let mut book = BidBook::new(lot);
    for (i, &(bidder, group, price, quantity)) in bids.iter().enumerate() {
        book.push(i as u64 + 2, bidder, group, price, quantity)
            .unwrap();
    }
    book
}

fn rules(supply: u64, reserve: i64) -> AuctionRules {
    AuctionRules {
        supply,
        lot: 1_000,
        reserve_price_minor: reserve,
        purchase_limit_pct: None,
        tie: TieRule::Random,
        seed: 42,
        under_subscription: UnderSubscription::SellBids,
        ccr: None,
        ecr: None,
    }
}

/// `(bidder, award)` for every bidder, in order of first bid.
fn awards<'a>(book: &'a BidBook, o: &Outcome) -> Vec<(&'a str, u64)> {
    book.bidders()
        .iter()
        .map(String::as_str)
        .zip(o.bidder_awarded.iter().copied())
        .collect()
}

#[test]
fn clearing_exactly_at_a_step_edge() {
    // Supply 5,000. Cumulative demand: 2,000 at 300 (A), 5,000 at 250 (B) = supply exactly.
    // CA-QC: the price is that of the bid that buys the last allowance, B's 250. (RGGI's wording,
    // the highest rejected bid, would give C's 200 here.) C gets nothing; no draw is needed.
    let b = book(
        1_000,
        &[
            ("A", "A", 300, 2_000),
            ("B", "B", 250, 3_000),
            ("C", "C", 200, 4_000),
        ],
    );
    let o = clear(&b, &rules(5_000, 100)).unwrap();
    assert_eq!(o.clearing_price_minor, Some(250));
    assert_eq!(o.price_set_by, PriceSetBy::Bid);
    assert_eq!(awards(&b, &o), [("A", 2_000), ("B", 3_000), ("C", 0)]);
    assert_eq!((o.sold, o.unsold, o.tied_bids), (5_000, 0, 0));
    assert_eq!((o.bidders, o.winners), (3, 2));
    // 9,000 bid at or above the reserve over 5,000 offered.
    assert_eq!(o.bid_to_cover.to_string(), "1.80");

    // One lot more: cumulative 5,000 at 250 falls short, 9,000 at 200 covers 6,000; C (alone at
    // the price) gets the last 1,000 and sets the price at 200.
    let o = clear(&b, &rules(6_000, 100)).unwrap();
    assert_eq!(o.clearing_price_minor, Some(200));
    assert_eq!(awards(&b, &o), [("A", 2_000), ("B", 3_000), ("C", 1_000)]);
}

/// Supply 10,000; demand at or above the reserve (100) is A 2,000 + B 3,000 = 5,000; C bids
/// below the reserve and never counts.
fn undersubscribed() -> BidBook {
    book(
        1_000,
        &[
            ("A", "A", 300, 2_000),
            ("B", "B", 150, 3_000),
            ("C", "C", 90, 5_000),
        ],
    )
}

#[test]
fn demand_below_supply_sells_the_bids_at_the_reserve_price() {
    // CA-QC: what was bid at or above the reserve sells; the marginal allowance is an unsold one
    // offered at the reserve, so the price is the reserve, 100 (CA-QC May 2016 and RGGI 2010-12
    // settled at the reserve). 5,000 sold, 5,000 unsold; bid-to-cover 5,000 / 10,000 = 0.50.
    let b = undersubscribed();
    let o = clear(&b, &rules(10_000, 100)).unwrap();
    assert_eq!(o.clearing_price_minor, Some(100));
    assert_eq!(o.price_set_by, PriceSetBy::Reserve);
    assert_eq!(awards(&b, &o), [("A", 2_000), ("B", 3_000), ("C", 0)]);
    assert_eq!(
        (o.quantity_offered, o.sold, o.unsold),
        (10_000, 5_000, 5_000)
    );
    assert!(!o.cancelled);
    assert_eq!(o.bid_to_cover.to_string(), "0.50");
}

#[test]
fn demand_below_supply_cancels_an_eu_auction() {
    // EU: 5,000 < 10,000, the auction is cancelled: nothing sold, no price.
    let b = undersubscribed();
    let r = AuctionRules {
        under_subscription: UnderSubscription::Cancel,
        ..rules(10_000, 100)
    };
    let o = clear(&b, &r).unwrap();
    assert!(o.cancelled);
    assert_eq!(o.clearing_price_minor, None);
    assert_eq!(o.price_set_by, PriceSetBy::Nothing);
    assert_eq!(awards(&b, &o), [("A", 0), ("B", 0), ("C", 0)]);
    assert_eq!((o.sold, o.unsold, o.winners), (0, 10_000, 0));
}

#[test]
fn reserve_price_binding() {
    // Supply 5,000. With a nominal reserve of 1: 2,000 at 300, 4,000 at 250, 8,000 at 190 -> 190.
    // With the reserve at 200, C's 190 cannot sell: demand at or above 200 is 4,000 < 5,000, so
    // A and B are filled at the reserve, 200, and 1,000 stays unsold.
    let b = book(
        1_000,
        &[
            ("A", "A", 300, 2_000),
            ("B", "B", 250, 2_000),
            ("C", "C", 190, 4_000),
        ],
    );
    let free = clear(&b, &rules(5_000, 1)).unwrap();
    assert_eq!(free.clearing_price_minor, Some(190));
    let o = clear(&b, &rules(5_000, 200)).unwrap();
    assert_eq!(o.clearing_price_minor, Some(200));
    assert_eq!(awards(&b, &o), [("A", 2_000), ("B", 2_000), ("C", 0)]);
    assert_eq!((o.sold, o.unsold), (4_000, 1_000));
}

/// ChaCha8Rng::seed_from_u64(42) gives, in order,
/// 12578764544318200737, 17529487244874322312, 7886285670807131020: the third tied bid has the
/// smallest key, then the first, then the second. The drawn order of three tied bids is
/// therefore (3rd, 1st, 2nd).
#[test]
fn the_seed_42_draw_is_what_the_documentation_says() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let keys = [rng.next_u64(), rng.next_u64(), rng.next_u64()];
    assert_eq!(
        keys,
        [
            12_578_764_544_318_200_737,
            17_529_487_244_874_322_312,
            7_886_285_670_807_131_020
        ]
    );
}

#[test]
fn ties_in_random_order_eex() {
    // Supply 5,000. A (300) takes 2,000; 3,000 left for B, C, D, 2,000 each at 200 (6,000 tied).
    // Seed 42 draws D, B, C: D 2,000 in full, B the last 1,000, C nothing. Price 200.
    let b = book(
        1_000,
        &[
            ("A", "A", 300, 2_000),
            ("B", "B", 200, 2_000),
            ("C", "C", 200, 2_000),
            ("D", "D", 200, 2_000),
        ],
    );
    let o = clear(&b, &rules(5_000, 100)).unwrap();
    assert_eq!(o.clearing_price_minor, Some(200));
    assert_eq!(
        awards(&b, &o),
        [("A", 2_000), ("B", 1_000), ("C", 0), ("D", 2_000)]
    );
    assert_eq!(o.tied_bids, 3);
    assert_eq!(o.seed, 42);
    // Same seed, same result; another seed may differ but sells the same quantity.
    assert_eq!(clear(&b, &rules(5_000, 100)).unwrap(), o);
    let other = clear(
        &b,
        &AuctionRules {
            seed: 7,
            ..rules(5_000, 100)
        },
    )
    .unwrap();
    assert_eq!(other.sold, 5_000);
}

#[test]
fn ties_pro_rata_with_the_remainder_by_draw_ca_qc() {
    // Supply 5,000. A takes 2,000; 3,000 left for B 2,000, C 3,000, D 1,000 at 200 (6,000).
    // Pro rata: B 2,000 x 3,000 / 6,000 = 1,000; C 1,500 -> 1,000 in whole lots; D 500 -> 0.
    // 2,000 given, one lot left; seed 42 draws D, B, C, so D gets it: B 1,000, C 1,000, D 1,000.
    let b = book(
        1_000,
        &[
            ("A", "A", 300, 2_000),
            ("B", "B", 200, 2_000),
            ("C", "C", 200, 3_000),
            ("D", "D", 200, 1_000),
        ],
    );
    let r = AuctionRules {
        tie: TieRule::ProRata,
        ..rules(5_000, 100)
    };
    let o = clear(&b, &r).unwrap();
    assert_eq!(o.clearing_price_minor, Some(200));
    assert_eq!(
        awards(&b, &o),
        [("A", 2_000), ("B", 1_000), ("C", 1_000), ("D", 1_000)]
    );
    assert_eq!(o.sold, 5_000);
}

#[test]
fn purchase_limit_cuts_a_large_bidder() {
    // Supply 10,000, limit 25 % = 2,500, rounded down to whole lots: 2,000 per group.
    // Group G1 (A and E) bids A 3,000 at 500, E 1,000 at 450, A 2,000 at 400. Highest first:
    // A@500 cut to 2,000; E@450 and A@400 cut to 0.
    // Without the limit: 3,000@500, 4,000@450, 6,000@400, 8,000@300, 10,000@250 -> price 250,
    // D and F out. With it: 2,000@500, 4,000@300, 6,000@250, 8,000@200, 10,000@150 -> price 150,
    // every other bidder filled.
    let b = book(
        1_000,
        &[
            ("A", "G1", 500, 3_000),
            ("A", "G1", 400, 2_000),
            ("E", "G1", 450, 1_000),
            ("B", "G2", 300, 2_000),
            ("C", "G3", 250, 2_000),
            ("D", "G4", 200, 2_000),
            ("F", "G5", 150, 2_000),
        ],
    );
    let free = clear(&b, &rules(10_000, 100)).unwrap();
    assert_eq!(free.clearing_price_minor, Some(250));
    let r = AuctionRules {
        purchase_limit_pct: Some(25),
        ..rules(10_000, 100)
    };
    assert_eq!(r.purchase_limit(), Some(2_000));
    let o = clear(&b, &r).unwrap();
    assert_eq!(o.clearing_price_minor, Some(150));
    assert_eq!(o.bid_eligible, [2_000, 0, 0, 2_000, 2_000, 2_000, 2_000]);
    assert_eq!(
        awards(&b, &o),
        [
            ("A", 2_000),
            ("E", 0),
            ("B", 2_000),
            ("C", 2_000),
            ("D", 2_000),
            ("F", 2_000)
        ]
    );
    assert_eq!(o.sold, 10_000);
}

fn with_ccr(supply: u64) -> AuctionRules {
    AuctionRules {
        ccr: Some(CostContainmentReserve {
            trigger_price_minor: 1_300,
            quantity: 2_000,
        }),
        ..rules(supply, 100)
    }
}

#[test]
fn cost_containment_reserve_triggers_a_re_clear() {
    // RGGI 2021 trigger 13.00. Supply 4,000: 2,000@1600, 4,000@1500 -> interim price 1500 > 1300,
    // so the 2,000 CCR allowances are added and the auction re-cleared with 6,000:
    // 2,000@1600, 4,000@1500, 5,000@1400, 7,000@1350 -> price 1350, E gets the last 1,000.
    let b = book(
        1_000,
        &[
            ("A", "A", 1_600, 2_000),
            ("B", "B", 1_500, 2_000),
            ("C", "C", 1_400, 1_000),
            ("E", "E", 1_350, 2_000),
            ("D", "D", 1_200, 3_000),
        ],
    );
    let o = clear(&b, &with_ccr(4_000)).unwrap();
    assert_eq!(o.interim_price_minor, 1_500);
    assert_eq!(o.clearing_price_minor, Some(1_350));
    assert_eq!(
        (o.ccr_released, o.quantity_offered, o.sold),
        (2_000, 6_000, 6_000)
    );
    assert_eq!(
        awards(&b, &o),
        [
            ("A", 2_000),
            ("B", 2_000),
            ("C", 1_000),
            ("E", 1_000),
            ("D", 0)
        ]
    );
    // No CCR: the interim clearing stands.
    let plain = clear(&b, &rules(4_000, 100)).unwrap();
    assert_eq!(plain.clearing_price_minor, Some(1_500));
    assert_eq!(plain.ccr_released, 0);
}

#[test]
fn cost_containment_reserve_never_sells_below_its_trigger() {
    // Same as above without E: after the release, demand at or above 1300 is 5,000 < 6,000. D's
    // 1200 is below the trigger, so the 5,000 sell at the trigger, 1300, and 1,000 CCR allowances
    // stay unsold.
    let b = book(
        1_000,
        &[
            ("A", "A", 1_600, 2_000),
            ("B", "B", 1_500, 2_000),
            ("C", "C", 1_400, 1_000),
            ("D", "D", 1_200, 3_000),
        ],
    );
    let o = clear(&b, &with_ccr(4_000)).unwrap();
    assert_eq!(o.clearing_price_minor, Some(1_300));
    assert_eq!(o.price_set_by, PriceSetBy::CcrTrigger);
    assert_eq!(
        (o.quantity_offered, o.sold, o.unsold),
        (6_000, 5_000, 1_000)
    );
    assert_eq!(
        awards(&b, &o),
        [("A", 2_000), ("B", 2_000), ("C", 1_000), ("D", 0)]
    );
}

fn with_ecr() -> AuctionRules {
    // RGGI 2021: trigger 6.00, up to 10 % withheld: 1,000 of 10,000. Lot 500, reserve 2.00.
    AuctionRules {
        lot: 500,
        ecr: Some(EmissionsContainmentReserve {
            trigger_price_minor: 600,
            withheld_pct: 10,
        }),
        ..rules(10_000, 200)
    }
}

#[test]
fn emissions_containment_reserve_withholds_only_what_keeps_the_trigger() {
    // Supply 10,000: 5,000@800, 9,500@650, 12,500@300 -> interim 300 < 600. Demand at or above
    // 600 is 9,500, so 500 (<= 1,000) is withheld: 9,500 offered, A and B filled at the trigger
    // 600 (not at B's 650: withholding never lifts the price above the trigger); C nothing.
    let b = book(
        500,
        &[
            ("A", "A", 800, 5_000),
            ("B", "B", 650, 4_500),
            ("C", "C", 300, 3_000),
        ],
    );
    let o = clear(&b, &with_ecr()).unwrap();
    assert_eq!(o.interim_price_minor, 300);
    assert_eq!(o.clearing_price_minor, Some(600));
    assert_eq!(o.price_set_by, PriceSetBy::EcrTrigger);
    assert_eq!(
        (o.ecr_withheld, o.quantity_offered, o.sold),
        (500, 9_500, 9_500)
    );
    assert_eq!(awards(&b, &o), [("A", 5_000), ("B", 4_500), ("C", 0)]);
}

#[test]
fn emissions_containment_reserve_withholds_at_most_its_share() {
    // 5,000@800, 8,000@650, 11,000@300 -> interim 300 < 600. Keeping 600 would take withholding
    // 2,000 > 1,000, so the full 1,000 is withheld and 9,000 cleared: 5,000, 8,000, 11,000@300
    // -> price 300 still, C gets 1,000 (2,000 without the ECR), D (250) nothing.
    let b = book(
        500,
        &[
            ("A", "A", 800, 5_000),
            ("B", "B", 650, 3_000),
            ("C", "C", 300, 3_000),
            ("D", "D", 250, 2_000),
        ],
    );
    let o = clear(&b, &with_ecr()).unwrap();
    assert_eq!(o.clearing_price_minor, Some(300));
    assert_eq!(
        (o.ecr_withheld, o.quantity_offered, o.sold),
        (1_000, 9_000, 9_000)
    );
    assert_eq!(
        awards(&b, &o),
        [("A", 5_000), ("B", 3_000), ("C", 1_000), ("D", 0)]
    );
    let plain = clear(
        &b,
        &AuctionRules {
            ecr: None,
            ..with_ecr()
        },
    )
    .unwrap();
    assert_eq!(plain.bidder_awarded[2], 2_000);
}

#[test]
fn the_public_report_names_no_bidder() {
    let b = book(1_000, &[("secret-bidder", "secret-group", 300, 2_000)]);
    let o = clear(&b, &rules(1_000, 100)).unwrap();
    let json = serde_json::to_string(&PublicReport::new(&rules(1_000, 100), &o)).unwrap();
    assert!(!json.contains("secret"), "{json}");
    assert!(json.contains("\"bid_to_cover\":\"2.00\""), "{json}");
    assert!(json.contains("\"seed\":42"), "{json}");
}

#[test]
fn csv_bids_clear_like_pushed_bids() {
    let text = "bidder,group,price,quantity\n\nA,A,300,2000\nB,B,250,3000\nC,C,200,4000\n";
    let b = read_bids_csv(text.as_bytes(), 1_000).unwrap();
    assert_eq!(b.bids()[0].line, 3, "the blank line 2 is counted");
    let o = clear(&b, &rules(5_000, 100)).unwrap();
    assert_eq!(o.clearing_price_minor, Some(250));
}

#[test]
fn bad_rules_are_refused() {
    let b = book(1_000, &[("A", "A", 300, 2_000)]);
    let bad = [
        AuctionRules {
            lot: 0,
            ..rules(5_000, 100)
        },
        AuctionRules {
            supply: 5_500,
            ..rules(5_000, 100)
        },
        AuctionRules {
            supply: 0,
            ..rules(5_000, 100)
        },
        AuctionRules {
            reserve_price_minor: -1,
            ..rules(5_000, 100)
        },
        AuctionRules {
            purchase_limit_pct: Some(0),
            ..rules(5_000, 100)
        },
        AuctionRules {
            purchase_limit_pct: Some(10),
            ..rules(5_000, 100)
        },
        AuctionRules {
            lot: 500,
            ..rules(5_000, 100)
        },
    ];
    for r in bad {
        assert!(clear(&b, &r).is_err(), "{r:?}");
    }
}
