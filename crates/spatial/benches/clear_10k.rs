//! Clears 10,000 bid steps over 50 areas and 50 receptors and prints
//! `steps=10000 solver=<name> median_ms=<x>`, the median of several clearings of one problem
//! generated in memory beforehand (seeded), with the default solver and, when built with
//! `--features highs`, with HiGHS. Without `--bench` (as under `cargo test --benches`) it clears
//! once per solver.
//!
//! The problem: five rivers of ten zones each; the receptor of zone `z` is its downstream
//! monitoring section, loaded by every zone upstream of it on the same river with a coefficient
//! decaying `0.8` per zone, and by every other area with a small air-borne `0.01`. Headroom is 0
//! (a pure reallocation) at one section in five and 500-5,000 elsewhere. Each area has 100 buy
//! and 100 sell steps of 1-50 lots, buys at 30-120 CNY and sells at 20-110 CNY per lot in 0.50
//! steps, so the curves overlap; 24 of the 50 sections bind, and the 10,000 steps form 7,668
//! (location, side, price) groups.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Instant;
use yrd_spatial::{Clearing, Problem, ReceptorSpec, Side, SolverChoice, Step, clear};

const RIVERS: usize = 5;
const ZONES: usize = 10;
const AREAS: usize = RIVERS * ZONES;
const STEPS_PER_AREA: usize = 200;

fn problem() -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let locations: Vec<String> = (0..AREAS)
        .map(|i| format!("R{}Z{}", i / ZONES, i % ZONES))
        .collect();
    let receptors: Vec<ReceptorSpec> = (0..AREAS)
        .map(|r| ReceptorSpec {
            id: format!("S{}-{}", r / ZONES, r % ZONES),
            headroom: if r % 5 == 0 {
                0.0
            } else {
                rng.random_range(500..=5000) as f64
            },
        })
        .collect();
    let coefficients: Vec<Vec<f64>> = (0..AREAS)
        .map(|r| {
            (0..AREAS)
                .map(|i| {
                    let (river_r, zone_r) = (r / ZONES, r % ZONES);
                    let (river_i, zone_i) = (i / ZONES, i % ZONES);
                    if river_r == river_i && zone_i <= zone_r {
                        0.8f64.powi((zone_r - zone_i) as i32)
                    } else {
                        0.01
                    }
                })
                .collect()
        })
        .collect();
    let mut steps = Vec::with_capacity(AREAS * STEPS_PER_AREA);
    for area in 0..AREAS {
        for k in 0..STEPS_PER_AREA {
            let side = if k % 2 == 0 { Side::Buy } else { Side::Sell };
            // Half-yuan price points, in fen.
            let price = match side {
                Side::Buy => rng.random_range(60..=240) * 50,
                Side::Sell => rng.random_range(40..=220) * 50,
            };
            steps.push(Step {
                id: format!("a{area}-{k}"),
                location: area,
                side,
                quantity: rng.random_range(1..=50),
                price,
            });
        }
    }
    Problem {
        locations,
        receptors,
        coefficients,
        tonnage_cap: None,
        steps,
        violation_price: None,
    }
}

fn run(name: &str, problem: &Problem, solver: SolverChoice, runs: usize) -> Clearing {
    let mut samples = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let clearing = clear(black_box(problem), solver).expect("the benchmark problem clears");
        samples.push(start.elapsed());
        last = Some(clearing);
    }
    let clearing = last.expect("at least one run");
    samples.sort();
    let median = samples[samples.len() / 2];
    let binding = clearing.receptor_binding.iter().filter(|&&b| b).count();
    let priced = clearing
        .receptor_prices
        .iter()
        .filter(|&&m| m > 0.0)
        .count();
    let filled = clearing.fills.iter().filter(|&&f| f > 0).count();
    println!(
        "steps={} solver={name} median_ms={:.1} (min {:.1}, max {:.1}; {} runs; binding receptors \
         {binding}, priced {priced}; steps filled {filled}; surplus {} fen)",
        problem.steps.len(),
        median.as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3,
        runs,
        clearing.total_surplus,
    );
    clearing
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let runs = if bench { 7 } else { 1 };
    let problem = problem();
    let default = run("microlp", &problem, SolverChoice::Default, runs);
    assert!(
        default.receptor_prices.iter().filter(|&&m| m > 0.0).count() >= 2,
        "the benchmark must make several receptors bind with a price"
    );
    #[cfg(feature = "highs")]
    {
        let highs = run("highs", &problem, SolverChoice::Highs, runs);
        let (a, b) = (
            default.total_surplus_continuous,
            highs.total_surplus_continuous,
        );
        assert!(
            (a - b).abs() <= 1e-6 * a.abs().max(1.0),
            "solvers disagree on the surplus: {a} vs {b}"
        );
    }
}
