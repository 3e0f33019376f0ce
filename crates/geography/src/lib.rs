//! The geography of a cross-regional yrd-ets market, and the rules for moving pollutant
//! discharge rights (排污权) between its places.
//!
//! A [`Geography`] lists administrative [`Area`]s (province, prefecture, county, zone) in a
//! hierarchy, the river basins and airsheds that connect them ([`Region`]), the [`Sector`]s of
//! discharging sources, the monitoring [`Receptor`]s the receptor-constrained call market clears
//! against, and the [`TransferRules`]. The configuration crate embeds it as the optional
//! `[geography]` section of a market configuration and calls [`Geography::validate`].
//!
//! [`judge_transfer`] is a pure function of the geography and one proposed transfer
//! ([`TransferQuery`]): the registry calls it on every transfer and trade of pollutant rights and
//! applies the [`TransferTerms`] it returns, or refuses with the [`TransferRule`]'s stable code.
//! It keeps no state: the registry supplies the receiving area's cumulative net inflow and
//! whether both administrators approved.
//!
//! # Rules and sources
//! From the State Council General Office's 2014 guidance on paid use and trading of emission
//! rights (国办发〔2014〕38号), as summarised in the brief `ets-rules.md`, "Pollutant discharge
//! rights":
//! - `CROSS_BASIN_WATER_TRANSFER`: water-pollutant rights only between areas sharing a basin;
//! - `CROSS_AIRSHED_NEEDS_APPROVAL`: air-pollutant rights between areas sharing no airshed only
//!   with both jurisdictions' approval (the guidance: within one prefecture unless the province
//!   approves; a market draws its airsheds where it wants the rule to bite);
//! - `INDUSTRY_AGRICULTURE_TRANSFER`: none between industrial and agricultural sources;
//! - `POWER_SECTOR_RING_FENCE`: power-sector air-pollutant rights only among power-sector sources;
//! - `NON_ATTAINMENT_INCREASE`: an area missing its environmental-quality target for a pollutant
//!   may not raise its total by transfers in;
//! - `CROSS_JURISDICTION_NEEDS_APPROVAL` (optional): every cross-jurisdiction transfer needs both
//!   administrators' approval (the guidance confines trading to one pilot province in principle).
//!
//! # Trading ratios, in integers
//! A ratio `delivered : credited` (Jiaxing's 1.5:1 is 3:2) turns a delivered quantity `q` (kg)
//! into `credited = floor(q x credited / delivered)` (exact, `u128` intermediate) and
//! `retired = q - credited`: 1,000 kg at 3:2 credits 666 kg and retires 334 kg. Rounding is always
//! down, in favour of the environment. When several ratios apply, the strictest (largest
//! `delivered / credited`, compared exactly by cross-multiplication) is used, the first listed of
//! equally strict ones; ratios never compound. A transfer the ratio would credit 0 for (1 kg at
//! 2:1) is refused as `RATIO_CREDITS_NOTHING`. See [`ratio_split`].
//!
//! Integer only, except the receptor figures ([`Receptor::standard`] and the coefficients), which
//! are `f64` inputs of a linear program and never reach the ledger.

#![warn(missing_docs)]

mod model;
mod rules;
mod validate;

pub use model::*;
pub use rules::{
    Party, TransferQuery, TransferRefusal, TransferRule, TransferTerms, judge_transfer,
    judge_transfer_all, needs_approval, ratio_split,
};
pub use validate::{KnownUnitType, check_code};

#[cfg(test)]
mod tests;
