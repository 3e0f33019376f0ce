//! Reports derived from registry state: the public compliance table, holdings of an account,
//! supply by jurisdiction and vintage, and a per-jurisdiction compliance summary.
//!
//! Reports only read. Serial numbers appear in holdings (a regulator's view), never in the public
//! compliance table.

use crate::state::RegistryState;
use serde::Serialize;
use std::collections::BTreeMap;
use yrd_compliance::StatusCode;
use yrd_types::{AccountId, JurisdictionCode, Money, SerialRange, UnitClass};

/// One row of the public compliance table (EU Reg. 2019/1122 Art. 79 publishes the same).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplianceRow {
    /// Installation id.
    pub installation: String,
    /// Installation name.
    pub name: String,
    /// Competent jurisdiction.
    pub jurisdiction: String,
    /// Sector.
    pub sector: String,
    /// Obligation code.
    pub obligation: String,
    /// Year.
    pub year: u16,
    /// Units allocated free for the year, base units (net of any deduction).
    pub allocated: u64,
    /// Units withheld from the year's allocation for an earlier shortfall.
    pub deducted: u64,
    /// Verified emissions, base units (`None`: not entered).
    pub verified: Option<u64>,
    /// Net units surrendered for the year.
    pub surrendered: u64,
    /// Status code (`None` before the deadline is processed or when inactive).
    pub status: Option<StatusCode>,
    /// Changed after the deadline (the EUTL's `*`).
    pub changed_after_deadline: bool,
    /// Shortfall judged, base units.
    pub shortfall: u64,
    /// Penalty, minor currency units.
    pub penalty: Money,
}

/// The public compliance table, optionally for one year and/or one jurisdiction, ordered by
/// jurisdiction, installation, year.
pub fn compliance_table(
    state: &RegistryState,
    year: Option<u16>,
    jurisdiction: Option<&JurisdictionCode>,
) -> Vec<ComplianceRow> {
    let comp = state.compliance();
    let obligations = &state.config().compliance.obligations;
    let mut rows: Vec<ComplianceRow> = comp
        .years()
        .filter(|(k, _)| year.is_none_or(|y| k.year == y))
        .filter_map(|(k, y)| {
            let inst = comp.installation(k.installation);
            if jurisdiction.is_some_and(|j| &inst.jurisdiction != j) {
                return None;
            }
            Some(ComplianceRow {
                installation: inst.id.to_string(),
                name: inst.name.clone(),
                jurisdiction: inst.jurisdiction.to_string(),
                sector: inst.sector.clone(),
                obligation: obligations[k.obligation as usize].code.to_string(),
                year: k.year,
                allocated: y.allocated,
                deducted: y.deducted,
                verified: y.verified,
                surrendered: y.surrendered,
                status: y.status.as_ref().map(|s| s.code),
                changed_after_deadline: y.status.as_ref().is_some_and(|s| s.changed_after_deadline),
                shortfall: y.status.as_ref().map_or(0, |s| s.shortfall),
                penalty: y.status.as_ref().map_or(Money(0), |s| s.penalty),
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.jurisdiction, &a.installation, a.year, &a.obligation).cmp(&(
            &b.jurisdiction,
            &b.installation,
            b.year,
            &b.obligation,
        ))
    });
    rows
}

/// One unit class held by an account, with its serial blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldingRow {
    /// Class.
    pub class: UnitClass,
    /// Units held.
    pub quantity: u64,
    /// Serial blocks, ascending.
    pub blocks: Vec<SerialRange>,
}

/// What `account` holds, by class; `None` if there is no such account.
pub fn holdings(state: &RegistryState, account: &AccountId) -> Option<Vec<HoldingRow>> {
    let ledger = state.ledger();
    let no = ledger.find(account)?;
    let mut rows: Vec<HoldingRow> = ledger
        .account(no)
        .holdings()
        .map(|(c, h)| HoldingRow {
            class: ledger.class(c).class.clone(),
            quantity: h.quantity(),
            blocks: h.blocks().collect(),
        })
        .collect();
    rows.sort_by(|a, b| a.class.cmp(&b.class));
    Some(rows)
}

/// Supply of one unit class: where its units are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupplyRow {
    /// Issuing jurisdiction.
    pub jurisdiction: String,
    /// Unit type.
    pub unit_type: String,
    /// Vintage.
    pub vintage: u16,
    /// Units issued.
    pub issued: u64,
    /// Units in live accounts.
    pub held: u64,
    /// Units surrendered.
    pub surrendered: u64,
    /// Units voluntarily cancelled.
    pub cancelled: u64,
    /// Units deleted.
    pub deleted: u64,
}

/// Supply by jurisdiction, unit type and vintage, in that order.
pub fn supply(state: &RegistryState) -> Vec<SupplyRow> {
    supply_from_totals(&state.ledger().class_totals())
}

/// Supply rows from per-class totals (as the ledger or an audit computed them), sorted by
/// jurisdiction, unit type and vintage.
pub fn supply_from_totals(totals: &[(UnitClass, yrd_ledger::ClassTotals)]) -> Vec<SupplyRow> {
    let mut rows: Vec<SupplyRow> = totals
        .iter()
        .map(|(c, t)| SupplyRow {
            jurisdiction: c.jurisdiction.to_string(),
            unit_type: c.unit_type.to_string(),
            vintage: c.vintage.year(),
            issued: t.issued,
            held: t.held,
            surrendered: t.surrendered,
            cancelled: t.cancelled,
            deleted: t.deleted,
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.jurisdiction, &a.unit_type, a.vintage).cmp(&(&b.jurisdiction, &b.unit_type, b.vintage))
    });
    rows
}

impl SupplyRow {
    /// issued = held + surrendered + cancelled + deleted.
    pub fn is_conserved(&self) -> bool {
        [self.held, self.surrendered, self.cancelled, self.deleted]
            .iter()
            .try_fold(0u64, |sum, x| sum.checked_add(*x))
            == Some(self.issued)
    }
}

/// Compliance of one jurisdiction, obligation and year, summed over its installations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JurisdictionSummary {
    /// Jurisdiction.
    pub jurisdiction: String,
    /// Obligation.
    pub obligation: String,
    /// Year.
    pub year: u16,
    /// Installations with a record.
    pub installations: u64,
    /// Units allocated free.
    pub allocated: u64,
    /// Units withheld from allocation for earlier shortfalls.
    pub deducted: u64,
    /// Verified emissions entered.
    pub verified: u64,
    /// Units surrendered.
    pub surrendered: u64,
    /// Installations by status code (`A`, `B`, ..., `-`, and `none` for no status).
    pub by_status: BTreeMap<String, u64>,
    /// Total shortfall judged.
    pub shortfall: u64,
    /// Total penalties, minor currency units.
    pub penalties: Money,
}

/// Per jurisdiction x obligation x year summaries of the compliance table.
pub fn jurisdiction_summaries(rows: &[ComplianceRow]) -> Vec<JurisdictionSummary> {
    let mut map: BTreeMap<(String, String, u16), JurisdictionSummary> = BTreeMap::new();
    for r in rows {
        let s = map
            .entry((r.jurisdiction.clone(), r.obligation.clone(), r.year))
            .or_insert_with(|| JurisdictionSummary {
                jurisdiction: r.jurisdiction.clone(),
                obligation: r.obligation.clone(),
                year: r.year,
                ..Default::default()
            });
        // Every figure is at most Quantity::MAX (10^15), so these sums stay far below u64::MAX;
        // saturating rather than wrapping guards a report against anything beyond that.
        s.installations += 1;
        s.allocated = s.allocated.saturating_add(r.allocated);
        s.deducted = s.deducted.saturating_add(r.deducted);
        s.verified = s.verified.saturating_add(r.verified.unwrap_or(0));
        s.surrendered = s.surrendered.saturating_add(r.surrendered);
        s.shortfall = s.shortfall.saturating_add(r.shortfall);
        s.penalties = Money(s.penalties.0.saturating_add(r.penalty.0));
        let code = r
            .status
            .map_or("none".to_string(), |c| c.as_str().to_string());
        *s.by_status.entry(code).or_default() += 1;
    }
    map.into_values().collect()
}
