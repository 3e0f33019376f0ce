//! The seeded facility generator: splits each (jurisdiction, sector) emissions total from CEADs
//! into plausible individual facilities, and the benchmark allocation rule the demo uses.
//!
//! CEADs publishes provincial sector totals, not plant-level data, so the facilities are
//! synthetic. They are built to be reproducible and to keep the real totals exactly:
//!
//! 1. **How many.** For a sector total `T` t CO2 the count is
//!    `clamp(round(T / typical_facility_t), 3, 60)` (round half up, integer arithmetic), with the
//!    typical facility sizes of [`PROFILES`]. It is then capped at `floor(T / 26,000)` so that every
//!    facility can reach the China ETS inclusion threshold ([`INCLUSION_THRESHOLD_T`], 26,000 t
//!    CO2 a year, roughly 10,000 t standard coal). A total below the threshold gives one facility
//!    holding all of it; a zero total gives none.
//! 2. **How big.** Each facility first gets the threshold (26,000 t) when the count allows it, and
//!    the rest of `T` is shared in proportion to lognormal-like weights `exp(SIZE_SIGMA * z)`, where
//!    `z` is the Irwin-Hall approximation of a standard normal (sum of 12 uniforms minus 6, so
//!    bounded to +/-6). The weights are quantised to integers and the whole tonnes are shared by the
//!    **largest-remainder method** in exact `u128` arithmetic (ties to the earlier draw), so the
//!    facilities' `verified_t` add up to `T` exactly.
//! 3. **How productive.** Each facility's emission intensity is drawn uniformly within
//!    +/-[`INTENSITY_SPREAD`] (15 %) of the sector's typical intensity, and its activity level is
//!    `output = round(verified_t / intensity)` (half away from zero; at least 1 when
//!    `verified_t > 0`), in the sector's product unit (MWh for power, t product otherwise).
//! 4. **Order and ids.** Facilities of one sector are sorted by `verified_t`, largest first (ties
//!    by draw order), and numbered `{jurisdiction}-{sector}-{nnn}` from `001`, e.g.
//!    `CN-JS-POWER-001`.
//!
//! **Determinism.** Every (jurisdiction, sector) has its own `ChaCha8Rng` stream whose 32-byte seed
//! is the caller's `seed` plus FNV-1a hashes of the jurisdiction and sector codes, so a sector's
//! facilities do not depend on which other sectors are generated or in which order, nor on any
//! `HashMap` iteration order. Floating point is used only for the draws, and only through IEEE 754
//! basic operations (`+ - * /`, `round`, comparisons), which are exactly specified - `exp` is
//! computed by a fixed Taylor series rather than the platform's libm - so the same seed gives
//! bit-for-bit the same facilities on every platform. All outputs are integers.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use yrd_types::JurisdictionCode;

use crate::ceads::SectorEmissions;

/// China national ETS inclusion threshold: 26,000 t CO2 a year (about 10,000 t standard coal).
pub const INCLUSION_THRESHOLD_T: u64 = 26_000;
/// Fewest facilities generated for a sector (unless the total cannot support them).
pub const MIN_FACILITIES: u64 = 3;
/// Most facilities generated for a sector.
pub const MAX_FACILITIES: u64 = 60;
/// Log-scale standard deviation of the facility size weights (dimensionless).
pub const SIZE_SIGMA: f64 = 0.8;
/// Relative spread of facility intensities around the sector's typical intensity: +/-15 %.
pub const INTENSITY_SPREAD: f64 = 0.15;
/// Benchmark tightening in percent: the benchmark is the sector's output-weighted average
/// intensity times (100 - 3) %, standing in for China's benchmark decline factor.
pub const BENCHMARK_TIGHTENING_PERCENT: u32 = 3;

/// Generation parameters of one sector.
///
/// The values are round illustrative figures for Chinese plants, not official benchmarks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SectorProfile {
    /// Sector code, e.g. `POWER`.
    pub sector_code: &'static str,
    /// Typical size of one facility, t CO2 a year; sets the number of facilities.
    pub typical_facility_t: u64,
    /// Typical emission intensity, t CO2 per unit of [`Self::output_unit`].
    pub typical_intensity_t_per_unit: f64,
    /// The unit of a facility's `output`: `MWh` for power, a tonne of the named product otherwise.
    pub output_unit: &'static str,
}

/// Profiles of the seven covered sectors.
///
/// | sector | typical facility | typical intensity | output unit |
/// |---|---|---|---|
/// | POWER | 2.5 Mt CO2 | 0.85 t CO2/MWh (coal-dominated fleet) | MWh electricity |
/// | STEEL | 3.0 Mt CO2 | 1.8 t CO2/t (blast furnace route) | t crude steel |
/// | CEMENT | 0.8 Mt CO2 | 0.86 t CO2/t (fuel + calcination) | t clinker |
/// | ALUMINIUM | 0.5 Mt CO2 | 1.6 t CO2/t (direct only; electricity is Scope 2) | t aluminium |
/// | CHEMICALS | 0.3 Mt CO2 | 1.2 t CO2/t | t chemical product |
/// | PETROCHEM | 1.5 Mt CO2 | 0.25 t CO2/t | t crude processed |
/// | PAPER | 0.15 Mt CO2 | 0.8 t CO2/t (incl. own steam) | t paper |
pub const PROFILES: [SectorProfile; 7] = [
    profile_of("POWER", 2_500_000, 0.85, "MWh"),
    profile_of("STEEL", 3_000_000, 1.8, "t crude steel"),
    profile_of("CEMENT", 800_000, 0.86, "t clinker"),
    profile_of("ALUMINIUM", 500_000, 1.6, "t aluminium"),
    profile_of("CHEMICALS", 300_000, 1.2, "t product"),
    profile_of("PETROCHEM", 1_500_000, 0.25, "t crude processed"),
    profile_of("PAPER", 150_000, 0.8, "t paper"),
];

/// Profile used for a sector code not in [`PROFILES`]: 0.5 Mt CO2 facilities at 1.0 t CO2 per t
/// product. (The CEADs reader only admits the seven covered codes.)
pub const FALLBACK_PROFILE: SectorProfile = profile_of("OTHER", 500_000, 1.0, "t product");

const fn profile_of(
    sector_code: &'static str,
    typical_facility_t: u64,
    typical_intensity_t_per_unit: f64,
    output_unit: &'static str,
) -> SectorProfile {
    SectorProfile {
        sector_code,
        typical_facility_t,
        typical_intensity_t_per_unit,
        output_unit,
    }
}

/// The profile of `sector_code`, or [`FALLBACK_PROFILE`] for an unknown code.
pub fn profile(sector_code: &str) -> &'static SectorProfile {
    PROFILES
        .iter()
        .find(|p| p.sector_code == sector_code)
        .unwrap_or(&FALLBACK_PROFILE)
}

/// One synthetic facility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facility {
    /// `{jurisdiction}-{sector}-{nnn}`, e.g. `CN-JS-POWER-001` (001 is the largest emitter).
    pub id: String,
    /// Jurisdiction the facility reports to.
    pub jurisdiction: JurisdictionCode,
    /// Sector code, e.g. `POWER`.
    pub sector_code: String,
    /// Verified emissions, t CO2 a year.
    pub verified_t: u64,
    /// Activity level a year in the sector's product unit ([`SectorProfile::output_unit`]): MWh for
    /// `POWER`, t product otherwise.
    pub output: u64,
}

/// The number of facilities a sector total of `total_t` t CO2 is split into (rule 1 of the
/// [module docs](self)).
pub fn facility_count(total_t: u64, profile: &SectorProfile) -> u64 {
    if total_t == 0 {
        return 0;
    }
    if total_t < INCLUSION_THRESHOLD_T {
        return 1;
    }
    let typical = u128::from(profile.typical_facility_t.max(1));
    let rounded = (u128::from(total_t) + typical / 2) / typical;
    let wanted = u64::try_from(rounded)
        .unwrap_or(u64::MAX)
        .clamp(MIN_FACILITIES, MAX_FACILITIES);
    wanted.min(total_t / INCLUSION_THRESHOLD_T)
}

/// Splits every sector total into facilities as described in the [module docs](self).
///
/// Facilities come out grouped by input row, in input order. The facilities of each row add up to
/// its `total_t` exactly. Ids are unique: if a (jurisdiction, sector) appears in several rows,
/// numbering continues where the previous row stopped.
pub fn generate(sectors: &[SectorEmissions], seed: u64) -> Vec<Facility> {
    let mut next_number: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut out = Vec::new();
    for sector in sectors {
        let profile = profile(&sector.sector_code);
        let mut rng = ChaCha8Rng::from_seed(stream_seed(
            seed,
            sector.jurisdiction.as_str(),
            &sector.sector_code,
        ));
        let count = facility_count(sector.total_t, profile);
        // Unreachable fallback (see `split_total`): one facility holding the whole total.
        let mut shares =
            split_total(sector.total_t, count, &mut rng).unwrap_or_else(|| vec![sector.total_t]);
        // Largest first; the sort is stable, so ties keep draw order.
        shares.sort_by(|a, b| b.cmp(a));
        let number = next_number
            .entry((sector.jurisdiction.as_str(), sector.sector_code.as_str()))
            .or_insert(0);
        for verified_t in shares {
            *number = number.saturating_add(1);
            let intensity = profile.typical_intensity_t_per_unit
                * (1.0 - INTENSITY_SPREAD + 2.0 * INTENSITY_SPREAD * rng.random::<f64>());
            out.push(Facility {
                id: format!(
                    "{}-{}-{:03}",
                    sector.jurisdiction, sector.sector_code, number
                ),
                jurisdiction: sector.jurisdiction.clone(),
                sector_code: sector.sector_code.clone(),
                verified_t,
                output: output_for(verified_t, intensity),
            });
        }
    }
    out
}

/// `round(verified_t / intensity)`, at least 1 when `verified_t > 0`; saturates at `u64::MAX`.
fn output_for(verified_t: u64, intensity: f64) -> u64 {
    if verified_t == 0 {
        return 0;
    }
    // `as` from f64 saturates (and maps NaN to 0), so this cannot panic.
    let output = (verified_t as f64 / intensity).round() as u64;
    output.max(1)
}

/// The 32-byte ChaCha seed of one (jurisdiction, sector) stream.
fn stream_seed(seed: u64, jurisdiction: &str, sector_code: &str) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[0..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&fnv1a(jurisdiction.as_bytes()).to_le_bytes());
    bytes[16..24].copy_from_slice(&fnv1a(sector_code.as_bytes()).to_le_bytes());
    bytes[24..32].copy_from_slice(&fnv1a(b"yrd-ets/facilities/v1").to_le_bytes());
    bytes
}

/// 64-bit FNV-1a: a fixed, documented hash (unlike `std`'s `DefaultHasher`, which may change).
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Splits `total_t` into `count` shares (rule 2 of the module docs), in draw order.
///
/// All integer arithmetic is checked. It cannot actually overflow (every intermediate is bounded by
/// `total_t * 2^32` in `u128`, and the shares add up to `total_t`), but `None` is returned rather
/// than panicking if it ever did.
fn split_total(total_t: u64, count: u64, rng: &mut ChaCha8Rng) -> Option<Vec<u64>> {
    if count == 0 {
        return Some(Vec::new());
    }
    let floor = match INCLUSION_THRESHOLD_T.checked_mul(count) {
        Some(f) if f <= total_t => INCLUSION_THRESHOLD_T,
        _ => 0,
    };
    let rest = total_t.checked_sub(floor.checked_mul(count)?)?;

    let draws: Vec<f64> = (0..count)
        .map(|_| exp_fixed(SIZE_SIGMA * irwin_hall_normal(rng)))
        .collect();
    let max = draws.iter().copied().fold(f64::MIN_POSITIVE, f64::max);
    // Integer weights in 1..=2^32 (`as` saturates, so no panic whatever the draws).
    let weights: Vec<u128> = draws
        .iter()
        .map(|w| u128::from(((w / max) * 4_294_967_296.0) as u64).max(1))
        .collect();
    let weight_sum = weights.iter().try_fold(0u128, |a, &w| a.checked_add(w))?;

    // Largest remainder: floor quotas first, then one more tonne to the largest remainders.
    let mut shares: Vec<u64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    let mut handed_out: u64 = 0;
    for (i, w) in weights.iter().enumerate() {
        let quota = u128::from(rest).checked_mul(*w)?;
        let whole = u64::try_from(quota / weight_sum).ok()?;
        handed_out = handed_out.checked_add(whole)?;
        shares.push(floor.checked_add(whole)?);
        remainders.push((quota % weight_sum, i));
    }
    let leftover = usize::try_from(rest.checked_sub(handed_out)?).ok()?; // < count
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in remainders.iter().take(leftover) {
        shares[i] = shares[i].checked_add(1)?;
    }
    Some(shares)
}

/// Approximately standard normal: sum of 12 uniforms in [0, 1) minus 6 (bounded to [-6, 6)).
fn irwin_hall_normal(rng: &mut ChaCha8Rng) -> f64 {
    (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0
}

/// `exp(x)` for moderate `x` using only basic IEEE operations, so it is identical on every
/// platform: `exp(x) = exp(x / 256)^256` with an 8-term Taylor series for the small argument.
fn exp_fixed(x: f64) -> f64 {
    let y = x / 256.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..=8 {
        term = term * y / f64::from(k);
        sum += term;
    }
    for _ in 0..8 {
        sum *= sum;
    }
    sum
}

/// A sector benchmark as an exact fraction: `numerator_t / denominator_units` t CO2 per unit of
/// the sector's output (t CO2/MWh for power, t CO2/t product otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Benchmark {
    /// Numerator, t CO2 (scaled).
    pub numerator_t: u128,
    /// Denominator, output units (scaled the same way). Never zero.
    pub denominator_units: u128,
}

impl Benchmark {
    /// Free allocation for a facility with `output` units: `floor(benchmark * output)` t CO2,
    /// computed exactly; saturates at `u64::MAX` (unreachable with real data).
    pub fn allocation_t(&self, output: u64) -> u64 {
        self.numerator_t
            .checked_mul(u128::from(output))
            .map_or(u64::MAX, |p| {
                u64::try_from(p / self.denominator_units).unwrap_or(u64::MAX)
            })
    }

    /// The benchmark as a float, t CO2 per unit - for display only.
    pub fn t_per_unit(&self) -> f64 {
        self.numerator_t as f64 / self.denominator_units as f64
    }
}

/// The benchmark of one sector: the output-weighted average intensity of the given facilities,
/// tightened by [`BENCHMARK_TIGHTENING_PERCENT`] (3 %, standing in for China's benchmark decline
/// factor), in t CO2 per output unit.
///
/// A facility's intensity is `verified_t / output`, so the output-weighted average is
/// `sum(verified_t) / sum(output)` and the benchmark is exactly
/// `97 * sum(verified_t) / (100 * sum(output))`. Pass the facilities of one sector only (of one
/// jurisdiction, or of several for a common benchmark); different sectors' units do not mix.
/// `None` if there are no facilities or their total output is zero.
pub fn benchmark_t_per_unit(facilities_of_one_sector: &[Facility]) -> Option<Benchmark> {
    let verified: u128 = facilities_of_one_sector
        .iter()
        .map(|f| u128::from(f.verified_t))
        .sum();
    let output: u128 = facilities_of_one_sector
        .iter()
        .map(|f| u128::from(f.output))
        .sum();
    if output == 0 {
        return None;
    }
    let keep = u128::from(100 - BENCHMARK_TIGHTENING_PERCENT);
    Some(Benchmark {
        numerator_t: verified.checked_mul(keep)?,
        denominator_units: output.checked_mul(100)?,
    })
}

/// Benchmark free allocation, t CO2, one entry per facility in input order:
/// `floor(benchmark * output)` with the benchmark of [`benchmark_t_per_unit`], in exact integer
/// arithmetic (rounding rule: floor, so the sector never gets more than 97 % of its verified
/// emissions). All zeros if the benchmark is undefined (no output).
pub fn benchmark_allocation(facilities_of_one_sector: &[Facility]) -> Vec<u64> {
    match benchmark_t_per_unit(facilities_of_one_sector) {
        Some(b) => facilities_of_one_sector
            .iter()
            .map(|f| b.allocation_t(f.output))
            .collect(),
        None => vec![0; facilities_of_one_sector.len()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ceads::{COVERED_SECTORS_2019, COVERED_SECTORS_2019_NAME, parse_covered_sectors};
    use std::collections::BTreeSet;

    fn sectors_2019() -> Vec<SectorEmissions> {
        parse_covered_sectors(COVERED_SECTORS_2019_NAME, COVERED_SECTORS_2019).unwrap()
    }

    fn one(jurisdiction: &str, sector_code: &str, total_t: u64) -> SectorEmissions {
        SectorEmissions {
            jurisdiction: JurisdictionCode::new(jurisdiction).unwrap(),
            sector_code: sector_code.to_string(),
            ceads_sector: String::new(),
            year: 2019,
            total_t,
        }
    }

    fn of<'a>(facilities: &'a [Facility], s: &SectorEmissions) -> Vec<&'a Facility> {
        facilities
            .iter()
            .filter(|f| f.jurisdiction == s.jurisdiction && f.sector_code == s.sector_code)
            .collect()
    }

    #[test]
    fn totals_are_kept_exactly() {
        let sectors = sectors_2019();
        for seed in [0, 1, 42, u64::MAX] {
            let facilities = generate(&sectors, seed);
            for s in &sectors {
                let sum = of(&facilities, s)
                    .iter()
                    .try_fold(0u64, |acc, f| acc.checked_add(f.verified_t))
                    .unwrap();
                assert_eq!(
                    sum, s.total_t,
                    "{} {} seed {seed}",
                    s.jurisdiction, s.sector_code
                );
            }
        }
    }

    #[test]
    fn same_seed_same_facilities_different_seed_different_split() {
        let sectors = sectors_2019();
        let a = generate(&sectors, 7);
        assert_eq!(a, generate(&sectors, 7));
        let b = generate(&sectors, 8);
        assert_ne!(a, b);
        // Every sector's split changes, not just one.
        for s in &sectors {
            let va: Vec<u64> = of(&a, s).iter().map(|f| f.verified_t).collect();
            let vb: Vec<u64> = of(&b, s).iter().map(|f| f.verified_t).collect();
            assert_ne!(va, vb, "{} {}", s.jurisdiction, s.sector_code);
        }
    }

    #[test]
    fn a_sector_does_not_depend_on_the_others_or_their_order() {
        let sectors = sectors_2019();
        let all = generate(&sectors, 3);
        let mut reversed = sectors.clone();
        reversed.reverse();
        let all_reversed = generate(&reversed, 3);
        for s in &sectors {
            let alone = generate(std::slice::from_ref(s), 3);
            assert_eq!(of(&all, s).into_iter().cloned().collect::<Vec<_>>(), alone);
            assert_eq!(
                of(&all_reversed, s)
                    .into_iter()
                    .cloned()
                    .collect::<Vec<_>>(),
                alone
            );
        }
    }

    #[test]
    fn pinned_output_for_seed_zero() {
        // Guards cross-platform and cross-version reproducibility of the generator: if this
        // changes, every demo figure derived from seed 0 changes with it.
        let f = generate(&[one("CN-SH", "PAPER", 184_621)], 0);
        let got: Vec<(&str, u64, u64)> = f
            .iter()
            .map(|f| (f.id.as_str(), f.verified_t, f.output))
            .collect();
        assert_eq!(got, PINNED_SEED_ZERO);
    }

    const PINNED_SEED_ZERO: [(&str, u64, u64); 3] = [
        ("CN-SH-PAPER-001", 73_881, 96_723),
        ("CN-SH-PAPER-002", 68_257, 99_061),
        ("CN-SH-PAPER-003", 42_483, 60_229),
    ];

    #[test]
    fn every_facility_meets_the_threshold() {
        let sectors = sectors_2019();
        let facilities = generate(&sectors, 11);
        for s in &sectors {
            assert!(s.total_t >= INCLUSION_THRESHOLD_T * MIN_FACILITIES);
            let fs = of(&facilities, s);
            assert!(fs.len() as u64 >= MIN_FACILITIES && fs.len() as u64 <= MAX_FACILITIES);
            for f in fs {
                assert!(
                    f.verified_t >= INCLUSION_THRESHOLD_T,
                    "{} {}",
                    f.id,
                    f.verified_t
                );
                assert!(f.output > 0, "{}", f.id);
            }
        }
    }

    #[test]
    fn small_totals_give_fewer_facilities() {
        let f = generate(&[one("CN-AH", "POWER", 60_000)], 1);
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|f| f.verified_t >= INCLUSION_THRESHOLD_T));
        assert_eq!(f.iter().map(|f| f.verified_t).sum::<u64>(), 60_000);

        let f = generate(&[one("CN-AH", "POWER", 10_000)], 1);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].verified_t, 10_000);

        let f = generate(&[one("CN-AH", "STEEL", 1)], 1);
        assert_eq!((f[0].verified_t, f[0].output), (1, 1));

        assert!(generate(&[one("CN-AH", "POWER", 0)], 1).is_empty());
    }

    #[test]
    fn counts_follow_typical_sizes() {
        let p = profile("POWER");
        assert_eq!(facility_count(62_829_001, p), 25);
        assert_eq!(facility_count(435_160_768, p), MAX_FACILITIES);
        assert_eq!(facility_count(1_000_000, p), MIN_FACILITIES);
        assert_eq!(facility_count(3_750_000, p), 3); // 1.5 rounds half up to 2, clamped to 3
        assert_eq!(facility_count(u64::MAX, p), MAX_FACILITIES);
        assert_eq!(profile("NOPE").sector_code, "OTHER");
    }

    #[test]
    fn extreme_totals_do_not_panic() {
        for total in [
            u64::MAX,
            u64::MAX - 1,
            INCLUSION_THRESHOLD_T * 60,
            INCLUSION_THRESHOLD_T,
        ] {
            let f = generate(&[one("CN-SH", "CEMENT", total)], 5);
            let sum = f.iter().try_fold(0u64, |a, f| a.checked_add(f.verified_t));
            assert_eq!(sum, Some(total));
            let _ = benchmark_allocation(&f);
        }
    }

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut sectors = sectors_2019();
        // A repeated (jurisdiction, sector) row continues the numbering.
        sectors.push(sectors[0].clone());
        let facilities = generate(&sectors, 2);
        let ids: BTreeSet<&str> = facilities.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids.len(), facilities.len());
        assert!(ids.contains("CN-JS-POWER-001"));
        assert!(ids.contains("CN-SH-POWER-026"));
        for f in &facilities {
            assert!(
                yrd_types::InstallationId::new(f.id.clone()).is_ok(),
                "{}",
                f.id
            );
        }
    }

    #[test]
    fn intensities_stay_within_the_spread() {
        let facilities = generate(&sectors_2019(), 9);
        for f in &facilities {
            let typical = profile(&f.sector_code).typical_intensity_t_per_unit;
            let intensity = f.verified_t as f64 / f.output as f64;
            let ratio = intensity / typical;
            assert!((0.849..=1.151).contains(&ratio), "{} {ratio}", f.id);
        }
    }

    #[test]
    fn benchmark_allocation_is_90_to_100_percent_of_verified() {
        let facilities = generate(&sectors_2019(), 4);
        let mut by_sector: BTreeMap<&str, Vec<Facility>> = BTreeMap::new();
        let mut by_jur_sector: BTreeMap<(&str, &str), Vec<Facility>> = BTreeMap::new();
        for f in &facilities {
            by_sector.entry(&f.sector_code).or_default().push(f.clone());
            by_jur_sector
                .entry((f.jurisdiction.as_str(), &f.sector_code))
                .or_default()
                .push(f.clone());
        }
        let groups = by_sector.values().chain(by_jur_sector.values());
        for fs in groups {
            let alloc = benchmark_allocation(fs);
            assert_eq!(alloc.len(), fs.len());
            let a: u128 = alloc.iter().map(|&x| u128::from(x)).sum();
            let v: u128 = fs.iter().map(|f| u128::from(f.verified_t)).sum();
            assert!(90 * v < 100 * a && a < v, "{}: {a} of {v}", fs[0].id);
        }
        let power = &by_sector["POWER"];
        let b = benchmark_t_per_unit(power).unwrap();
        assert!((0.80..0.85).contains(&b.t_per_unit()), "{}", b.t_per_unit());
    }

    #[test]
    fn benchmark_rounds_down_exactly() {
        let f = |verified_t, output| Facility {
            id: "X".into(),
            jurisdiction: JurisdictionCode::new("CN-SH").unwrap(),
            sector_code: "POWER".into(),
            verified_t,
            output,
        };
        // Benchmark = 0.97 * 300 / 300 = 0.97 t/unit.
        let fs = [f(100, 100), f(200, 200)];
        assert_eq!(benchmark_allocation(&fs), vec![97, 194]);
        // 0.97 * 10 / 3 = 3.2333..: floor(3.2333 * 1) = 3, floor(3.2333 * 2) = 6.
        let fs = [f(5, 1), f(5, 2)];
        assert_eq!(benchmark_allocation(&fs), vec![3, 6]);
        assert_eq!(benchmark_allocation(&[f(5, 0)]), vec![0]);
        assert!(benchmark_allocation(&[]).is_empty());
        assert_eq!(benchmark_t_per_unit(&[]), None);
    }

    #[test]
    fn exp_fixed_is_accurate_enough() {
        for x in [-4.8, -1.0, 0.0, 0.5, 1.0, 4.8] {
            let rel = (exp_fixed(x) - f64::exp(x)).abs() / f64::exp(x);
            assert!(rel < 1e-12, "{x}: {rel}");
        }
    }
}
