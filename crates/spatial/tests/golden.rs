//! Golden cases: the shared river case and the hand-worked cases in `tests/cases/` (each file's
//! `description` carries the arithmetic; the figures are repeated in the comments here). Every
//! number of a case's `expected` block is compared with the engine's output in case units.

use serde_json::Value;
use std::path::PathBuf;
use yrd_spatial::case::Case;
use yrd_spatial::{Clearing, Problem, ReceptorSpec, Side, SolverChoice, Step, clear};

fn shared_case() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/cases/spatial/river3_two_sections.json")
}

fn own_case(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases")
        .join(name)
}

fn run(path: &PathBuf) -> (Case, Problem, Clearing, Value) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("case file {} not readable: {e}", path.display()));
    let case = Case::from_json_str(&text, &path.display().to_string()).unwrap();
    let problem = case.to_problem().unwrap();
    let clearing = clear(&problem, SolverChoice::Default).unwrap();
    let out = case.output(&clearing);
    (case, problem, clearing, out)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

/// Every number in `expected` (recursively; strings such as notes are skipped) is within 1e-6 of
/// the number at the same place in `got`.
fn assert_matches(expected: &Value, got: &Value, path: &str) {
    match expected {
        Value::Number(n) => {
            let e = n.as_f64().unwrap();
            let g = got
                .as_f64()
                .unwrap_or_else(|| panic!("{path}: expected {e}, got {got}"));
            assert!(close(g, e), "{path}: expected {e}, got {g}");
        }
        Value::Object(map) => {
            for (k, v) in map {
                if v.is_string() {
                    continue;
                }
                let g = got
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} missing from the output"));
                assert_matches(v, g, &format!("{path}.{k}"));
            }
        }
        Value::Null => assert!(got.is_null(), "{path}: expected null, got {got}"),
        other => panic!("{path}: unexpected expected value {other}"),
    }
}

/// The rounded fills equal the expected ones exactly.
fn assert_fills(case: &Case, clearing: &Clearing) {
    let expected = case.expected.as_ref().unwrap()["fills"]
        .as_object()
        .unwrap();
    for (bid, &fill) in case.bids.iter().zip(&clearing.fills) {
        let want = expected[&bid.id].as_f64().unwrap();
        assert_eq!(fill as f64 * case.trading_unit, want, "fill of {}", bid.id);
    }
}

/// Filled buyers pay at most their price, filled sellers receive at least theirs.
fn assert_price_guarantees(problem: &Problem, clearing: &Clearing) {
    for (step, &fill) in problem.steps.iter().zip(&clearing.fills) {
        if fill == 0 {
            continue;
        }
        let p = clearing.settlement_prices[step.location];
        match step.side {
            yrd_spatial::Side::Buy => assert!(p <= step.price, "{} pays {p}", step.id),
            yrd_spatial::Side::Sell => assert!(p >= step.price, "{} gets {p}", step.id),
        }
    }
}

fn check_own(name: &str) -> (Case, Problem, Clearing, Value) {
    let (case, problem, clearing, out) = run(&own_case(name));
    assert_matches(case.expected.as_ref().unwrap(), &out, name);
    assert_fills(&case, &clearing);
    assert_price_guarantees(&problem, &clearing);
    (case, problem, clearing, out)
}

#[test]
fn shared_river_case_matches_before_and_after_rounding() {
    // By hand: s1a (20) and s1b (50) sell at P1, b1 (100) and s2 (70) at P2, b2a (90), b2b (40),
    // s3 (60) at P3. Fills s1a 10, b1 10, s2 4 (partial), b2a 10, b2b 5 (partial): D = (-10, 6,
    // 15). R1: 0.6 x -10 + 6 = 0 = headroom; R2: 0.3 x -10 + 0.5 x 6 + 15 = 15 = headroom. s2
    // partial: pi_P2 = mu1 + 0.5 mu2 = 70; b2b partial: pi_P3 = mu2 = 40; so mu1 = 50 and
    // pi_P1 = 0.6 x 50 + 0.3 x 40 = 42 (s1a full: 20 <= 42; s1b out: 50 >= 42). Surplus
    // 1000 + 900 + 200 - 200 - 280 = 1620; revenue -420 + 420 + 600 = 600 = 40 x 15.
    let (case, problem, clearing, out) = run(&shared_case());
    let expected = case.expected.clone().unwrap();
    // Output keys: exactly the expected ones (less the notes) plus `details`.
    let mut keys: Vec<&str> = out
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut want: Vec<&str> = expected
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| !v.is_string())
        .map(|(k, _)| k.as_str())
        .chain(["details"])
        .collect();
    want.sort_unstable();
    assert_eq!(keys, want);
    // Before rounding: the continuous fills, net change, surplus and revenue.
    let details = &out["details"];
    assert_matches(
        &expected["fills"],
        &details["continuous_fills"],
        "continuous fills",
    );
    assert_matches(
        &expected["net_change"],
        &details["continuous_net_change"],
        "continuous net change",
    );
    assert_matches(
        &expected["total_surplus"],
        &details["total_surplus_continuous"],
        "continuous surplus",
    );
    assert_matches(
        &expected["operator_revenue"],
        &details["operator_revenue_continuous"],
        "continuous revenue",
    );
    assert_matches(
        &expected["receptor_prices"],
        &out["receptor_prices"],
        "prices",
    );
    assert_matches(
        &expected["locational_prices"],
        &out["locational_prices"],
        "prices",
    );
    // After rounding: every figure, and the fills exactly.
    assert_matches(&expected, &out, "expected");
    assert_fills(&case, &clearing);
    assert_price_guarantees(&problem, &clearing);
    assert_eq!(clearing.total_surplus, 162_000);
    assert_eq!(clearing.operator_revenue, 60_000);
    assert_eq!(clearing.settlement_prices, [4_200, 7_000, 4_000]);
    // pi_P1 / pi_P2 = 0.6 = a_R1,P1 / a_R1,P2 is not a coincidence here: R1 alone links them...
    // only once R2's share is taken out: (42 - 0.3 x 40) / (70 - 0.5 x 40) = 30 / 50 = 0.6.
    let pi = &clearing.locational_prices;
    let mu2 = clearing.receptor_prices[1];
    assert!(close((pi[0] - 0.3 * mu2) / (pi[1] - 0.5 * mu2), 0.6));
}

#[test]
fn a_one_binding_receptor_prices_in_the_ratio_of_coefficients() {
    // sA sells 10 t (5 units), bB buys 5 of its 10 t: mu = 100, pi_A = 50, pi_B = 100.
    let (_, problem, clearing, _) = check_own("a_one_binding_receptor.json");
    let pi = &clearing.locational_prices;
    let a = &problem.coefficients[0];
    assert!(close(pi[0] / pi[1], a[0] / a[1]), "{pi:?} vs {a:?}");
    assert!(close(pi[0] / pi[1], 0.5));
    assert_eq!(clearing.receptor_binding, [true]);
}

#[test]
fn b_river_chain_reproduces_trading_ratios() {
    // Only S3 binds: pi = 25 : 40 : 50 = 0.5 : 0.8 : 1.0, S3's coefficients, and the upstream
    // sections carry no price.
    let (_, problem, clearing, _) = check_own("b_river_chain_trading_ratios.json");
    let pi = &clearing.locational_prices;
    let s3 = &problem.coefficients[2];
    for (i, j) in [(0, 1), (0, 2), (1, 2)] {
        assert!(close(pi[i] / pi[j], s3[i] / s3[j]), "ratio {i}/{j}");
    }
    assert_eq!(clearing.receptor_binding, [false, false, true]);
    assert_eq!(clearing.receptor_prices[..2], [0.0, 0.0]);
}

#[test]
fn c_cap_binds_with_a_receptor() {
    // lambda = 20 (sB partial at B, which only the cap prices), mu = 80 - 20 = 60.
    let (_, _, clearing, _) = check_own("c_cap_and_receptor.json");
    assert!(clearing.cap_binding);
    assert!(close(clearing.cap_price.unwrap(), 2_000.0));
    assert_eq!(clearing.cap_load, Some(5.0));
    // Revenue = mu x H + lambda x K = 60 x 0 + 20 x 5 = 100 CNY.
    assert_eq!(clearing.operator_revenue, 10_000);
}

#[test]
fn d_negative_headroom_uses_the_priced_slack_and_the_operator_pays() {
    // Slack 4 units priced at the violation price 1000 CNY: sA is paid 1000 CNY/t for 6 t, so
    // the operator pays 6000 CNY (revenue -6000 = 1000 x (-10 + 4)).
    let (_, _, clearing, _) = check_own("d_infeasible_start.json");
    assert!(close(clearing.receptor_slack[0], 4.0));
    assert!(close(clearing.violation_price, 100_000.0));
    assert_eq!(clearing.operator_revenue, -600_000);
    assert_eq!(clearing.settlement_prices, [100_000, 50_000]);
}

#[test]
fn e_equal_prices_share_pro_rata_with_largest_remainders() {
    // Continuous 13, 6.5, 6.5 of 26; whole tonnes 13, 7 (remainder tie, first in input), 6.
    let (_, _, clearing, _) = check_own("e_pro_rata_ties.json");
    assert_eq!(clearing.fills, [13, 7, 6, 26]);
    assert_eq!(clearing.continuous_fills, [13.0, 6.5, 6.5, 26.0]);
}

#[test]
fn f_lowest_prices_rule_picks_among_supporting_prices() {
    // Any pi in [30, 70] supports the clearing; least sum (30), then least mu_R1 (0).
    let (_, _, clearing, _) = check_own("f_lowest_prices.json");
    assert_eq!(clearing.settlement_prices, [3_000, 3_000]);
    assert!(
        clearing.receptor_prices[0].abs() < 1e-6,
        "{:?}",
        clearing.receptor_prices
    );
    assert!(close(clearing.receptor_prices[1], 3_000.0));
}

#[test]
fn g_rounding_repairs_the_receptor_then_the_revenue() {
    // Continuous 5.333 lots of sA, 2 of bB; floors 5 and 2 overload R by 1 (limit 4): bB cut by
    // 1 lot; settled revenue -333.33 CNY: sA cut by 2 lots; fills 3 lots and 1 lot.
    let (_, problem, clearing, _) = check_own("g_rounding_repair.json");
    assert_eq!(clearing.fills, [3, 1]);
    assert!(close(clearing.continuous_fills[0], 16.0 / 3.0));
    assert_eq!(clearing.settlement_prices, [20_000, 66_667]);
    assert_eq!(clearing.operator_revenue, 6_667);
    assert_eq!(clearing.total_surplus, 40_000);
    assert!(clearing.receptor_load[0] <= problem.receptors[0].headroom);
    assert!(close(clearing.receptor_load[0], 1.0));
}

#[test]
fn clearing_twice_is_bit_identical() {
    for path in [
        shared_case(),
        own_case("c_cap_and_receptor.json"),
        own_case("g_rounding_repair.json"),
    ] {
        let (_, problem, first, out) = run(&path);
        let second = clear(&problem, SolverChoice::Default).unwrap();
        assert_eq!(first, second);
        // PartialEq on f64 would let 0.0 == -0.0 pass: compare the bits as well.
        let bits = |c: &Clearing| -> Vec<u64> {
            c.continuous_fills
                .iter()
                .chain(&c.locational_prices)
                .chain(&c.receptor_prices)
                .map(|x| x.to_bits())
                .collect()
        };
        assert_eq!(bits(&first), bits(&second));
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            serde_json::to_string(&run(&path).3).unwrap()
        );
    }
}

#[test]
fn hotspots_of_the_uniform_pool_on_the_shared_case() {
    // Buys by price: b1 100, b2a 90, b2b 40; sells: s1a 20, s1b 50, s3 60, s2 70. Pairs: s1a -> b1
    // 10 t, s1b -> b2a 10 t; then b2b 40 < s3 60. Clearing interval [max(50, 40), min(90, 60)] =
    // [50, 60]: price 55 CNY. Own load changes: s1a (P1) -> b1 (P2): R1 10 x (1.0 - 0.6) = +4 > 0
    // = headroom (hot spot), R2 10 x (0.5 - 0.3) = +2; s1b (P1) -> b2a (P3): R1 -6, R2 +7 <= 15.
    // The whole set: R1 -2, R2 +9, within both; the smart market loads R1 0 and R2 15.
    use yrd_spatial::hotspots::{analyse, uniform_pool};
    let (_, problem, clearing, _) = run(&shared_case());
    let pool = uniform_pool(&problem);
    assert_eq!(pool.price, Some(5_500));
    let pairs: Vec<(&str, &str, u64)> = pool
        .trades
        .iter()
        .map(|t| {
            (
                problem.steps[t.seller_step.unwrap()].id.as_str(),
                problem.steps[t.buyer_step.unwrap()].id.as_str(),
                t.quantity,
            )
        })
        .collect();
    assert_eq!(pairs, [("s1a", "b1", 10), ("s1b", "b2a", 10)]);
    let report = analyse(&problem, &pool.trades, &clearing).unwrap();
    let hot: Vec<usize> = report.hot_trades().map(|t| t.trade).collect();
    assert_eq!(hot, [0]);
    assert_eq!(report.trades[0].over, [0]);
    assert!(close(report.trades[0].load[0], 4.0));
    assert!(close(report.trades[1].load[1], 7.0));
    assert!(close(report.receptors[0].trades_load, -2.0));
    assert!(close(report.receptors[1].trades_load, 9.0));
    assert!(!report.receptors[0].hot_spot && !report.receptors[1].hot_spot);
    assert!(close(report.receptors[1].smart_load, 15.0));
}

/// The shared river case as a problem (lots = tonnes, fen per lot).
fn shared_problem() -> Problem {
    let path = shared_case();
    let text = std::fs::read_to_string(&path).unwrap();
    Case::from_json_str(&text, &path.display().to_string())
        .unwrap()
        .to_problem()
        .unwrap()
}

/// Every receptor with a non-negative headroom and the cap within their bounds after rounding,
/// and the price guarantees kept.
fn assert_limits_kept(problem: &Problem, clearing: &Clearing) {
    for (r, spec) in problem.receptors.iter().enumerate() {
        if spec.headroom >= 0.0 {
            let load = clearing.receptor_load[r];
            assert!(
                load <= spec.headroom + 1e-9 * spec.headroom.max(1.0),
                "receptor {} loaded {load} > headroom {}",
                spec.id,
                spec.headroom
            );
            assert_eq!(clearing.receptor_slack[r], 0.0, "slack on {}", spec.id);
        }
    }
    if let (Some(cap), Some(load)) = (&problem.tonnage_cap, clearing.cap_load) {
        assert!(
            load <= cap.cap + 1e-9 * cap.cap.max(1.0),
            "cap loaded {load}"
        );
    }
    assert_price_guarantees(problem, clearing);
}

#[test]
fn a_huge_cheap_seller_keeps_every_receptor_within_its_headroom() {
    // The tester's case: s1a (20 CNY at P1) offers 10^11 t instead of 10. Its fill used to be
    // classed "unfilled" (within 1e-9 x 10^11 = 100 lots of 0), so the clearing loaded R1 by +10
    // against headroom 0 and R2 by 20 against 15, with exit code 0.
    //
    // By hand: s1a is now the cheap source of relief, 0.6 units of R1 and 0.3 of R2 per tonne at
    // 20. Fills b1 10, b2a 10, b2b y (partial), s1a z (partial), the rest 0. R1: -0.6 z + 10 = 0
    // gives z = 50/3 = 16.667; R2: -0.3 z + 5 + 10 + y = 15 gives y = 5. b2b partial: pi_P3 =
    // mu2 = 40; s1a partial: pi_P1 = 0.6 mu1 + 0.3 x 40 = 20, mu1 = 13.333; pi_P2 = mu1 + 0.5 mu2
    // = 33.333 (b1 at 100 full, s2 at 70 out); s1b (50) and s3 (60) out. Continuous surplus
    // 1000 + 900 + 200 - 333.33 = 1766.67; revenue 40 x 15 = 600.
    //
    // Whole lots: s1a floor(16.667) = 16, b2b 5. R1: -9.6 + 10 = 0.4 > 0: cut buys where R1 has a
    // positive coefficient, cheapest first: b2b and b2a (P3, coefficient 0) are skipped, b1 by
    // ceil(0.4 / 1) = 1 lot: R1 -0.6, R2 -4.8 + 4.5 + 15 = 14.7. Settled revenue (fen): 3333 x 9
    // + 4000 x 15 - 2000 x 16 = 29997 + 60000 - 32000 = 57997 >= 0. Surplus 900 + 900 + 200 -
    // 320 = 1680 CNY.
    let mut problem = shared_problem();
    assert_eq!(problem.steps[0].id, "s1a");
    problem.steps[0].quantity = 100_000_000_000;
    let c = clear(&problem, SolverChoice::Default).unwrap();
    assert_limits_kept(&problem, &c);
    assert!(
        close(c.continuous_fills[0], 50.0 / 3.0),
        "{:?}",
        c.continuous_fills
    );
    assert!(
        close(c.continuous_fills[5], 5.0),
        "{:?}",
        c.continuous_fills
    );
    // Steps: s1a, s1b, b1, s2, b2a, b2b, s3.
    assert_eq!(c.fills, [16, 0, 9, 0, 10, 5, 0]);
    assert!(
        close(c.receptor_prices[0], 4_000.0 / 3.0),
        "{:?}",
        c.receptor_prices
    );
    assert!(close(c.receptor_prices[1], 4_000.0));
    assert!(close(c.locational_prices[0], 2_000.0));
    assert!(close(c.locational_prices[1], 10_000.0 / 3.0));
    assert!(close(c.locational_prices[2], 4_000.0));
    assert_eq!(c.settlement_prices, [2_000, 3_333, 4_000]);
    assert!(close(c.receptor_load_continuous[0], 0.0));
    assert!(close(c.receptor_load_continuous[1], 15.0));
    assert!(close(c.receptor_load[0], -0.6));
    assert!(close(c.receptor_load[1], 14.7));
    assert_eq!(c.receptor_slack, [0.0, 0.0]);
    assert!(close(c.total_surplus_continuous, 176_666.0 + 2.0 / 3.0));
    assert!(close(c.operator_revenue_continuous, 60_000.0));
    assert_eq!(c.total_surplus, 168_000);
    assert_eq!(c.operator_revenue, 57_997);
}

#[test]
fn a_huge_buy_far_from_filled_is_solved_again_within_tighter_bounds() {
    // One buy of 71,089,128,932 lots at 8 fen at L1, where R0 (headroom 0) has a positive
    // coefficient: by hand nothing can be filled. The simplex starts the buy at its bound and
    // pulls it down to 1.3e-6 lots (10^11 - (10^11 - x) keeps five decimals), loading R0 by
    // 6.2e-7 > 0. The second solve, with every bound cut to 4 x the largest fill (at least 1
    // lot), gets 0 exactly. Prices: the unfilled buy needs pi_L1 >= 8; R0 and R1 bind (load 0 =
    // headroom), R1 has no coefficient at L1, so the least prices are mu_R0 = 8 / a_R0,L1 and
    // mu_R1 = 0.
    let coefficients = vec![
        vec![
            0.8353941262280938,
            0.4665191032235575,
            0.4115100241406049,
            0.90678282054035,
            0.2152550197403854,
        ],
        vec![
            0.39949885057567064,
            0.0,
            1.0066027276988714,
            0.0,
            0.1456193132960764,
        ],
        vec![
            0.0573326687634399,
            0.19320362330770988,
            0.28702277598681275,
            0.08877314724526982,
            0.0,
        ],
        vec![
            1.8226519592908446,
            0.6349351969702974,
            0.43574753277641004,
            0.14271116463336705,
            1.5195792786397044,
        ],
    ];
    let headroom = [0.0, 0.0, 42.570095423389596, 7.026841089997729];
    let problem = Problem {
        locations: (0..5).map(|i| format!("L{i}")).collect(),
        receptors: headroom
            .iter()
            .enumerate()
            .map(|(r, &h)| ReceptorSpec {
                id: format!("R{r}"),
                headroom: h,
            })
            .collect(),
        coefficients,
        tonnage_cap: None,
        steps: vec![Step {
            id: "k0".into(),
            location: 1,
            side: Side::Buy,
            quantity: 71_089_128_932,
            price: 8,
        }],
        violation_price: None,
    };
    let c = clear(&problem, SolverChoice::Default).unwrap();
    assert_limits_kept(&problem, &c);
    assert_eq!(c.fills, [0]);
    assert_eq!(c.continuous_fills, [0.0]);
    assert!(close(c.receptor_prices[0], 8.0 / 0.4665191032235575));
    assert_eq!(c.receptor_prices[1..], [0.0, 0.0, 0.0]);
    assert!(close(c.locational_prices[1], 8.0));
    assert_eq!(c.settlement_prices[1], 8);
    assert_eq!(c.total_surplus, 0);
}

#[test]
fn the_repair_ends_quickly_with_huge_quantities() {
    // R sees A at 0.3 and B at 1.0 per lot, headroom 0. sA sells 4 x 10^11 lots at 10^10 fen,
    // bB buys 10^11 lots at 5 x 10^10. Continuous: bB full, sA 10^11 / 0.3 = 3.333 x 10^11
    // (partial), so pi_A = 10^10, mu = 10^10 / 0.3 and pi_B = 33,333,333,333.33: settled at
    // 33,333,333,333 fen, a third of a fen below. At whole lots S sold and B bought the load is
    // B - 0.3 S <= 0 (plus 1e-9), so B <= 0.3 S, and the revenue 33,333,333,333 B - 10^10 S <=
    // -0.1 S < 0 for any S > 0 (for S = 0, B <= 1e-9 gives B = 0): the only whole-lot clearing
    // with a non-negative revenue is no trade at all. The repair used to get there a few lots a
    // round - some 5 x 10^10 rounds, hours; the least sell cut now doubles after 16 rounds.
    let problem = Problem {
        locations: vec!["A".into(), "B".into()],
        receptors: vec![ReceptorSpec {
            id: "R".into(),
            headroom: 0.0,
        }],
        coefficients: vec![vec![0.3, 1.0]],
        tonnage_cap: None,
        steps: vec![
            Step {
                id: "sA".into(),
                location: 0,
                side: Side::Sell,
                quantity: 400_000_000_000,
                price: 10_000_000_000,
            },
            Step {
                id: "bB".into(),
                location: 1,
                side: Side::Buy,
                quantity: 100_000_000_000,
                price: 50_000_000_000,
            },
        ],
        violation_price: None,
    };
    let started = std::time::Instant::now();
    let c = clear(&problem, SolverChoice::Default).unwrap();
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    assert_limits_kept(&problem, &c);
    assert!(close(c.continuous_fills[0], 1e11 / 0.3));
    assert_eq!(c.continuous_fills[1], 1e11);
    assert!(close(c.receptor_prices[0], 1e10 / 0.3));
    assert_eq!(c.settlement_prices, [10_000_000_000, 33_333_333_333]);
    assert_eq!(c.fills, [0, 0]);
    assert_eq!(c.operator_revenue, 0);
    assert_eq!(c.total_surplus, 0);
}

#[test]
fn a_low_violation_price_never_trades_a_non_negative_headroom_away() {
    // R (headroom 0) sees B at 1.0; bB buys 10 lots at 100 CNY; the violation price is 1 fen per
    // receptor unit. A slack on R would let bB buy all 10 lots for 10 fen of penalty; only a
    // negative headroom has a slack now, so bB is not filled, and its price bound pi_B >= 10,000
    // sets mu = 10,000 (not capped by M, which bounds only the price of a receptor with a
    // slack).
    let problem = Problem {
        locations: vec!["B".into()],
        receptors: vec![ReceptorSpec {
            id: "R".into(),
            headroom: 0.0,
        }],
        coefficients: vec![vec![1.0]],
        tonnage_cap: None,
        steps: vec![Step {
            id: "bB".into(),
            location: 0,
            side: Side::Buy,
            quantity: 10,
            price: 10_000,
        }],
        violation_price: Some(1.0),
    };
    let c = clear(&problem, SolverChoice::Default).unwrap();
    assert_limits_kept(&problem, &c);
    assert_eq!(c.fills, [0]);
    assert_eq!(c.receptor_load, [0.0]);
    assert_eq!(c.receptor_prices, [10_000.0]);
    assert_eq!(c.settlement_prices, [10_000]);
}

#[test]
fn prices_from_one_fen_to_the_bound_clear() {
    // R (headroom 10) sees A, B and C at 1.0 each. bA buys 10 lots at 10^12 fen (the highest
    // price allowed), sB sells 10 at 1 fen, bC buys 10 at 2 fen. By hand: bA takes the headroom,
    // and sB's 10 lots make room for bC's 10 (1 fen of surplus a lot). Prices: sB full needs
    // pi_B >= 1, bC full pi_C <= 2, so the least mu = 1 and every pi = 1. Surplus 10^13 + 20 - 10
    // fen; revenue 1 x 10 - 1 x 10 + 1 x 10 = 10 = mu x H. With the objective divided by the
    // highest price alone, the 1- and 2-fen steps cost 1e-12 and 2e-12 in the LP, below the
    // solver's tolerance, and it left sB and bC unfilled, which no prices support (pi_B <= 1,
    // pi_C >= 2, pi_B = pi_C = mu); and in units of the highest price bound the price LP could
    // not see a 1-fen bound either (it found mu = 0).
    let step = |id: &str, location: usize, side: Side, price: i64| Step {
        id: id.into(),
        location,
        side,
        quantity: 10,
        price,
    };
    let problem = Problem {
        locations: vec!["A".into(), "B".into(), "C".into()],
        receptors: vec![ReceptorSpec {
            id: "R".into(),
            headroom: 10.0,
        }],
        coefficients: vec![vec![1.0, 1.0, 1.0]],
        tonnage_cap: None,
        steps: vec![
            step("bA", 0, Side::Buy, 1_000_000_000_000),
            step("sB", 1, Side::Sell, 1),
            step("bC", 2, Side::Buy, 2),
        ],
        violation_price: None,
    };
    let c = clear(&problem, SolverChoice::Default).unwrap();
    assert_limits_kept(&problem, &c);
    assert_eq!(c.fills, [10, 10, 10]);
    assert_eq!(c.receptor_prices, [1.0]);
    assert_eq!(c.settlement_prices, [1, 1, 1]);
    assert_eq!(c.total_surplus, 10_000_000_000_010);
    assert_eq!(c.operator_revenue, 10);
}
