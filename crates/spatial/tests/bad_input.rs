//! Bad input is refused with an error naming the item, never a panic: every check of
//! `Problem::validate` (through `clear`), and the case-file reader's checks.

use yrd_spatial::case::{Case, CaseErrorKind};
use yrd_spatial::{
    Problem, ReceptorSpec, Side, SolverChoice, SpatialError, Step, TonnageCap, clear,
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

    let mut p = good();
    p.steps[0].quantity = 1_000_000_000_000_001;
    refused(&p, |e| matches!(e, SpatialError::QuantityTooLarge { .. }));

    let mut p = good();
    p.steps = (0..1_001)
        .map(|k| Step {
            id: format!("s{k}"),
            location: 0,
            side: Side::Sell,
            quantity: 1_000_000_000_000_000,
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
fn extreme_but_valid_inputs_do_not_panic() {
    // Each may clear or be refused (an overflow, a solver failure), but must not panic.
    let mut cases = Vec::new();
    let mut p = good();
    p.coefficients[0] = vec![1e-300, 1e300];
    cases.push(p);
    let mut p = good();
    p.violation_price = Some(1e300);
    p.receptors[0].headroom = -1e6;
    cases.push(p);
    let mut p = good();
    for s in &mut p.steps {
        s.price = i64::MAX;
        s.quantity = yrd_spatial::QUANTITY_MAX;
    }
    cases.push(p);
    let mut p = good();
    p.receptors[0].headroom = 1e300;
    p.tonnage_cap = None;
    cases.push(p);
    let mut p = good();
    p.steps.clear();
    p.receptors[0].headroom = -3.0;
    cases.push(p);
    let mut p = good();
    p.locations.clear();
    p.steps.clear();
    p.coefficients = vec![vec![]];
    p.tonnage_cap = None;
    cases.push(p);
    for (n, p) in cases.iter().enumerate() {
        let result = std::panic::catch_unwind(|| clear(p, SolverChoice::Default));
        assert!(result.is_ok(), "case {n} panicked");
    }
}
