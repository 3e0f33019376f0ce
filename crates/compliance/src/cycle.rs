use crate::status::{StatusCode, judge, penalty};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use yrd_config::{CarryOver, StatusRule};
use yrd_types::{AccountId, InstallationId, JurisdictionCode, Money};

/// Dense index of an installation (registration order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstallationNo(pub u32);

/// A covered installation (facility) and the operator holding account it surrenders from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installation {
    /// Identifier, e.g. `AT-47` or `CN-JS-POWER-001`.
    pub id: InstallationId,
    /// Its operator holding account.
    pub account: AccountId,
    /// Competent jurisdiction.
    pub jurisdiction: JurisdictionCode,
    /// Name.
    pub name: String,
    /// Sector or activity.
    pub sector: String,
    /// First compliance year.
    pub first_year: u16,
    /// Changes of activity: from this year on, active or not (closure, re-opening).
    activity: BTreeMap<u16, bool>,
}

impl Installation {
    /// A new installation, active from `first_year`.
    pub fn new(
        id: InstallationId,
        account: AccountId,
        jurisdiction: JurisdictionCode,
        name: String,
        sector: String,
        first_year: u16,
    ) -> Self {
        Self {
            id,
            account,
            jurisdiction,
            name,
            sector,
            first_year,
            activity: BTreeMap::new(),
        }
    }

    /// Whether the installation is in the compliance cycle in `year`.
    pub fn active_in(&self, year: u16) -> bool {
        year >= self.first_year
            && self
                .activity
                .range(..=year)
                .next_back()
                .is_none_or(|(_, active)| *active)
    }
}

/// Who entered a verified emissions figure. After the deadline, only the competent authority's
/// corrections re-judge the year (EU Transaction Log codes D and E).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmissionsSource {
    /// The operator's report as verified by an accredited verifier.
    Verifier,
    /// The competent authority (a correction or a conservative estimate).
    Authority,
}

/// One entry in a year's verified-emissions history (append-only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedEntry {
    /// Verified emissions in the obligation's base unit (t CO2e or kg).
    pub quantity: u64,
    /// Who entered it.
    pub source: EmissionsSource,
    /// Entered after the year's deadline was processed.
    pub after_deadline: bool,
}

/// The status decided for a year, with the figures it was judged on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRecord {
    /// The code.
    pub code: StatusCode,
    /// Verified emissions judged (cumulative over the period, or the year's plus carried
    /// shortfall), base units.
    pub verified_judged: u64,
    /// Units surrendered judged, base units.
    pub surrendered_judged: u64,
    /// `verified_judged - surrendered_judged`, 0 if compliant.
    pub shortfall: u64,
    /// Penalty for the shortfall, minor currency units.
    pub penalty: Money,
    /// Figures changed after the deadline without re-judgement (the EUTL's `*`).
    pub changed_after_deadline: bool,
}

/// Everything recorded for one installation, obligation and year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObligationYear {
    /// Current verified emissions (the last entry), if any.
    pub verified: Option<u64>,
    /// Every entry, oldest first.
    pub history: Vec<VerifiedEntry>,
    /// The year carries no obligation (exclusion).
    pub no_obligation: bool,
    /// Units allocated free for the year (vintage = year).
    pub allocated: u64,
    /// Units deducted from the year's allocation for an earlier shortfall.
    pub deducted: u64,
    /// Net units surrendered for the year (surrenders minus reversals).
    pub surrendered: u64,
    /// Status, once the deadline has been processed.
    pub status: Option<StatusRecord>,
}

/// Key of an [`ObligationYear`]: installation, obligation index in the configuration, year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct YearKey {
    /// Installation.
    pub installation: InstallationNo,
    /// Index into `compliance.obligations`.
    pub obligation: u8,
    /// Compliance year.
    pub year: u16,
}

/// Why a compliance operation was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComplianceError {
    /// Installation id already registered.
    #[error("installation {0} is already registered")]
    DuplicateInstallation(InstallationId),
    /// A year outside every trading period.
    #[error("year {0} lies outside every configured trading period")]
    YearOutsidePeriods(u16),
    /// A year before the installation's first compliance year.
    #[error("installation {installation} has no obligation before {first_year}; year {year} given")]
    BeforeFirstYear {
        /// Installation.
        installation: InstallationId,
        /// Its first year.
        first_year: u16,
        /// Year given.
        year: u16,
    },
    /// The deadline was already processed.
    #[error("the {year} deadline for {jurisdiction} obligation {obligation} was already processed")]
    AlreadyProcessed {
        /// Jurisdiction.
        jurisdiction: JurisdictionCode,
        /// Obligation code.
        obligation: String,
        /// Year.
        year: u16,
    },
    /// A reversal larger than what was surrendered for the year.
    #[error("cannot reverse {requested} units: {surrendered} surrendered for {year}")]
    ReversalExceedsSurrender {
        /// Year.
        year: u16,
        /// Net surrendered.
        surrendered: u64,
        /// Requested reversal.
        requested: u64,
    },
    /// A sum overflowed.
    #[error("arithmetic overflow computing {0}")]
    Overflow(&'static str),
}

/// The compliance state of a market.
#[derive(Debug, Clone)]
pub struct Compliance {
    rules: yrd_config::Compliance,
    installations: Vec<Installation>,
    index: HashMap<InstallationId, InstallationNo>,
    years: BTreeMap<YearKey, ObligationYear>,
    processed: BTreeSet<(JurisdictionCode, u8, u16)>,
    suspended: BTreeSet<(InstallationNo, u16)>,
}

impl Compliance {
    /// Empty state under `rules`.
    pub fn new(rules: yrd_config::Compliance) -> Self {
        Self {
            rules,
            installations: Vec::new(),
            index: HashMap::new(),
            years: BTreeMap::new(),
            processed: BTreeSet::new(),
            suspended: BTreeSet::new(),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &yrd_config::Compliance {
        &self.rules
    }

    /// Registers an installation.
    pub fn register(
        &mut self,
        installation: Installation,
    ) -> Result<InstallationNo, ComplianceError> {
        if self.index.contains_key(&installation.id) {
            return Err(ComplianceError::DuplicateInstallation(installation.id));
        }
        self.check_year(installation.first_year)?;
        let no = InstallationNo(
            u32::try_from(self.installations.len()).expect("fewer than 2^32 installations"),
        );
        self.index.insert(installation.id.clone(), no);
        self.installations.push(installation);
        Ok(no)
    }

    /// The installation with this id.
    pub fn find(&self, id: &InstallationId) -> Option<InstallationNo> {
        self.index.get(id).copied()
    }

    /// The installation at `no`.
    pub fn installation(&self, no: InstallationNo) -> &Installation {
        &self.installations[no.0 as usize]
    }

    /// All installations in registration order.
    pub fn installations(&self) -> impl Iterator<Item = (InstallationNo, &Installation)> {
        self.installations
            .iter()
            .enumerate()
            .map(|(i, x)| (InstallationNo(i as u32), x))
    }

    /// Every recorded year, in key order.
    pub fn years(&self) -> impl Iterator<Item = (&YearKey, &ObligationYear)> {
        self.years.iter()
    }

    /// The record for one year, if anything was recorded.
    pub fn year(&self, key: YearKey) -> Option<&ObligationYear> {
        self.years.get(&key)
    }

    /// Whether the deadline of `year` was processed for the jurisdiction and obligation.
    pub fn is_processed(&self, jurisdiction: &JurisdictionCode, obligation: u8, year: u16) -> bool {
        self.processed
            .contains(&(jurisdiction.clone(), obligation, year))
    }

    /// Marks the installation active or inactive from `from_year` on.
    pub fn set_active(
        &mut self,
        no: InstallationNo,
        from_year: u16,
        active: bool,
    ) -> Result<(), ComplianceError> {
        self.check_year(from_year)?;
        self.installations[no.0 as usize]
            .activity
            .insert(from_year, active);
        Ok(())
    }

    /// Records that the installation has (or again has) no obligation in `key.year`.
    pub fn set_no_obligation(
        &mut self,
        key: YearKey,
        no_obligation: bool,
    ) -> Result<(), ComplianceError> {
        self.check_key(key)?;
        self.years.entry(key).or_default().no_obligation = no_obligation;
        Ok(())
    }

    /// Suspends (or resumes) the installation's compliance process for `year`: status X.
    pub fn set_suspended(
        &mut self,
        no: InstallationNo,
        year: u16,
        suspended: bool,
    ) -> Result<(), ComplianceError> {
        self.check_year(year)?;
        if suspended {
            self.suspended.insert((no, year));
        } else {
            self.suspended.remove(&(no, year));
        }
        Ok(())
    }

    /// Enters verified emissions. Before the deadline the figure simply counts. After it, the
    /// status stays but is marked as changed - unless the competent authority made the entry, in
    /// which case the year is re-judged to D or E. Returns the new status if one was re-judged.
    pub fn enter_emissions(
        &mut self,
        key: YearKey,
        quantity: u64,
        source: EmissionsSource,
    ) -> Result<Option<StatusRecord>, ComplianceError> {
        self.check_key(key)?;
        let after_deadline = self.key_processed(key);
        // Work on a copy so that a failed re-judgement changes nothing.
        let mut record = self.years.get(&key).cloned().unwrap_or_default();
        record.verified = Some(quantity);
        record.history.push(VerifiedEntry {
            quantity,
            source,
            after_deadline,
        });
        let mut rejudged = None;
        if after_deadline && record.status.is_some() {
            if source == EmissionsSource::Authority {
                let status = self.status_for(key, &record, true)?;
                rejudged = Some(status.clone());
                record.status = Some(status);
            } else if let Some(status) = record.status.as_mut() {
                status.changed_after_deadline = true;
            }
        }
        self.years.insert(key, record);
        Ok(rejudged)
    }

    /// Records a free allocation of `quantity` units for the year.
    pub fn record_allocation(
        &mut self,
        key: YearKey,
        quantity: u64,
        deducted: u64,
    ) -> Result<(), ComplianceError> {
        self.check_key(key)?;
        let record = self.years.entry(key).or_default();
        let allocated = record
            .allocated
            .checked_add(quantity)
            .ok_or(ComplianceError::Overflow("allocation"))?;
        let total_deducted = record
            .deducted
            .checked_add(deducted)
            .ok_or(ComplianceError::Overflow("deduction"))?;
        record.allocated = allocated;
        record.deducted = total_deducted;
        Ok(())
    }

    /// Units still to be deducted from the installation's allocation for `key.year`: the carried
    /// shortfall of the previous year (times the configured multiple) less what was deducted.
    pub fn pending_deduction(&self, key: YearKey) -> u64 {
        if self.rules.shortfall.carry_over != CarryOver::DeductFromNextAllocation || key.year == 0 {
            return 0;
        }
        let previous = YearKey {
            year: key.year - 1,
            ..key
        };
        let owed = self
            .years
            .get(&previous)
            .and_then(|r| r.status.as_ref())
            .map_or(0, |s| {
                s.shortfall
                    .saturating_mul(u64::from(self.rules.shortfall.deduct_multiple))
            });
        owed.saturating_sub(self.years.get(&key).map_or(0, |r| r.deducted))
    }

    /// Records units surrendered for the year.
    pub fn record_surrender(&mut self, key: YearKey, quantity: u64) -> Result<(), ComplianceError> {
        self.check_key(key)?;
        let processed = self.key_processed(key);
        let record = self.years.entry(key).or_default();
        record.surrendered = record
            .surrendered
            .checked_add(quantity)
            .ok_or(ComplianceError::Overflow("surrendered"))?;
        if processed && let Some(s) = record.status.as_mut() {
            s.changed_after_deadline = true;
        }
        Ok(())
    }

    /// Records a reversal of surrender for the year.
    pub fn record_reversal(&mut self, key: YearKey, quantity: u64) -> Result<(), ComplianceError> {
        let surrendered = self.years.get(&key).map_or(0, |r| r.surrendered);
        if quantity > surrendered {
            return Err(ComplianceError::ReversalExceedsSurrender {
                year: key.year,
                surrendered,
                requested: quantity,
            });
        }
        let processed = self.key_processed(key);
        let record = self
            .years
            .get_mut(&key)
            .expect("surrendered > 0 implies a record");
        record.surrendered -= quantity;
        if processed && let Some(s) = record.status.as_mut() {
            s.changed_after_deadline = true;
        }
        Ok(())
    }

    /// Processes the deadline of `year` for every active installation of `jurisdiction`:
    /// decides and records each status. Returns the statuses decided.
    pub fn process_deadline(
        &mut self,
        jurisdiction: &JurisdictionCode,
        obligation: u8,
        obligation_code: &str,
        year: u16,
    ) -> Result<Vec<(InstallationNo, StatusRecord)>, ComplianceError> {
        self.check_year(year)?;
        if self.is_processed(jurisdiction, obligation, year) {
            return Err(ComplianceError::AlreadyProcessed {
                jurisdiction: jurisdiction.clone(),
                obligation: obligation_code.to_string(),
                year,
            });
        }
        // Decide every status before recording any, so an overflow leaves the state untouched.
        let mut decided = Vec::new();
        for (no, inst) in self.installations() {
            if &inst.jurisdiction == jurisdiction && inst.active_in(year) {
                let key = YearKey {
                    installation: no,
                    obligation,
                    year,
                };
                let record = self.years.get(&key).cloned().unwrap_or_default();
                decided.push((no, self.status_for(key, &record, false)?));
            }
        }
        for (no, status) in &decided {
            let key = YearKey {
                installation: *no,
                obligation,
                year,
            };
            self.years.entry(key).or_default().status = Some(status.clone());
        }
        self.processed
            .insert((jurisdiction.clone(), obligation, year));
        Ok(decided)
    }

    /// The status the year would get now. `rejudge` marks an authority's correction after the
    /// deadline (D/E instead of B/A).
    /// `record` stands in for the stored record of `key` (it may hold a change not yet stored).
    fn status_for(
        &self,
        key: YearKey,
        record: &ObligationYear,
        rejudge: bool,
    ) -> Result<StatusRecord, ComplianceError> {
        let plain = |code| StatusRecord {
            code,
            verified_judged: 0,
            surrendered_judged: 0,
            shortfall: 0,
            penalty: Money(0),
            changed_after_deadline: false,
        };
        if self.suspended.contains(&(key.installation, key.year)) {
            return Ok(plain(StatusCode::X));
        }
        if record.no_obligation {
            return Ok(plain(StatusCode::NoObligation));
        }
        if record.verified.is_none() {
            return Ok(plain(StatusCode::C));
        }
        let (verified, surrendered) = self.judged_figures(key, record)?;
        let (code, shortfall) = judge(surrendered, verified, rejudge);
        let penalty =
            penalty(&self.rules.penalty, shortfall).ok_or(ComplianceError::Overflow("penalty"))?;
        Ok(StatusRecord {
            code,
            verified_judged: verified,
            surrendered_judged: surrendered,
            shortfall,
            penalty,
            changed_after_deadline: false,
        })
    }

    /// (verified, surrendered) as the status rule compares them.
    fn judged_figures(
        &self,
        key: YearKey,
        record: &ObligationYear,
    ) -> Result<(u64, u64), ComplianceError> {
        let overflow = ComplianceError::Overflow("cumulative figures");
        match self.rules.status_rule {
            StatusRule::CumulativePeriod => {
                let period = self
                    .rules
                    .period_of(key.year)
                    .ok_or(ComplianceError::YearOutsidePeriods(key.year))?;
                let from = YearKey {
                    year: period.first_year,
                    ..key
                };
                let earlier = self.years.range(from..key).map(|(_, r)| r);
                let (mut verified, mut surrendered) = (0u64, 0u64);
                for r in earlier.chain(std::iter::once(record)) {
                    if !r.no_obligation {
                        verified = verified
                            .checked_add(r.verified.unwrap_or(0))
                            .ok_or(overflow.clone())?;
                    }
                    surrendered = surrendered
                        .checked_add(r.surrendered)
                        .ok_or(overflow.clone())?;
                }
                Ok((verified, surrendered))
            }
            StatusRule::Annual => {
                let carried = if self.rules.shortfall.carry_over == CarryOver::ObligationRemains
                    && key.year > 0
                {
                    let previous = YearKey {
                        year: key.year - 1,
                        ..key
                    };
                    self.years
                        .get(&previous)
                        .and_then(|r| r.status.as_ref())
                        .map_or(0, |s| s.shortfall)
                } else {
                    0
                };
                let verified = record
                    .verified
                    .unwrap_or(0)
                    .checked_add(carried)
                    .ok_or(overflow)?;
                Ok((verified, record.surrendered))
            }
        }
    }

    fn key_processed(&self, key: YearKey) -> bool {
        let jurisdiction = &self.installations[key.installation.0 as usize].jurisdiction;
        self.processed
            .contains(&(jurisdiction.clone(), key.obligation, key.year))
    }

    fn check_year(&self, year: u16) -> Result<(), ComplianceError> {
        match self.rules.period_of(year) {
            Some(_) => Ok(()),
            None => Err(ComplianceError::YearOutsidePeriods(year)),
        }
    }

    fn check_key(&self, key: YearKey) -> Result<(), ComplianceError> {
        self.check_year(key.year)?;
        let inst = &self.installations[key.installation.0 as usize];
        if key.year < inst.first_year {
            return Err(ComplianceError::BeforeFirstYear {
                installation: inst.id.clone(),
                first_year: inst.first_year,
                year: key.year,
            });
        }
        Ok(())
    }
}
