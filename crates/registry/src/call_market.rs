//! The receptor-constrained call market inside the registry: a jurisdiction opens a periodic
//! sealed call for one pollutant over a set of areas and receptors of the geography; located
//! accounts submit buy and sell steps (buys backed by a cash guarantee, sells by reserved units);
//! after the window the market clears with `yrd-spatial` and every fill settles at its area's
//! price in the same transaction.
//!
//! Settlement (the operator is the central counterparty, as in a pool): a sell fill retires the
//! seller's units into their issuing jurisdiction's cancellation account and pays the seller; a buy
//! fill issues new rights of the buyer's jurisdiction (market vintage) to the buyer and takes the
//! payment. Rights are location-specific, so nothing is delivered from one area to another: the
//! receptor constraints decide how much may be issued where. The operator's cash account is its
//! government holding account; a negative operator revenue (a buy-back to cure an existing
//! violation) must be covered by cash it holds, or the clearing is refused.

use crate::command::{Effect, OrderSide};
use crate::rules::{RuleCode, Violation};
use crate::state::RegistryState;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use yrd_geography::{Geography, Receptor, SectorClass};
use yrd_ledger::AccountNo;
use yrd_spatial::{Problem, ReceptorSpec, Side, SolverChoice, Step};
use yrd_types::{
    AccountId, AccountKind, JurisdictionCode, OrderRef, Quantity, UnitClass, UnitTypeCode, Vintage,
};

/// The highest step price, minor units per lot (keeps price x lots inside `i64`).
pub const MAX_STEP_PRICE_MINOR: i64 = 1_000_000_000_000;

/// A sealed step as the administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStep {
    /// Submitting account.
    pub account: AccountNo,
    /// The account's area when it submitted.
    pub area: String,
    /// Buy or sell.
    pub side: OrderSide,
    /// For a sell: the class delivered.
    pub class: Option<UnitClass>,
    /// Lots.
    pub lots: u64,
    /// Limit price, minor units per lot.
    pub price_minor: i64,
}

/// The public outcome of a cleared call.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CallResult {
    /// Lots filled per step.
    pub fills: BTreeMap<OrderRef, u64>,
    /// Settlement price per area, minor units per lot.
    pub settlement_prices: BTreeMap<String, i64>,
    /// Receptor shadow prices, minor units per receptor unit (from the solver, for publication).
    pub receptor_prices: BTreeMap<String, f64>,
    /// Net change per area after rounding, lots.
    pub net_change: BTreeMap<String, i64>,
    /// Headroom each receptor had for this market (receptor units; see `remaining_headroom`).
    pub headroom: BTreeMap<String, f64>,
    /// Load change the settled fills cause at each receptor (receptor units).
    pub receptor_load_change: BTreeMap<String, f64>,
    /// Sum over buy fills of price x lots minus sum over sell fills, at the steps' prices.
    pub total_surplus_minor: i128,
    /// What buyers paid minus what sellers received, minor units.
    pub operator_revenue_minor: i128,
}

/// A call market.
#[derive(Debug, Clone)]
pub struct CallMarket {
    /// Jurisdiction operating it (its government account is the cash counterparty).
    pub operator: JurisdictionCode,
    /// Pollutant traded.
    pub pollutant: UnitTypeCode,
    /// Vintage of the rights issued to buyers and accepted from sellers.
    pub vintage: Vintage,
    /// Areas (locations), in the order given.
    pub areas: Vec<String>,
    /// Receptors constraining the clearing.
    pub receptors: Vec<String>,
    /// Base units per lot.
    pub lot: u64,
    /// Last day steps are accepted.
    pub closes: NaiveDate,
    /// Steps by reference.
    pub steps: BTreeMap<OrderRef, CallStep>,
    /// Set when cleared.
    pub result: Option<CallResult>,
    /// Cancelled by the operator before clearing: every reservation was released.
    pub cancelled: bool,
}

/// A call market's terms as the command carries them.
pub(crate) struct CallSetup<'a> {
    pub market: &'a OrderRef,
    pub operator: &'a JurisdictionCode,
    pub pollutant: &'a UnitTypeCode,
    pub vintage: Vintage,
    pub areas: &'a [String],
    pub receptors: &'a [String],
    pub lot: u64,
    pub closes: NaiveDate,
}

/// A step as the command carries it.
pub(crate) struct NewStep<'a> {
    pub market: &'a OrderRef,
    pub step: &'a OrderRef,
    pub account: &'a AccountId,
    pub side: OrderSide,
    pub class: Option<&'a UnitClass>,
    pub quantity: u64,
    pub price_minor: i64,
}

fn fail(code: RuleCode, field: &'static str, message: impl Into<String>) -> Vec<Violation> {
    vec![Violation::new(code, field, message)]
}

/// The transfer coefficient of `area` at a receptor, receptor units per tonne: the area's own, or
/// else that of its nearest ancestor that has one (a county discharges where its prefecture does),
/// else 0.
pub fn coefficient(geo: &Geography, receptor: &Receptor, area: &str) -> f64 {
    geo.area_of_ancestors(area)
        .iter()
        .find_map(|a| receptor.coefficients.get(&a.code).copied())
        .unwrap_or(0.0)
}

fn guarantee(step: &CallStep) -> i64 {
    match step.side {
        OrderSide::Buy => step.price_minor * step.lots as i64,
        OrderSide::Sell => 0,
    }
}

impl CallMarket {
    /// Neither cleared nor cancelled: its steps hold reservations.
    pub fn is_open(&self) -> bool {
        self.result.is_none() && !self.cancelled
    }

    /// Cash each account holds as guarantees of open steps.
    pub(crate) fn guarantees(&self) -> impl Iterator<Item = (AccountNo, i64)> + '_ {
        self.steps
            .values()
            .filter(|_| self.is_open())
            .map(|s| (s.account, guarantee(s)))
    }
}

impl RegistryState {
    fn call_market(&self, market: &OrderRef) -> Result<&CallMarket, Vec<Violation>> {
        self.regional().call_markets.get(market).ok_or_else(|| {
            fail(
                RuleCode::UnknownOrder,
                "market",
                format!("no call market {market}"),
            )
        })
    }

    pub(crate) fn create_call_market(
        &mut self,
        date: NaiveDate,
        s: &CallSetup<'_>,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let rule = |field, m: String| fail(RuleCode::CallMarketRule, field, m);
        if self.regional().call_markets.contains_key(s.market) {
            return Err(fail(
                RuleCode::DuplicateOrderRef,
                "market",
                format!("call market {} exists", s.market),
            ));
        }
        let geo = self.config().geography.as_ref().ok_or_else(|| {
            fail(
                RuleCode::UnknownArea,
                "areas",
                "the market has no geography",
            )
        })?;
        let Some(medium) = geo.medium(s.pollutant) else {
            return Err(rule(
                "pollutant",
                format!(
                    "{} is not a water or air pollutant of the geography",
                    s.pollutant
                ),
            ));
        };
        self.system_account_pub(s.operator, AccountKind::GovernmentHolding, "operator")
            .map_err(|v| vec![v])?;
        if s.lot == 0 {
            return Err(rule("lot", "the lot must be at least one base unit".into()));
        }
        if s.closes < date {
            return Err(rule(
                "closes",
                format!(
                    "the window closes on {} before it opens on {date}",
                    s.closes
                ),
            ));
        }
        if s.areas.is_empty() {
            return Err(rule(
                "areas",
                "a call market needs at least one area".into(),
            ));
        }
        if s.receptors.is_empty() {
            return Err(rule(
                "receptors",
                "a call market needs at least one receptor: without one nothing bounds what it issues".into(),
            ));
        }
        for (i, a) in s.areas.iter().enumerate() {
            if geo.area(a).is_none() {
                return Err(fail(
                    RuleCode::UnknownArea,
                    "areas",
                    format!("no area {a:?}"),
                ));
            }
            if s.areas[..i].contains(a) {
                return Err(rule("areas", format!("area {a} listed twice")));
            }
        }
        if let Some(rule_broken) = geo.common_region_violation(medium, s.areas) {
            // No approval can admit a pool across basins or airsheds.
            let code = match crate::regional::rule_code(rule_broken.rule) {
                RuleCode::CrossAirshedNeedsApproval => RuleCode::CallMarketRule,
                other => other,
            };
            return Err(fail(code, "areas", rule_broken.message));
        }
        for (i, r) in s.receptors.iter().enumerate() {
            let Some(rec) = geo.receptor(r) else {
                return Err(rule("receptors", format!("no receptor {r:?}")));
            };
            if &rec.pollutant != s.pollutant {
                return Err(rule(
                    "receptors",
                    format!(
                        "receptor {r} measures {}, the market trades {}",
                        rec.pollutant, s.pollutant
                    ),
                ));
            }
            if s.receptors[..i].contains(r) {
                return Err(rule("receptors", format!("receptor {r} listed twice")));
            }
        }
        // An area no receptor sees would receive unlimited rights at price zero.
        for a in s.areas {
            let seen = s.receptors.iter().any(|r| {
                geo.receptor(r)
                    .is_some_and(|rec| coefficient(geo, rec, a) > 0.0)
            });
            if !seen {
                return Err(rule(
                    "areas",
                    format!(
                        "no listed receptor has a transfer coefficient for area {a}: nothing would bound what it buys"
                    ),
                ));
            }
        }
        self.regional_mut().call_markets.insert(
            s.market.clone(),
            CallMarket {
                operator: s.operator.clone(),
                pollutant: s.pollutant.clone(),
                vintage: s.vintage,
                areas: s.areas.to_vec(),
                receptors: s.receptors.to_vec(),
                lot: s.lot,
                closes: s.closes,
                steps: BTreeMap::new(),
                result: None,
                cancelled: false,
            },
        );
        Ok(vec![Effect::CallMarketCreated {
            market: s.market.clone(),
        }])
    }

    pub(crate) fn submit_call_step(
        &mut self,
        date: NaiveDate,
        n: &NewStep<'_>,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let m = self.call_market(n.market)?.clone();
        if !m.is_open() || date > m.closes {
            return Err(fail(
                RuleCode::CallMarketClosed,
                "market",
                format!(
                    "call market {} is closed (window {}, cleared or cancelled)",
                    n.market, m.closes
                ),
            ));
        }
        if m.steps.contains_key(n.step) {
            return Err(fail(
                RuleCode::DuplicateOrderRef,
                "step",
                format!("step {} exists in call market {}", n.step, n.market),
            ));
        }
        let no = self
            .open_account_no_pub(n.account, "account")
            .map_err(|v| vec![v])?;
        let Some(area) = self.regional().area(no).map(str::to_string) else {
            return Err(fail(
                RuleCode::UnknownArea,
                "account",
                format!("account {} has no area (set_account_area)", n.account),
            ));
        };
        if !m.areas.contains(&area) {
            return Err(fail(
                RuleCode::CallMarketRule,
                "account",
                format!(
                    "account {} is in {area}, which is not an area of call market {}",
                    n.account, n.market
                ),
            ));
        }
        if n.quantity == 0 || !n.quantity.is_multiple_of(m.lot) {
            return Err(fail(
                RuleCode::CallMarketRule,
                "quantity",
                format!(
                    "{} is not a positive multiple of the lot ({} base units)",
                    n.quantity, m.lot
                ),
            ));
        }
        if !(0..=MAX_STEP_PRICE_MINOR).contains(&n.price_minor) {
            return Err(fail(
                RuleCode::CallMarketRule,
                "price_minor",
                format!(
                    "{} is outside 0..={MAX_STEP_PRICE_MINOR} minor units per lot",
                    n.price_minor
                ),
            ));
        }
        let lots = n.quantity / m.lot;
        if lots > yrd_spatial::QUANTITY_MAX {
            return Err(fail(
                RuleCode::CallMarketRule,
                "quantity",
                format!(
                    "{lots} lots exceed the clearing engine's bound of {} lots per step",
                    yrd_spatial::QUANTITY_MAX
                ),
            ));
        }
        self.call_market_sector(no, &m.pollutant)?;
        let jurisdiction = self.ledger().account(no).spec.jurisdiction.clone();
        let own_class = UnitClass {
            jurisdiction: jurisdiction.clone(),
            unit_type: m.pollutant.clone(),
            vintage: m.vintage,
        };
        let step = match n.side {
            OrderSide::Buy => {
                if n.class.is_some() {
                    return Err(fail(
                        RuleCode::InvalidField,
                        "class",
                        "a buy step receives new rights of its own jurisdiction: give no class",
                    ));
                }
                self.may_receive_pub(no, &own_class, "account")
                    .map_err(|v| vec![v])?;
                let geo = self
                    .config()
                    .geography
                    .as_ref()
                    .expect("market created with one");
                if let Some(measured) = geo.non_attainment_area(&area, &m.pollutant) {
                    let inflow =
                        self.regional()
                            .net_inflow_within(geo, &measured.code, &m.pollutant);
                    // Buy steps already sealed in this market count as if filled.
                    let pending: i128 = m
                        .steps
                        .values()
                        .filter(|s| {
                            s.side == OrderSide::Buy && geo.is_within(&s.area, &measured.code)
                        })
                        .map(|s| i128::from(s.lots) * i128::from(m.lot))
                        .sum();
                    let inflow = inflow + pending;
                    if inflow + i128::from(n.quantity) > 0 {
                        return Err(fail(
                            RuleCode::NonAttainmentIncrease,
                            "quantity",
                            format!(
                                "{area} misses its {} target: it may buy back at most what it sold ({} base units net so far), not {}",
                                m.pollutant,
                                (-inflow).max(0),
                                n.quantity
                            ),
                        ));
                    }
                }
                let step = CallStep {
                    account: no,
                    area,
                    side: n.side,
                    class: None,
                    lots,
                    price_minor: n.price_minor,
                };
                let g = step
                    .price_minor
                    .checked_mul(i64::try_from(lots).unwrap_or(i64::MAX))
                    .ok_or_else(|| {
                        fail(
                            RuleCode::QuantityOverflow,
                            "price_minor",
                            format!("the guarantee {} x {lots} lots overflows", step.price_minor),
                        )
                    })?;
                if g > 0 {
                    self.require_cash(no, g, date, "price_minor", "the step's guarantee")?;
                    self.cash_mut().reserve_on(no, g, date).expect("checked");
                }
                step
            }
            OrderSide::Sell => {
                let class = n.class.cloned().unwrap_or(own_class);
                if class.unit_type != m.pollutant || class.vintage != m.vintage {
                    return Err(fail(
                        RuleCode::CallMarketRule,
                        "class",
                        format!(
                            "call market {} trades {} of vintage {}, not {class}",
                            n.market, m.pollutant, m.vintage
                        ),
                    ));
                }
                if self.free_units(no, &class) < n.quantity {
                    return Err(fail(
                        RuleCode::InsufficientHoldings,
                        "quantity",
                        format!(
                            "account {} has {} free units of {class}; the step offers {}",
                            n.account,
                            self.free_units(no, &class),
                            n.quantity
                        ),
                    ));
                }
                self.exchange_mut().reserve_units(no, &class, n.quantity);
                CallStep {
                    account: no,
                    area,
                    side: n.side,
                    class: Some(class),
                    lots,
                    price_minor: n.price_minor,
                }
            }
        };
        self.regional_mut()
            .call_markets
            .get_mut(n.market)
            .expect("found above")
            .steps
            .insert(n.step.clone(), step);
        Ok(vec![Effect::CallStepAccepted {
            market: n.market.clone(),
            step: n.step.clone(),
        }])
    }

    /// Takes a step's reservation back (cash guarantee or units).
    fn release_step(&mut self, step: &CallStep, lot: u64) {
        match step.side {
            OrderSide::Buy => {
                let g = guarantee(step);
                if g > 0 {
                    self.cash_mut()
                        .release(step.account, g)
                        .expect("reserved as guarantee");
                }
            }
            OrderSide::Sell => {
                let class = step.class.clone().expect("sell steps carry their class");
                self.exchange_mut()
                    .release_units(step.account, &class, step.lots * lot);
            }
        }
    }

    pub(crate) fn withdraw_call_step(
        &mut self,
        date: NaiveDate,
        market: &OrderRef,
        step: &OrderRef,
        account: &AccountId,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let m = self.call_market(market)?;
        if !m.is_open() || date > m.closes {
            return Err(fail(
                RuleCode::CallMarketClosed,
                "market",
                format!(
                    "call market {market} is closed (window {}, cleared or cancelled)",
                    m.closes
                ),
            ));
        }
        let lot = m.lot;
        let Some(s) = m.steps.get(step).cloned() else {
            return Err(fail(
                RuleCode::UnknownOrder,
                "step",
                format!("no step {step} in {market}"),
            ));
        };
        if &self.ledger().account(s.account).spec.id != account {
            return Err(fail(
                RuleCode::NotOrderOwner,
                "account",
                format!("step {step} is not {account}'s"),
            ));
        }
        self.release_step(&s, lot);
        self.regional_mut()
            .call_markets
            .get_mut(market)
            .expect("found")
            .steps
            .remove(step);
        Ok(vec![Effect::CallStepWithdrawn {
            market: market.clone(),
            step: step.clone(),
        }])
    }

    /// Receptor headroom left for a market: standard - background - current load (the geography
    /// as configured) minus the load of every registered movement since - each area's cumulative
    /// net inflow of the pollutant (transfers after ratios, earlier call-market fills) times its
    /// coefficient. So successive markets share one headroom instead of each using it again.
    pub(crate) fn remaining_headroom(
        &self,
        geo: &Geography,
        r: &Receptor,
        pollutant: &UnitTypeCode,
    ) -> f64 {
        let used: f64 = self
            .regional()
            .inflows()
            .filter(|(_, p, _)| *p == pollutant)
            .map(|(area, _, kg)| coefficient(geo, r, area) * kg as f64 / 1000.0)
            .sum();
        geo.receptor_headroom(r) - used
    }

    /// The sector rules applied to a call market's participants: it pools many counterparties, so
    /// a source the rules keep apart from industry cannot take part - agricultural sources (no
    /// industry-agriculture trades) and, for air pollutants, the power sector (ring-fenced); they
    /// trade bilaterally within their sector.
    fn call_market_sector(
        &self,
        account: AccountNo,
        pollutant: &UnitTypeCode,
    ) -> Result<(), Vec<Violation>> {
        let geo = self
            .config()
            .geography
            .as_ref()
            .expect("market created with one");
        let sector = self
            .sector_or_fail(account, "account")
            .map_err(|v| vec![v])?;
        let class = geo.sector(sector).map(|s| s.class);
        let id = &self.ledger().account(account).spec.id;
        let rules = &geo.rules;
        if class == Some(SectorClass::Agriculture) && rules.no_industry_agriculture {
            return Err(fail(
                RuleCode::IndustryAgricultureTransfer,
                "account",
                format!(
                    "account {id} is an agricultural source ({sector}): it cannot trade in a call market with industrial sources"
                ),
            ));
        }
        let air = geo.medium(pollutant) == Some(yrd_geography::Medium::Air);
        if class == Some(SectorClass::Power) && air && rules.power_air_ring_fenced {
            return Err(fail(
                RuleCode::PowerSectorRingFence,
                "account",
                format!(
                    "account {id} is a power-sector source: its {pollutant} rights are ring-fenced within the power sector"
                ),
            ));
        }
        Ok(())
    }

    /// Cancels an open call market (its operator): every step's reservation is released and
    /// nothing is settled; the steps stay on record.
    pub(crate) fn cancel_call_market(
        &mut self,
        market: &OrderRef,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let m = self.call_market(market)?.clone();
        if !m.is_open() {
            return Err(fail(
                RuleCode::CallMarketClosed,
                "market",
                format!("call market {market} was already cleared or cancelled"),
            ));
        }
        for s in m.steps.values() {
            self.release_step(s, m.lot);
        }
        self.regional_mut()
            .call_markets
            .get_mut(market)
            .expect("found")
            .cancelled = true;
        Ok(vec![Effect::CallMarketCancelled {
            market: market.clone(),
        }])
    }

    /// The clearing problem of a call market: areas as locations, its receptors with their
    /// headroom and per-lot coefficients (the geography gives receptor units per tonne; one lot
    /// is `lot` base units of the pollutant, kg: `a_per_lot = a_per_t * lot / 1000`).
    pub(crate) fn call_problem(&self, m: &CallMarket) -> Problem {
        let geo = self
            .config()
            .geography
            .as_ref()
            .expect("market created with one");
        let tonnes_per_lot = m.lot as f64 / 1000.0;
        let mut receptors = Vec::new();
        let mut coefficients = Vec::new();
        for code in &m.receptors {
            let r = geo.receptor(code).expect("checked at creation");
            receptors.push(ReceptorSpec {
                id: code.clone(),
                headroom: self.remaining_headroom(geo, r, &m.pollutant),
            });
            coefficients.push(
                m.areas
                    .iter()
                    .map(|a| coefficient(geo, r, a) * tonnes_per_lot)
                    .collect(),
            );
        }
        let steps = m
            .steps
            .iter()
            .map(|(r, s)| Step {
                id: r.as_str().to_string(),
                location: m.areas.iter().position(|a| a == &s.area).expect("checked"),
                side: match s.side {
                    OrderSide::Buy => Side::Buy,
                    OrderSide::Sell => Side::Sell,
                },
                quantity: s.lots,
                price: s.price_minor,
            })
            .collect();
        Problem {
            locations: m.areas.clone(),
            receptors,
            coefficients,
            tonnage_cap: None,
            steps,
            violation_price: None,
        }
    }

    pub(crate) fn clear_call_market(
        &mut self,
        date: NaiveDate,
        market: &OrderRef,
    ) -> Result<Vec<Effect>, Vec<Violation>> {
        let m = self.call_market(market)?.clone();
        if !m.is_open() {
            return Err(fail(
                RuleCode::CallMarketClosed,
                "market",
                format!("call market {market} was already cleared or cancelled"),
            ));
        }
        if date <= m.closes {
            return Err(fail(
                RuleCode::CallMarketRule,
                "date",
                format!(
                    "call market {market} can be cleared after its window closes on {}",
                    m.closes
                ),
            ));
        }
        let problem = self.call_problem(&m);
        let clearing = yrd_spatial::clear(&problem, SolverChoice::Default).map_err(|e| {
            fail(
                RuleCode::SpatialSolverFailed,
                "market",
                format!("call market {market} did not clear: {e}; nothing settled"),
            )
        })?;
        // Every check before the first change: amounts, the operator's cash, class bounds.
        let gov = self
            .system_account_pub(&m.operator, AccountKind::GovernmentHolding, "operator")
            .map_err(|v| vec![v])?;
        let price_of = |s: &CallStep| {
            let i = m.areas.iter().position(|a| a == &s.area).expect("checked");
            clearing.settlement_prices[i]
        };
        let mut paid_in: i64 = 0;
        let mut paid_out: i64 = 0;
        let mut issued: BTreeMap<UnitClass, u64> = BTreeMap::new();
        for ((_, s), fill) in m.steps.iter().zip(&clearing.fills) {
            let amount = price_of(s)
                .checked_mul(*fill as i64)
                .ok_or_else(|| fail(RuleCode::QuantityOverflow, "market", "payment overflows"))?;
            match s.side {
                OrderSide::Buy => {
                    paid_in = paid_in.checked_add(amount).ok_or_else(|| {
                        fail(RuleCode::QuantityOverflow, "market", "payments overflow")
                    })?;
                    if *fill > 0 {
                        let j = self.ledger().account(s.account).spec.jurisdiction.clone();
                        let class = UnitClass {
                            jurisdiction: j,
                            unit_type: m.pollutant.clone(),
                            vintage: m.vintage,
                        };
                        *issued.entry(class).or_insert(0) += fill * m.lot;
                    }
                }
                OrderSide::Sell => {
                    paid_out = paid_out.checked_add(amount).ok_or_else(|| {
                        fail(RuleCode::QuantityOverflow, "market", "payments overflow")
                    })?;
                }
            }
        }
        for (class, q) in &issued {
            let before = self
                .ledger()
                .class_no(class)
                .map_or(0, |c| self.ledger().class(c).issued);
            if before.checked_add(*q).is_none_or(|t| t > Quantity::MAX) {
                return Err(fail(
                    RuleCode::QuantityOverflow,
                    "market",
                    format!("issuing {q} more units of {class} exceeds the registry bound"),
                ));
            }
            self.system_account_pub(
                &class.jurisdiction,
                AccountKind::GovernmentHolding,
                "market",
            )
            .map_err(|v| vec![v])?;
        }
        let gov_cash = self.cash().available_on(gov, date);
        if paid_out > paid_in.saturating_add(gov_cash) {
            return Err(fail(
                RuleCode::InsufficientCash,
                "operator",
                format!(
                    "sellers are owed {paid_out} but buyers pay {paid_in} and {}-GOV has {gov_cash} available (minor units); nothing settled",
                    m.operator
                ),
            ));
        }
        // Settle: releases, then buyers pay the operator, then the operator pays sellers.
        for s in m.steps.values() {
            self.release_step(s, m.lot);
        }
        let mut effects = Vec::new();
        for ((r, s), fill) in m.steps.iter().zip(&clearing.fills) {
            if *fill == 0 || s.side != OrderSide::Buy {
                continue;
            }
            let amount = price_of(s) * *fill as i64;
            if amount > 0 {
                self.cash_mut()
                    .reserve_on(s.account, amount, date)
                    .expect("guarantee covered it");
                self.cash_mut()
                    .settle(s.account, gov, amount, 0, 0, date)
                    .expect("reserved");
            }
            let class = UnitClass {
                jurisdiction: self.ledger().account(s.account).spec.jurisdiction.clone(),
                unit_type: m.pollutant.clone(),
                vintage: m.vintage,
            };
            let range = self.ledger_issue(&class, fill * m.lot, s.account);
            effects.push(Effect::CallFill {
                market: market.clone(),
                step: r.clone(),
                account: self.ledger().account(s.account).spec.id.clone(),
                side: s.side,
                class: class.clone(),
                quantity: fill * m.lot,
                price_minor: price_of(s),
                amount_minor: amount,
                ranges: vec![range],
            });
        }
        self.cash_mut().mature(gov, date);
        for ((r, s), fill) in m.steps.iter().zip(&clearing.fills) {
            if *fill == 0 || s.side != OrderSide::Sell {
                continue;
            }
            let amount = price_of(s) * *fill as i64;
            if amount > 0 {
                self.cash_mut()
                    .reserve_on(gov, amount, date)
                    .expect("checked: operator cash");
                self.cash_mut()
                    .settle(gov, s.account, amount, 0, 0, date)
                    .expect("reserved");
            }
            let class = s.class.clone().expect("sell steps carry their class");
            let cancel = self
                .system_account_pub(&class.jurisdiction, AccountKind::Cancellation, "market")
                .map_err(|v| vec![v])?;
            let ranges = self.move_units_pub(s.account, cancel, &class, fill * m.lot);
            effects.push(Effect::CallFill {
                market: market.clone(),
                step: r.clone(),
                account: self.ledger().account(s.account).spec.id.clone(),
                side: s.side,
                class,
                quantity: fill * m.lot,
                price_minor: price_of(s),
                amount_minor: amount,
                ranges,
            });
        }
        for (i, area) in m.areas.iter().enumerate() {
            let d = i128::from(clearing.net_change[i]) * i128::from(m.lot);
            if d != 0 {
                self.regional_mut().add_inflow(area, &m.pollutant, d);
            }
        }
        let result = CallResult {
            fills: m
                .steps
                .keys()
                .cloned()
                .zip(clearing.fills.iter().copied())
                .collect(),
            settlement_prices: m
                .areas
                .iter()
                .cloned()
                .zip(clearing.settlement_prices.iter().copied())
                .collect(),
            receptor_prices: m
                .receptors
                .iter()
                .cloned()
                .zip(clearing.receptor_prices.iter().copied())
                .collect(),
            headroom: m
                .receptors
                .iter()
                .cloned()
                .zip(problem.receptors.iter().map(|r| r.headroom))
                .collect(),
            receptor_load_change: m
                .receptors
                .iter()
                .cloned()
                .zip(clearing.receptor_load.iter().copied())
                .collect(),
            net_change: m
                .areas
                .iter()
                .cloned()
                .zip(clearing.net_change.iter().copied())
                .collect(),
            total_surplus_minor: clearing.total_surplus,
            operator_revenue_minor: clearing.operator_revenue,
        };
        effects.push(Effect::CallMarketCleared {
            market: market.clone(),
            operator_revenue_minor: i64::try_from(result.operator_revenue_minor)
                .unwrap_or(i64::MAX),
        });
        self.regional_mut()
            .call_markets
            .get_mut(market)
            .expect("found")
            .result = Some(result);
        Ok(effects)
    }
}
