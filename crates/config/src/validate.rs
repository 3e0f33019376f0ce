//! Semantic checks a configuration must pass after it parses. Each failure names the dotted field
//! path and the reason.

use crate::model::*;
use std::collections::HashSet;

type Failure = (String, String);

fn fail(field: impl Into<String>, reason: impl Into<String>) -> Result<(), Failure> {
    Err((field.into(), reason.into()))
}

pub(crate) fn validate(c: &MarketConfig) -> Result<(), Failure> {
    market(&c.market)?;
    jurisdictions(c)?;
    unit_types(c)?;
    compliance(c)?;
    exchange(c)?;
    geography(c)?;
    security(c)
}

fn security(c: &MarketConfig) -> Result<(), Failure> {
    let Some(s) = &c.security else { return Ok(()) };
    if let Err(failures) = s.validate()
        && let Some((field, reason)) = failures.into_iter().next()
    {
        return fail(format!("security.{field}"), reason);
    }
    Ok(())
}

fn geography(c: &MarketConfig) -> Result<(), Failure> {
    let Some(g) = &c.geography else { return Ok(()) };
    let jurisdictions: Vec<_> = c.jurisdictions.iter().map(|j| &j.code).collect();
    let unit_types: Vec<_> = c
        .unit_types
        .iter()
        .map(|u| yrd_geography::KnownUnitType {
            code: &u.code,
            pollutant_right: u.kind == UnitKind::PollutantRight,
        })
        .collect();
    if let Err(failures) = g.validate(&jurisdictions, &unit_types)
        && let Some((field, reason)) = failures.into_iter().next()
    {
        return fail(format!("geography.{field}"), reason);
    }
    Ok(())
}

fn exchange(c: &MarketConfig) -> Result<(), Failure> {
    let Some(e) = &c.exchange else { return Ok(()) };
    if e.unit_types.is_empty() {
        return fail(
            "exchange.unit_types",
            "list at least one unit type, or leave out the [exchange] section",
        );
    }
    for (i, code) in e.unit_types.iter().enumerate() {
        if c.unit_type(code).is_none() {
            return fail(
                format!("exchange.unit_types[{i}]"),
                format!("unknown unit type {code}"),
            );
        }
        // An anonymous continuous book cannot apply rules that depend on who the counterparty
        // is and where: rights the geography governs trade by transfer or in the call market.
        if c.geography.as_ref().and_then(|g| g.medium(code)).is_some() {
            return fail(
                format!("exchange.unit_types[{i}]"),
                format!(
                    "{code} is governed by the cross-regional rules of [geography]; it trades by transfer or in a call market, not on the continuous exchange"
                ),
            );
        }
    }
    if let Err(failures) = e.rules.validate()
        && let Some((field, reason)) = failures.into_iter().next()
    {
        return fail(format!("exchange.rules.{field}"), reason);
    }
    Ok(())
}

fn market(m: &MarketInfo) -> Result<(), Failure> {
    if m.name.trim().is_empty() {
        return fail("market.name", "must not be empty");
    }
    if m.currency.len() != 3 || !m.currency.chars().all(|c| c.is_ascii_uppercase()) {
        return fail(
            "market.currency",
            format!(
                "{:?} is not an ISO 4217 code of three uppercase letters",
                m.currency
            ),
        );
    }
    if ![1, 10, 100, 1000].contains(&m.currency_minor_per_major) {
        return fail(
            "market.currency_minor_per_major",
            "must be 1, 10, 100 or 1000",
        );
    }
    Ok(())
}

fn jurisdictions(c: &MarketConfig) -> Result<(), Failure> {
    if c.jurisdictions.is_empty() {
        return fail("jurisdictions", "at least one jurisdiction is required");
    }
    let mut seen = HashSet::new();
    for (i, j) in c.jurisdictions.iter().enumerate() {
        if !seen.insert(&j.code) {
            return fail(
                format!("jurisdictions[{i}].code"),
                format!("duplicate jurisdiction code {}", j.code),
            );
        }
        if j.name.trim().is_empty() {
            return fail(format!("jurisdictions[{i}].name"), "must not be empty");
        }
    }
    Ok(())
}

fn unit_types(c: &MarketConfig) -> Result<(), Failure> {
    if c.unit_types.is_empty() {
        return fail("unit_types", "at least one unit type is required");
    }
    let mut seen = HashSet::new();
    for (i, u) in c.unit_types.iter().enumerate() {
        if !seen.insert(&u.code) {
            return fail(
                format!("unit_types[{i}].code"),
                format!("duplicate unit type code {}", u.code),
            );
        }
        if u.holders.is_empty() {
            return fail(
                format!("unit_types[{i}].holders"),
                "at least one account kind must be able to hold the unit type",
            );
        }
        let expected = match u.kind {
            UnitKind::PollutantRight => BaseUnit::Kilogram,
            UnitKind::CarbonAllowance | UnitKind::Offset => BaseUnit::TonneCo2e,
        };
        if u.base_unit != expected {
            return fail(
                format!("unit_types[{i}].base_unit"),
                format!("a {:?} is counted in {}", u.kind, expected.symbol()),
            );
        }
        if let Some(k) = u.holders.iter().find(|k| k.is_terminal()) {
            return fail(
                format!("unit_types[{i}].holders"),
                format!(
                    "{k} accounts always hold surrendered, cancelled or deleted units; list only live account kinds"
                ),
            );
        }
        if !u
            .holders
            .contains(&yrd_types::AccountKind::GovernmentHolding)
        {
            return fail(
                format!("unit_types[{i}].holders"),
                "must include government_holding, which receives issuance",
            );
        }
    }
    Ok(())
}

fn compliance(c: &MarketConfig) -> Result<(), Failure> {
    let comp = &c.compliance;
    if comp.obligations.is_empty() {
        return fail(
            "compliance.obligations",
            "at least one obligation is required",
        );
    }
    let mut seen = HashSet::new();
    for (i, o) in comp.obligations.iter().enumerate() {
        let field = format!("compliance.obligations[{i}]");
        if !seen.insert(&o.code) {
            return fail(
                format!("{field}.code"),
                format!("duplicate obligation code {}", o.code),
            );
        }
        if o.surrender_unit_types.is_empty() {
            return fail(
                format!("{field}.surrender_unit_types"),
                "at least one unit type must discharge the obligation",
            );
        }
        for (k, code) in o.surrender_unit_types.iter().enumerate() {
            let Some(u) = c.unit_type(code) else {
                return fail(
                    format!("{field}.surrender_unit_types[{k}]"),
                    format!("unknown unit type {code}"),
                );
            };
            if u.base_unit != o.base_unit {
                return fail(
                    format!("{field}.surrender_unit_types[{k}]"),
                    format!(
                        "{code} is counted in {} but the obligation in {}",
                        u.base_unit.symbol(),
                        o.base_unit.symbol()
                    ),
                );
            }
            if !u.holders.contains(&yrd_types::AccountKind::OperatorHolding) {
                return fail(
                    format!("{field}.surrender_unit_types[{k}]"),
                    format!(
                        "{code} cannot be held by operator_holding accounts, so it can never be surrendered"
                    ),
                );
            }
        }
    }
    periods(comp)?;
    if comp.surrender_deadlines.is_empty() {
        return fail(
            "compliance.surrender_deadlines",
            "at least one deadline is required",
        );
    }
    for (i, pair) in comp.surrender_deadlines.windows(2).enumerate() {
        if pair[1].from_year <= pair[0].from_year {
            return fail(
                format!("compliance.surrender_deadlines[{}].from_year", i + 1),
                "must increase",
            );
        }
    }
    let first_year = comp.trading_periods[0].first_year;
    if comp.surrender_deadlines[0].from_year > first_year {
        return fail(
            "compliance.surrender_deadlines[0].from_year",
            format!(
                "must be at most the first compliance year {first_year}, or early years have no deadline"
            ),
        );
    }
    for d in &comp.surrender_deadlines {
        if d.month_day < comp.reporting_deadline {
            return fail(
                "compliance.reporting_deadline",
                format!(
                    "{} falls after the surrender deadline {} applying from {}",
                    String::from(comp.reporting_deadline),
                    String::from(d.month_day),
                    d.from_year
                ),
            );
        }
    }
    match &comp.penalty {
        Penalty::FixedPerUnit {
            amount_minor_per_unit,
        } if *amount_minor_per_unit <= 0 => {
            return fail(
                "compliance.penalty.amount_minor_per_unit",
                "must be positive",
            );
        }
        Penalty::MultipleOfReferencePrice {
            multiple,
            reference_price_minor,
        } => {
            if *multiple == 0 {
                return fail("compliance.penalty.multiple", "must be positive");
            }
            if *reference_price_minor <= 0 {
                return fail(
                    "compliance.penalty.reference_price_minor",
                    "must be positive",
                );
            }
        }
        _ => {}
    }
    if comp.shortfall.deduct_multiple == 0 {
        return fail("compliance.shortfall.deduct_multiple", "must be at least 1");
    }
    Ok(())
}

fn periods(comp: &Compliance) -> Result<(), Failure> {
    if comp.trading_periods.is_empty() {
        return fail(
            "compliance.trading_periods",
            "at least one trading period is required",
        );
    }
    for (i, p) in comp.trading_periods.iter().enumerate() {
        let field = format!("compliance.trading_periods[{i}]");
        if !(1990..=2200).contains(&p.first_year) {
            return fail(format!("{field}.first_year"), "must be a year in 1990-2200");
        }
        if p.last_year < p.first_year || p.last_year > 2200 {
            return fail(
                format!("{field}.last_year"),
                format!("must be between first_year {} and 2200", p.first_year),
            );
        }
        if i > 0 {
            let prev = &comp.trading_periods[i - 1];
            if p.first_year != prev.last_year + 1 {
                return fail(
                    format!("{field}.first_year"),
                    format!(
                        "periods must be contiguous: expected {} after {}",
                        prev.last_year + 1,
                        prev.name
                    ),
                );
            }
        }
    }
    Ok(())
}
