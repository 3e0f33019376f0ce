//! Replays the EU Transaction Log records as registry transactions, and compares the compliance
//! status yrd-ets computes with the official one.
//!
//! [`plan`] is a pure function of the rows: it turns them into the submissions a registry under
//! the `eu-ets` configuration would have received, with deterministic transaction ids
//! (`eutl/{id}/{year}/...`). Because the plan never depends on what was already stored, an
//! interrupted import is resumed by running it again: submissions already applied come back as
//! duplicates and change nothing. A malformed row is found by the reader before anything is
//! planned, so it leaves the registry untouched.
//!
//! # How the source's columns become registry events
//!
//! For each compliance year `y`, in date order (allocation of `y` on 28 February `y`; entries for
//! `y` by 31 March `y+1`; surrender by 30 April `y+1`; status at the deadline; later corrections):
//!
//! 1. **Accounts.** Each installation gets operator holding account `OHA-{id}` in its national
//!    registry (jurisdiction = `NationalAdministratorCode`) and is registered from its first year
//!    in the file. Each registry gets a trading account `MARKET-{registry}`.
//! 2. **Activity.** The EUTL publishes no compliance figures (`CumulativeVerifiedEmissions` empty)
//!    for years an installation was outside the cycle (not yet operating, closed, account not
//!    opened). Such years are replayed as the installation being inactive: no status (empty code).
//! 3. **Allocation.** `AllowanceInAllocation` (else `FreeAllocations`) is issued under the registry
//!    as vintage `y` and allocated.
//! 4. **Verified emissions at the deadline.** The EUTL judges cumulative figures over the trading
//!    period; `CumulativeVerifiedEmissions` is the figure it judged. The year's entry is therefore
//!    the difference between that cumulative figure and what the registry already counts for the
//!    period (when negative, earlier years of the period are corrected down, latest first).
//!    `Not Calculated` means nothing was entered by the deadline (status C), except for a year whose
//!    emissions are `Excluded`, which is recorded as carrying no obligation (status `-`).
//! 5. **Surrender.** `CumulativeSurrenderedUnits` is the units counted for the period; the year's
//!    surrender is its increase (a decrease is replayed as a reversal of surrender, latest first).
//!    Where it is empty, `UnitsSurrendered` is used. Units the installation lacks are first bought:
//!    issued as vintage `y`, moved to the auction account, delivered to `MARKET-{registry}`, and
//!    transferred to the installation.
//! 6. **Deadline.** Each registry's deadline for `y` is processed: yrd-ets decides every status.
//! 7. **Corrections.** `VerifiedEmissions` (the figure as finally published) is entered after the
//!    deadline wherever it differs from the figure at the deadline: a verifier's late entry, which
//!    marks the status as changed (`*`) without re-judging it.
//!
//! The official `ComplianceCode` is never read by the plan; it is kept only for [`compare`].

use crate::DataError;
use crate::eutl::{Cumulative, EutlRow, Phase, Verified};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use yrd_compliance::{EmissionsSource, YearKey};
use yrd_config::MarketConfig;
use yrd_registry::{Command, RegistryState, Submission};
use yrd_types::{
    AccountId, AccountKind, InstallationId, JurisdictionCode, TransactionId, UnitClass,
    UnitTypeCode, Vintage,
};

/// The unit type of the replay (EU allowances) and the obligation it discharges.
const EUA: &str = "EUA";
const CO2E: &str = "CO2E";

/// The submissions of a replay and the installation-years it covers.
#[derive(Debug, Clone)]
pub struct ReplayPlan {
    /// Every submission, in the order to apply them.
    pub submissions: Vec<Submission>,
    /// One entry per source row: (installation id, year, phase, official code as published).
    pub rows: Vec<(String, u16, Phase, String)>,
}

/// Per installation: what the planner knows of its registry position, to decide purchases and
/// reversals without reading the registry (so the plan is a pure function of the rows).
#[derive(Default)]
struct Position {
    /// Units held by vintage.
    holdings: BTreeMap<u16, u64>,
    /// Verified figures entered, by year.
    figures: BTreeMap<u16, u64>,
    /// Surrenders of the current period not yet reversed: (tx id, units by vintage in order).
    surrenders: Vec<(String, Vec<(u16, u64)>)>,
    /// Units counted as surrendered for the current period.
    surrendered_in_period: u64,
    /// Current period.
    period: Option<Phase>,
    /// Whether the installation is currently active in the cycle.
    active: bool,
}

/// Plans the replay of `rows` (as read by [`crate::eutl::read_eutl_gz`]) under `config` (the
/// `eu-ets` configuration). Errors name the file line of a row the configuration cannot take.
pub fn plan(
    source_name: &str,
    rows: &[EutlRow],
    config: &MarketConfig,
) -> Result<ReplayPlan, DataError> {
    let mut planner = Planner::new(source_name, config, rows)?;
    let first_year = rows.iter().map(|r| r.year).min().unwrap_or(2005);
    let last_year = rows.iter().map(|r| r.year).max().unwrap_or(first_year);
    for year in first_year..=last_year {
        planner.year_opening(year)?;
        if year > first_year {
            planner.compliance_cycle(year - 1)?;
        }
    }
    planner.compliance_cycle(last_year)?;
    Ok(ReplayPlan {
        submissions: planner.out,
        rows: rows
            .iter()
            .map(|r| (r.id.clone(), r.year, r.phase, r.official_code.clone()))
            .collect(),
    })
}

struct Planner<'a> {
    source: &'a str,
    config: &'a MarketConfig,
    rows: &'a [EutlRow],
    by_year: BTreeMap<u16, Vec<usize>>,
    registries: BTreeSet<String>,
    positions: HashMap<String, Position>,
    registered: HashSet<String>,
    out: Vec<Submission>,
}

impl<'a> Planner<'a> {
    fn new(
        source: &'a str,
        config: &'a MarketConfig,
        rows: &'a [EutlRow],
    ) -> Result<Self, DataError> {
        let mut by_year: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
        let mut registries = BTreeSet::new();
        for (i, r) in rows.iter().enumerate() {
            let code = JurisdictionCode::new(r.registry.clone()).map_err(|e| {
                DataError::malformed(source, r.line, "NationalAdministratorCode", e.to_string())
            })?;
            if config.jurisdiction(&code).is_none() {
                return Err(DataError::malformed(
                    source,
                    r.line,
                    "NationalAdministratorCode",
                    format!(
                        "registry {code} is not a jurisdiction of the {} configuration",
                        config.market.name
                    ),
                ));
            }
            InstallationId::new(r.id.clone())
                .map_err(|e| DataError::malformed(source, r.line, "id", e.to_string()))?;
            if config.compliance.period_of(r.year).is_none() {
                return Err(DataError::malformed(
                    source,
                    r.line,
                    "year",
                    format!("{} lies outside every trading period", r.year),
                ));
            }
            by_year.entry(r.year).or_default().push(i);
            registries.insert(r.registry.clone());
        }
        Ok(Self {
            source,
            config,
            rows,
            by_year,
            registries,
            positions: HashMap::new(),
            registered: HashSet::new(),
            out: Vec::new(),
        })
    }

    fn push(&mut self, id: String, date: NaiveDate, command: Command) -> Result<(), DataError> {
        let id = TransactionId::new(id)
            .map_err(|e| DataError::malformed(self.source, 0, "id", e.to_string()))?;
        self.out.push(Submission { id, date, command });
        Ok(())
    }

    fn row_indices(&self, year: u16) -> Vec<usize> {
        self.by_year.get(&year).cloned().unwrap_or_default()
    }

    /// Registration, activity, issuance and allocation of `year` (28 February).
    fn year_opening(&mut self, year: u16) -> Result<(), DataError> {
        let date = ymd(year, 2, 28);
        if year == self.rows.iter().map(|r| r.year).min().unwrap_or(year) {
            for registry in self.registries.clone() {
                let j = jurisdiction(&registry);
                self.push(
                    format!("eutl/market/{registry}"),
                    ymd(year, 1, 1),
                    Command::OpenAccount {
                        account: account(&format!("MARKET-{registry}")),
                        kind: AccountKind::Trading,
                        jurisdiction: j,
                        holder_name: format!("EU carbon market ({registry} registry)"),
                    },
                )?;
            }
        }
        let indices = self.row_indices(year);
        for &i in &indices {
            let r = &self.rows[i];
            if self.registered.insert(r.id.clone()) {
                self.register(r, ymd(year, 1, 1))?;
            }
            let covered = r.cumulative_verified != Cumulative::Missing;
            let position = self.positions.entry(r.id.clone()).or_default();
            if position.active != covered {
                position.active = covered;
                let (id, installation) = (r.id.clone(), installation(&r.id));
                self.push(
                    format!("eutl/{id}/{year}/active"),
                    ymd(year, 1, 1),
                    Command::SetInstallationActive {
                        installation,
                        from_year: year,
                        active: covered,
                    },
                )?;
            }
        }
        // Issuance per registry, then allocation per installation.
        let mut issued: BTreeMap<String, u64> = BTreeMap::new();
        for &i in &indices {
            let r = &self.rows[i];
            *issued.entry(r.registry.clone()).or_default() += allocation(r);
        }
        for (registry, quantity) in issued.into_iter().filter(|(_, q)| *q > 0) {
            self.push(
                format!("eutl/issue/{registry}/{year}"),
                date,
                Command::Issue {
                    jurisdiction: jurisdiction(&registry),
                    unit_type: unit(EUA),
                    vintage: vintage(year),
                    quantity,
                },
            )?;
        }
        for &i in &indices {
            let r = &self.rows[i];
            let quantity = allocation(r);
            if quantity > 0 {
                *self
                    .positions
                    .get_mut(&r.id)
                    .expect("registered")
                    .holdings
                    .entry(year)
                    .or_default() += quantity;
                self.push(
                    format!("eutl/{}/{year}/allocate", r.id),
                    date,
                    Command::Allocate {
                        installation: installation(&r.id),
                        unit_type: unit(EUA),
                        vintage: vintage(year),
                        quantity,
                    },
                )?;
            }
        }
        Ok(())
    }

    fn register(&mut self, r: &EutlRow, date: NaiveDate) -> Result<(), DataError> {
        let account_id = account(&format!("OHA-{}", r.id));
        let holder = if r.holder_name.trim().is_empty() {
            r.id.clone()
        } else {
            r.holder_name.clone()
        };
        self.push(
            format!("eutl/{}/open", r.id),
            date,
            Command::OpenAccount {
                account: account_id.clone(),
                kind: AccountKind::OperatorHolding,
                jurisdiction: jurisdiction(&r.registry),
                holder_name: holder,
            },
        )?;
        let name = if r.installation_name.trim().is_empty() {
            r.id.clone()
        } else {
            r.installation_name.clone()
        };
        self.push(
            format!("eutl/{}/register", r.id),
            date,
            Command::RegisterInstallation {
                installation: installation(&r.id),
                account: account_id,
                name,
                sector: r.activity_code.map_or(String::new(), |c| c.to_string()),
                first_year: r.year,
            },
        )?;
        self.positions.insert(
            r.id.clone(),
            Position {
                active: true,
                ..Default::default()
            },
        );
        Ok(())
    }

    /// Entries, surrender, deadline and corrections for compliance `year` (in `year + 1`).
    fn compliance_cycle(&mut self, year: u16) -> Result<(), DataError> {
        let indices = self.row_indices(year);
        for &i in &indices {
            self.deadline_figure(i)?;
        }
        self.surrenders(year, &indices)?;
        for registry in self.registries.clone() {
            self.push(
                format!("eutl/deadline/{registry}/{year}"),
                ymd(year + 1, 5, 1),
                Command::ProcessDeadline {
                    jurisdiction: jurisdiction(&registry),
                    obligation: unit(CO2E),
                    year,
                },
            )?;
        }
        for &i in &indices {
            self.final_figure(i)?;
        }
        Ok(())
    }

    /// Step 4: the figure the EUTL judged at the deadline.
    fn deadline_figure(&mut self, i: usize) -> Result<(), DataError> {
        let r = &self.rows[i];
        let (id, year, date) = (r.id.clone(), r.year, ymd(r.year + 1, 3, 31));
        let position = self.positions.get_mut(&id).expect("registered");
        if position.period != Some(r.phase) {
            // A new trading period: cumulative figures start again (holdings carry over; which
            // vintages stay usable is the configuration's banking rule).
            position.period = Some(r.phase);
            position.figures.clear();
            position.surrenders.clear();
            position.surrendered_in_period = 0;
        }
        match r.cumulative_verified {
            Cumulative::Tonnes(target) => {
                let position = self.positions.get_mut(&id).expect("registered");
                let counted: u64 = position.figures.range(..year).map(|(_, v)| v).sum();
                let mut corrections = Vec::new();
                let figure = if target >= counted {
                    target - counted
                } else {
                    // The EUTL counted less for earlier years than they now show: correct them down.
                    let mut excess = counted - target;
                    for (y, v) in position.figures.range_mut(..year).rev() {
                        let cut = excess.min(*v);
                        if cut > 0 {
                            *v -= cut;
                            excess -= cut;
                            corrections.push((*y, *v));
                        }
                    }
                    0
                };
                position.figures.insert(year, figure);
                for (y, v) in corrections {
                    self.push(
                        format!("eutl/{id}/{y}/recount-{year}"),
                        date,
                        emissions(&id, y, v),
                    )?;
                }
                self.push(
                    format!("eutl/{id}/{year}/verified"),
                    date,
                    emissions(&id, year, figure),
                )?;
            }
            Cumulative::NotCalculated if r.verified == Verified::Excluded => {
                self.push(
                    format!("eutl/{id}/{year}/excluded"),
                    date,
                    Command::SetNoObligation {
                        installation: installation(&id),
                        obligation: unit(CO2E),
                        year,
                        no_obligation: true,
                    },
                )?;
            }
            Cumulative::NotCalculated | Cumulative::Missing => {}
        }
        Ok(())
    }

    /// Step 5: purchases and surrenders (or reversals) of the year, per registry.
    fn surrenders(&mut self, year: u16, indices: &[usize]) -> Result<(), DataError> {
        let date = ymd(year + 1, 4, 30);
        let mut needs: Vec<(usize, u64, u64)> = Vec::new(); // (row, surrender delta, purchase)
        let mut reversals: Vec<(usize, u64)> = Vec::new();
        for &i in indices {
            let r = &self.rows[i];
            let position = &self.positions[&r.id];
            let target = match r.cumulative_surrendered {
                Some(t) => t,
                None => position.surrendered_in_period + r.units_surrendered.unwrap_or(0),
            };
            if target > position.surrendered_in_period {
                let delta = target - position.surrendered_in_period;
                let eligible = self.eligible(position, year);
                needs.push((i, delta, delta.saturating_sub(eligible)));
            } else if target < position.surrendered_in_period {
                reversals.push((i, position.surrendered_in_period - target));
            }
        }
        self.buy(year, &needs)?;
        for (i, delta, purchase) in needs {
            let id = self.rows[i].id.clone();
            let registry = self.rows[i].registry.clone();
            if purchase > 0 {
                *self
                    .positions
                    .get_mut(&id)
                    .expect("registered")
                    .holdings
                    .entry(year)
                    .or_default() += purchase;
                self.push(
                    format!("eutl/{id}/{year}/buy"),
                    date,
                    Command::Transfer {
                        from: account(&format!("MARKET-{registry}")),
                        to: account(&format!("OHA-{id}")),
                        class: eua(&registry, year),
                        quantity: purchase,
                    },
                )?;
            }
            let tx = format!("eutl/{id}/{year}/surrender");
            let taken = self.take_eligible(&id, year, delta);
            let position = self.positions.get_mut(&id).expect("registered");
            position.surrenders.push((tx.clone(), taken));
            position.surrendered_in_period += delta;
            self.push(
                tx,
                date,
                Command::Surrender {
                    installation: installation(&id),
                    account: account(&format!("OHA-{id}")),
                    obligation: unit(CO2E),
                    year,
                    quantity: delta,
                },
            )?;
        }
        for (i, quantity) in reversals {
            self.reverse(&self.rows[i].id.clone(), year, quantity, date)?;
        }
        Ok(())
    }

    /// Supplies each registry's market account with what its installations must buy: issued as
    /// vintage `year`, moved to the auction account and delivered to the market account.
    fn buy(&mut self, year: u16, needs: &[(usize, u64, u64)]) -> Result<(), DataError> {
        let mut per_registry: BTreeMap<String, u64> = BTreeMap::new();
        for (i, _, purchase) in needs {
            *per_registry
                .entry(self.rows[*i].registry.clone())
                .or_default() += purchase;
        }
        let date = ymd(year + 1, 4, 15);
        for (registry, quantity) in per_registry.into_iter().filter(|(_, q)| *q > 0) {
            let j = jurisdiction(&registry);
            let class = eua(&registry, year);
            self.push(
                format!("eutl/auction/{registry}/{year}/issue"),
                date,
                Command::Issue {
                    jurisdiction: j.clone(),
                    unit_type: unit(EUA),
                    vintage: vintage(year),
                    quantity,
                },
            )?;
            self.push(
                format!("eutl/auction/{registry}/{year}/offer"),
                date,
                Command::Transfer {
                    from: account(&format!("{registry}-GOV")),
                    to: account(&format!("{registry}-AUCTION")),
                    class: class.clone(),
                    quantity,
                },
            )?;
            self.push(
                format!("eutl/auction/{registry}/{year}/deliver"),
                date,
                Command::Transfer {
                    from: account(&format!("{registry}-AUCTION")),
                    to: account(&format!("MARKET-{registry}")),
                    class,
                    quantity,
                },
            )?;
        }
        Ok(())
    }

    fn eligible(&self, position: &Position, year: u16) -> u64 {
        position
            .holdings
            .iter()
            .filter(|(v, _)| self.config.compliance.vintage_eligible(vintage(**v), year))
            .map(|(_, q)| q)
            .sum()
    }

    /// Mirrors the registry's choice of units to surrender: eligible vintages, oldest first.
    fn take_eligible(&mut self, id: &str, year: u16, quantity: u64) -> Vec<(u16, u64)> {
        let rules = &self.config.compliance;
        let position = self.positions.get_mut(id).expect("registered");
        let mut left = quantity;
        let mut taken = Vec::new();
        for (v, held) in position.holdings.iter_mut() {
            if left == 0 {
                break;
            }
            if *held == 0 || !rules.vintage_eligible(vintage(*v), year) {
                continue;
            }
            let take = left.min(*held);
            *held -= take;
            left -= take;
            taken.push((*v, take));
        }
        position.holdings.retain(|_, q| *q > 0);
        taken
    }

    /// Reverses `quantity` units of the period's surrenders, latest first (as the registry does).
    fn reverse(
        &mut self,
        id: &str,
        year: u16,
        quantity: u64,
        date: NaiveDate,
    ) -> Result<(), DataError> {
        let mut left = quantity;
        let mut commands = Vec::new();
        let position = self.positions.get_mut(id).expect("registered");
        while left > 0 {
            let Some((tx, parts)) = position.surrenders.last_mut() else {
                break;
            };
            let mut from_this = 0;
            while left > 0 {
                let Some((v, q)) = parts.last_mut() else {
                    break;
                };
                let back = left.min(*q);
                *q -= back;
                left -= back;
                from_this += back;
                *position.holdings.entry(*v).or_default() += back;
                if *q == 0 {
                    parts.pop();
                }
            }
            commands.push((tx.clone(), from_this));
            if parts.is_empty() {
                position.surrenders.pop();
            }
        }
        position.surrendered_in_period -= quantity - left;
        for (k, (tx, q)) in commands.into_iter().enumerate() {
            let surrender = TransactionId::new(tx).expect("planner ids are valid");
            self.push(
                format!("eutl/{id}/{year}/reverse-{k}"),
                date,
                Command::ReverseSurrender {
                    surrender,
                    quantity: q,
                },
            )?;
        }
        Ok(())
    }

    /// Step 7: the figure as finally published, entered after the deadline where it differs.
    fn final_figure(&mut self, i: usize) -> Result<(), DataError> {
        let r = &self.rows[i];
        let Verified::Tonnes(v) = r.verified else {
            return Ok(());
        };
        let (id, year) = (r.id.clone(), r.year);
        let position = self.positions.get_mut(&id).expect("registered");
        if position.figures.get(&year) == Some(&v) {
            return Ok(());
        }
        position.figures.insert(year, v);
        self.push(
            format!("eutl/{id}/{year}/verified-final"),
            ymd(year + 1, 6, 30),
            emissions(&id, year, v),
        )
    }
}

fn allocation(r: &EutlRow) -> u64 {
    r.allowances_in_allocation
        .or(r.free_allocation)
        .unwrap_or(0)
}

fn emissions(id: &str, year: u16, quantity: u64) -> Command {
    Command::EnterEmissions {
        installation: installation(id),
        obligation: unit(CO2E),
        year,
        quantity,
        source: EmissionsSource::Verifier,
    }
}

fn ymd(year: u16, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(i32::from(year), month, day).expect("valid calendar date")
}

// The planner validated every registry code and installation id it builds names from, so these
// constructors cannot fail on planned input.
fn jurisdiction(code: &str) -> JurisdictionCode {
    JurisdictionCode::new(code).expect("validated registry code")
}
fn installation(id: &str) -> InstallationId {
    InstallationId::new(id).expect("validated installation id")
}
fn account(id: &str) -> AccountId {
    AccountId::new(id).expect("account ids built from validated parts")
}
fn unit(code: &str) -> UnitTypeCode {
    UnitTypeCode::new(code).expect("constant code")
}
fn vintage(year: u16) -> Vintage {
    Vintage::new(year).expect("years within the trading periods")
}
fn eua(registry: &str, year: u16) -> UnitClass {
    UnitClass {
        jurisdiction: jurisdiction(registry),
        unit_type: unit(EUA),
        vintage: vintage(year),
    }
}

/// One line of the comparison report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ComparisonRow {
    /// Installation id.
    pub id: String,
    /// Year.
    pub year: u16,
    /// The official code as published (may carry `*`).
    pub official: String,
    /// The code yrd-ets computed (with `*` where figures changed after the deadline; empty when
    /// the installation had no status that year).
    pub computed: String,
}

/// Agreement counts: (rows, rows whose letter agrees).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agreement {
    /// By trading period.
    pub by_phase: BTreeMap<Phase, (u64, u64)>,
    /// By official letter (`*` removed; empty for no code).
    pub by_official: BTreeMap<String, (u64, u64)>,
    /// (official letter, computed letter) -> rows, for the disagreements.
    pub confusion: BTreeMap<(String, String), u64>,
}

/// The letter of a code without the EUTL's `*`.
pub fn letter(code: &str) -> &str {
    code.trim_end_matches('*')
}

/// Compares the statuses in `state` (after applying the plan) with the official codes.
pub fn compare(plan: &ReplayPlan, state: &RegistryState) -> (Vec<ComparisonRow>, Agreement) {
    let compliance = state.compliance();
    let mut agreement = Agreement::default();
    let mut out = Vec::with_capacity(plan.rows.len());
    for (id, year, phase, official) in &plan.rows {
        let computed = InstallationId::new(id.clone())
            .ok()
            .and_then(|i| compliance.find(&i))
            .and_then(|no| {
                compliance.year(YearKey {
                    installation: no,
                    obligation: 0,
                    year: *year,
                })
            })
            .and_then(|y| y.status.as_ref())
            .map_or(String::new(), |s| {
                format!(
                    "{}{}",
                    s.code,
                    if s.changed_after_deadline { "*" } else { "" }
                )
            });
        let agrees = letter(official) == letter(&computed);
        let p = agreement.by_phase.entry(*phase).or_default();
        p.0 += 1;
        p.1 += u64::from(agrees);
        let o = agreement
            .by_official
            .entry(letter(official).to_string())
            .or_default();
        o.0 += 1;
        o.1 += u64::from(agrees);
        if !agrees {
            *agreement
                .confusion
                .entry((letter(official).to_string(), letter(&computed).to_string()))
                .or_default() += 1;
        }
        out.push(ComparisonRow {
            id: id.clone(),
            year: *year,
            official: official.clone(),
            computed,
        });
    }
    (out, agreement)
}

#[cfg(test)]
mod tests;
