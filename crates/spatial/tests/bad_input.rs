//! Bad input is refused with an error naming the item, never a panic: every check of
//! `Problem::validate` (through `clear`), and the case-file reader's checks.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yrd_spatial::case::{Case, CaseErrorKind};
use yrd_spatial::{
    CAP_MAX, CAP_WEIGHT_MAX, COEFFICIENT_MAX, Clearing, HEADROOM_MAX, PRICE_MAX, Problem,
    QUANTITY_MAX, ReceptorSpec, Side, SolverChoice, SpatialError, Step, TonnageCap,
    VIOLATION_PRICE_MAX, clear,
};

/// Two locations, one receptor, one buy and one sell: valid.
fn good() -> Problem {
    Problem {
        locations: vec!["A".into(), "B".into()],
        receptors: vec![ReceptorSpec {
            id: "R".into(),
            headroom: 0.0,
        }],
        coefficients: vec![vec![0.5, 1.0]],
        tonnage_cap: Some(TonnageCap {
            cap: 10.0,
            weights: vec![1.0, 1.0],
        }),
        steps: vec![
            Step {
                id: "s".into(),
                location: 0,
                side: Side::Sell,
                quantity: 10,
                price: 3_000,
            },
            Step {
                id: "b".into(),
                location: 1,
                side: Side::Buy,
                quantity: 10,
                price: 10_000,
            },
        ],
        violation_price: None,
    }
}

/// Clears `p` and returns the error's message, checking its variant with `check`.
fn refused(p: &Problem, check: impl Fn(&SpatialError) -> bool) -> String {
    let e = clear(p, SolverChoice::Default).expect_err("must be refused");
    assert!(check(&e), "unexpected error {e:?}");
    assert_eq!(p.validate().unwrap_err().to_string(), e.to_string());
    e.to_string()
}

#[test]
fn the_good_problem_clears() {
    clear(&good(), SolverChoice::Default).unwrap();
}

#[test]
fn duplicate_and_empty_ids() {
    let mut p = good();
    p.locations[1] = "A".into();
    let m = refused(&p, |e| {
        matches!(
            e,
            SpatialError::DuplicateId {
                what: "location",
                ..
            }
        )
    });
    assert!(
        m.contains("SPATIAL_DUPLICATE_ID") && m.contains("\"A\""),
        "{m}"
    );

    let mut p = good();
    p.receptors.push(ReceptorSpec {
        id: "R".into(),
        headroom: 1.0,
    });
    p.coefficients.push(vec![0.0, 0.0]);
    refused(&p, |e| {
        matches!(
            e,
            SpatialError::DuplicateId {
                what: "receptor",
                ..
            }
        )
    });

    let mut p = good();
    p.steps[1].id = "s".into();
    let m = refused(&p, |e| {
        matches!(e, SpatialError::DuplicateId { what: "step", .. })
    });
    assert!(m.contains("step \"s\""), "{m}");

    let mut p = good();
    p.steps[0].id = String::new();
    refused(&p, |e| {
        matches!(
            e,
            SpatialError::EmptyId {
                what: "step",
                index: 0
            }
        )
    });
}

#[test]
fn location_out_of_range() {
    let mut p = good();
    p.steps[1].location = 2;
    let m = refused(&p, |e| {
        matches!(e, SpatialError::LocationOutOfRange { location: 2, .. })
    });
    assert!(m.contains("\"b\""), "{m}");
}

#[test]
fn coefficients_negative_or_not_finite() {
    for bad in [-0.1, f64::NAN, f64::INFINITY] {
        let mut p = good();
        p.coefficients[0][1] = bad;
        let m = refused(&p, |e| matches!(e, SpatialError::BadCoefficient { .. }));
        assert!(m.contains("\"R\"") && m.contains("\"B\""), "{m}");
    }
}

#[test]
fn matrix_of_the_wrong_shape() {
    let mut p = good();
    p.coefficients.push(vec![0.0, 0.0]);
    refused(&p, |e| {
        matches!(
            e,
            SpatialError::MatrixRows {
                rows: 2,
                receptors: 1
            }
        )
    });
    let mut p = good();
    p.coefficients[0].pop();
    refused(&p, |e| {
        matches!(e, SpatialError::MatrixColumns { columns: 1, .. })
    });
}

#[test]
fn zero_or_huge_quantity_and_negative_price() {
    let mut p = good();
    p.steps[0].quantity = 0;
    let m = refused(&p, |e| matches!(e, SpatialError::ZeroQuantity { .. }));
    assert!(m.contains("\"s\""), "{m}");

    // 10^12 lots is the most a step may ask for.
    let mut p = good();
    p.steps[0].quantity = 1_000_000_000_000;
    p.validate().unwrap();
    p.steps[0].quantity = 1_000_000_000_001;
    let m = refused(&p, |e| matches!(e, SpatialError::QuantityTooLarge { .. }));
    assert!(m.contains("\"s\"") && m.contains("10^12"), "{m}");

    // 1,001 steps of 10^12 lots: 1.001 x 10^15 > 10^15.
    let mut p = good();
    p.steps = (0..1_001)
        .map(|k| Step {
            id: format!("s{k}"),
            location: 0,
            side: Side::Sell,
            quantity: 1_000_000_000_000,
            price: 1,
        })
        .collect();
    refused(&p, |e| {
        matches!(e, SpatialError::TotalQuantityTooLarge { .. })
    });

    let mut p = good();
    p.steps[1].price = -1;
    let m = refused(&p, |e| {
        matches!(e, SpatialError::NegativePrice { price: -1, .. })
    });
    assert!(m.contains("\"b\""), "{m}");
}

#[test]
fn headroom_cap_weights_and_violation_price() {
    for bad in [f64::NAN, f64::NEG_INFINITY] {
        let mut p = good();
        p.receptors[0].headroom = bad;
        refused(&p, |e| matches!(e, SpatialError::BadHeadroom { .. }));
    }
    // A negative headroom is allowed (an existing violation).
    let mut p = good();
    p.receptors[0].headroom = -5.0;
    p.validate().unwrap();

    for bad in [f64::NAN, f64::INFINITY, -1.0] {
        let mut p = good();
        p.tonnage_cap.as_mut().unwrap().cap = bad;
        refused(&p, |e| matches!(e, SpatialError::BadCap { .. }));
    }
    let mut p = good();
    p.tonnage_cap.as_mut().unwrap().weights.push(1.0);
    refused(&p, |e| {
        matches!(
            e,
            SpatialError::CapWeightsShape {
                weights: 3,
                locations: 2
            }
        )
    });
    for bad in [f64::NAN, -1.0] {
        let mut p = good();
        p.tonnage_cap.as_mut().unwrap().weights[0] = bad;
        let m = refused(&p, |e| matches!(e, SpatialError::BadCapWeight { .. }));
        assert!(m.contains("\"A\""), "{m}");
    }
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut p = good();
        p.violation_price = Some(bad);
        refused(&p, |e| matches!(e, SpatialError::BadViolationPrice { .. }));
    }
}

const CASE: &str = r#"{
  "locations": ["P1", "P2"],
  "receptors": ["R1"],
  "transfer_coefficients": {"R1": {"P1": 0.6, "P2": 1.0}},
  "headroom": {"R1": 0},
  "bids": [
    {"id": "s1", "location": "P1", "side": "sell", "quantity": 10, "price": 20},
    {"id": "b1", "location": "P2", "side": "buy", "quantity": 10, "price": 100}
  ]
}"#;

/// Reads (and converts) `text` and returns the error kind and message.
fn case_error(text: &str) -> (CaseErrorKind, String) {
    let e = match Case::from_json_str(text, "cases/bad.json") {
        Err(e) => e,
        Ok(case) => case.to_problem().expect_err("must be refused"),
    };
    let message = e.to_string();
    assert!(message.starts_with("cases/bad.json: "), "{message}");
    (e.kind, message)
}

#[test]
fn the_good_case_reads() {
    let case = Case::from_json_str(CASE, "good.json").unwrap();
    let p = case.to_problem().unwrap();
    assert_eq!(p.steps[1].price, 10_000);
    clear(&p, SolverChoice::Default).unwrap();
}

#[test]
fn malformed_json_names_file_line_and_column() {
    // Line 4 lacks the comma after the headroom object.
    let text = CASE.replace(r#""headroom": {"R1": 0},"#, r#""headroom": {"R1": 0}"#);
    let (kind, message) = case_error(&text);
    assert!(
        matches!(kind, CaseErrorKind::Json { line: 6, .. }),
        "{kind:?}"
    );
    assert!(
        message.contains("SPATIAL_CASE_JSON: line 6, column 3"),
        "{message}"
    );
}

#[test]
fn unknown_fields_and_bad_sides_are_refused() {
    let text = CASE.replace(r#""headroom""#, r#""headrom""#);
    let (kind, message) = case_error(&text);
    assert!(matches!(kind, CaseErrorKind::Json { .. }), "{kind:?}");
    assert!(message.contains("headrom"), "{message}");
    let text = CASE.replace(r#""side": "buy""#, r#""side": "bye""#);
    let (kind, _) = case_error(&text);
    assert!(
        matches!(kind, CaseErrorKind::Json { line: 8, .. }),
        "{kind:?}"
    );
}

#[test]
fn unknown_locations_and_receptors_are_named() {
    let text = CASE.replace(r#""location": "P2""#, r#""location": "P9""#);
    let (kind, message) = case_error(&text);
    assert_eq!(
        kind,
        CaseErrorKind::UnknownLocation {
            context: "bid \"b1\"".into(),
            name: "P9".into()
        }
    );
    assert!(
        message.contains("SPATIAL_CASE_UNKNOWN_LOCATION"),
        "{message}"
    );

    let text = CASE.replace(r#""P2": 1.0"#, r#""P7": 1.0"#);
    let (kind, _) = case_error(&text);
    assert!(
        matches!(&kind, CaseErrorKind::UnknownLocation { name, .. } if name == "P7"),
        "{kind:?}"
    );
    let text = CASE.replace(r#"{"R1": 0}"#, r#"{"R1": 0, "R5": 3}"#);
    let (kind, _) = case_error(&text);
    assert!(
        matches!(&kind, CaseErrorKind::UnknownReceptor { name, .. } if name == "R5"),
        "{kind:?}"
    );
}

#[test]
fn duplicate_keys_and_missing_headroom() {
    let text = CASE.replace(r#"{"R1": 0}"#, r#"{"R1": 0, "R1": 5}"#);
    let (kind, _) = case_error(&text);
    assert!(
        matches!(&kind, CaseErrorKind::Duplicate { name, .. } if name == "R1"),
        "{kind:?}"
    );
    let text = CASE.replace(r#"["P1", "P2"]"#, r#"["P1", "P2", "P1"]"#);
    let (kind, _) = case_error(&text);
    assert!(matches!(kind, CaseErrorKind::Duplicate { .. }), "{kind:?}");
    let text = CASE.replace(r#"{"R1": 0}"#, "{}");
    let (kind, _) = case_error(&text);
    assert!(
        matches!(kind, CaseErrorKind::MissingHeadroom { .. }),
        "{kind:?}"
    );
}

#[test]
fn negative_coefficient_in_a_case() {
    let text = CASE.replace(r#""P1": 0.6"#, r#""P1": -0.6"#);
    let (kind, message) = case_error(&text);
    assert!(
        matches!(
            kind,
            CaseErrorKind::Problem(SpatialError::BadCoefficient { .. })
        ),
        "{kind:?}"
    );
    assert!(
        message.contains("\"R1\"") && message.contains("\"P1\""),
        "{message}"
    );
}

#[test]
fn quantities_and_prices_of_a_case() {
    let text = CASE.replace(
        r#""quantity": 10, "price": 20"#,
        r#""quantity": 0, "price": 20"#,
    );
    let (kind, message) = case_error(&text);
    assert!(
        matches!(kind, CaseErrorKind::BadQuantity { .. }),
        "{kind:?}"
    );
    assert!(message.contains("bid \"s1\""), "{message}");

    // Trading unit 10 t: 15 t is not whole lots.
    let text = CASE
        .replace(
            r#""quantity": 10, "price": 20"#,
            r#""quantity": 15, "price": 20"#,
        )
        .replace(r#""bids""#, r#""trading_unit": 10, "bids""#);
    let (kind, _) = case_error(&text);
    assert!(
        matches!(&kind, CaseErrorKind::NotWholeUnits { context, .. } if context == "bid \"s1\""),
        "{kind:?}"
    );

    let text = CASE.replace(r#""price": 100"#, r#""price": 99.995"#);
    let (kind, _) = case_error(&text);
    assert!(
        matches!(&kind, CaseErrorKind::NotWholeFen { bid, .. } if bid == "b1"),
        "{kind:?}"
    );
    let text = CASE.replace(r#""price": 100"#, r#""price": -1"#);
    let (kind, _) = case_error(&text);
    assert!(
        matches!(kind, CaseErrorKind::NegativePrice { .. }),
        "{kind:?}"
    );
    let text = CASE.replace(r#""bids""#, r#""trading_unit": 0, "bids""#);
    let (kind, _) = case_error(&text);
    assert!(
        matches!(kind, CaseErrorKind::BadTradingUnit { .. }),
        "{kind:?}"
    );
}

#[test]
fn cap_weights_must_cover_every_location() {
    let text = CASE.replace(
        r#""bids""#,
        r#""tonnage_cap": {"cap": 5, "weights": {"P1": 1}}, "bids""#,
    );
    let (kind, _) = case_error(&text);
    assert_eq!(
        kind,
        CaseErrorKind::MissingWeight {
            location: "P2".into()
        }
    );
    let text = CASE.replace(
        r#""bids""#,
        r#""tonnage_cap": {"cap": 5, "weights": {"P1": 1, "P2": -1}}, "bids""#,
    );
    let (kind, _) = case_error(&text);
    assert!(
        matches!(
            kind,
            CaseErrorKind::Problem(SpatialError::BadCapWeight { .. })
        ),
        "{kind:?}"
    );
}

#[test]
fn the_bounds_are_the_documented_ones() {
    assert_eq!(QUANTITY_MAX, 1_000_000_000_000);
    assert_eq!(PRICE_MAX, 1_000_000_000_000);
    assert_eq!(COEFFICIENT_MAX, 1e6);
    assert_eq!(HEADROOM_MAX, 1e12);
    assert_eq!(CAP_MAX, 1e12);
    assert_eq!(CAP_WEIGHT_MAX, 1e6);
    assert_eq!(VIOLATION_PRICE_MAX, 1e18);
}

#[test]
fn absurd_inputs_are_refused_up_front_at_their_bounds() {
    // At the bound: accepted. Just above: refused, naming the item and the bound.
    let mut p = good();
    p.coefficients[0][1] = 1e6;
    p.validate().unwrap();
    p.coefficients[0][1] = 1.000_001e6;
    let m = refused(&p, |e| matches!(e, SpatialError::BadCoefficient { .. }));
    assert!(
        m.contains("\"R\"") && m.contains("\"B\"") && m.contains("at most 1e6"),
        "{m}"
    );

    for h in [1e12, -1e12] {
        let mut p = good();
        p.receptors[0].headroom = h;
        p.validate().unwrap();
    }
    for h in [1.000_001e12, -1.000_001e12] {
        let mut p = good();
        p.receptors[0].headroom = h;
        let m = refused(&p, |e| matches!(e, SpatialError::BadHeadroom { .. }));
        assert!(m.contains("\"R\"") && m.contains("-1e12 and 1e12"), "{m}");
    }

    let mut p = good();
    p.steps[1].price = 1_000_000_000_000;
    p.validate().unwrap();
    p.steps[1].price = 1_000_000_000_001;
    let m = refused(
        &p,
        |e| matches!(e, SpatialError::PriceTooLarge { price: 1_000_000_000_001, step } if step == "b"),
    );
    assert!(
        m.contains("SPATIAL_PRICE_TOO_LARGE") && m.contains("\"b\"") && m.contains("10^12"),
        "{m}"
    );

    let mut p = good();
    p.tonnage_cap.as_mut().unwrap().cap = 1e12;
    p.validate().unwrap();
    p.tonnage_cap.as_mut().unwrap().cap = 1.000_001e12;
    let m = refused(&p, |e| matches!(e, SpatialError::BadCap { .. }));
    assert!(m.contains("at most 1e12"), "{m}");

    let mut p = good();
    p.tonnage_cap.as_mut().unwrap().weights[0] = 1e6;
    p.validate().unwrap();
    p.tonnage_cap.as_mut().unwrap().weights[0] = 1.000_001e6;
    let m = refused(&p, |e| matches!(e, SpatialError::BadCapWeight { .. }));
    assert!(m.contains("\"A\"") && m.contains("at most 1e6"), "{m}");

    let mut p = good();
    p.violation_price = Some(1e18);
    p.validate().unwrap();
    p.violation_price = Some(1.000_001e18);
    let m = refused(&p, |e| matches!(e, SpatialError::BadViolationPrice { .. }));
    assert!(m.contains("at most 1e18"), "{m}");
    // The default never exceeds the bound: 1000 x 10^12 / 10^-300 is capped at 10^18.
    let mut p = good();
    p.coefficients[0][0] = 1e-300;
    p.steps[1].price = PRICE_MAX;
    assert_eq!(p.effective_violation_price(), VIOLATION_PRICE_MAX);
}

/// The shared river case's text with `edit` applied to its JSON.
fn shared_case_with(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/cases/spatial/river3_two_sections.json"
    );
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut value);
    value.to_string()
}

#[test]
fn the_testers_absurd_cases_are_refused_naming_the_item() {
    // Coefficient R1/P1 = 10^9 receptor units per tonne: refused, not cleared through the
    // slack (it used to load R1 by +10 against headroom 0 with exit code 0).
    let text = shared_case_with(|v| v["transfer_coefficients"]["R1"]["P1"] = 1e9.into());
    let (kind, message) = case_error(&text);
    assert!(
        matches!(&kind, CaseErrorKind::Problem(SpatialError::BadCoefficient { receptor, location, value })
            if receptor == "R1" && location == "P1" && *value == 1e9),
        "{kind:?}"
    );
    assert!(message.contains("SPATIAL_BAD_COEFFICIENT"), "{message}");

    // b1 at 10^13 CNY per tonne = 10^15 fen per lot: refused naming the bid (it used to reach
    // the solver and fail with "settlement price 0 at location P1 outside the bounds [2000,
    // 2000]").
    let text = shared_case_with(|v| v["bids"][2]["price"] = 1e13.into());
    let (kind, message) = case_error(&text);
    assert_eq!(
        kind,
        CaseErrorKind::Problem(SpatialError::PriceTooLarge {
            step: "b1".into(),
            price: 1_000_000_000_000_000
        })
    );
    assert!(
        message.contains("SPATIAL_PRICE_TOO_LARGE: step \"b1\""),
        "{message}"
    );

    // s1a offering 10^13 t: above 10^12 lots.
    let text = shared_case_with(|v| v["bids"][0]["quantity"] = 1e13.into());
    let (kind, _) = case_error(&text);
    assert!(
        matches!(&kind, CaseErrorKind::Problem(SpatialError::QuantityTooLarge { step, .. }) if step == "s1a"),
        "{kind:?}"
    );
}

#[test]
fn a_clearing_needs_a_location_and_a_limit() {
    let mut p = good();
    p.locations.clear();
    p.steps.clear();
    p.coefficients = vec![vec![]];
    p.tonnage_cap = None;
    let m = refused(&p, |e| matches!(e, SpatialError::NoLocations));
    assert!(m.contains("SPATIAL_NO_LOCATIONS"), "{m}");

    // No receptors and no cap: nothing would limit the trades.
    let mut p = good();
    p.receptors.clear();
    p.coefficients.clear();
    p.tonnage_cap = None;
    let m = refused(&p, |e| matches!(e, SpatialError::Unconstrained));
    assert!(
        m.contains("SPATIAL_UNCONSTRAINED") && m.contains("tonnage cap"),
        "{m}"
    );

    // The same in a case file.
    let text = shared_case_with(|v| {
        v["receptors"] = serde_json::json!([]);
        v["transfer_coefficients"] = serde_json::json!({});
        v["headroom"] = serde_json::json!({});
    });
    let (kind, _) = case_error(&text);
    assert_eq!(kind, CaseErrorKind::Problem(SpatialError::Unconstrained));
    let text = shared_case_with(|v| {
        v["locations"] = serde_json::json!([]);
        v["transfer_coefficients"] = serde_json::json!({});
        v["bids"] = serde_json::json!([]);
    });
    let (kind, _) = case_error(&text);
    assert_eq!(kind, CaseErrorKind::Problem(SpatialError::NoLocations));

    // No receptors but a cap: clears. Cap 5 with weights 1, 1; s sells 10 at A (30 CNY), b buys
    // 10 at B (100 CNY). By hand: b - s <= 5, so b = 10 (full) and s = 5 (partial); s partial
    // gives pi_A = lambda = 3000 fen, pi_B = 3000 <= 10000. Surplus 100,000 - 15,000 = 85,000
    // fen; revenue 3000 x 10 - 3000 x 5 = 15,000 = lambda x K.
    let mut p = good();
    p.receptors.clear();
    p.coefficients.clear();
    p.tonnage_cap.as_mut().unwrap().cap = 5.0;
    let c = clear(&p, SolverChoice::Default).unwrap();
    assert_eq!(c.fills, [5, 10]);
    assert_eq!(c.cap_price, Some(3_000.0));
    assert_eq!(c.settlement_prices, [3_000, 3_000]);
    assert_eq!(c.total_surplus, 85_000);
    assert_eq!(c.operator_revenue, 15_000);
}

#[test]
fn extreme_inputs_within_the_bounds_never_break_a_limit() {
    // Seeded random problems at the edges of every bound: quantities 1 to 10^12 lots, prices 1
    // to 10^12 fen, coefficients 10^-6 to 10^6, headroom 0 or up to 10^12, some negative. Each
    // may clear or be refused with a numerical failure (the solver's precision has limits), but
    // none may panic, and a clearing keeps every non-negative headroom, the cap and the price
    // guarantees.
    fn log_uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
        rng.random_range(lo.ln()..=hi.ln()).exp()
    }
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut cleared, mut failed) = (0, 0);
    for n in 0..300 {
        let n_loc = rng.random_range(1..=6);
        let n_rec = rng.random_range(1..=4);
        let p = Problem {
            locations: (0..n_loc).map(|i| format!("L{i}")).collect(),
            receptors: (0..n_rec)
                .map(|r| ReceptorSpec {
                    id: format!("R{r}"),
                    headroom: match rng.random_range(0..4) {
                        0 => 0.0,
                        1 => -log_uniform(&mut rng, 1.0, 1e6),
                        _ => log_uniform(&mut rng, 1.0, HEADROOM_MAX),
                    },
                })
                .collect(),
            coefficients: (0..n_rec)
                .map(|_| {
                    (0..n_loc)
                        .map(|_| {
                            if rng.random_bool(0.2) {
                                0.0
                            } else {
                                log_uniform(&mut rng, 1e-6, COEFFICIENT_MAX)
                            }
                        })
                        .collect()
                })
                .collect(),
            tonnage_cap: rng.random_bool(0.3).then(|| TonnageCap {
                cap: log_uniform(&mut rng, 1.0, CAP_MAX),
                weights: (0..n_loc).map(|_| rng.random_range(0..=2) as f64).collect(),
            }),
            steps: (0..rng.random_range(1..=15))
                .map(|k| Step {
                    id: format!("k{k}"),
                    location: rng.random_range(0..n_loc),
                    side: if rng.random_bool(0.5) {
                        Side::Buy
                    } else {
                        Side::Sell
                    },
                    quantity: log_uniform(&mut rng, 1.0, QUANTITY_MAX as f64) as u64,
                    price: log_uniform(&mut rng, 1.0, PRICE_MAX as f64) as i64,
                })
                .collect(),
            violation_price: None,
        };
        p.validate().unwrap();
        let result = std::panic::catch_unwind(|| clear(&p, SolverChoice::Default));
        match result.unwrap_or_else(|_| panic!("problem {n} panicked: {p:?}")) {
            Ok(c) => {
                cleared += 1;
                assert_keeps_limits(&p, &c, n);
            }
            Err(SpatialError::Solver(_) | SpatialError::Overflow(_)) => failed += 1,
            Err(e) => panic!("problem {n}: unexpected {e:?}"),
        }
    }
    // Most of them clear.
    assert!(cleared > 2 * failed, "{cleared} cleared, {failed} failed");
}

/// Every non-negative headroom and the cap kept after rounding (within the float noise of the
/// load, `(n + 1) x f64::EPSILON x sum_i |a_i D_i|`), fills within quantities, and the price
/// guarantees.
fn assert_keeps_limits(p: &Problem, c: &Clearing, n: usize) {
    let allowance = |coefficients: &[f64], bound: f64| {
        let size: f64 = coefficients
            .iter()
            .zip(&c.net_change)
            .map(|(a, &d)| (a * d as f64).abs())
            .sum();
        bound + 1e-9 * bound.abs().max(1.0) + (p.locations.len() + 1) as f64 * f64::EPSILON * size
    };
    for (r, spec) in p.receptors.iter().enumerate() {
        if spec.headroom >= 0.0 {
            let limit = allowance(&p.coefficients[r], spec.headroom);
            assert!(
                c.receptor_load[r] <= limit,
                "problem {n}: {} loaded {} > {limit}",
                spec.id,
                c.receptor_load[r]
            );
            assert_eq!(
                c.receptor_slack[r], 0.0,
                "problem {n}: slack on {}",
                spec.id
            );
        }
    }
    if let (Some(cap), Some(load)) = (&p.tonnage_cap, c.cap_load) {
        assert!(
            load <= allowance(&cap.weights, cap.cap),
            "problem {n}: cap loaded {load}"
        );
    }
    for (k, s) in p.steps.iter().enumerate() {
        assert!(c.fills[k] <= s.quantity);
        if c.fills[k] > 0 {
            let price = c.settlement_prices[s.location];
            match s.side {
                Side::Buy => assert!(price <= s.price, "problem {n}: {} pays {price}", s.id),
                Side::Sell => assert!(price >= s.price, "problem {n}: {} gets {price}", s.id),
            }
        }
    }
}

#[test]
fn inputs_beyond_the_bounds_are_refused_before_the_solver() {
    // What used to reach the solver ("may clear or be refused, must not panic") is now refused
    // up front, each with its own error; the one valid case clears.
    let mut p = good();
    p.coefficients[0] = vec![1e-300, 1e300];
    refused(
        &p,
        |e| matches!(e, SpatialError::BadCoefficient { value, .. } if *value == 1e300),
    );
    let mut p = good();
    p.violation_price = Some(1e300);
    p.receptors[0].headroom = -1e6;
    refused(&p, |e| matches!(e, SpatialError::BadViolationPrice { .. }));
    let mut p = good();
    for s in &mut p.steps {
        s.price = i64::MAX;
        s.quantity = QUANTITY_MAX;
    }
    refused(
        &p,
        |e| matches!(e, SpatialError::PriceTooLarge { step, .. } if step == "s"),
    );
    let mut p = good();
    p.receptors[0].headroom = 1e300;
    p.tonnage_cap = None;
    refused(&p, |e| matches!(e, SpatialError::BadHeadroom { .. }));
    // No steps and an existing violation: nothing to trade, the slack carries it (3 units at
    // the violation price 1, the default with no step price).
    let mut p = good();
    p.steps.clear();
    p.receptors[0].headroom = -3.0;
    let c = clear(&p, SolverChoice::Default).unwrap();
    assert_eq!(c.fills, Vec::<u64>::new());
    assert_eq!(c.violation_price, 1.0);
    assert_eq!(c.receptor_slack, [3.0]);
    assert_eq!(c.receptor_prices, [1.0]);
    assert_eq!(c.operator_revenue, 0);
}
