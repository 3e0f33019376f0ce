//! Semantic checks of a geography against the market it belongs to. Every failure names the field
//! path relative to the geography (`areas[3].parent`) and the reason; the configuration crate
//! prefixes `geography.`.

use crate::model::*;
use std::collections::HashSet;
use yrd_types::{JurisdictionCode, UnitTypeCode};

/// A unit type of the market, as the geography's validation needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownUnitType<'a> {
    /// Its code.
    pub code: &'a UnitTypeCode,
    /// Whether it is a pollutant discharge right (only those may be named as pollutants).
    pub pollutant_right: bool,
}

/// Whether `s` is a valid code for a basin, airshed, sector, area or receptor: 1-32 characters
/// from ASCII letters, digits and `-_.`.
pub fn check_code(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 32 {
        return Err("must be 1-32 characters long");
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err("may contain only letters, digits and '-', '_', '.'");
    }
    Ok(())
}

struct Checker<'a> {
    failures: Vec<(String, String)>,
    jurisdictions: &'a [&'a JurisdictionCode],
    unit_types: &'a [KnownUnitType<'a>],
}

impl Checker<'_> {
    fn fail(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.failures.push((field.into(), reason.into()));
    }

    fn bound(&mut self, field: &str, len: usize, max: usize) {
        if len > max {
            self.fail(
                field,
                format!("lists {len} entries; at most {max} are allowed"),
            );
        }
    }

    fn name(&mut self, field: String, name: &str) {
        if name.trim().is_empty() {
            self.fail(field, "must not be empty");
        }
    }

    /// Checks the code format and uniqueness of a list's codes.
    fn codes<'c>(&mut self, list: &str, codes: impl Iterator<Item = &'c str>, what: &str) {
        let mut seen = HashSet::new();
        for (i, code) in codes.enumerate() {
            let field = format!("{list}[{i}].code");
            if let Err(rule) = check_code(code) {
                self.fail(field, format!("{what} code {code:?} {rule}"));
            } else if !seen.insert(code) {
                self.fail(field, format!("duplicate {what} code {code:?}"));
            }
        }
    }

    /// Checks a pollutant reference: a known unit type that is a pollutant right.
    fn pollutant(&mut self, field: String, code: &UnitTypeCode) {
        match self.unit_types.iter().find(|u| u.code == code) {
            None => self.fail(field, format!("unknown unit type {code}")),
            Some(u) if !u.pollutant_right => {
                self.fail(field, format!("{code} is not a pollutant_right unit type"))
            }
            Some(_) => {}
        }
    }

    /// Checks a list of pollutants: bounded, each a pollutant right, no duplicates.
    fn pollutants(&mut self, field: &str, codes: &[UnitTypeCode]) {
        self.bound(field, codes.len(), MAX_LIST);
        let mut seen = HashSet::new();
        for (k, code) in codes.iter().enumerate() {
            self.pollutant(format!("{field}[{k}]"), code);
            if !seen.insert(code) {
                self.fail(format!("{field}[{k}]"), format!("{code} is listed twice"));
            }
        }
    }

    /// Checks a list of region references: bounded, each known, no duplicates.
    fn region_refs(&mut self, field: &str, refs: &[String], known: &[Region], what: &str) {
        self.bound(field, refs.len(), MAX_LIST);
        let mut seen = HashSet::new();
        for (k, code) in refs.iter().enumerate() {
            if !known.iter().any(|r| &r.code == code) {
                self.fail(format!("{field}[{k}]"), format!("unknown {what} {code:?}"));
            } else if !seen.insert(code) {
                self.fail(
                    format!("{field}[{k}]"),
                    format!("{what} {code:?} is listed twice"),
                );
            }
        }
    }

    fn finite(&mut self, field: String, value: f64) {
        if !value.is_finite() {
            self.fail(field, format!("{value} is not a finite number"));
        }
    }
}

impl Geography {
    /// Checks the geography is coherent with the market it belongs to: `jurisdictions` are the
    /// market's jurisdiction codes, `unit_types` its unit types. Returns every failure as
    /// `(field path, reason)`, e.g. `("areas[3].parent", "unknown area \"CN-XX\"")`.
    pub fn validate(
        &self,
        jurisdictions: &[&JurisdictionCode],
        unit_types: &[KnownUnitType<'_>],
    ) -> Result<(), Vec<(String, String)>> {
        let mut c = Checker {
            failures: Vec::new(),
            jurisdictions,
            unit_types,
        };
        self.lists(&mut c);
        self.areas_check(&mut c);
        self.receptors_check(&mut c);
        self.rules_check(&mut c);
        if c.failures.is_empty() {
            Ok(())
        } else {
            Err(c.failures)
        }
    }

    fn lists(&self, c: &mut Checker<'_>) {
        c.bound("basins", self.basins.len(), MAX_REGIONS);
        c.bound("airsheds", self.airsheds.len(), MAX_REGIONS);
        c.bound("sectors", self.sectors.len(), MAX_SECTORS);
        c.bound("areas", self.areas.len(), MAX_AREAS);
        c.bound("receptors", self.receptors.len(), MAX_RECEPTORS);
        c.bound("rules.ratios", self.rules.ratios.len(), MAX_RATIOS);
        c.codes(
            "basins",
            self.basins.iter().map(|r| r.code.as_str()),
            "basin",
        );
        c.codes(
            "airsheds",
            self.airsheds.iter().map(|r| r.code.as_str()),
            "airshed",
        );
        c.codes(
            "sectors",
            self.sectors.iter().map(|s| s.code.as_str()),
            "sector",
        );
        c.codes("areas", self.areas.iter().map(|a| a.code.as_str()), "area");
        c.codes(
            "receptors",
            self.receptors.iter().map(|r| r.code.as_str()),
            "receptor",
        );
        for (list, regions) in [("basins", &self.basins), ("airsheds", &self.airsheds)] {
            for (i, r) in regions.iter().enumerate() {
                c.name(format!("{list}[{i}].name"), &r.name);
            }
        }
        for (i, s) in self.sectors.iter().enumerate() {
            c.name(format!("sectors[{i}].name"), &s.name);
        }
    }

    fn areas_check(&self, c: &mut Checker<'_>) {
        if self.areas.is_empty() {
            c.fail("areas", "at least one area is required");
        }
        for (i, a) in self.areas.iter().enumerate() {
            let field = format!("areas[{i}]");
            c.name(format!("{field}.name"), &a.name);
            if !c.jurisdictions.contains(&&a.jurisdiction) {
                c.fail(
                    format!("{field}.jurisdiction"),
                    format!("unknown jurisdiction {}", a.jurisdiction),
                );
            }
            if let Some(p) = &a.parent {
                match self.area(p) {
                    None => c.fail(format!("{field}.parent"), format!("unknown area {p:?}")),
                    Some(parent) if parent.jurisdiction != a.jurisdiction => c.fail(
                        format!("{field}.parent"),
                        format!(
                            "area {p:?} lies in {}, not in {} like {:?}",
                            parent.jurisdiction, a.jurisdiction, a.code
                        ),
                    ),
                    Some(parent) if parent.level >= a.level => c.fail(
                        format!("{field}.parent"),
                        format!(
                            "area {p:?} is a {}, not of a higher level than the {} {:?}",
                            parent.level.as_str(),
                            a.level.as_str(),
                            a.code
                        ),
                    ),
                    Some(_) => {}
                }
                // The level rule already excludes cycles among valid parents; this names one
                // even when the levels are wrong too.
                if self.in_cycle(&a.code) {
                    c.fail(
                        format!("{field}.parent"),
                        format!("area {:?} is its own ancestor (a cycle of parents)", a.code),
                    );
                }
            }
            c.region_refs(&format!("{field}.basins"), &a.basins, &self.basins, "basin");
            c.region_refs(
                &format!("{field}.airsheds"),
                &a.airsheds,
                &self.airsheds,
                "airshed",
            );
            c.pollutants(&format!("{field}.non_attainment"), &a.non_attainment);
        }
    }

    /// Whether following parents from `code` comes back to it.
    fn in_cycle(&self, code: &str) -> bool {
        let mut next = self.area(code).and_then(|a| a.parent.as_deref());
        // A walk longer than the list has repeated an area.
        for _ in 0..=self.areas.len() {
            let Some(p) = next else { return false };
            if p == code {
                return true;
            }
            next = self.area(p).and_then(|a| a.parent.as_deref());
        }
        false
    }

    fn receptors_check(&self, c: &mut Checker<'_>) {
        for (i, r) in self.receptors.iter().enumerate() {
            let field = format!("receptors[{i}]");
            c.name(format!("{field}.name"), &r.name);
            c.name(format!("{field}.unit"), &r.unit);
            c.name(format!("{field}.source"), &r.source);
            c.pollutant(format!("{field}.pollutant"), &r.pollutant);
            let (expected, wrong_field, wrong) = match r.kind {
                ReceptorKind::RiverSection => (Medium::Water, "airshed", r.airshed.is_some()),
                ReceptorKind::AirStation => (Medium::Air, "basin", r.basin.is_some()),
            };
            if wrong {
                c.fail(
                    format!("{field}.{wrong_field}"),
                    format!("a {} receptor has no {wrong_field}", r.kind.as_str()),
                );
            }
            if let Some(m) = self.water_or_air(&r.pollutant)
                && m != expected
            {
                c.fail(
                    format!("{field}.pollutant"),
                    format!(
                        "{} is listed in rules.{}_pollutants, but a {} receptor measures {} pollutants",
                        r.pollutant,
                        m.as_str(),
                        r.kind.as_str(),
                        expected.as_str()
                    ),
                );
            }
            if let Some(b) = &r.basin
                && self.basin(b).is_none()
            {
                c.fail(format!("{field}.basin"), format!("unknown basin {b:?}"));
            }
            if let Some(a) = &r.airshed
                && self.airshed(a).is_none()
            {
                c.fail(format!("{field}.airshed"), format!("unknown airshed {a:?}"));
            }
            c.finite(format!("{field}.standard"), r.standard);
            c.finite(format!("{field}.background"), r.background);
            c.finite(format!("{field}.current_load"), r.current_load);
            if r.coefficients.is_empty() {
                c.fail(
                    format!("{field}.coefficients"),
                    "at least one area must affect the receptor, or it constrains nothing",
                );
            }
            c.bound(
                &format!("{field}.coefficients"),
                r.coefficients.len(),
                MAX_AREAS,
            );
            for (area, value) in &r.coefficients {
                let f = format!("{field}.coefficients.{area}");
                if self.area(area).is_none() {
                    c.fail(f, format!("unknown area {area:?}"));
                } else if !value.is_finite() || *value < 0.0 {
                    c.fail(f, format!("{value} is not a finite number >= 0"));
                }
            }
        }
    }

    fn rules_check(&self, c: &mut Checker<'_>) {
        let rules = &self.rules;
        c.pollutants("rules.water_pollutants", &rules.water_pollutants);
        c.pollutants("rules.air_pollutants", &rules.air_pollutants);
        for (k, code) in rules.air_pollutants.iter().enumerate() {
            if rules.water_pollutants.contains(code) {
                c.fail(
                    format!("rules.air_pollutants[{k}]"),
                    format!("{code} is also a water pollutant; a pollutant has one medium"),
                );
            }
        }
        let mut names = HashSet::new();
        for (i, r) in rules.ratios.iter().enumerate() {
            let field = format!("rules.ratios[{i}]");
            c.name(format!("{field}.name"), &r.name);
            if !names.insert(r.name.as_str()) {
                c.fail(
                    format!("{field}.name"),
                    format!("duplicate ratio name {:?}", r.name),
                );
            }
            c.name(format!("{field}.source"), &r.source);
            if r.credited == 0 {
                c.fail(format!("{field}.credited"), "must be at least 1");
            }
            if r.delivered < r.credited {
                c.fail(
                    format!("{field}.delivered"),
                    format!(
                        "{} is below credited ({}): a ratio never credits more than is delivered",
                        r.delivered, r.credited
                    ),
                );
            }
            if let RatioScope::IntoArea { area } = &r.applies
                && self.area(area).is_none()
            {
                c.fail(
                    format!("{field}.applies.area"),
                    format!("unknown area {area:?}"),
                );
            }
            c.pollutants(&format!("{field}.pollutants"), &r.pollutants);
            for (k, p) in r.pollutants.iter().enumerate() {
                if self.water_or_air(p).is_none() {
                    c.fail(
                        format!("{field}.pollutants[{k}]"),
                        format!(
                            "{p} is neither in rules.water_pollutants nor in rules.air_pollutants, so the ratio would never apply"
                        ),
                    );
                }
            }
        }
    }
}
