//! Properties of every clearing over random instances (2-6 locations, 1-4 receptors, headroom
//! at least 0, an optional cap, up to 14 steps with few distinct prices so that ties and
//! degenerate vertices are common): after rounding no receptor or cap over its limit, settled
//! operator revenue at least 0, fills within quantities, buyers paying at most and sellers
//! receiving at least their prices, the LP optimal (its surplus equals the dual value of the
//! recovered prices), and clearing twice giving identical results. A second property allows
//! negative headroom: the priced slack keeps the clearing feasible and optimal.

use proptest::prelude::*;
use yrd_spatial::{Clearing, Problem, ReceptorSpec, Side, SolverChoice, Step, TonnageCap, clear};

fn arb_problem() -> impl Strategy<Value = Problem> {
    arb_problem_with(0)
}

/// Headroom in `[-violation / 2, 30]` (some exactly 0).
fn arb_problem_with(violation: u32) -> impl Strategy<Value = Problem> {
    (2usize..=6, 1usize..=4).prop_flat_map(move |(n_loc, n_rec)| {
        let coefficient = prop_oneof![Just(0.0), (1u32..=40).prop_map(|k| k as f64 * 0.05)];
        let headroom = prop_oneof![
            Just(0.0),
            (0u32..=60 + violation).prop_map(move |k| k as f64 * 0.5 - violation as f64 * 0.5)
        ];
        let step = (0..n_loc, any::<bool>(), 1u64..=20, 1i64..=12);
        let cap = prop::option::of((
            0u32..=20,
            prop::collection::vec(prop_oneof![Just(0.0), Just(1.0), Just(0.5)], n_loc),
        ));
        (
            prop::collection::vec(prop::collection::vec(coefficient, n_loc), n_rec),
            prop::collection::vec(headroom, n_rec),
            prop::collection::vec(step, 0..=14),
            cap,
        )
            .prop_map(move |(coefficients, headroom, steps, cap)| Problem {
                locations: (0..n_loc).map(|i| format!("L{i}")).collect(),
                receptors: headroom
                    .into_iter()
                    .enumerate()
                    .map(|(r, h)| ReceptorSpec {
                        id: format!("R{r}"),
                        headroom: h,
                    })
                    .collect(),
                coefficients,
                tonnage_cap: cap.map(|(k, weights)| TonnageCap {
                    cap: k as f64,
                    weights,
                }),
                steps: steps
                    .into_iter()
                    .enumerate()
                    .map(|(k, (location, buy, quantity, price))| Step {
                        id: format!("k{k}"),
                        location,
                        side: if buy { Side::Buy } else { Side::Sell },
                        quantity,
                        // Ten-yuan price points: many ties across and within locations.
                        price: price * 1_000,
                    })
                    .collect(),
                violation_price: None,
            })
    })
}

/// `sum_r mu_r H_r + lambda K + sum_buy Q (p - pi)^+ + sum_sell Q (pi - c)^+`: the LP dual's
/// value at the recovered prices, equal to the maximum surplus when they are dual-optimal.
fn dual_value(p: &Problem, c: &Clearing) -> f64 {
    let receptors: f64 = p
        .receptors
        .iter()
        .zip(&c.receptor_prices)
        .map(|(r, mu)| mu * r.headroom)
        .sum();
    let cap = p
        .tonnage_cap
        .as_ref()
        .map_or(0.0, |t| t.cap * c.cap_price.unwrap_or(0.0));
    let steps: f64 = p
        .steps
        .iter()
        .map(|s| {
            let pi = c.locational_prices[s.location];
            let gain = match s.side {
                Side::Buy => s.price as f64 - pi,
                Side::Sell => pi - s.price as f64,
            };
            s.quantity as f64 * gain.max(0.0)
        })
        .sum();
    receptors + cap + steps
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_clearing_keeps_the_rules(p in arb_problem()) {
        let c = clear(&p, SolverChoice::Default).unwrap();
        // Fills within quantities; a rounded fill is below its continuous share plus one lot (the
        // largest-remainder split may give a step the lot its share began).
        for (k, s) in p.steps.iter().enumerate() {
            prop_assert!(c.fills[k] <= s.quantity);
            prop_assert!(c.continuous_fills[k] <= s.quantity as f64 + 1e-9);
            prop_assert!((c.fills[k] as f64) < c.continuous_fills[k] + 1.0);
        }
        // No receptor over its headroom after rounding; the cap kept.
        for (r, spec) in p.receptors.iter().enumerate() {
            prop_assert!(
                c.receptor_load[r] <= spec.headroom + 1e-6 * spec.headroom.max(1.0),
                "receptor {} load {} > headroom {}", r, c.receptor_load[r], spec.headroom
            );
            prop_assert!(c.receptor_slack[r] <= 1e-6);
        }
        if let (Some(cap), Some(load)) = (&p.tonnage_cap, c.cap_load) {
            prop_assert!(load <= cap.cap + 1e-6 * cap.cap.max(1.0));
        }
        // The operator never loses money when every headroom is non-negative.
        prop_assert!(c.operator_revenue >= 0, "revenue {}", c.operator_revenue);
        prop_assert!(c.operator_revenue_continuous >= -1e-6 * (1.0 + c.total_surplus_continuous.abs()));
        // Buyers pay at most their price, sellers receive at least theirs.
        for (k, s) in p.steps.iter().enumerate() {
            if c.fills[k] == 0 {
                continue;
            }
            let price = c.settlement_prices[s.location];
            match s.side {
                Side::Buy => prop_assert!(price <= s.price, "{} pays {} > {}", s.id, price, s.price),
                Side::Sell => prop_assert!(price >= s.price, "{} gets {} < {}", s.id, price, s.price),
            }
        }
        // Prices: non-negative, pi = A' mu + w lambda.
        for (i, &pi) in c.locational_prices.iter().enumerate() {
            prop_assert!(pi >= -1e-9);
            let rebuilt: f64 = (0..p.receptors.len())
                .map(|r| p.coefficients[r][i] * c.receptor_prices[r])
                .sum::<f64>()
                + p.tonnage_cap.as_ref().map_or(0.0, |t| t.weights[i] * c.cap_price.unwrap_or(0.0));
            prop_assert!((rebuilt - pi).abs() <= 1e-9 * pi.abs().max(1.0));
        }
        // Strong duality: the continuous surplus equals the dual value at the prices, so the fills
        // are optimal and the prices dual-optimal. Rounding can only lose surplus.
        let scale = 1.0 + c.total_surplus_continuous.abs();
        prop_assert!(
            (dual_value(&p, &c) - c.total_surplus_continuous).abs() <= 1e-6 * scale,
            "dual {} vs primal {}", dual_value(&p, &c), c.total_surplus_continuous
        );
        prop_assert!(c.total_surplus as f64 <= c.total_surplus_continuous + 1e-6 * scale);
        // Bit for bit the same on a second run.
        let again = clear(&p, SolverChoice::Default).unwrap();
        prop_assert_eq!(format!("{c:?}"), format!("{again:?}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// With existing violations (negative headroom) the clearing still succeeds, keeps the price
    /// guarantees and every non-negative headroom (even with a violation price too low to deter
    /// a buyer: only a negative headroom has a slack), and the penalised LP is optimal: surplus -
    /// M x total slack = the dual value.
    #[test]
    fn negative_headroom_clears_with_priced_slack(
        mut p in arb_problem_with(40),
        m in prop::option::of(1u32..=50),
    ) {
        p.violation_price = m.map(|m| m as f64 * 1_000.0);
        let c = clear(&p, SolverChoice::Default).unwrap();
        for (k, s) in p.steps.iter().enumerate() {
            prop_assert!(c.fills[k] <= s.quantity);
            if c.fills[k] == 0 {
                continue;
            }
            let price = c.settlement_prices[s.location];
            match s.side {
                Side::Buy => prop_assert!(price <= s.price),
                Side::Sell => prop_assert!(price >= s.price),
            }
        }
        for (r, &mu) in c.receptor_prices.iter().enumerate() {
            if p.receptors[r].headroom >= 0.0 {
                // No slack, whatever the violation price: the headroom is kept (after rounding
                // too), and its price is not capped by M.
                prop_assert_eq!(c.receptor_slack[r], 0.0);
                let limit = p.receptors[r].headroom * (1.0 + 1e-9) + 1e-9;
                prop_assert!(c.receptor_load[r] <= limit, "receptor {} overloaded", r);
                continue;
            }
            prop_assert!(mu <= c.violation_price * (1.0 + 1e-9), "mu {} of {} above M", mu, r);
            if c.receptor_slack[r] > 1e-6 {
                prop_assert_eq!(mu, c.violation_price);
            }
        }
        let penalty: f64 = c.receptor_slack.iter().sum::<f64>() * c.violation_price;
        let primal = c.total_surplus_continuous - penalty;
        let scale = 1.0 + c.total_surplus_continuous.abs() + penalty.abs();
        prop_assert!(
            (dual_value(&p, &c) - primal).abs() <= 1e-6 * scale,
            "dual {} vs primal {}", dual_value(&p, &c), primal
        );
    }
}
