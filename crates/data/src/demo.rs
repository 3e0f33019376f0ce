//! The Yangtze River Delta demo: one compliance cycle (2019, judged on 1 January 2021) and the
//! 2020 allocation that follows it, for the real CEADs 2019 covered-sector emissions split into
//! seeded synthetic facilities; then the cross-regional market for pollutant discharge rights in
//! 2021 (pilot enterprises in the demonstration zone and around it, transfers under the
//! geography's rules, a receptor-constrained call market). This is the scenario `yrd-ets demo`
//! runs.
//!
//! The module is **pure**: [`scenario`] only produces registry [`Submission`]s, grouped into named
//! [`DemoStep`]s; the caller submits them (step by step, in order) to a registry created from
//! `config/yrd.toml` and prints its reports. Every submission is meant to be accepted: the
//! scenario keeps its own running balance of every account it moves units from (see "Balances"
//! below) and never sends more than the sender holds.
//!
//! # Steps
//!
//! | # | step | submissions |
//! |---|------|-------------|
//! | 1 | `accounts` | per facility: `open_account` `OHA-{id}` (operator holding, the facility's jurisdiction, holder `"{id} Co., Ltd."`) and `register_installation` (id = facility id, sector code, first year 2019) |
//! | 2 | `cap and allocation 2019` | per jurisdiction: `issue` the 2019 cap of CEA, `transfer` the auction volume `{J}-GOV` -> `{J}-AUCTION`; per facility: `allocate` its benchmark allocation |
//! | 3 | `verified emissions 2019` | per reporting facility: `enter_emissions` (`CO2E`, source verifier) |
//! | 4 | `market` | secondary-market `transfer`s operator -> operator, then auction deliveries `{J}-AUCTION` -> operator |
//! | 5 | `surrender 2019` | per reporting facility: `surrender` min(verified, holdings) for `CO2E` 2019 |
//! | 6 | `deadline 2019` | per jurisdiction: `process_deadline` `CO2E` 2019 |
//! | 7 | `allocation 2020` | as step 2 for vintage 2020 (the registry withholds the 2019 shortfalls) |
//! | 8 | `pollutant rights 2021` | per pilot enterprise: `open_account`, `register_installation` (a sector of the geography, first year 2021), `set_account_area`; per jurisdiction: `issue` COD and VOCS 2021; per enterprise: `allocate` COD and VOCS 2021 |
//! | 9 | `cross-regional transfers 2021` | `approve_cross_regional_transfer` by both jurisdictions of each VOCs transfer that leaves an airshed; the VOCs pilot `transfer`s; COD `transfer`s between areas (3:2) |
//! | 10 | `call market 2021` | `create_call_market`, the buyers' `deposit`s, sealed `submit_call_step`s, `clear_call_market` |
//!
//! Steps 8-10 are the same for every seed and facility list: see "The cross-regional part" below.
//!
//! Jurisdictions are taken in the order they first appear in the facility list (for the CEADs file:
//! CN-SH, CN-JS, CN-ZJ, CN-AH); facilities in the order [`facilities::generate`] returns them.
//!
//! # Modelling choices
//!
//! * **Facilities.** [`facilities::generate`] with the scenario's seed: the facilities of each
//!   (jurisdiction, sector) add up to the CEADs total exactly, so the verified emissions entered
//!   are the real inventory less the non-reporting facilities. The CEADs rows must be for
//!   [`DEMO_YEAR`] (2019); the scenario refuses other years rather than relabel them.
//! * **Free allocation.** [`facilities::benchmark_allocation`] per (jurisdiction, sector): each
//!   province sets the benchmark of its own plants (output-weighted average intensity less 3 %), as
//!   the YRD provinces administer allocation. Per jurisdiction rather than YRD-wide so that every
//!   jurisdiction's free allocation is at most 97 % of its own emissions, which the auction volume
//!   below relies on. The same benchmark allocation is requested for 2020 (no new data for 2020).
//! * **Cap and auction volume.** Cap of a jurisdiction and year = its free allocation + an auction
//!   volume of [`AUCTION_PERCENT`] (4 %) of that allocation, rounded down. The benchmark gives each
//!   sector 97 % of its emissions, so the market as a whole is about 3 % short; 4 % of the
//!   allocation (about 3.9 % of emissions) covers that with a margin for facilities whose own
//!   intensity makes them shorter than their sector. The auction volume is moved to `{J}-AUCTION`
//!   when issued; auction volume nobody needs stays there unsold. Withheld shortfalls (step 7) stay
//!   in `{J}-GOV`.
//! * **Non-reporting facilities.** [`NON_REPORTING_PERCENT`] (1 %) of all facilities, rounded half
//!   up and at least one, drawn with the seed, never enter verified emissions: they keep their
//!   allocation, take no part in the market, surrender nothing and get status C at the deadline.
//!   (The registry's C carries no penalty or deduction; in China the authority would estimate their
//!   emissions, which an `authority` entry after the deadline would re-judge to D. The demo stops
//!   at C.)
//! * **Who trades.** A reporting facility whose allocation exceeds its verified emissions has a
//!   surplus; one whose emissions exceed its allocation has a need. Within each jurisdiction,
//!   [`UNDER_BUYER_PERCENT`] (5 %) of the short facilities (rounded half up, at least one where the
//!   jurisdiction has any) are drawn to buy only [`UNDER_BUY_MIN_PERCENT`]-[`UNDER_BUY_MAX_PERCENT`]
//!   % (50-90 %, a whole percent drawn per facility) of their need, rounded down; everyone else buys
//!   exactly its need. What a facility sets out to buy is its *target*.
//! * **Secondary market (cross-regional).** CEAs of any YRD jurisdiction count for any
//!   jurisdiction's obligation (`cross_jurisdiction = true` in yrd.toml), so the market is one YRD
//!   pool. It clears pro rata: the volume traded is min(total surplus, total targets) and each buyer
//!   gets `floor(target x traded / total targets)` from it (with the CEADs data the surplus is about
//!   40 % of the targets, so every buyer gets about 40 % of its target on the market). Sellers
//!   sorted by surplus (largest first) are matched greedily with buyers sorted by market quantity
//!   (largest first), ties by facility order: one transfer per (seller, buyer) pair met, from the
//!   seller's operator holding account, of the seller's own jurisdiction's CEA 2019, so trades
//!   cross jurisdictions freely. A seller whose surplus is not all needed banks the rest.
//! * **Auction delivery.** Each jurisdiction's auction account then delivers to its own still-short
//!   facilities (facility order) what their target still lacks. Pro-rata clearing leaves each
//!   jurisdiction roughly 60 % of its buyers' targets to cover, well within its auction volume
//!   with the CEADs data. Should a jurisdiction's auction run dry (possible only with other input),
//!   the other jurisdictions' auction accounts deliver the rest, in jurisdiction order (the registry
//!   lets an auction account deliver to any operator account); if all of them run dry the scenario
//!   fails with [`DemoError::InsufficientSupply`].
//! * **Surrender.** Every reporting facility surrenders min(verified, CEA 2019 held) on 15 December
//!   2020, before the 31 December deadline: facilities that bought their full need (and sellers,
//!   who sold only their surplus) surrender their whole verified emissions and get status A; the
//!   under-buyers fall short by their need minus what they bought and get B, with a penalty of
//!   shortfall x 5 x CNY 80.00 and the shortfall withheld from their 2020 allocation
//!   (`deduct_from_next_allocation` in yrd.toml - the registry does this; the scenario requests the
//!   full 2020 benchmark allocation).
//! * **Dates.** Accounts 2019-01-02; 2019 cap and allocation 2019-03-01; verified emissions on the
//!   reporting deadline 2020-03-31; market trades 2020-09-15; auction deliveries 2020-11-16;
//!   surrender 2020-12-15; deadline processing 2021-01-01 (after the 31 December 2020 surrender
//!   deadline); 2020 cap and allocation 2021-01-15, after the deadline so that the 2019 shortfall
//!   can be withheld (China's 2019-2020 allocations were in fact made in 2021).
//! * **Transaction ids.** Deterministic and readable, so a rerun against the same data directory
//!   is a no-op (registry idempotency): `demo/2019/account/{id}`, `demo/2019/installation/{id}`,
//!   `demo/{year}/issue/{J}`, `demo/{year}/auction-volume/{J}`, `demo/{year}/alloc/{id}`,
//!   `demo/2019/emissions/{id}`, `demo/2019/trade/{seller}/{buyer}`,
//!   `demo/2019/auction/{J}/{id}`, `demo/2019/surrender/{id}`, `demo/2019/deadline/{J}`.
//!   Quantities of zero are never submitted (the registry refuses them).
//! * **Balances.** The scenario keeps a book of what every account holds after each submission it
//!   generates (issuance, allocation, transfers, surrender; for 2020 allocations the book moves the
//!   allocation less the 2019 shortfall, as the registry will) and takes every transfer quantity
//!   from it, so no transfer exceeds its sender's holdings.
//!
//! # The cross-regional part (2021)
//!
//! With the geography shipped in `config/yrd.toml` (docs/geography.md). **Every quantity and price
//! here is illustrative** - the enterprises, their allocations, transfers and bids are invented
//! (in kg of pollutant and CNY); only the places, the rules, the VOCs pilot's total and the
//! ratio's source are real.
//!
//! * **Pilot enterprises** ([`PILOT_ENTERPRISES`]): twelve, three each in the demonstration-zone
//!   pilot areas Qingpu (`CN-SH-QP`), Wujiang (`CN-JS-SZ-WJ`) and Jiashan (`CN-ZJ-JX-JS`), two in
//!   Guangde (`CN-AH-XC-GD`, the VOCs pilot's fourth area, outside the zone) and one in Kunshan
//!   (`CN-JS-SZ-KS`, which drains to Dianshan Lake). Each gets an operator holding account
//!   `OHA-{id}` and an installation `{id}` with an industrial sector code of the geography
//!   (`chemicals`, `printing-coating`, `textiles-dyeing`), is placed in its area, and is allocated
//!   COD and VOCS of vintage 2021 by its jurisdiction, which issues exactly the sum first
//!   (2021-03-01).
//! * **The VOCs pilot** ([`VOCS_PILOT`]), the first cross-provincial YRD trades of July 2024
//!   replayed in spirit with 2021 rights: eight firms, four deliveries, 13,257 kg of VOCs in total
//!   (the real pilot's volume, ets-rules.md). Two go from Guangde (airshed `AIR-AH`) into the
//!   zone: the zone's areas share no airshed with Guangde, so the administrators of both
//!   jurisdictions `approve_cross_regional_transfer` the exact delivery first (2021-07-01). Two stay within the
//!   zone's airshed `AIR-DZ` and move as they are, across provincial borders. No pilot area is
//!   non-attainment for VOCs, so no air ratio applies: credited = delivered.
//! * **COD** ([`COD_TRANSFERS`]): three deliveries between areas of the Taihu/Huangpu basin, at
//!   Jiaxing's 3:2 ratio: credited = floor(q x 2 / 3), the rest retired by the registry into the
//!   issuing jurisdiction's cancellation account (1,500 kg credit 1,000 and retire 500).
//! * **No cash** for transfers: they are bilateral deliveries whose payment is settled outside
//!   the registry (the real pilot's CNY 158,900 is not recorded). Transfers are dated 2021-07-15.
//! * **The call market** [`CALL_MARKET`]: operated by Shanghai for COD 2021 over the Huangpu basin
//!   areas [`CALL_MARKET_AREAS`], constrained by the receptors [`CALL_MARKET_RECEPTORS`] (Dianshan
//!   Lake's load, Jishuigang's concentration), lot 1,000 kg, bids in CNY per tonne. Opened and
//!   buyers' cash deposited 2021-09-01 (each buyer deposits exactly its steps' guarantee, price x
//!   lots), sealed steps [`CALL_STEPS`] 2021-09-15, window closes 2021-09-30, cleared
//!   2021-10-08. The steps are sized to the receptors' illustrative headroom (Dianshan Lake takes
//!   1,500 t/yr more): buyers bid for more than the lake can take, so its constraint binds and
//!   the four areas clear at different prices (Jiashan's offer to sell, at CNY 8,000/t, is above its
//!   area's price of 0.15 x 40,000 = CNY 6,000/t and finds no taker). The lake's headroom for the
//!   market is what the configuration gives less the load of the transfers before it.
//! * **Transaction ids**: `demo/2021/pilot/account/{id}`, `demo/2021/pilot/installation/{id}`,
//!   `demo/2021/pilot/area/{id}`, `demo/2021/issue/{J}/{P}`, `demo/2021/alloc/{P}/{id}`,
//!   `demo/2021/approval/{from}/{to}/{J}` (approval reference `APPROVAL-{from}-{to}`),
//!   `demo/2021/transfer/{P}/{from}/{to}`, `demo/2021/call/create`, `demo/2021/call/deposit/{id}`,
//!   `demo/2021/call/step/{step}`, `demo/2021/call/clear`.
//! * **Balances.** The book above also carries the pollutant rights: issuance, allocation,
//!   transfers (sender debited what it delivers, receiver credited what the ratio credits), and
//!   every sell step is checked against the seller's book before it is submitted.
//!
//! # Determinism
//!
//! The facilities come from [`facilities::generate`] with the seed. The scenario's own draws
//! (non-reporting facilities, under-buyers and their percentages) use `ChaCha8Rng` streams whose
//! 32-byte seeds are the seed plus FNV-1a hashes of a stream name, separate from the facility
//! generator's. A set of `k` out of a list is drawn by giving every candidate a random `u64` key in
//! list order and taking the `k` smallest keys (ties by list order); a percentage in 50-90 is
//! `50 + key mod 41`. All arithmetic is integer (`u128` for pro rata), so the same seed gives the
//! same submissions everywhere, and a different seed different ones.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use yrd_compliance::EmissionsSource;
use yrd_registry::{Command, OrderSide, Submission};
use yrd_types::{
    AccountId, AccountKind, InstallationId, InvalidValue, JurisdictionCode, OrderRef,
    TransactionId, UnitClass, UnitTypeCode, Vintage,
};

use crate::ceads::{JURISDICTIONS, SectorEmissions};
use crate::facilities::{self, Facility};

/// The seed `yrd-ets demo` uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 2019;
/// The compliance year the scenario runs (the CEADs rows must be for this year).
pub const DEMO_YEAR: u16 = 2019;
/// The year allocated after the deadline.
pub const NEXT_YEAR: u16 = 2020;
/// Auction volume as a percentage of a jurisdiction's free allocation (rounded down).
pub const AUCTION_PERCENT: u64 = 4;
/// Share of all facilities, in percent, that never report (at least one).
pub const NON_REPORTING_PERCENT: u64 = 1;
/// Share of each jurisdiction's short facilities, in percent, that buy too little (at least one).
pub const UNDER_BUYER_PERCENT: u64 = 5;
/// Least an under-buyer buys, in percent of its need.
pub const UNDER_BUY_MIN_PERCENT: u64 = 50;
/// Most an under-buyer buys, in percent of its need.
pub const UNDER_BUY_MAX_PERCENT: u64 = 90;
/// The allowance unit type.
pub const UNIT_TYPE: &str = "CEA";
/// The carbon obligation.
pub const OBLIGATION: &str = "CO2E";

/// One named step of the scenario: submissions to apply in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoStep {
    /// Step name, e.g. `market`.
    pub name: &'static str,
    /// The submissions, in the order to apply them.
    pub submissions: Vec<Submission>,
}

/// The whole demo: the facilities it was built from, its steps and the seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoScenario {
    /// The synthetic facilities, as [`facilities::generate`] returned them.
    pub facilities: Vec<Facility>,
    /// The steps, in order.
    pub steps: Vec<DemoStep>,
    /// The seed used for the facilities and the scenario's draws.
    pub seed: u64,
    /// Benchmark free allocation of each facility for one year, t CO2, parallel to `facilities`.
    pub allocations: Vec<u64>,
    /// Ids of the facilities that never report (status C), in facility order.
    pub non_reporting: Vec<String>,
    /// Ids of the facilities that buy too little (status B), in facility order.
    pub under_buyers: Vec<String>,
}

impl DemoScenario {
    /// Every submission of every step, in order.
    pub fn submissions(&self) -> impl Iterator<Item = &Submission> {
        self.steps.iter().flat_map(|s| s.submissions.iter())
    }
}

/// Why the scenario could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// A row of the input is not for [`DEMO_YEAR`].
    #[error("the demo needs {DEMO_YEAR} emissions; the {jurisdiction} {sector} row is for {year}")]
    WrongYear {
        /// Jurisdiction of the row.
        jurisdiction: String,
        /// Sector code of the row.
        sector: String,
        /// Its year.
        year: u16,
    },
    /// The input gives no facility at all.
    #[error("no facilities: no sector with emissions was given")]
    NoFacilities,
    /// An id built from the input is not a valid registry id (e.g. too long).
    #[error(transparent)]
    InvalidId(#[from] InvalidValue),
    /// A total does not fit in `u64`.
    #[error("the {0} overflows u64")]
    Overflow(&'static str),
    /// Market and auctions together cannot cover a facility's purchases.
    #[error("facility {facility} is still {missing} t short after the market and every auction")]
    InsufficientSupply {
        /// The facility.
        facility: String,
        /// Units it could not get.
        missing: u64,
    },
    /// A pilot transfer or call-market step names an enterprise that is not in
    /// [`PILOT_ENTERPRISES`]: a bug in the scenario's tables.
    #[error("internal error: no pilot enterprise {0}")]
    UnknownPilot(String),
    /// The scenario's own book would go negative: a bug in the scenario, reported rather than
    /// submitted.
    #[error("internal error: {account} would send {requested} units of {class} but holds {held}")]
    Unbalanced {
        /// Sending account.
        account: String,
        /// Unit class.
        class: String,
        /// Units held.
        held: u64,
        /// Units requested.
        requested: u64,
    },
}

/// A date known to be valid (checked at compile time).
const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => panic!("invalid date constant"),
    }
}

const ACCOUNTS_DATE: NaiveDate = ymd(2019, 1, 2);
const ALLOCATION_DATE: NaiveDate = ymd(2019, 3, 1);
const EMISSIONS_DATE: NaiveDate = ymd(2020, 3, 31);
const TRADE_DATE: NaiveDate = ymd(2020, 9, 15);
const AUCTION_DATE: NaiveDate = ymd(2020, 11, 16);
const SURRENDER_DATE: NaiveDate = ymd(2020, 12, 15);
const DEADLINE_DATE: NaiveDate = ymd(2021, 1, 1);
const NEXT_ALLOCATION_DATE: NaiveDate = ymd(2021, 1, 15);

/// Builds the demo scenario for `sectors` (the CEADs 2019 covered-sector rows) and `seed`; see the
/// [module docs](self) for every step and modelling choice.
pub fn scenario(sectors: &[SectorEmissions], seed: u64) -> Result<DemoScenario, DemoError> {
    if let Some(s) = sectors.iter().find(|s| s.year != DEMO_YEAR) {
        return Err(DemoError::WrongYear {
            jurisdiction: s.jurisdiction.to_string(),
            sector: s.sector_code.clone(),
            year: s.year,
        });
    }
    build(facilities::generate(sectors, seed), seed)
}

/// The scenario for given facilities (all taken to be [`DEMO_YEAR`] emissions).
fn build(facilities: Vec<Facility>, seed: u64) -> Result<DemoScenario, DemoError> {
    if facilities.is_empty() {
        return Err(DemoError::NoFacilities);
    }
    let mut plan = Plan::new(&facilities, seed)?;
    let mut book = Book::default();
    let steps = vec![
        DemoStep {
            name: "accounts",
            submissions: plan.accounts()?,
        },
        DemoStep {
            name: "cap and allocation 2019",
            submissions: plan.cap_and_allocation(&mut book, DEMO_YEAR, ALLOCATION_DATE)?,
        },
        DemoStep {
            name: "verified emissions 2019",
            submissions: plan.emissions()?,
        },
        DemoStep {
            name: "market",
            submissions: plan.market(&mut book)?,
        },
        DemoStep {
            name: "surrender 2019",
            submissions: plan.surrender(&mut book)?,
        },
        DemoStep {
            name: "deadline 2019",
            submissions: plan.deadline()?,
        },
        DemoStep {
            name: "allocation 2020",
            submissions: plan.cap_and_allocation(&mut book, NEXT_YEAR, NEXT_ALLOCATION_DATE)?,
        },
        DemoStep {
            name: STEP_POLLUTANT_RIGHTS,
            submissions: pollutant_rights(&mut book)?,
        },
        DemoStep {
            name: STEP_TRANSFERS,
            submissions: cross_regional_transfers(&mut book)?,
        },
        DemoStep {
            name: STEP_CALL_MARKET,
            submissions: call_market(&book)?,
        },
    ];
    let ids_where = |flags: &[bool]| -> Vec<String> {
        facilities
            .iter()
            .zip(flags)
            .filter(|(_, f)| **f)
            .map(|(x, _)| x.id.clone())
            .collect()
    };
    let non_reporting_flags: Vec<bool> = plan.reporting.iter().map(|r| !r).collect();
    let under_flags: Vec<bool> = plan.buy_percent.iter().map(Option::is_some).collect();
    let non_reporting = ids_where(&non_reporting_flags);
    let under_buyers = ids_where(&under_flags);
    let allocations = std::mem::take(&mut plan.allocations);
    Ok(DemoScenario {
        facilities,
        steps,
        seed,
        allocations,
        non_reporting,
        under_buyers,
    })
}

/// Everything the steps need, per facility (vectors parallel to `facilities`).
struct Plan<'a> {
    facilities: &'a [Facility],
    accounts: Vec<AccountId>,
    installations: Vec<InstallationId>,
    allocations: Vec<u64>,
    /// Jurisdictions in first-appearance order.
    jurisdictions: Vec<JurisdictionCode>,
    reporting: Vec<bool>,
    /// `Some(percent)` for the under-buyers.
    buy_percent: Vec<Option<u64>>,
    /// 2019 shortfall each facility will be judged with (filled by `surrender`).
    shortfall: Vec<u64>,
    unit_type: UnitTypeCode,
    obligation: UnitTypeCode,
}

impl<'a> Plan<'a> {
    fn new(facilities: &'a [Facility], seed: u64) -> Result<Self, DemoError> {
        let accounts = facilities
            .iter()
            .map(|f| AccountId::new(format!("OHA-{}", f.id)))
            .collect::<Result<Vec<_>, _>>()?;
        let installations = facilities
            .iter()
            .map(|f| InstallationId::new(f.id.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut jurisdictions: Vec<JurisdictionCode> = Vec::new();
        for f in facilities {
            if !jurisdictions.contains(&f.jurisdiction) {
                jurisdictions.push(f.jurisdiction.clone());
            }
        }

        // Benchmark allocation per (jurisdiction, sector) group.
        let mut groups: BTreeMap<(&JurisdictionCode, &str), Vec<usize>> = BTreeMap::new();
        for (i, f) in facilities.iter().enumerate() {
            groups
                .entry((&f.jurisdiction, f.sector_code.as_str()))
                .or_default()
                .push(i);
        }
        let mut allocations = vec![0; facilities.len()];
        for members in groups.values() {
            let group: Vec<Facility> = members.iter().map(|&i| facilities[i].clone()).collect();
            for (&i, a) in members.iter().zip(facilities::benchmark_allocation(&group)) {
                allocations[i] = a;
            }
        }

        // Non-reporting facilities: 1 % of all, at least one.
        let n = facilities.len() as u64;
        let k = round_percent(n, NON_REPORTING_PERCENT).max(1);
        let all: Vec<usize> = (0..facilities.len()).collect();
        let mut rng = stream(seed, "non-reporting");
        let mut reporting = vec![true; facilities.len()];
        for i in pick(&mut rng, &all, k) {
            reporting[i] = false;
        }

        // Under-buyers: 5 % of each jurisdiction's short reporting facilities, at least one.
        let mut rng = stream(seed, "under-buyers");
        let mut buy_percent = vec![None; facilities.len()];
        for j in &jurisdictions {
            let short: Vec<usize> = (0..facilities.len())
                .filter(|&i| {
                    &facilities[i].jurisdiction == j
                        && reporting[i]
                        && facilities[i].verified_t > allocations[i]
                })
                .collect();
            if short.is_empty() {
                continue;
            }
            let k = round_percent(short.len() as u64, UNDER_BUYER_PERCENT).max(1);
            for i in pick(&mut rng, &short, k) {
                let span = UNDER_BUY_MAX_PERCENT - UNDER_BUY_MIN_PERCENT + 1;
                buy_percent[i] = Some(UNDER_BUY_MIN_PERCENT + rng.random::<u64>() % span);
            }
        }

        Ok(Self {
            facilities,
            accounts,
            installations,
            allocations,
            jurisdictions,
            reporting,
            buy_percent,
            shortfall: vec![0; facilities.len()],
            unit_type: UnitTypeCode::new(UNIT_TYPE)?,
            obligation: UnitTypeCode::new(OBLIGATION)?,
        })
    }

    fn class(&self, jurisdiction: &JurisdictionCode, year: u16) -> Result<UnitClass, DemoError> {
        Ok(UnitClass {
            jurisdiction: jurisdiction.clone(),
            unit_type: self.unit_type.clone(),
            vintage: Vintage::new(year)?,
        })
    }

    /// Step 1: an operator holding account and an installation per facility.
    fn accounts(&self) -> Result<Vec<Submission>, DemoError> {
        let mut out = Vec::with_capacity(2 * self.facilities.len());
        for (i, f) in self.facilities.iter().enumerate() {
            out.push(submission(
                format!("demo/{DEMO_YEAR}/account/{}", f.id),
                ACCOUNTS_DATE,
                Command::OpenAccount {
                    account: self.accounts[i].clone(),
                    kind: AccountKind::OperatorHolding,
                    jurisdiction: f.jurisdiction.clone(),
                    holder_name: format!("{} Co., Ltd.", f.id),
                },
            )?);
            out.push(submission(
                format!("demo/{DEMO_YEAR}/installation/{}", f.id),
                ACCOUNTS_DATE,
                Command::RegisterInstallation {
                    installation: self.installations[i].clone(),
                    account: self.accounts[i].clone(),
                    name: installation_name(f),
                    sector: f.sector_code.clone(),
                    first_year: DEMO_YEAR,
                },
            )?);
        }
        Ok(out)
    }

    /// Steps 2 and 7: issue each jurisdiction's cap, move its auction volume to the auction
    /// account, allocate every facility its benchmark allocation.
    fn cap_and_allocation(
        &self,
        book: &mut Book,
        year: u16,
        date: NaiveDate,
    ) -> Result<Vec<Submission>, DemoError> {
        let mut out = Vec::new();
        for j in &self.jurisdictions {
            let allocation = self
                .facilities
                .iter()
                .zip(&self.allocations)
                .filter(|(f, _)| &f.jurisdiction == j)
                .try_fold(0u64, |acc, (_, &a)| acc.checked_add(a))
                .ok_or(DemoError::Overflow("jurisdiction's allocation"))?;
            let auction = auction_volume(allocation);
            let cap = allocation
                .checked_add(auction)
                .ok_or(DemoError::Overflow("cap"))?;
            if cap == 0 {
                continue;
            }
            let class = self.class(j, year)?;
            let gov = system_account(j, "GOV")?;
            out.push(submission(
                format!("demo/{year}/issue/{j}"),
                date,
                Command::Issue {
                    jurisdiction: j.clone(),
                    unit_type: self.unit_type.clone(),
                    vintage: class.vintage,
                    quantity: cap,
                },
            )?);
            book.credit(&gov, &class, cap)?;
            if auction > 0 {
                let to = system_account(j, "AUCTION")?;
                out.push(book.transfer(
                    format!("demo/{year}/auction-volume/{j}"),
                    date,
                    &gov,
                    &to,
                    &class,
                    auction,
                )?);
            }
        }
        for (i, f) in self.facilities.iter().enumerate() {
            let quantity = self.allocations[i];
            if quantity == 0 {
                continue;
            }
            let class = self.class(&f.jurisdiction, year)?;
            out.push(submission(
                format!("demo/{year}/alloc/{}", f.id),
                date,
                Command::Allocate {
                    installation: self.installations[i].clone(),
                    unit_type: self.unit_type.clone(),
                    vintage: class.vintage,
                    quantity,
                },
            )?);
            // The registry withholds last year's shortfall (deduct multiple 1 in yrd.toml).
            let withheld = if year == NEXT_YEAR {
                self.shortfall[i].min(quantity)
            } else {
                0
            };
            let gov = system_account(&f.jurisdiction, "GOV")?;
            book.debit(&gov, &class, quantity - withheld)?;
            book.credit(&self.accounts[i], &class, quantity - withheld)?;
        }
        Ok(out)
    }

    /// Step 3: verified emissions of every reporting facility.
    fn emissions(&self) -> Result<Vec<Submission>, DemoError> {
        let mut out = Vec::new();
        for (i, f) in self.facilities.iter().enumerate() {
            if !self.reporting[i] {
                continue;
            }
            out.push(submission(
                format!("demo/{DEMO_YEAR}/emissions/{}", f.id),
                EMISSIONS_DATE,
                Command::EnterEmissions {
                    installation: self.installations[i].clone(),
                    obligation: self.obligation.clone(),
                    year: DEMO_YEAR,
                    quantity: f.verified_t,
                    source: EmissionsSource::Verifier,
                },
            )?);
        }
        Ok(out)
    }

    /// Step 4: the pro-rata secondary market, then auction deliveries.
    fn market(&self, book: &mut Book) -> Result<Vec<Submission>, DemoError> {
        let n = self.facilities.len();
        let mut surplus = vec![0u64; n];
        let mut target = vec![0u64; n];
        for (i, f) in self.facilities.iter().enumerate() {
            if !self.reporting[i] {
                continue;
            }
            let (a, v) = (self.allocations[i], f.verified_t);
            if a > v {
                surplus[i] = a - v;
            } else {
                let need = v - a;
                target[i] = match self.buy_percent[i] {
                    // < need for need >= 1, since the percentage is below 100.
                    Some(p) => mul_div(need, p, 100),
                    None => need,
                };
            }
        }
        let total_surplus: u128 = surplus.iter().map(|&s| u128::from(s)).sum();
        let total_target: u128 = target.iter().map(|&t| u128::from(t)).sum();
        let traded = total_surplus.min(total_target);
        let quota: Vec<u64> = target
            .iter()
            .map(|&t| {
                // floor(t x traded / total) <= t, so it fits; no targets, no quota.
                // (An overflow, impossible with real totals, leaves it all to the auctions.)
                u128::from(t)
                    .checked_mul(traded)
                    .and_then(|p| p.checked_div(total_target))
                    .map_or(0, |q| u64::try_from(q).unwrap_or(t))
            })
            .collect();

        let mut out = Vec::new();
        let mut sellers: Vec<usize> = (0..n).filter(|&i| surplus[i] > 0).collect();
        sellers.sort_by(|&a, &b| surplus[b].cmp(&surplus[a]).then(a.cmp(&b)));
        let mut buyers: Vec<usize> = (0..n).filter(|&i| quota[i] > 0).collect();
        buyers.sort_by(|&a, &b| quota[b].cmp(&quota[a]).then(a.cmp(&b)));
        let mut left_surplus = surplus.clone();
        let mut left_quota = quota.clone();
        let mut bought = vec![0u64; n];
        let (mut s, mut b) = (0, 0);
        while s < sellers.len() && b < buyers.len() {
            let (seller, buyer) = (sellers[s], buyers[b]);
            let quantity = left_surplus[seller].min(left_quota[buyer]);
            let class = self.class(&self.facilities[seller].jurisdiction, DEMO_YEAR)?;
            out.push(book.transfer(
                format!(
                    "demo/{DEMO_YEAR}/trade/{}/{}",
                    self.facilities[seller].id, self.facilities[buyer].id
                ),
                TRADE_DATE,
                &self.accounts[seller],
                &self.accounts[buyer],
                &class,
                quantity,
            )?);
            left_surplus[seller] -= quantity;
            left_quota[buyer] -= quantity;
            bought[buyer] += quantity;
            if left_surplus[seller] == 0 {
                s += 1;
            }
            if left_quota[buyer] == 0 {
                b += 1;
            }
        }

        // Auction deliveries: own jurisdiction first, then the others in jurisdiction order.
        let mut missing: Vec<u64> = (0..n).map(|i| target[i] - bought[i]).collect();
        for own_only in [true, false] {
            for (i, f) in self.facilities.iter().enumerate() {
                for j in &self.jurisdictions {
                    if missing[i] == 0 {
                        break;
                    }
                    if (j == &f.jurisdiction) != own_only {
                        continue;
                    }
                    let auction = system_account(j, "AUCTION")?;
                    let class = self.class(j, DEMO_YEAR)?;
                    let quantity = missing[i].min(book.held(&auction, &class));
                    if quantity == 0 {
                        continue;
                    }
                    out.push(book.transfer(
                        format!("demo/{DEMO_YEAR}/auction/{j}/{}", f.id),
                        AUCTION_DATE,
                        &auction,
                        &self.accounts[i],
                        &class,
                        quantity,
                    )?);
                    missing[i] -= quantity;
                }
            }
        }
        if let Some(i) = (0..n).find(|&i| missing[i] > 0) {
            return Err(DemoError::InsufficientSupply {
                facility: self.facilities[i].id.clone(),
                missing: missing[i],
            });
        }
        Ok(out)
    }

    /// Step 5: every reporting facility surrenders what it can of its verified emissions.
    fn surrender(&mut self, book: &mut Book) -> Result<Vec<Submission>, DemoError> {
        let mut out = Vec::new();
        for (i, f) in self.facilities.iter().enumerate() {
            if !self.reporting[i] {
                continue;
            }
            let quantity =
                f.verified_t
                    .min(book.held_for(&self.accounts[i], &self.unit_type, DEMO_YEAR));
            self.shortfall[i] = f.verified_t - quantity;
            if quantity == 0 {
                continue;
            }
            out.push(submission(
                format!("demo/{DEMO_YEAR}/surrender/{}", f.id),
                SURRENDER_DATE,
                Command::Surrender {
                    installation: self.installations[i].clone(),
                    account: self.accounts[i].clone(),
                    obligation: self.obligation.clone(),
                    year: DEMO_YEAR,
                    quantity,
                },
            )?);
            book.surrender(&self.accounts[i], &self.unit_type, DEMO_YEAR, quantity)?;
        }
        Ok(out)
    }

    /// Step 6: the 2019 deadline in every jurisdiction.
    fn deadline(&self) -> Result<Vec<Submission>, DemoError> {
        self.jurisdictions
            .iter()
            .map(|j| {
                submission(
                    format!("demo/{DEMO_YEAR}/deadline/{j}"),
                    DEADLINE_DATE,
                    Command::ProcessDeadline {
                        jurisdiction: j.clone(),
                        obligation: self.obligation.clone(),
                        year: DEMO_YEAR,
                    },
                )
            })
            .collect()
    }
}

// ---- The cross-regional part (2021) -------------------------------------------------------------

/// Name of step 8.
pub const STEP_POLLUTANT_RIGHTS: &str = "pollutant rights 2021";
/// Name of step 9.
pub const STEP_TRANSFERS: &str = "cross-regional transfers 2021";
/// Name of step 10.
pub const STEP_CALL_MARKET: &str = "call market 2021";
/// Vintage of the pollutant rights of the cross-regional part.
pub const REGIONAL_YEAR: u16 = 2021;
/// The water pollutant traded.
pub const WATER_POLLUTANT: &str = "COD";
/// The air pollutant traded.
pub const AIR_POLLUTANT: &str = "VOCS";
/// The scenario's reading of the geography's water-pollutant ratio (`jiaxing-1.5-water` in
/// `config/yrd.toml`): of every `.0` kg delivered between two areas, `.1` kg are credited.
pub const WATER_RATIO: (u64, u64) = (3, 2);
/// Areas of the demonstration zone's airshed `AIR-DZ` (Qingpu, Wujiang, Jiashan).
pub const DEMONSTRATION_ZONE: [&str; 3] = ["CN-SH-QP", "CN-JS-SZ-WJ", "CN-ZJ-JX-JS"];
/// Reference of the demo's call market.
pub const CALL_MARKET: &str = "HUANGPU-COD-2021";
/// Jurisdiction operating the call market (its government account is the counterparty).
pub const CALL_MARKET_OPERATOR: &str = "CN-SH";
/// Areas of the call market, all in the Huangpu (and Taihu) basin.
pub const CALL_MARKET_AREAS: [&str; 4] = ["CN-SH-QP", "CN-JS-SZ-WJ", "CN-ZJ-JX-JS", "CN-JS-SZ-KS"];
/// Receptors constraining the call market: the Huangpu-basin COD receptors of `config/yrd.toml`.
pub const CALL_MARKET_RECEPTORS: [&str; 2] = ["DIANSHAN-LAKE-COD", "JISHUIGANG-COD"];
/// Lot of the call market: 1,000 kg (one tonne); step prices are per lot.
pub const CALL_LOT_KG: u64 = 1_000;

const RIGHTS_DATE: NaiveDate = ymd(2021, 3, 1);
const APPROVAL_DATE: NaiveDate = ymd(2021, 7, 1);
const REGIONAL_TRANSFER_DATE: NaiveDate = ymd(2021, 7, 15);
const CALL_OPEN_DATE: NaiveDate = ymd(2021, 9, 1);
const CALL_STEP_DATE: NaiveDate = ymd(2021, 9, 15);
/// Last day the call market accepts steps.
pub const CALL_CLOSES: NaiveDate = ymd(2021, 9, 30);
const CALL_CLEAR_DATE: NaiveDate = ymd(2021, 10, 8);

/// A pilot enterprise of the cross-regional part (illustrative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PilotEnterprise {
    /// Installation id; its operator holding account is `OHA-{id}`.
    pub id: &'static str,
    /// Installation name.
    pub name: &'static str,
    /// Administering jurisdiction.
    pub jurisdiction: &'static str,
    /// Area of the geography.
    pub area: &'static str,
    /// Sector code of the geography.
    pub sector: &'static str,
    /// COD 2021 allocated, kg.
    pub cod_kg: u64,
    /// VOCS 2021 allocated, kg.
    pub vocs_kg: u64,
}

const fn pilot(
    id: &'static str,
    name: &'static str,
    jurisdiction: &'static str,
    area: &'static str,
    sector: &'static str,
    cod_kg: u64,
    vocs_kg: u64,
) -> PilotEnterprise {
    PilotEnterprise {
        id,
        name,
        jurisdiction,
        area,
        sector,
        cod_kg,
        vocs_kg,
    }
}

/// The twelve pilot enterprises, in the order they are set up.
#[rustfmt::skip]
pub const PILOT_ENTERPRISES: [PilotEnterprise; 12] = [
    // id, name, jurisdiction, area, sector (of the geography), COD 2021 kg, VOCS 2021 kg
    pilot("CN-SH-QP-001",     "Qingpu printing and coating works 001",   "CN-SH",  "CN-SH-QP",     "printing-coating",   60_000,  8_000),
    pilot("CN-SH-QP-002",     "Qingpu chemical plant 002",               "CN-SH",  "CN-SH-QP",     "chemicals",         240_000, 15_000),
    pilot("CN-SH-QP-003",     "Qingpu dyeing mill 003",                  "CN-SH",  "CN-SH-QP",     "textiles-dyeing",    90_000,  3_000),
    pilot("CN-JS-SZ-WJ-001",  "Wujiang dyeing mill 001",                 "CN-JS",  "CN-JS-SZ-WJ",  "textiles-dyeing",   420_000,  6_000),
    pilot("CN-JS-SZ-WJ-002",  "Wujiang chemical plant 002",              "CN-JS",  "CN-JS-SZ-WJ",  "chemicals",         150_000, 20_000),
    pilot("CN-JS-SZ-WJ-003",  "Wujiang printing and coating works 003",  "CN-JS",  "CN-JS-SZ-WJ",  "printing-coating",   50_000,  9_000),
    pilot("CN-ZJ-JX-JS-001",  "Jiashan chemical plant 001",              "CN-ZJ",  "CN-ZJ-JX-JS",  "chemicals",         320_000, 18_000),
    pilot("CN-ZJ-JX-JS-002",  "Jiashan dyeing mill 002",                 "CN-ZJ",  "CN-ZJ-JX-JS",  "textiles-dyeing",   180_000,  4_000),
    pilot("CN-ZJ-JX-JS-003",  "Jiashan printing and coating works 003",  "CN-ZJ",  "CN-ZJ-JX-JS",  "printing-coating",   40_000,  7_000),
    pilot("CN-AH-XC-GD-001",  "Guangde chemical plant 001",              "CN-AH",  "CN-AH-XC-GD",  "chemicals",         110_000, 24_000),
    pilot("CN-AH-XC-GD-002",  "Guangde printing and coating works 002",  "CN-AH",  "CN-AH-XC-GD",  "printing-coating",   35_000, 16_000),
    pilot("CN-JS-SZ-KS-001",  "Kunshan chemical plant 001",              "CN-JS",  "CN-JS-SZ-KS",  "chemicals",         200_000, 10_000),
];

/// A bilateral delivery of pollutant rights between two pilot enterprises (the sender's own
/// jurisdiction's rights, vintage 2021).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PilotTransfer {
    /// Sending enterprise (installation id).
    pub from: &'static str,
    /// Receiving enterprise.
    pub to: &'static str,
    /// Pollutant (unit type).
    pub pollutant: &'static str,
    /// Delivered by the sender, kg.
    pub kg: u64,
}

const fn delivery(
    from: &'static str,
    to: &'static str,
    pollutant: &'static str,
    kg: u64,
) -> PilotTransfer {
    PilotTransfer {
        from,
        to,
        pollutant,
        kg,
    }
}

/// The VOCs pilot: eight firms, four deliveries, 13,257 kg in total.
pub const VOCS_PILOT: [PilotTransfer; 4] = [
    delivery("CN-AH-XC-GD-001", "CN-SH-QP-001", AIR_POLLUTANT, 4_200),
    delivery("CN-AH-XC-GD-002", "CN-JS-SZ-WJ-001", AIR_POLLUTANT, 3_857),
    delivery("CN-ZJ-JX-JS-001", "CN-SH-QP-002", AIR_POLLUTANT, 2_900),
    delivery("CN-JS-SZ-WJ-002", "CN-ZJ-JX-JS-002", AIR_POLLUTANT, 2_300),
];

/// COD deliveries between areas of the Huangpu basin, at 3:2.
pub const COD_TRANSFERS: [PilotTransfer; 3] = [
    delivery("CN-JS-SZ-WJ-001", "CN-SH-QP-003", WATER_POLLUTANT, 1_500),
    delivery("CN-ZJ-JX-JS-002", "CN-JS-SZ-WJ-003", WATER_POLLUTANT, 3_000),
    delivery("CN-JS-SZ-KS-001", "CN-ZJ-JX-JS-003", WATER_POLLUTANT, 1_000),
];

/// A sealed step of the call market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PilotStep {
    /// Step reference.
    pub step: &'static str,
    /// Submitting enterprise (installation id).
    pub enterprise: &'static str,
    /// Buy (new rights issued at its location) or sell (its own rights retired).
    pub side: OrderSide,
    /// Tonnes (= lots of 1,000 kg).
    pub tonnes: u64,
    /// Limit price, CNY per tonne (= per lot).
    pub cny_per_t: i64,
}

const fn call_step(
    step: &'static str,
    enterprise: &'static str,
    side: OrderSide,
    tonnes: u64,
    cny_per_t: i64,
) -> PilotStep {
    PilotStep {
        step,
        enterprise,
        side,
        tonnes,
        cny_per_t,
    }
}

/// The call market's sealed steps.
pub const CALL_STEPS: [PilotStep; 6] = [
    call_step("QP-001-BUY", "CN-SH-QP-001", OrderSide::Buy, 1_500, 30_000),
    call_step("QP-002-SELL", "CN-SH-QP-002", OrderSide::Sell, 200, 26_000),
    call_step(
        "KS-001-BUY",
        "CN-JS-SZ-KS-001",
        OrderSide::Buy,
        1_500,
        20_000,
    ),
    call_step(
        "WJ-002-BUY",
        "CN-JS-SZ-WJ-002",
        OrderSide::Buy,
        1_000,
        12_000,
    ),
    call_step(
        "WJ-001-SELL",
        "CN-JS-SZ-WJ-001",
        OrderSide::Sell,
        400,
        10_000,
    ),
    call_step(
        "JS-001-SELL",
        "CN-ZJ-JX-JS-001",
        OrderSide::Sell,
        300,
        8_000,
    ),
];

/// The pilot enterprise with installation id `id`.
pub fn pilot_enterprise(id: &str) -> Option<&'static PilotEnterprise> {
    PILOT_ENTERPRISES.iter().find(|p| p.id == id)
}

/// Operator holding account of a pilot enterprise: `OHA-{id}`.
pub fn pilot_account(id: &str) -> Result<AccountId, DemoError> {
    Ok(AccountId::new(format!("OHA-{id}"))?)
}

fn known_pilot(id: &str) -> Result<&'static PilotEnterprise, DemoError> {
    pilot_enterprise(id).ok_or_else(|| DemoError::UnknownPilot(id.to_string()))
}

fn pollutant_class(jurisdiction: &str, pollutant: &str) -> Result<UnitClass, DemoError> {
    Ok(UnitClass {
        jurisdiction: JurisdictionCode::new(jurisdiction)?,
        unit_type: UnitTypeCode::new(pollutant)?,
        vintage: Vintage::new(REGIONAL_YEAR)?,
    })
}

/// Units credited to the receiver of `t` under the scenario's reading of the geography: water
/// rights between two areas at [`WATER_RATIO`] (rounded down), everything else one for one.
pub fn credited(t: &PilotTransfer) -> Result<u64, DemoError> {
    let (from, to) = (known_pilot(t.from)?, known_pilot(t.to)?);
    Ok(if t.pollutant == WATER_POLLUTANT && from.area != to.area {
        mul_div(t.kg, WATER_RATIO.1, WATER_RATIO.0)
    } else {
        t.kg
    })
}

/// Whether `t` needs both administrators' approval under the scenario's reading of the
/// geography: air rights between two areas that share no airshed (airsheds are drawn per
/// province, plus [`DEMONSTRATION_ZONE`]).
pub fn needs_approval(t: &PilotTransfer) -> Result<bool, DemoError> {
    let (from, to) = (known_pilot(t.from)?, known_pilot(t.to)?);
    let both_in_zone =
        DEMONSTRATION_ZONE.contains(&from.area) && DEMONSTRATION_ZONE.contains(&to.area);
    Ok(t.pollutant == AIR_POLLUTANT
        && from.area != to.area
        && from.jurisdiction != to.jurisdiction
        && !both_in_zone)
}

/// Step 8: pilot enterprises set up and placed, COD and VOCS 2021 issued and allocated.
fn pollutant_rights(book: &mut Book) -> Result<Vec<Submission>, DemoError> {
    let mut out = Vec::new();
    for p in &PILOT_ENTERPRISES {
        let account = pilot_account(p.id)?;
        out.push(submission(
            format!("demo/{REGIONAL_YEAR}/pilot/account/{}", p.id),
            RIGHTS_DATE,
            Command::OpenAccount {
                account: account.clone(),
                kind: AccountKind::OperatorHolding,
                jurisdiction: JurisdictionCode::new(p.jurisdiction)?,
                holder_name: format!("{} Co., Ltd.", p.name),
            },
        )?);
        out.push(submission(
            format!("demo/{REGIONAL_YEAR}/pilot/installation/{}", p.id),
            RIGHTS_DATE,
            Command::RegisterInstallation {
                installation: InstallationId::new(p.id)?,
                account: account.clone(),
                name: p.name.to_string(),
                sector: p.sector.to_string(),
                first_year: REGIONAL_YEAR,
            },
        )?);
        out.push(submission(
            format!("demo/{REGIONAL_YEAR}/pilot/area/{}", p.id),
            RIGHTS_DATE,
            Command::SetAccountArea {
                account,
                area: p.area.to_string(),
            },
        )?);
    }
    let mut jurisdictions: Vec<&str> = Vec::new();
    for p in &PILOT_ENTERPRISES {
        if !jurisdictions.contains(&p.jurisdiction) {
            jurisdictions.push(p.jurisdiction);
        }
    }
    let allocation = |p: &PilotEnterprise, pollutant: &str| {
        if pollutant == WATER_POLLUTANT {
            p.cod_kg
        } else {
            p.vocs_kg
        }
    };
    for pollutant in [WATER_POLLUTANT, AIR_POLLUTANT] {
        for j in &jurisdictions {
            let total = PILOT_ENTERPRISES
                .iter()
                .filter(|p| p.jurisdiction == *j)
                .try_fold(0u64, |acc, p| acc.checked_add(allocation(p, pollutant)))
                .ok_or(DemoError::Overflow("pilot allocation"))?;
            if total == 0 {
                continue;
            }
            let class = pollutant_class(j, pollutant)?;
            out.push(submission(
                format!("demo/{REGIONAL_YEAR}/issue/{j}/{pollutant}"),
                RIGHTS_DATE,
                Command::Issue {
                    jurisdiction: class.jurisdiction.clone(),
                    unit_type: class.unit_type.clone(),
                    vintage: class.vintage,
                    quantity: total,
                },
            )?);
            book.credit(&system_account(&class.jurisdiction, "GOV")?, &class, total)?;
        }
        for p in &PILOT_ENTERPRISES {
            let quantity = allocation(p, pollutant);
            if quantity == 0 {
                continue;
            }
            let class = pollutant_class(p.jurisdiction, pollutant)?;
            out.push(submission(
                format!("demo/{REGIONAL_YEAR}/alloc/{pollutant}/{}", p.id),
                RIGHTS_DATE,
                Command::Allocate {
                    installation: InstallationId::new(p.id)?,
                    unit_type: class.unit_type.clone(),
                    vintage: class.vintage,
                    quantity,
                },
            )?);
            book.debit(
                &system_account(&class.jurisdiction, "GOV")?,
                &class,
                quantity,
            )?;
            book.credit(&pilot_account(p.id)?, &class, quantity)?;
        }
    }
    Ok(out)
}

/// Step 9: approvals where an airshed is left, the VOCs pilot, then the COD transfers at 3:2.
fn cross_regional_transfers(book: &mut Book) -> Result<Vec<Submission>, DemoError> {
    let mut approvals = Vec::new();
    let mut transfers = Vec::new();
    for t in VOCS_PILOT.iter().chain(&COD_TRANSFERS) {
        let (from, to) = (known_pilot(t.from)?, known_pilot(t.to)?);
        let class = pollutant_class(from.jurisdiction, t.pollutant)?;
        let (from_account, to_account) = (pilot_account(from.id)?, pilot_account(to.id)?);
        if needs_approval(t)? {
            let reference = OrderRef::new(format!("APPROVAL-{}-{}", from.id, to.id))?;
            for j in [from.jurisdiction, to.jurisdiction] {
                approvals.push(submission(
                    format!("demo/{REGIONAL_YEAR}/approval/{}/{}/{j}", from.id, to.id),
                    APPROVAL_DATE,
                    Command::ApproveCrossRegionalTransfer {
                        approval: reference.clone(),
                        jurisdiction: JurisdictionCode::new(j)?,
                        from: from_account.clone(),
                        to: to_account.clone(),
                        class: class.clone(),
                        quantity: t.kg,
                    },
                )?);
            }
        }
        let credited = credited(t)?;
        book.debit(&from_account, &class, t.kg)?;
        book.credit(&to_account, &class, credited)?;
        if credited < t.kg {
            let cancellation = system_account(&class.jurisdiction, "CANCELLATION")?;
            book.credit(&cancellation, &class, t.kg - credited)?;
        }
        transfers.push(submission(
            format!(
                "demo/{REGIONAL_YEAR}/transfer/{}/{}/{}",
                t.pollutant, from.id, to.id
            ),
            REGIONAL_TRANSFER_DATE,
            Command::Transfer {
                from: from_account,
                to: to_account,
                class,
                quantity: t.kg,
            },
        )?);
    }
    approvals.extend(transfers);
    Ok(approvals)
}

/// Step 10: the Huangpu COD call market, from opening to clearing.
fn call_market(book: &Book) -> Result<Vec<Submission>, DemoError> {
    let market = OrderRef::new(CALL_MARKET)?;
    let vintage = Vintage::new(REGIONAL_YEAR)?;
    let mut out = vec![submission(
        format!("demo/{REGIONAL_YEAR}/call/create"),
        CALL_OPEN_DATE,
        Command::CreateCallMarket {
            market: market.clone(),
            operator: JurisdictionCode::new(CALL_MARKET_OPERATOR)?,
            pollutant: UnitTypeCode::new(WATER_POLLUTANT)?,
            vintage,
            areas: CALL_MARKET_AREAS.iter().map(|a| a.to_string()).collect(),
            receptors: CALL_MARKET_RECEPTORS
                .iter()
                .map(|r| r.to_string())
                .collect(),
            lot: CALL_LOT_KG,
            closes: CALL_CLOSES,
        },
    )?];
    // Each buyer deposits exactly the guarantee its buy steps reserve (price x lots).
    let mut guarantees: BTreeMap<&str, i64> = BTreeMap::new();
    for s in CALL_STEPS.iter().filter(|s| s.side == OrderSide::Buy) {
        let g = i64::try_from(s.tonnes)
            .ok()
            .and_then(|lots| (s.cny_per_t * 100).checked_mul(lots))
            .ok_or(DemoError::Overflow("call-market guarantee"))?;
        let e = guarantees.entry(s.enterprise).or_insert(0);
        *e = e
            .checked_add(g)
            .ok_or(DemoError::Overflow("call-market guarantee"))?;
    }
    for p in &PILOT_ENTERPRISES {
        if let Some(&amount) = guarantees.get(p.id) {
            out.push(submission(
                format!("demo/{REGIONAL_YEAR}/call/deposit/{}", p.id),
                CALL_OPEN_DATE,
                Command::Deposit {
                    account: pilot_account(p.id)?,
                    amount_minor: amount,
                },
            )?);
        }
    }
    let mut offered: BTreeMap<&str, u64> = BTreeMap::new();
    for s in &CALL_STEPS {
        let p = known_pilot(s.enterprise)?;
        let account = pilot_account(p.id)?;
        let quantity = s
            .tonnes
            .checked_mul(CALL_LOT_KG)
            .ok_or(DemoError::Overflow("call-market step"))?;
        if s.side == OrderSide::Sell {
            // Sells reserve the seller's own rights: never offer more than the book holds.
            let class = pollutant_class(p.jurisdiction, WATER_POLLUTANT)?;
            let total = offered.entry(p.id).or_insert(0);
            *total += quantity;
            let held = book.held(&account, &class);
            if held < *total {
                return Err(DemoError::Unbalanced {
                    account: account.to_string(),
                    class: class.to_string(),
                    held,
                    requested: *total,
                });
            }
        }
        out.push(submission(
            format!("demo/{REGIONAL_YEAR}/call/step/{}", s.step),
            CALL_STEP_DATE,
            Command::SubmitCallStep {
                market: market.clone(),
                step: OrderRef::new(s.step)?,
                account,
                side: s.side,
                class: None,
                quantity,
                price_minor: s.cny_per_t * 100,
            },
        )?);
    }
    out.push(submission(
        format!("demo/{REGIONAL_YEAR}/call/clear"),
        CALL_CLEAR_DATE,
        Command::ClearCallMarket { market },
    )?);
    Ok(out)
}

/// What each account holds according to the scenario's own submissions.
#[derive(Debug, Default)]
struct Book(BTreeMap<AccountId, BTreeMap<UnitClass, u64>>);

impl Book {
    fn held(&self, account: &AccountId, class: &UnitClass) -> u64 {
        self.0
            .get(account)
            .and_then(|h| h.get(class))
            .copied()
            .unwrap_or(0)
    }

    /// Units of `unit_type` and vintage `year`, of any jurisdiction, held by `account`.
    fn held_for(&self, account: &AccountId, unit_type: &UnitTypeCode, year: u16) -> u64 {
        self.0.get(account).map_or(0, |h| {
            h.iter()
                .filter(|(c, _)| &c.unit_type == unit_type && c.vintage.year() == year)
                .map(|(_, q)| q)
                .sum()
        })
    }

    fn credit(
        &mut self,
        account: &AccountId,
        class: &UnitClass,
        quantity: u64,
    ) -> Result<(), DemoError> {
        let held = self
            .0
            .entry(account.clone())
            .or_default()
            .entry(class.clone())
            .or_default();
        *held = held
            .checked_add(quantity)
            .ok_or(DemoError::Overflow("holding"))?;
        Ok(())
    }

    fn debit(
        &mut self,
        account: &AccountId,
        class: &UnitClass,
        quantity: u64,
    ) -> Result<(), DemoError> {
        let held = self.held(account, class);
        if held < quantity {
            return Err(DemoError::Unbalanced {
                account: account.to_string(),
                class: class.to_string(),
                held,
                requested: quantity,
            });
        }
        if let Some(h) = self.0.get_mut(account).and_then(|h| h.get_mut(class)) {
            *h -= quantity;
        }
        Ok(())
    }

    /// Books a transfer and returns its submission.
    fn transfer(
        &mut self,
        id: String,
        date: NaiveDate,
        from: &AccountId,
        to: &AccountId,
        class: &UnitClass,
        quantity: u64,
    ) -> Result<Submission, DemoError> {
        self.debit(from, class, quantity)?;
        self.credit(to, class, quantity)?;
        submission(
            id,
            date,
            Command::Transfer {
                from: from.clone(),
                to: to.clone(),
                class: class.clone(),
                quantity,
            },
        )
    }

    /// Takes `quantity` units of `unit_type`, vintage `year`, in the registry's order (by
    /// jurisdiction within the vintage).
    fn surrender(
        &mut self,
        account: &AccountId,
        unit_type: &UnitTypeCode,
        year: u16,
        quantity: u64,
    ) -> Result<(), DemoError> {
        let classes: Vec<(UnitClass, u64)> = self.0.get(account).map_or(Vec::new(), |h| {
            h.iter()
                .filter(|(c, _)| &c.unit_type == unit_type && c.vintage.year() == year)
                .map(|(c, q)| (c.clone(), *q))
                .collect()
        });
        let mut left = quantity;
        for (class, held) in classes {
            let take = held.min(left);
            self.debit(account, &class, take)?;
            left -= take;
        }
        if left > 0 {
            return Err(DemoError::Unbalanced {
                account: account.to_string(),
                class: format!("{unit_type} {year}"),
                held: quantity - left,
                requested: quantity,
            });
        }
        Ok(())
    }
}

fn submission(id: String, date: NaiveDate, command: Command) -> Result<Submission, DemoError> {
    Ok(Submission {
        id: TransactionId::new(id)?,
        date,
        command,
    })
}

/// `{jurisdiction}-{suffix}`, the registry's system account ids.
fn system_account(jurisdiction: &JurisdictionCode, suffix: &str) -> Result<AccountId, DemoError> {
    Ok(AccountId::new(format!("{jurisdiction}-{suffix}"))?)
}

/// Auction volume for a free allocation: [`AUCTION_PERCENT`] of it, rounded down.
pub fn auction_volume(allocation: u64) -> u64 {
    mul_div(allocation, AUCTION_PERCENT, 100)
}

/// `floor(x * num / den)` in `u128`; `den > 0` and `num <= den`, so the result fits.
fn mul_div(x: u64, num: u64, den: u64) -> u64 {
    u64::try_from(u128::from(x) * u128::from(num) / u128::from(den)).unwrap_or(x)
}

/// `round(n * percent / 100)`, half up.
fn round_percent(n: u64, percent: u64) -> u64 {
    u64::try_from((u128::from(n) * u128::from(percent) + 50) / 100).unwrap_or(n)
}

/// "Jiangsu power plant 001": province, sector, number.
fn installation_name(f: &Facility) -> String {
    let province = JURISDICTIONS
        .iter()
        .find(|(c, _)| *c == f.jurisdiction.as_str())
        .map_or(f.jurisdiction.as_str(), |(_, name)| name);
    let kind = match f.sector_code.as_str() {
        "POWER" => "power plant",
        "STEEL" => "steel works",
        "CEMENT" => "building materials plant",
        "ALUMINIUM" => "nonferrous smelter",
        "CHEMICALS" => "chemical plant",
        "PETROCHEM" => "refinery",
        "PAPER" => "paper mill",
        other => other,
    };
    let number = f.id.rsplit('-').next().unwrap_or(&f.id);
    format!("{province} {kind} {number}")
}

/// The scenario's random stream `name` for `seed`.
fn stream(seed: u64, name: &str) -> ChaCha8Rng {
    let mut bytes = [0u8; 32];
    bytes[0..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&fnv1a(name.as_bytes()).to_le_bytes());
    bytes[16..24].copy_from_slice(&fnv1a(b"yrd-ets/demo/v1").to_le_bytes());
    ChaCha8Rng::from_seed(bytes)
}

/// 64-bit FNV-1a.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `k` of `candidates`: each gets a random key in list order, the `k` smallest keys win (ties by
/// list order). Returned in list order.
fn pick(rng: &mut ChaCha8Rng, candidates: &[usize], k: u64) -> Vec<usize> {
    let mut keyed: Vec<(u64, usize)> = candidates
        .iter()
        .enumerate()
        .map(|(pos, _)| (rng.random::<u64>(), pos))
        .collect();
    keyed.sort_unstable();
    let mut chosen: Vec<usize> = keyed
        .iter()
        .take(usize::try_from(k).unwrap_or(usize::MAX))
        .map(|&(_, pos)| pos)
        .collect();
    chosen.sort_unstable();
    chosen.into_iter().map(|pos| candidates[pos]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ceads::{COVERED_SECTORS_2019, COVERED_SECTORS_2019_NAME, parse_covered_sectors};
    use std::collections::{BTreeSet, HashMap};
    use yrd_compliance::StatusCode;
    use yrd_registry::reports::{ComplianceRow, compliance_table, holdings};
    use yrd_registry::{MemoryStore, Registry, RegistryState};

    const YRD: &str = include_str!("../../../config/yrd.toml");

    fn sectors() -> Vec<SectorEmissions> {
        parse_covered_sectors(COVERED_SECTORS_2019_NAME, COVERED_SECTORS_2019).unwrap()
    }

    /// Applies every step to a fresh registry; panics on the first refusal.
    fn run(s: &DemoScenario) -> Registry<MemoryStore> {
        let mut r = Registry::create(MemoryStore::new(), YRD, "yrd", ymd(2019, 1, 1)).unwrap();
        for step in &s.steps {
            let results = r.submit_batch(&step.submissions).unwrap();
            assert_eq!(results.len(), step.submissions.len());
            for result in results {
                match result {
                    Ok(receipt) => assert!(!receipt.duplicate, "{}: duplicate id", step.name),
                    Err(rejection) => panic!("step {:?}: {rejection}", step.name),
                }
            }
        }
        r
    }

    fn rows_by_id(rows: Vec<ComplianceRow>) -> HashMap<String, ComplianceRow> {
        rows.into_iter()
            .map(|r| (r.installation.clone(), r))
            .collect()
    }

    /// Benchmark allocation per (jurisdiction, sector), computed here independently.
    fn benchmark(facilities: &[Facility]) -> HashMap<String, u64> {
        let mut groups: BTreeMap<(String, String), Vec<Facility>> = BTreeMap::new();
        for f in facilities {
            groups
                .entry((f.jurisdiction.to_string(), f.sector_code.clone()))
                .or_default()
                .push(f.clone());
        }
        let mut out = HashMap::new();
        for fs in groups.values() {
            for (f, a) in fs.iter().zip(facilities::benchmark_allocation(fs)) {
                out.insert(f.id.clone(), a);
            }
        }
        out
    }

    #[test]
    fn the_demo_runs_clean_and_judges_as_designed() {
        let sectors = sectors();
        let s = scenario(&sectors, DEFAULT_SEED).unwrap();
        let names: Vec<&str> = s.steps.iter().map(|x| x.name).collect();
        assert_eq!(
            names,
            [
                "accounts",
                "cap and allocation 2019",
                "verified emissions 2019",
                "market",
                "surrender 2019",
                "deadline 2019",
                "allocation 2020",
                "pollutant rights 2021",
                "cross-regional transfers 2021",
                "call market 2021"
            ]
        );
        for sub in s.submissions() {
            assert!(
                (ymd(2019, 1, 1)..=ymd(2021, 12, 31)).contains(&sub.date),
                "{}",
                sub.id
            );
        }
        let ids: BTreeSet<&str> = s.submissions().map(|x| x.id.as_str()).collect();
        assert_eq!(ids.len(), s.submissions().count(), "transaction ids repeat");
        assert!(ids.contains("demo/2019/alloc/CN-JS-POWER-001"));
        assert!(ids.contains("demo/2019/deadline/CN-AH"));

        let r = run(&s);
        let report = yrd_registry::audit::audit(r.store()).unwrap();
        assert!(report.is_clean(), "{:?}", report.findings);

        // Verified emissions per jurisdiction = CEADs total less the non-reporting facilities.
        let non_reporting: BTreeSet<&str> = s.non_reporting.iter().map(String::as_str).collect();
        let mut expected: BTreeMap<String, u64> = BTreeMap::new();
        for row in &sectors {
            *expected.entry(row.jurisdiction.to_string()).or_default() += row.total_t;
        }
        for f in s
            .facilities
            .iter()
            .filter(|f| non_reporting.contains(f.id.as_str()))
        {
            *expected.get_mut(f.jurisdiction.as_str()).unwrap() -= f.verified_t;
        }
        let rows_2019 = compliance_table(r.state(), Some(2019), None);
        let mut entered: BTreeMap<String, u64> = BTreeMap::new();
        for row in &rows_2019 {
            *entered.entry(row.jurisdiction.clone()).or_default() += row.verified.unwrap_or(0);
        }
        assert_eq!(entered, expected);
        assert_eq!(expected.len(), 4);

        // Statuses: A for everyone who reported and bought enough, B for the under-buyers, C for
        // the non-reporting.
        assert_eq!(rows_2019.len(), s.facilities.len());
        let under: BTreeSet<&str> = s.under_buyers.iter().map(String::as_str).collect();
        let mut counts: BTreeMap<StatusCode, usize> = BTreeMap::new();
        for row in &rows_2019 {
            let code = row.status.unwrap();
            *counts.entry(code).or_default() += 1;
            let id = row.installation.as_str();
            let wanted = if non_reporting.contains(id) {
                StatusCode::C
            } else if under.contains(id) {
                StatusCode::B
            } else {
                StatusCode::A
            };
            assert_eq!(code, wanted, "{id}");
            if code == StatusCode::B {
                assert!(row.shortfall > 0, "{id}");
                let fen = i64::try_from(row.shortfall).unwrap() * 5 * 8_000;
                assert_eq!(row.penalty.0, fen, "{id}");
            } else {
                assert_eq!((row.shortfall, row.penalty.0), (0, 0), "{id}");
            }
        }
        for code in [StatusCode::A, StatusCode::B, StatusCode::C] {
            assert!(counts.get(&code).copied().unwrap_or(0) > 0, "{code:?}");
        }

        // 2020: every facility gets its benchmark allocation, less its 2019 shortfall; the
        // withheld units stay in the government holding account.
        let bench = benchmark(&s.facilities);
        let by_id_2019 = rows_by_id(rows_2019);
        let rows_2020 = rows_by_id(compliance_table(r.state(), Some(2020), None));
        let mut withheld: BTreeMap<String, u64> = BTreeMap::new();
        for f in &s.facilities {
            let before = &by_id_2019[&f.id];
            let after = &rows_2020[&f.id];
            assert_eq!(before.allocated, bench[&f.id], "{}", f.id);
            assert_eq!(after.allocated + before.shortfall, bench[&f.id], "{}", f.id);
            *withheld.entry(f.jurisdiction.to_string()).or_default() += before.shortfall;
        }
        for (j, w) in &withheld {
            let gov = holdings(r.state(), &AccountId::new(format!("{j}-GOV")).unwrap()).unwrap();
            let held_2020: u64 = gov
                .iter()
                .filter(|h| h.class.vintage.year() == 2020)
                .map(|h| h.quantity)
                .sum();
            assert_eq!(held_2020, *w, "{j}");
        }
    }

    #[test]
    fn the_vocs_pilot_moves_13257_kg_among_eight_firms() {
        let total: u64 = VOCS_PILOT.iter().map(|t| t.kg).sum();
        assert_eq!(total, 13_257);
        let firms: BTreeSet<&str> = VOCS_PILOT.iter().flat_map(|t| [t.from, t.to]).collect();
        assert_eq!(firms.len(), 8);
        // Guangde (AIR-AH) into the zone needs approval; within AIR-DZ it does not.
        let approvals: Vec<bool> = VOCS_PILOT
            .iter()
            .map(|t| needs_approval(t).unwrap())
            .collect();
        assert_eq!(approvals, [true, true, false, false]);
        // 3:2 on COD between areas: 1,500 -> 1,000; 3,000 -> 2,000; 1,000 -> 666.
        let credits: Vec<u64> = COD_TRANSFERS.iter().map(|t| credited(t).unwrap()).collect();
        assert_eq!(credits, [1_000, 2_000, 666]);
        assert!(PILOT_ENTERPRISES.iter().all(|p| p.id.starts_with(p.area)));
    }

    #[test]
    fn same_seed_same_submissions_other_seed_other_ones() {
        let sectors = sectors();
        let json = |seed| -> Vec<String> {
            scenario(&sectors, seed)
                .unwrap()
                .submissions()
                .map(|x| RegistryState::canonical(x).0)
                .collect()
        };
        let a = json(DEFAULT_SEED);
        assert_eq!(a, json(DEFAULT_SEED));
        assert_ne!(a, json(DEFAULT_SEED + 1));
    }

    #[test]
    fn other_seeds_run_clean_too() {
        let sectors = sectors();
        for seed in [0, 7, u64::MAX] {
            let s = scenario(&sectors, seed).unwrap();
            let r = run(&s);
            let rows = compliance_table(r.state(), Some(2019), None);
            let b = rows
                .iter()
                .filter(|x| x.status == Some(StatusCode::B))
                .count();
            let c = rows
                .iter()
                .filter(|x| x.status == Some(StatusCode::C))
                .count();
            assert_eq!(b, s.under_buyers.len(), "seed {seed}");
            assert_eq!(c, s.non_reporting.len(), "seed {seed}");
        }
    }

    fn facility(id: &str, verified_t: u64, output: u64) -> Facility {
        Facility {
            id: id.to_string(),
            jurisdiction: JurisdictionCode::new(&id[..5]).unwrap(),
            sector_code: "POWER".to_string(),
            verified_t,
            output,
        }
    }

    #[test]
    fn a_dry_auction_is_topped_up_by_the_other_jurisdictions() {
        // Shanghai: three dirty plants short by about a third and one clean plant with a surplus;
        // Jiangsu: three large identical plants, each 3 % short. The market is far too thin for
        // Shanghai's needs and its 4 % auction volume cannot cover them: Jiangsu's auction helps.
        let facilities = vec![
            facility("CN-SH-POWER-001", 1_000, 1_000),
            facility("CN-SH-POWER-002", 1_000, 1_000),
            facility("CN-SH-POWER-003", 1_000, 1_000),
            facility("CN-SH-POWER-004", 1_000, 3_000),
            facility("CN-JS-POWER-001", 1_000_000, 1_000_000),
            facility("CN-JS-POWER-002", 1_000_000, 1_000_000),
            facility("CN-JS-POWER-003", 1_000_000, 1_000_000),
        ];
        let s = build(facilities, 5).unwrap();
        let helped = s.steps[3].submissions.iter().any(|x| {
            matches!(&x.command, Command::Transfer { from, to, .. }
                if from.as_str() == "CN-JS-AUCTION" && to.as_str().starts_with("OHA-CN-SH"))
        });
        assert!(helped);
        let r = run(&s);
        assert!(yrd_registry::audit::audit(r.store()).unwrap().is_clean());
        let rows = compliance_table(r.state(), Some(2019), None);
        let under: BTreeSet<&str> = s.under_buyers.iter().map(String::as_str).collect();
        for row in rows.iter().filter(|x| x.verified.is_some()) {
            let b = under.contains(row.installation.as_str());
            let want = if b { StatusCode::B } else { StatusCode::A };
            assert_eq!(row.status, Some(want), "{}", row.installation);
        }
    }

    #[test]
    fn not_enough_units_anywhere_is_an_error() {
        // One clean plant gets nearly all the allocation. When it is the one that does not
        // report, its surplus never reaches the market and the auction cannot cover the rest.
        let facilities = vec![
            facility("CN-SH-POWER-001", 100_000, 1_000_000),
            facility("CN-SH-POWER-002", 100_000, 1_000),
            facility("CN-SH-POWER-003", 100_000, 1_000),
            facility("CN-SH-POWER-004", 100_000, 1_000),
        ];
        let mut failed = 0;
        for seed in 0..64 {
            match build(facilities.clone(), seed) {
                Ok(s) => assert_ne!(s.non_reporting, ["CN-SH-POWER-001"], "seed {seed}"),
                Err(e) => {
                    assert!(
                        matches!(e, DemoError::InsufficientSupply { .. }),
                        "seed {seed}: {e}"
                    );
                    failed += 1;
                }
            }
        }
        assert!(failed > 0);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let mut rows = sectors();
        rows[3].year = 2020;
        assert!(matches!(
            scenario(&rows, 1),
            Err(DemoError::WrongYear { year: 2020, .. })
        ));
        assert_eq!(scenario(&[], 1), Err(DemoError::NoFacilities));
    }
}
