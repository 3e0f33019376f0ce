//! The transfer rules for pollutant discharge rights between areas, as pure functions of the
//! geography and one proposed transfer.

use crate::model::*;
use yrd_types::{JurisdictionCode, UnitTypeCode};

/// The State Council guidance the basin, sector, non-attainment and jurisdiction rules come from.
const GUIDANCE_2014: &str = "State Council General Office, Guiding Opinions on Further Promoting the Pilot of Paid Use \
     and Trading of Emission Rights (国办发〔2014〕38号), as summarised in ets-rules.md \
     \"Pollutant discharge rights\"";

/// One rule a transfer of pollutant rights between areas can break. Each has a stable
/// [`code`](TransferRule::code) and a [`source`](TransferRule::source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TransferRule {
    /// Water-pollutant rights between areas that share no river basin
    /// ([`TransferRules::water_within_basin`]). No approval lifts it.
    CrossBasinWaterTransfer,
    /// Air-pollutant rights between areas that share no airshed, without the approval of both
    /// jurisdictions ([`TransferRules::air_within_airshed`]).
    CrossAirshedNeedsApproval,
    /// Rights between an industrial and an agricultural source
    /// ([`TransferRules::no_industry_agriculture`]).
    IndustryAgricultureTransfer,
    /// Air-pollutant rights between a power-sector and a non-power source
    /// ([`TransferRules::power_air_ring_fenced`]).
    PowerSectorRingFence,
    /// Rights into an area that misses its target for the pollutant, beyond what it sold before
    /// ([`TransferRules::non_attainment_no_increase`]).
    NonAttainmentIncrease,
    /// Rights between jurisdictions without the approval of both
    /// ([`TransferRules::cross_jurisdiction_needs_approval`]).
    CrossJurisdictionNeedsApproval,
    /// The trading ratio leaves nothing to credit: the quantity is too small.
    RatioCreditsNothing,
    /// A party names an area the geography does not have.
    UnknownArea,
    /// A party names a sector the geography does not have.
    UnknownSector,
}

impl TransferRule {
    /// Every rule, in the order [`judge_transfer_all`] checks them.
    pub const ALL: [TransferRule; 9] = [
        TransferRule::UnknownArea,
        TransferRule::UnknownSector,
        TransferRule::IndustryAgricultureTransfer,
        TransferRule::PowerSectorRingFence,
        TransferRule::CrossBasinWaterTransfer,
        TransferRule::CrossAirshedNeedsApproval,
        TransferRule::CrossJurisdictionNeedsApproval,
        TransferRule::RatioCreditsNothing,
        TransferRule::NonAttainmentIncrease,
    ];

    /// Stable code, e.g. `CROSS_BASIN_WATER_TRANSFER`.
    pub fn code(self) -> &'static str {
        match self {
            TransferRule::CrossBasinWaterTransfer => "CROSS_BASIN_WATER_TRANSFER",
            TransferRule::CrossAirshedNeedsApproval => "CROSS_AIRSHED_NEEDS_APPROVAL",
            TransferRule::IndustryAgricultureTransfer => "INDUSTRY_AGRICULTURE_TRANSFER",
            TransferRule::PowerSectorRingFence => "POWER_SECTOR_RING_FENCE",
            TransferRule::NonAttainmentIncrease => "NON_ATTAINMENT_INCREASE",
            TransferRule::CrossJurisdictionNeedsApproval => "CROSS_JURISDICTION_NEEDS_APPROVAL",
            TransferRule::RatioCreditsNothing => "RATIO_CREDITS_NOTHING",
            TransferRule::UnknownArea => "UNKNOWN_AREA",
            TransferRule::UnknownSector => "UNKNOWN_SECTOR",
        }
    }

    /// Where the rule comes from.
    pub fn source(self) -> &'static str {
        match self {
            TransferRule::CrossBasinWaterTransfer
            | TransferRule::IndustryAgricultureTransfer
            | TransferRule::PowerSectorRingFence
            | TransferRule::NonAttainmentIncrease => GUIDANCE_2014,
            TransferRule::CrossAirshedNeedsApproval => {
                "2014 national guidance as summarised in ets-rules.md (air-pollutant rights within \
                 one prefecture unless the province approves), drawn at the airsheds of the \
                 market geography"
            }
            TransferRule::CrossJurisdictionNeedsApproval => {
                "2014 national guidance (trades in principle within one pilot province), as \
                 configured for the market"
            }
            TransferRule::RatioCreditsNothing => {
                "the trading ratio's own source, configured in the market geography"
            }
            TransferRule::UnknownArea | TransferRule::UnknownSector => {
                "the market geography (configuration)"
            }
        }
    }

    /// Whether approval by both jurisdictions' administrators lifts the rule.
    pub fn approval_lifts(self) -> bool {
        matches!(
            self,
            TransferRule::CrossAirshedNeedsApproval | TransferRule::CrossJurisdictionNeedsApproval
        )
    }
}

impl std::fmt::Display for TransferRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// One side of a transfer, as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Party<'a> {
    /// Area code of the account's location; `None` for accounts without one (government
    /// accounts: administrative moves are not trades, and the rules do not apply to them).
    pub area: Option<&'a str>,
    /// Sector code of the installation behind the account, if known.
    pub sector: Option<&'a str>,
    /// The jurisdiction administering the account.
    pub jurisdiction: &'a JurisdictionCode,
}

/// A proposed transfer of pollutant rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferQuery<'a> {
    /// The unit type moved.
    pub pollutant: &'a UnitTypeCode,
    /// Sender.
    pub from: Party<'a>,
    /// Receiver.
    pub to: Party<'a>,
    /// Units the sender gives up, base units (kg).
    pub quantity: u64,
    /// Whether the administrators of both jurisdictions approved this transfer.
    pub approved: bool,
    /// Cumulative units credited into the receiving area from other areas minus units delivered
    /// out of it to other areas, for this pollutant, before this transfer. The non-attainment
    /// rule protects the nearest non-attainment area at or above the receiver
    /// ([`Geography::non_attainment_area`]); the figure is exact when that is the receiving area
    /// itself, and the caller should pass that area's figure when it is an ancestor.
    pub to_area_net_inflow: i128,
}

/// What an allowed transfer does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferTerms {
    /// Units credited to the receiver.
    pub credited: u64,
    /// Units the sender gives up beyond `credited`, retired (cancelled) by the trading ratio.
    /// `credited + retired` is the query's quantity.
    pub retired: u64,
    /// The trading ratio applied: `(name, delivered, credited)`.
    pub ratio: Option<(String, u32, u32)>,
    /// Whether the transfer needed (and had) both jurisdictions' approval.
    pub needs_approval: bool,
}

/// Why a transfer is refused: the rule and a message naming the areas, sectors, pollutant and the
/// rule's source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: {message}")]
pub struct TransferRefusal {
    /// The rule broken.
    pub rule: TransferRule,
    /// Human explanation.
    pub message: String,
}

/// Splits a delivered `quantity` under a ratio of `delivered : credited`: returns
/// `(credited, retired)` with `credited = floor(quantity x credited / delivered)` and
/// `retired = quantity - credited`, computed exactly in `u128`. 1,000 kg at 3:2 gives
/// `(666, 334)`; 1 kg at 2:1 gives `(0, 1)`.
///
/// `None` when `delivered` is 0 or `credited > delivered` (validation refuses both).
pub fn ratio_split(quantity: u64, delivered: u32, credited: u32) -> Option<(u64, u64)> {
    if delivered == 0 || credited > delivered {
        return None;
    }
    let num = u128::from(quantity).checked_mul(u128::from(credited))?;
    let out = u64::try_from(num / u128::from(delivered)).ok()?;
    debug_assert!(
        out <= quantity,
        "credited <= delivered keeps the credit within quantity"
    );
    Some((out, quantity - out))
}

/// Whether ratio `a` is stricter than ratio `b`: `a.delivered / a.credited > b.delivered /
/// b.credited`, compared exactly by cross-multiplication in `u64` (each product < 2^64).
fn stricter(a: &TradingRatio, b: &TradingRatio) -> bool {
    u64::from(a.delivered) * u64::from(b.credited) > u64::from(b.delivered) * u64::from(a.credited)
}

impl Geography {
    /// The trading ratio for a transfer of `pollutant` from area `from` to area `to`: among the
    /// ratios whose scope and pollutants cover it, the strictest (largest delivered/credited);
    /// of equally strict ones, the first listed. `None` within one area or when none applies.
    pub fn applicable_ratio(
        &self,
        pollutant: &UnitTypeCode,
        from: &str,
        to: &str,
    ) -> Option<&TradingRatio> {
        if from == to {
            return None;
        }
        let mut best: Option<&TradingRatio> = None;
        for r in &self.rules.ratios {
            if !(r.pollutants.is_empty() || r.pollutants.contains(pollutant)) {
                continue;
            }
            let applies = match &r.applies {
                RatioScope::AnyCrossArea => true,
                RatioScope::IntoNonAttainment => self.non_attainment_area(to, pollutant).is_some(),
                RatioScope::IntoArea { area } => self.is_within(to, area),
            };
            if applies && best.is_none_or(|b| stricter(r, b)) {
                best = Some(r);
            }
        }
        best
    }

    /// Whether a pool of `areas` trading rights of a `medium` together (a call market, where any
    /// seller's rights may reach any buyer) is allowed by the region rules: with
    /// `water_within_basin` all areas must lie in one common basin, with `air_within_airshed` in
    /// one common airshed (a pool cannot collect per-transfer approvals). `None` when allowed or
    /// `areas` is empty; otherwise the refusal naming the areas without a common region. An
    /// unknown area counts as lying in no region.
    pub fn common_region_violation(
        &self,
        medium: Medium,
        areas: &[String],
    ) -> Option<TransferRefusal> {
        let (applies, rule, what) = match medium {
            Medium::Water => (
                self.rules.water_within_basin,
                TransferRule::CrossBasinWaterTransfer,
                "river basin",
            ),
            Medium::Air => (
                self.rules.air_within_airshed,
                TransferRule::CrossAirshedNeedsApproval,
                "airshed",
            ),
        };
        let (first, rest) = areas.split_first()?;
        if !applies {
            return None;
        }
        let regions_of = |code: &str| -> &[String] {
            match (self.area(code), medium) {
                (Some(a), Medium::Water) => &a.basins,
                (Some(a), Medium::Air) => &a.airsheds,
                (None, _) => &[],
            }
        };
        let common = regions_of(first)
            .iter()
            .any(|r| rest.iter().all(|a| regions_of(a).contains(r)));
        if common {
            return None;
        }
        let listed: Vec<String> = areas
            .iter()
            .map(|a| format!("{a} [{}]", regions_of(a).join(", ")))
            .collect();
        let message = format!(
            "{} pollutant rights may be pooled only among areas in one common {what}: {} share none ({})",
            medium.as_str(),
            listed.join("; "),
            rule.source()
        );
        Some(TransferRefusal { rule, message })
    }

    /// Whether two areas share a river basin.
    pub fn share_basin(&self, a: &Area, b: &Area) -> bool {
        a.basins.iter().any(|x| b.basins.contains(x))
    }

    /// Whether two areas share an airshed.
    pub fn share_airshed(&self, a: &Area, b: &Area) -> bool {
        a.airsheds.iter().any(|x| b.airsheds.contains(x))
    }
}

/// Which approval rule, if any, asks for both administrators' approval of a transfer of
/// `pollutant` between the parties: [`TransferRule::CrossAirshedNeedsApproval`] before
/// [`TransferRule::CrossJurisdictionNeedsApproval`]. `None` when no approval is needed, the rules
/// do not apply, or an area is unknown.
pub fn needs_approval(
    geo: &Geography,
    pollutant: &UnitTypeCode,
    from: &Party<'_>,
    to: &Party<'_>,
) -> Option<TransferRule> {
    let medium = geo.water_or_air(pollutant)?;
    let from_area = geo.area(from.area?)?;
    let to_area = geo.area(to.area?)?;
    approval_rules(geo, medium, from, to, from_area, to_area).next()
}

/// The approval rules that ask for approval of a cross-area transfer, in order.
fn approval_rules<'g>(
    geo: &'g Geography,
    medium: Medium,
    from: &Party<'_>,
    to: &Party<'_>,
    from_area: &'g Area,
    to_area: &'g Area,
) -> impl Iterator<Item = TransferRule> + use<'g> {
    let cross_area = from_area.code != to_area.code;
    let airshed = cross_area
        && medium == Medium::Air
        && geo.rules.air_within_airshed
        && !geo.share_airshed(from_area, to_area);
    let jurisdiction = cross_area
        && geo.rules.cross_jurisdiction_needs_approval
        && from.jurisdiction != to.jurisdiction;
    [
        airshed.then_some(TransferRule::CrossAirshedNeedsApproval),
        jurisdiction.then_some(TransferRule::CrossJurisdictionNeedsApproval),
    ]
    .into_iter()
    .flatten()
}

/// Judges a transfer: its terms, or the first rule it breaks (in the order of
/// [`TransferRule::ALL`]). See [`judge_transfer_all`] for the rules.
///
/// Panics if the geography holds a trading ratio with `credited` 0 or `credited > delivered`
/// (a bug: [`Geography::validate`] refuses such a configuration).
pub fn judge_transfer(
    geo: &Geography,
    q: &TransferQuery<'_>,
) -> Result<TransferTerms, TransferRefusal> {
    judge_transfer_all(geo, q).map_err(|mut refusals| refusals.swap_remove(0))
}

/// Judges a transfer and reports every rule it breaks (never an empty list).
///
/// The rules apply only when both parties have an area and the rules govern the pollutant as a
/// water or air pollutant; otherwise the transfer is allowed one-for-one. Then, in order:
/// 1. `UNKNOWN_AREA`, `UNKNOWN_SECTOR`: a named area or sector must exist (nothing else is judged
///    if one does not).
/// 2. Sector rules, when both sectors are known, also within one area:
///    `INDUSTRY_AGRICULTURE_TRANSFER`, and for air pollutants `POWER_SECTOR_RING_FENCE`.
/// 3. Between two different areas only: `CROSS_BASIN_WATER_TRANSFER`; the approval rules
///    `CROSS_AIRSHED_NEEDS_APPROVAL` and `CROSS_JURISDICTION_NEEDS_APPROVAL`, lifted by
///    `approved` (the terms then say `needs_approval`); the strictest trading ratio, refused as
///    `RATIO_CREDITS_NOTHING` when it credits 0; `NON_ATTAINMENT_INCREASE` when the receiving
///    area or an ancestor misses its target for the pollutant, the sender is outside that
///    non-attainment area, and `to_area_net_inflow + credited > 0`.
pub fn judge_transfer_all(
    geo: &Geography,
    q: &TransferQuery<'_>,
) -> Result<TransferTerms, Vec<TransferRefusal>> {
    let one_for_one = TransferTerms {
        credited: q.quantity,
        retired: 0,
        ratio: None,
        needs_approval: false,
    };
    let Some(medium) = geo.water_or_air(q.pollutant) else {
        return Ok(one_for_one);
    };
    let (Some(from_code), Some(to_code)) = (q.from.area, q.to.area) else {
        return Ok(one_for_one);
    };
    let pollutant = q.pollutant;
    let mut refusals = Vec::new();

    // 1. References.
    let from_area = geo.area(from_code);
    let to_area = geo.area(to_code);
    for (side, code, found) in [
        ("sender", from_code, from_area),
        ("receiver", to_code, to_area),
    ] {
        if found.is_none() {
            refuse(
                &mut refusals,
                TransferRule::UnknownArea,
                format!("{side}'s area {code:?} is not in the market geography"),
            );
        }
    }
    let mut sectors = [None, None];
    for (k, (side, party)) in [("sender", &q.from), ("receiver", &q.to)]
        .into_iter()
        .enumerate()
    {
        if let Some(code) = party.sector {
            sectors[k] = geo.sector(code);
            if sectors[k].is_none() {
                refuse(
                    &mut refusals,
                    TransferRule::UnknownSector,
                    format!("{side}'s sector {code:?} is not in the market geography"),
                );
            }
        }
    }
    let (Some(from_area), Some(to_area)) = (from_area, to_area) else {
        return Err(refusals);
    };
    if !refusals.is_empty() {
        return Err(refusals);
    }
    let cross_area = from_area.code != to_area.code;
    let areas = format!("{} to {}", label(from_area), label(to_area));

    // 2. Sector rules.
    if let [Some(s_from), Some(s_to)] = sectors {
        let classes = [s_from.class, s_to.class];
        let sectors_text = format!(
            "sector {} ({}) in {} to sector {} ({}) in {}",
            s_from.code,
            s_from.class.as_str(),
            from_area.code,
            s_to.code,
            s_to.class.as_str(),
            to_area.code
        );
        if geo.rules.no_industry_agriculture
            && classes.contains(&SectorClass::Industry)
            && classes.contains(&SectorClass::Agriculture)
        {
            refuse(
                &mut refusals,
                TransferRule::IndustryAgricultureTransfer,
                format!(
                    "{pollutant} rights may not move between industrial and agricultural sources: {sectors_text}"
                ),
            );
        }
        if geo.rules.power_air_ring_fenced
            && medium == Medium::Air
            && (s_from.class == SectorClass::Power) != (s_to.class == SectorClass::Power)
        {
            refuse(
                &mut refusals,
                TransferRule::PowerSectorRingFence,
                format!(
                    "power-sector {pollutant} rights move only between power-sector sources: {sectors_text}"
                ),
            );
        }
    }

    let mut terms = one_for_one;
    if cross_area {
        // 3a. Basins.
        if medium == Medium::Water
            && geo.rules.water_within_basin
            && !geo.share_basin(from_area, to_area)
        {
            refuse(
                &mut refusals,
                TransferRule::CrossBasinWaterTransfer,
                format!(
                    "{pollutant} is a water pollutant and its rights move only within one river basin: \
                     {areas}, basins [{}] and [{}] share none",
                    from_area.basins.join(", "),
                    to_area.basins.join(", ")
                ),
            );
        }
        // 3b. Approvals.
        for rule in approval_rules(geo, medium, &q.from, &q.to, from_area, to_area) {
            terms.needs_approval = true;
            if q.approved {
                continue;
            }
            let why = match rule {
                TransferRule::CrossAirshedNeedsApproval => format!(
                    "{pollutant} is an air pollutant and {areas} share no airshed (airsheds [{}] and [{}])",
                    from_area.airsheds.join(", "),
                    to_area.airsheds.join(", ")
                ),
                _ => format!(
                    "{areas} crosses from jurisdiction {} to {}",
                    q.from.jurisdiction, q.to.jurisdiction
                ),
            };
            refuse(
                &mut refusals,
                rule,
                format!(
                    "{why}: the transfer of {pollutant} needs the approval of the administrators of {} and {}",
                    q.from.jurisdiction, q.to.jurisdiction
                ),
            );
        }
        // 3c. Trading ratio.
        if let Some(r) = geo.applicable_ratio(pollutant, &from_area.code, &to_area.code) {
            let (credited, retired) = ratio_split(q.quantity, r.delivered, r.credited)
                .unwrap_or_else(|| {
                    panic!(
                        "trading ratio {:?} ({}:{}) is invalid: the geography was not validated",
                        r.name, r.delivered, r.credited
                    )
                });
            assert!(
                r.credited > 0,
                "trading ratio {:?} credits 0: the geography was not validated",
                r.name
            );
            if credited == 0 {
                refuse(
                    &mut refusals,
                    TransferRule::RatioCreditsNothing,
                    format!(
                        "{} kg of {pollutant} from {areas} at the trading ratio {:?} ({} delivered : {} credited; {}) credits nothing",
                        q.quantity, r.name, r.delivered, r.credited, r.source
                    ),
                );
            }
            terms.credited = credited;
            terms.retired = retired;
            terms.ratio = Some((r.name.clone(), r.delivered, r.credited));
        }
        // 3d. Non-attainment.
        if geo.rules.non_attainment_no_increase
            && let Some(n) = geo.non_attainment_area(&to_area.code, pollutant)
            && !geo.is_within(&from_area.code, &n.code)
        {
            let after = q
                .to_area_net_inflow
                .saturating_add(i128::from(terms.credited));
            if after > 0 {
                refuse(
                    &mut refusals,
                    TransferRule::NonAttainmentIncrease,
                    format!(
                        "{} misses its environmental-quality target for {pollutant} and may not raise its total by transfers in: \
                         {areas} would credit {} kg, taking its net inflow from {} to {} kg (it may buy back only what it sold)",
                        label(n),
                        terms.credited,
                        q.to_area_net_inflow,
                        after
                    ),
                );
            }
        }
    }

    if refusals.is_empty() {
        debug_assert_eq!(terms.credited + terms.retired, q.quantity);
        Ok(terms)
    } else {
        Err(refusals)
    }
}

/// Records a refusal of `rule`, its message followed by the rule's source.
fn refuse(refusals: &mut Vec<TransferRefusal>, rule: TransferRule, message: String) {
    refusals.push(TransferRefusal {
        rule,
        message: format!("{message} ({})", rule.source()),
    });
}

/// `Qingpu (CN-SH-QP)`.
fn label(a: &Area) -> String {
    format!("{} ({})", a.name, a.code)
}
