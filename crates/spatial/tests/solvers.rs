//! With the `highs` feature: microlp and HiGHS agree - exactly (within 1e-6) on the shared case,
//! whose solution is unique, and on the maximum surplus of random instances (where several
//! clearings may share the maximum, so fills and prices may differ).
#![cfg(feature = "highs")]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yrd_spatial::case::Case;
use yrd_spatial::{Problem, ReceptorSpec, Side, SolverChoice, Step, TonnageCap, clear};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn both_solvers_agree_on_the_shared_case() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/cases/spatial/river3_two_sections.json"
    );
    let case = Case::from_json_str(&std::fs::read_to_string(path).unwrap(), path).unwrap();
    let p = case.to_problem().unwrap();
    let a = clear(&p, SolverChoice::Default).unwrap();
    let b = clear(&p, SolverChoice::Highs).unwrap();
    assert_eq!(a.fills, b.fills);
    assert_eq!(a.settlement_prices, b.settlement_prices);
    assert_eq!(a.operator_revenue, b.operator_revenue);
    for (x, y) in a.receptor_prices.iter().zip(&b.receptor_prices) {
        assert!(close(*x, *y), "{x} vs {y}");
    }
    for (x, y) in a.continuous_fills.iter().zip(&b.continuous_fills) {
        assert!(close(*x, *y), "{x} vs {y}");
    }
    assert!(close(
        a.total_surplus_continuous,
        b.total_surplus_continuous
    ));
}

/// A random instance: 5-30 locations, 1-14 receptors (a tenth of them already violated), an
/// optional cap, 10-400 steps.
fn random_problem(seed: u64) -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let nl = rng.random_range(5..30);
    let nr = rng.random_range(1..15);
    Problem {
        locations: (0..nl).map(|i| format!("L{i}")).collect(),
        receptors: (0..nr)
            .map(|r| ReceptorSpec {
                id: format!("R{r}"),
                headroom: if rng.random_bool(0.4) {
                    0.0
                } else if rng.random_bool(0.1) {
                    -rng.random_range(0.0..50.0)
                } else {
                    rng.random_range(0.0..200.0)
                },
            })
            .collect(),
        coefficients: (0..nr)
            .map(|_| {
                (0..nl)
                    .map(|_| {
                        if rng.random_bool(0.3) {
                            0.0
                        } else {
                            rng.random_range(0.0..2.0)
                        }
                    })
                    .collect()
            })
            .collect(),
        tonnage_cap: rng.random_bool(0.3).then(|| TonnageCap {
            cap: rng.random_range(0.0..100.0),
            weights: (0..nl).map(|_| rng.random_range(0.0..1.5)).collect(),
        }),
        steps: (0..rng.random_range(10..400))
            .map(|k| Step {
                id: format!("k{k}"),
                location: rng.random_range(0..nl),
                side: if rng.random_bool(0.5) {
                    Side::Buy
                } else {
                    Side::Sell
                },
                quantity: rng.random_range(1..1000),
                price: rng.random_range(1..200) * if rng.random_bool(0.5) { 100 } else { 7 },
            })
            .collect(),
        violation_price: None,
    }
}

#[test]
fn both_solvers_reach_the_same_surplus_on_random_instances() {
    for seed in 0..150 {
        let p = random_problem(seed);
        let a = clear(&p, SolverChoice::Default).unwrap();
        let b = clear(&p, SolverChoice::Highs).unwrap();
        // The LP objective: surplus less the penalised slack (the slack is 0 without violations).
        let objective = |c: &yrd_spatial::Clearing| {
            c.total_surplus_continuous - c.violation_price * c.receptor_slack.iter().sum::<f64>()
        };
        assert!(
            close(a.total_surplus_continuous, b.total_surplus_continuous),
            "seed {seed}: surplus {} vs {}",
            a.total_surplus_continuous,
            b.total_surplus_continuous
        );
        assert!(
            close(objective(&a), objective(&b)),
            "seed {seed}: objective"
        );
    }
}
