//! Cross-regional rules inside the registry: where each holding account is (its area), the
//! transfer rules and trading ratios of the market's geography applied to every transfer of
//! pollutant rights between areas, the approvals some transfers need from the administrators of
//! both jurisdictions, and the cumulative net inflow of every area.
//!
//! The rules themselves are pure functions of `yrd-geography` ([`yrd_geography::judge_transfer`]);
//! this module finds the parties, applies the terms to the ledger and keeps the records.

use crate::command::Effect;
use crate::rules::{RuleCode, Violation};
use crate::state::RegistryState;
use std::collections::{BTreeMap, BTreeSet};
use yrd_geography::{Geography, Party, TransferQuery, TransferRule, TransferTerms};
use yrd_ledger::AccountNo;
use yrd_types::{AccountId, AccountKind, JurisdictionCode, OrderRef, UnitClass, UnitTypeCode};

/// A cross-regional transfer approval: both jurisdictions' administrators sign off on exactly one
/// transfer (sender, receiver, class, quantity), which then consumes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// Sending account.
    pub from: AccountNo,
    /// Receiving account.
    pub to: AccountNo,
    /// Units of this class.
    pub class: UnitClass,
    /// Units (base units, e.g. kg).
    pub quantity: u64,
    /// The jurisdictions whose administrators approved so far.
    pub approved_by: BTreeSet<JurisdictionCode>,
    /// Whether a transfer has used it.
    pub used: bool,
}

/// The registry's cross-regional records.
#[derive(Debug, Clone, Default)]
pub struct Regional {
    /// The area of each located account.
    pub(crate) areas: BTreeMap<AccountNo, String>,
    /// Approvals by reference.
    pub(crate) approvals: BTreeMap<OrderRef, Approval>,
    /// Cumulative net inflow per (area, pollutant), base units: units credited into the area by
    /// transfers and call-market purchases from elsewhere, minus units delivered out of it.
    pub(crate) inflows: BTreeMap<(String, UnitTypeCode), i128>,
    /// Call markets by reference.
    pub(crate) call_markets: BTreeMap<OrderRef, crate::call_market::CallMarket>,
}

impl Regional {
    /// The area of an account, if it has one.
    pub fn area(&self, account: AccountNo) -> Option<&str> {
        self.areas.get(&account).map(String::as_str)
    }

    /// Cumulative net inflow of `area` for `pollutant`, base units (negative: net outflow).
    pub fn net_inflow(&self, area: &str, pollutant: &UnitTypeCode) -> i128 {
        self.inflows
            .get(&(area.to_string(), pollutant.clone()))
            .copied()
            .unwrap_or(0)
    }

    /// Cumulative net inflow of `area` and every area within it (a prefecture's counties), base
    /// units: what a non-attainment rule on `area` measures. Moves between two areas inside it
    /// cancel out.
    pub fn net_inflow_within(&self, geo: &Geography, area: &str, pollutant: &UnitTypeCode) -> i128 {
        self.inflows
            .iter()
            .filter(|((a, p), _)| p == pollutant && geo.is_within(a, area))
            .map(|(_, v)| *v)
            .sum()
    }

    /// Every (area, pollutant, net inflow) with a non-zero inflow, in order.
    pub fn inflows(&self) -> impl Iterator<Item = (&str, &UnitTypeCode, i128)> {
        self.inflows
            .iter()
            .filter(|(_, v)| **v != 0)
            .map(|((a, p), v)| (a.as_str(), p, *v))
    }

    /// A call market by reference.
    pub fn call_market(&self, reference: &OrderRef) -> Option<&crate::call_market::CallMarket> {
        self.call_markets.get(reference)
    }

    /// An approval by reference.
    pub fn approval(&self, reference: &OrderRef) -> Option<&Approval> {
        self.approvals.get(reference)
    }

    pub(crate) fn add_inflow(&mut self, area: &str, pollutant: &UnitTypeCode, delta: i128) {
        *self
            .inflows
            .entry((area.to_string(), pollutant.clone()))
            .or_insert(0) += delta;
    }
}

/// What a checked cross-regional transfer will do.
#[derive(Debug, Clone)]
pub(crate) struct CrossTransfer {
    pub from_area: String,
    pub to_area: String,
    pub terms: TransferTerms,
    pub approval: Option<OrderRef>,
}

fn fail(code: RuleCode, field: &'static str, message: impl Into<String>) -> Violation {
    Violation::new(code, field, message)
}

/// The registry's rule code for a geography rule.
pub(crate) fn rule_code(rule: TransferRule) -> RuleCode {
    match rule {
        TransferRule::CrossBasinWaterTransfer => RuleCode::CrossBasinWaterTransfer,
        TransferRule::CrossAirshedNeedsApproval => RuleCode::CrossAirshedNeedsApproval,
        TransferRule::IndustryAgricultureTransfer => RuleCode::IndustryAgricultureTransfer,
        TransferRule::PowerSectorRingFence => RuleCode::PowerSectorRingFence,
        TransferRule::NonAttainmentIncrease => RuleCode::NonAttainmentIncrease,
        TransferRule::CrossJurisdictionNeedsApproval => RuleCode::CrossJurisdictionNeedsApproval,
        TransferRule::RatioCreditsNothing => RuleCode::RatioCreditsNothing,
        TransferRule::UnknownArea => RuleCode::UnknownArea,
        TransferRule::UnknownSector => RuleCode::UnknownSector,
    }
}

impl RegistryState {
    fn geography_or_fail(&self, field: &'static str) -> Result<&Geography, Violation> {
        self.config().geography.as_ref().ok_or_else(|| {
            fail(
                RuleCode::UnknownArea,
                field,
                format!(
                    "market {} has no geography: areas and cross-regional rules are not configured",
                    self.config().market.name
                ),
            )
        })
    }

    /// The sector code of the installation linked to `account`, if any.
    fn sector_of(&self, account: AccountNo) -> Option<&str> {
        let no = self.linked_installation(account)?;
        Some(self.compliance().installation(no).sector.as_str())
    }

    /// Sets the area of an operator holding or trading account (an administrator's act). The
    /// area must be configured and lie in the account's jurisdiction; it may not change while the
    /// account holds pollutant rights the rules govern (that would move them between areas
    /// without a transfer).
    pub(crate) fn set_account_area(
        &mut self,
        account: &AccountId,
        area: &str,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let one = |v| vec![v];
        let no = self.open_account_no_pub(account, "account").map_err(one)?;
        let geo = self.geography_or_fail("area").map_err(one)?;
        let spec = &self.ledger().account(no).spec;
        if !matches!(
            spec.kind,
            AccountKind::OperatorHolding | AccountKind::Trading
        ) {
            return Err(one(fail(
                RuleCode::InvalidField,
                "account",
                format!(
                    "only operator holding and trading accounts have an area; {account} is a {} account",
                    spec.kind
                ),
            )));
        }
        let Some(a) = geo.area(area) else {
            return Err(one(fail(
                RuleCode::UnknownArea,
                "area",
                format!("no area {area:?} in the market's geography"),
            )));
        };
        if a.jurisdiction != spec.jurisdiction {
            return Err(one(fail(
                RuleCode::AreaNotInJurisdiction,
                "area",
                format!(
                    "area {area} lies in {}, account {account} is administered by {}",
                    a.jurisdiction, spec.jurisdiction
                ),
            )));
        }
        if let Some(current) = self.regional().area(no)
            && current != area
        {
            let governed: Vec<String> = self
                .ledger()
                .account(no)
                .holdings()
                .map(|(c, _)| self.ledger().class(c).class.clone())
                .filter(|c| geo.medium(&c.unit_type).is_some() && self.ledger().quantity(no, c) > 0)
                .map(|c| c.to_string())
                .collect();
            if !governed.is_empty() {
                return Err(one(fail(
                    RuleCode::AreaChangeWithHoldings,
                    "area",
                    format!(
                        "account {account} in {current} holds {}: transfer them before moving the account to {area}",
                        governed.join(", ")
                    ),
                )));
            }
        }
        self.regional_mut().areas.insert(no, area.to_string());
        Ok(vec![Effect::AreaSet {
            account: account.clone(),
            area: area.to_string(),
        }])
    }

    /// Records one jurisdiction's approval of a cross-regional transfer. The jurisdiction must
    /// administer the sender or the receiver; each approves once.
    pub(crate) fn approve_cross_regional_transfer(
        &mut self,
        reference: &OrderRef,
        jurisdiction: &JurisdictionCode,
        from: &AccountId,
        to: &AccountId,
        class: &UnitClass,
        quantity: u64,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let mut v = Vec::new();
        let f = self
            .open_account_no_pub(from, "from")
            .map_err(|e| v.push(e))
            .ok();
        let t = self
            .open_account_no_pub(to, "to")
            .map_err(|e| v.push(e))
            .ok();
        if quantity == 0 {
            v.push(fail(
                RuleCode::ZeroQuantity,
                "quantity",
                "quantity must be positive",
            ));
        }
        let (Some(f), Some(t)) = (f, t) else {
            return Err(v);
        };
        let parties = [
            &self.ledger().account(f).spec.jurisdiction,
            &self.ledger().account(t).spec.jurisdiction,
        ];
        if !parties.contains(&jurisdiction) {
            v.push(fail(
                RuleCode::ApprovalRule,
                "jurisdiction",
                format!(
                    "{jurisdiction} administers neither {from} ({}) nor {to} ({})",
                    parties[0], parties[1]
                ),
            ));
        }
        if let Some(existing) = self.regional().approval(reference) {
            let same = existing.from == f
                && existing.to == t
                && &existing.class == class
                && existing.quantity == quantity;
            if !same {
                v.push(fail(
                    RuleCode::ApprovalRule,
                    "approval",
                    format!("approval {reference} exists for a different transfer"),
                ));
            } else if existing.used {
                v.push(fail(
                    RuleCode::ApprovalRule,
                    "approval",
                    format!("approval {reference} was already used by a transfer"),
                ));
            } else if existing.approved_by.contains(jurisdiction) {
                v.push(fail(
                    RuleCode::ApprovalRule,
                    "jurisdiction",
                    format!("{jurisdiction} already approved {reference}"),
                ));
            }
        }
        let _ = self.class_pub(class, "class").map_err(|e| v.push(e));
        if v.is_empty() {
            // An approval must be for a transfer that needs one and that approval makes lawful.
            match self.judge_with(f, t, class, quantity, None, false, "to") {
                Ok(Some(c)) if !c.terms.needs_approval => v.push(fail(
                    RuleCode::ApprovalRule,
                    "approval",
                    format!("a transfer from {from} to {to} of {class} needs no approval"),
                )),
                Ok(None) => v.push(fail(
                    RuleCode::ApprovalRule,
                    "approval",
                    format!("a transfer from {from} to {to} of {class} is not cross-regional: it needs no approval"),
                )),
                Ok(Some(_)) => {}
                Err(_) => {
                    if let Err(e) = self.judge_with(f, t, class, quantity, None, true, "to") {
                        v.push(e);
                    }
                }
            }
        }
        if !v.is_empty() {
            return Err(v);
        }
        let needed: BTreeSet<JurisdictionCode> = parties.iter().map(|j| (*j).clone()).collect();
        let approval = self
            .regional_mut()
            .approvals
            .entry(reference.clone())
            .or_insert_with(|| Approval {
                from: f,
                to: t,
                class: class.clone(),
                quantity,
                approved_by: BTreeSet::new(),
                used: false,
            });
        approval.approved_by.insert(jurisdiction.clone());
        let complete = needed.is_subset(&approval.approved_by);
        Ok(vec![Effect::CrossRegionalTransferApproved {
            approval: reference.clone(),
            jurisdiction: jurisdiction.clone(),
            complete,
        }])
    }

    /// The complete, unused approval for exactly this transfer, if there is one (lowest
    /// reference first).
    fn matching_approval(
        &self,
        from: AccountNo,
        to: AccountNo,
        class: &UnitClass,
        quantity: u64,
    ) -> Option<OrderRef> {
        let needed: BTreeSet<&JurisdictionCode> = [from, to]
            .iter()
            .map(|a| &self.ledger().account(*a).spec.jurisdiction)
            .collect();
        self.regional()
            .approvals
            .iter()
            .find(|(_, a)| {
                !a.used
                    && a.from == from
                    && a.to == to
                    && &a.class == class
                    && a.quantity == quantity
                    && needed.iter().all(|j| a.approved_by.contains(*j))
            })
            .map(|(r, _)| r.clone())
    }

    /// Judges a transfer of `quantity` units of `class` from `from` to `to` under the market's
    /// cross-regional rules. `None`: the rules do not apply (no geography, not a governed
    /// pollutant, a system account on either side, or one area). Between enterprise accounts
    /// every party must have an area and an installation of a configured sector: an account
    /// without them would be a way around the rules.
    pub(crate) fn judge_cross_regional(
        &self,
        from: AccountNo,
        to: AccountNo,
        class: &UnitClass,
        quantity: u64,
        field: &'static str,
    ) -> Result<Option<CrossTransfer>, Violation> {
        let approval = self.matching_approval(from, to, class, quantity);
        self.judge_with(from, to, class, quantity, approval, false, field)
    }

    /// The judgement itself; `assume_approved` asks what the rules say once both jurisdictions
    /// have approved (for checking an approval before it is recorded).
    #[allow(clippy::too_many_arguments)]
    fn judge_with(
        &self,
        from: AccountNo,
        to: AccountNo,
        class: &UnitClass,
        quantity: u64,
        approval: Option<OrderRef>,
        assume_approved: bool,
        field: &'static str,
    ) -> Result<Option<CrossTransfer>, Violation> {
        let Some(geo) = self.config().geography.as_ref() else {
            return Ok(None);
        };
        if geo.medium(&class.unit_type).is_none() {
            return Ok(None);
        }
        let enterprise = |a: AccountNo| {
            matches!(
                self.ledger().account(a).spec.kind,
                AccountKind::OperatorHolding | AccountKind::Trading
            )
        };
        if !enterprise(from) || !enterprise(to) {
            return Ok(None);
        }
        let (from_area, to_area) = (self.located(from, field)?, self.located(to, field)?);
        let (from_sector, to_sector) = (
            self.sector_or_fail(from, field)?,
            self.sector_or_fail(to, field)?,
        );
        // A non-attainment rule measures the area that misses its target, which may be an
        // ancestor of the receiving area (a county of a non-attainment prefecture).
        let measured = geo
            .non_attainment_area(to_area, &class.unit_type)
            .map_or(to_area, |a| a.code.as_str());
        let query = TransferQuery {
            pollutant: &class.unit_type,
            from: Party {
                area: Some(from_area),
                sector: Some(from_sector),
                jurisdiction: &self.ledger().account(from).spec.jurisdiction,
            },
            to: Party {
                area: Some(to_area),
                sector: Some(to_sector),
                jurisdiction: &self.ledger().account(to).spec.jurisdiction,
            },
            quantity,
            approved: assume_approved || approval.is_some(),
            to_area_net_inflow: self
                .regional()
                .net_inflow_within(geo, measured, &class.unit_type),
        };
        match yrd_geography::judge_transfer(geo, &query) {
            // Within one area only the sector rules apply, and the units move as they are.
            Ok(_) if from_area == to_area => Ok(None),
            Ok(terms) => Ok(Some(CrossTransfer {
                from_area: from_area.to_string(),
                to_area: to_area.to_string(),
                approval: if terms.needs_approval { approval } else { None },
                terms,
            })),
            Err(refusal) => Err(fail(rule_code(refusal.rule), field, refusal.message)),
        }
    }

    /// The area of an enterprise account that moves governed pollutant rights.
    fn located(&self, account: AccountNo, field: &'static str) -> Result<&str, Violation> {
        self.regional().area(account).ok_or_else(|| {
            fail(
                RuleCode::UnknownArea,
                field,
                format!(
                    "account {} has no area: pollutant rights move only between accounts placed in an area (set_account_area)",
                    self.ledger().account(account).spec.id
                ),
            )
        })
    }

    /// The configured sector of an enterprise account's installation.
    pub(crate) fn sector_or_fail(
        &self,
        account: AccountNo,
        field: &'static str,
    ) -> Result<&str, Violation> {
        let id = &self.ledger().account(account).spec.id;
        let Some(sector) = self.sector_of(account) else {
            return Err(fail(
                RuleCode::UnknownSector,
                field,
                format!(
                    "account {id} has no installation, so no sector: the sector rules cannot be applied to it"
                ),
            ));
        };
        let known = self
            .config()
            .geography
            .as_ref()
            .is_some_and(|g| g.sector(sector).is_some());
        if !known {
            return Err(fail(
                RuleCode::UnknownSector,
                field,
                format!(
                    "the sector {sector:?} of account {id}'s installation is not in the market geography"
                ),
            ));
        }
        Ok(sector)
    }

    /// Applies a judged cross-regional transfer: `credited` units to the receiver, the ratio's
    /// excess retired into the issuing jurisdiction's cancellation account, the approval used,
    /// both areas' inflows updated. Infallible once judged (holdings were checked).
    pub(crate) fn apply_cross_regional(
        &mut self,
        from: AccountNo,
        to: AccountNo,
        class: &UnitClass,
        cross: &CrossTransfer,
    ) -> Vec<Effect> {
        let from_id = self.ledger().account(from).spec.id.clone();
        let to_id = self.ledger().account(to).spec.id.clone();
        let mut effects = Vec::new();
        let ranges = self.move_units_pub(from, to, class, cross.terms.credited);
        effects.push(Effect::Moved {
            from: from_id.clone(),
            to: to_id,
            class: class.clone(),
            ranges,
        });
        if cross.terms.retired > 0 {
            let cancel = self
                .system_account_pub(&class.jurisdiction, AccountKind::Cancellation, "class")
                .expect("checked: the issuing jurisdiction's system accounts exist");
            let cancel_id = self.ledger().account(cancel).spec.id.clone();
            let ranges = self.move_units_pub(from, cancel, class, cross.terms.retired);
            effects.push(Effect::Moved {
                from: from_id,
                to: cancel_id,
                class: class.clone(),
                ranges,
            });
        }
        if let Some(r) = &cross.approval {
            self.regional_mut()
                .approvals
                .get_mut(r)
                .expect("matched")
                .used = true;
        }
        let delivered = i128::from(cross.terms.credited) + i128::from(cross.terms.retired);
        let regional = self.regional_mut();
        regional.add_inflow(&cross.from_area, &class.unit_type, -delivered);
        regional.add_inflow(
            &cross.to_area,
            &class.unit_type,
            i128::from(cross.terms.credited),
        );
        effects.push(Effect::CrossRegionalTransfer {
            from_area: cross.from_area.clone(),
            to_area: cross.to_area.clone(),
            pollutant: class.unit_type.clone(),
            credited: cross.terms.credited,
            retired: cross.terms.retired,
            ratio: cross.terms.ratio.as_ref().map(|r| r.0.clone()),
            approval: cross.approval.clone(),
        });
        effects
    }
}
