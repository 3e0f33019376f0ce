//! The geography model as configured (TOML, `deny_unknown_fields`), and its lookups.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use yrd_types::{JurisdictionCode, UnitTypeCode};

/// The most areas a geography may list. Lookups scan the list, so the bound also bounds the cost
/// of judging one transfer (China has some 2,800 county-level divisions).
pub const MAX_AREAS: usize = 4_096;
/// The most river basins, and separately the most airsheds, a geography may list.
pub const MAX_REGIONS: usize = 256;
/// The most sectors a geography may list.
pub const MAX_SECTORS: usize = 256;
/// The most receptors (monitoring sections and stations) a geography may list.
pub const MAX_RECEPTORS: usize = 4_096;
/// The most trading ratios a geography may list.
pub const MAX_RATIOS: usize = 64;
/// The most entries of any list inside one area, receptor or rule (basins of an area, pollutants
/// of a ratio, ...). Coefficients of a receptor are bounded by [`MAX_AREAS`] instead.
pub const MAX_LIST: usize = 64;

/// The geography of a cross-regional market: where accounts are, which river basins and airsheds
/// connect the places, which sectors sources belong to, where ambient quality is monitored, and
/// the rules for moving pollutant discharge rights between places.
///
/// Deserialising checks only the format; [`Geography::validate`] checks the references and
/// numbers. Functions of this crate given a geography that fails validation do not loop forever
/// or overflow, but their answers are then meaningless.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Geography {
    /// River basins (流域). Water-pollutant rights trade only between areas sharing one when
    /// [`TransferRules::water_within_basin`] is set.
    #[serde(default)]
    pub basins: Vec<Region>,
    /// Airsheds (regions of shared air quality management). Air-pollutant rights trade between
    /// areas sharing none only with approval when [`TransferRules::air_within_airshed`] is set.
    #[serde(default)]
    pub airsheds: Vec<Region>,
    /// Sectors of discharging sources; an installation names one by code.
    #[serde(default)]
    pub sectors: Vec<Sector>,
    /// Administrative areas (province, prefecture, county, zone) accounts are located in.
    pub areas: Vec<Area>,
    /// Monitoring sections and stations: inputs of the receptor-constrained call market.
    #[serde(default)]
    pub receptors: Vec<Receptor>,
    /// The transfer rules and trading ratios.
    pub rules: TransferRules,
}

/// A river basin or an airshed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Code, e.g. `TAIHU`: 1-32 characters from letters, digits and `-_.`.
    pub code: String,
    /// English name.
    pub name: String,
    /// Name in the local language, e.g. 太湖流域.
    #[serde(default)]
    pub name_local: Option<String>,
}

/// What kind of source a sector is: the sector rules of the 2014 national guidance distinguish
/// power, industry and agriculture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectorClass {
    /// Power generation (thermal power, including captive power plants of other industries).
    Power,
    /// Industrial sources other than power.
    Industry,
    /// Agricultural sources (livestock and poultry farming, aquaculture).
    Agriculture,
    /// Anything else, e.g. municipal wastewater treatment.
    Other,
}

impl SectorClass {
    /// Lower-case name, as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            SectorClass::Power => "power",
            SectorClass::Industry => "industry",
            SectorClass::Agriculture => "agriculture",
            SectorClass::Other => "other",
        }
    }
}

/// A sector of discharging sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sector {
    /// Code, e.g. `chemicals`: 1-32 characters from letters, digits and `-_.`.
    pub code: String,
    /// English name.
    pub name: String,
    /// Power, industry, agriculture or other.
    pub class: SectorClass,
}

/// Administrative level of an area, highest first. A parent is always of a higher level than its
/// children, which bounds the depth of the hierarchy at four.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    /// Province or provincial-level municipality (省, 直辖市).
    Province,
    /// Prefecture-level city (地级市).
    Prefecture,
    /// County-level division: county, county-level city, urban district (县, 县级市, 区).
    County,
    /// A zone below a county or across part of one: an industrial park, a development zone.
    Zone,
}

impl AreaLevel {
    /// Lower-case name, as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::Province => "province",
            AreaLevel::Prefecture => "prefecture",
            AreaLevel::County => "county",
            AreaLevel::Zone => "zone",
        }
    }
}

/// An administrative area accounts can be located in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// Code, e.g. `CN-SH-QP` (Qingpu): 1-32 characters from letters, digits and `-_.`.
    pub code: String,
    /// English name.
    pub name: String,
    /// Name in the local language, e.g. 青浦区.
    #[serde(default)]
    pub name_local: Option<String>,
    /// The jurisdiction administering the area (and its accounts).
    pub jurisdiction: JurisdictionCode,
    /// Administrative level.
    pub level: AreaLevel,
    /// The area this one lies in, of a higher level and the same jurisdiction; none for a
    /// top-level area.
    #[serde(default)]
    pub parent: Option<String>,
    /// Codes of the river basins the area drains to. Not inherited: list them on every area.
    #[serde(default)]
    pub basins: Vec<String>,
    /// Codes of the airsheds the area lies in. Not inherited: list them on every area.
    #[serde(default)]
    pub airsheds: Vec<String>,
    /// Pollutants (pollutant-right unit types) whose environmental-quality target the area
    /// misses. Inherited: an area is non-attainment for a pollutant when it or any ancestor lists
    /// it.
    #[serde(default)]
    pub non_attainment: Vec<UnitTypeCode>,
    /// Whether the area belongs to the Yangtze River Delta Ecological Green Integrated
    /// Development Demonstration Zone (长三角生态绿色一体化发展示范区). Informational: no transfer
    /// rule reads it.
    #[serde(default)]
    pub demonstration_zone: bool,
}

/// What a receptor measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceptorKind {
    /// A monitoring section of a river or lake (断面): water pollutants.
    RiverSection,
    /// An ambient air quality monitoring station: air pollutants.
    AirStation,
}

impl ReceptorKind {
    /// Snake-case name, as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceptorKind::RiverSection => "river_section",
            ReceptorKind::AirStation => "air_station",
        }
    }
}

/// A monitoring section or station where an ambient standard must hold: an input of the
/// receptor-constrained call market (`spatial-market.md`). Floats are allowed here, and only
/// here, because receptors feed a linear program, not the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receptor {
    /// Code, e.g. `JISHUIGANG`: 1-32 characters from letters, digits and `-_.`.
    pub code: String,
    /// English name.
    pub name: String,
    /// Name in the local language, e.g. 急水港.
    #[serde(default)]
    pub name_local: Option<String>,
    /// River section or air station.
    pub kind: ReceptorKind,
    /// The pollutant (a pollutant-right unit type) the standard is for.
    pub pollutant: UnitTypeCode,
    /// The basin a river section lies in.
    #[serde(default)]
    pub basin: Option<String>,
    /// The airshed an air station lies in.
    #[serde(default)]
    pub airshed: Option<String>,
    /// Unit of `standard`, `background`, `current_load` and of the coefficients per tonne, e.g.
    /// `t/yr` for a load-based section or `ug/m3` for an air station.
    pub unit: String,
    /// The ambient standard or load limit at the receptor, in `unit`.
    pub standard: f64,
    /// The part of the level at the receptor that no area of the market controls (upstream
    /// inflow from outside, natural background), in `unit`.
    pub background: f64,
    /// The level the market's current discharges cause at the receptor, in `unit`.
    pub current_load: f64,
    /// Transfer coefficients: `unit` at the receptor per tonne per year discharged in the area,
    /// by area code. Areas not listed do not affect the receptor.
    pub coefficients: BTreeMap<String, f64>,
    /// Whether the numbers are illustrative (not from monitoring data and a calibrated model).
    pub illustrative: bool,
    /// Where the standard and numbers come from.
    pub source: String,
}

impl Receptor {
    /// Headroom at the receptor in its `unit`: `standard - background - current_load`. Zero
    /// means a pure reallocation market; negative, an existing violation.
    pub fn headroom(&self) -> f64 {
        self.standard - self.background - self.current_load
    }
}

/// The rules that govern transfers of pollutant discharge rights between areas. Each flag is one
/// named rule (see [`crate::TransferRule`] for its code and source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRules {
    /// Pollutant-right unit types governed as water pollutants (e.g. `COD`, `NH3-N`).
    pub water_pollutants: Vec<UnitTypeCode>,
    /// Pollutant-right unit types governed as air pollutants (e.g. `SO2`, `NOX`, `VOCS`).
    pub air_pollutants: Vec<UnitTypeCode>,
    /// Water-pollutant rights move only between areas sharing a river basin.
    pub water_within_basin: bool,
    /// Air-pollutant rights move between areas sharing no airshed only with the approval of both
    /// jurisdictions' administrators.
    pub air_within_airshed: bool,
    /// No transfers between industrial and agricultural sources.
    pub no_industry_agriculture: bool,
    /// Air-pollutant rights of power-sector sources move only between power-sector sources.
    pub power_air_ring_fenced: bool,
    /// An area that misses its environmental-quality target for a pollutant may not raise its
    /// total by transfers in: it may buy back only what it sold to other areas before.
    pub non_attainment_no_increase: bool,
    /// Every transfer between areas of different jurisdictions needs the approval of both
    /// jurisdictions' administrators (default false).
    #[serde(default)]
    pub cross_jurisdiction_needs_approval: bool,
    /// Trading ratios; when several apply to a transfer, the strictest is used.
    #[serde(default)]
    pub ratios: Vec<TradingRatio>,
}

/// Which transfers a trading ratio applies to. Every scope covers transfers between two
/// different areas only: within one area, no ratio applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case", deny_unknown_fields)]
pub enum RatioScope {
    /// Every transfer between two different areas.
    AnyCrossArea,
    /// Transfers into an area that is non-attainment for the pollutant (itself or through an
    /// ancestor).
    IntoNonAttainment,
    /// Transfers into this area or any area below it.
    IntoArea {
        /// Area code.
        area: String,
    },
}

/// A trading ratio: of every `delivered` units the seller gives up, only `credited` reach the
/// buyer; the rest is retired. Delivered 3, credited 2 is the 1.5:1 ratio of Jiaxing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradingRatio {
    /// Name, reported with every transfer it applies to, e.g. `jiaxing-1.5`.
    pub name: String,
    /// Which transfers it applies to, e.g. `{ scope = "any_cross_area" }`.
    pub applies: RatioScope,
    /// Pollutants it applies to; empty means every governed pollutant.
    #[serde(default)]
    pub pollutants: Vec<UnitTypeCode>,
    /// Units delivered by the seller per `credited` units received by the buyer.
    pub delivered: u32,
    /// Units credited to the buyer per `delivered` units.
    pub credited: u32,
    /// Where the ratio comes from.
    pub source: String,
}

/// The medium a governed pollutant is discharged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    /// A water pollutant: basin rules.
    Water,
    /// An air pollutant: airshed, power ring-fence rules.
    Air,
}

impl Medium {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Water => "water",
            Medium::Air => "air",
        }
    }
}

impl Geography {
    /// The area with this code.
    pub fn area(&self, code: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.code == code)
    }

    /// The receptor with this code.
    pub fn receptor(&self, code: &str) -> Option<&Receptor> {
        self.receptors.iter().find(|r| r.code == code)
    }

    /// The sector with this code.
    pub fn sector(&self, code: &str) -> Option<&Sector> {
        self.sectors.iter().find(|s| s.code == code)
    }

    /// The river basin with this code.
    pub fn basin(&self, code: &str) -> Option<&Region> {
        self.basins.iter().find(|b| b.code == code)
    }

    /// The airshed with this code.
    pub fn airshed(&self, code: &str) -> Option<&Region> {
        self.airsheds.iter().find(|a| a.code == code)
    }

    /// The area `code` followed by its ancestors, nearest first (`[Qingpu, Shanghai]`); empty
    /// when the area is unknown. Stops at an unknown parent and at a repeated area, so an
    /// unvalidated cycle cannot loop forever.
    pub fn area_of_ancestors(&self, code: &str) -> Vec<&Area> {
        let mut chain = Vec::new();
        let mut next = self.area(code);
        while let Some(area) = next {
            // A repeated area is a cycle of parents, which validation refuses.
            if chain.len() >= MAX_AREAS || chain.iter().any(|a: &&Area| a.code == area.code) {
                break;
            }
            chain.push(area);
            next = area.parent.as_deref().and_then(|p| self.area(p));
        }
        chain
    }

    /// Whether `area` is `ancestor` or lies below it.
    pub fn is_within(&self, area: &str, ancestor: &str) -> bool {
        self.area_of_ancestors(area)
            .iter()
            .any(|a| a.code == ancestor)
    }

    /// The nearest of `area` and its ancestors that lists `pollutant` as non-attainment: the
    /// area whose total the non-attainment rule protects.
    pub fn non_attainment_area(&self, area: &str, pollutant: &UnitTypeCode) -> Option<&Area> {
        self.area_of_ancestors(area)
            .into_iter()
            .find(|a| a.non_attainment.contains(pollutant))
    }

    /// Whether the rules govern `pollutant` as a water or an air pollutant; `None` when they do
    /// not govern it (a carbon allowance, an ungoverned pollutant).
    pub fn water_or_air(&self, pollutant: &UnitTypeCode) -> Option<Medium> {
        if self.rules.water_pollutants.contains(pollutant) {
            Some(Medium::Water)
        } else if self.rules.air_pollutants.contains(pollutant) {
            Some(Medium::Air)
        } else {
            None
        }
    }

    /// Same as [`Geography::water_or_air`].
    pub fn medium(&self, pollutant: &UnitTypeCode) -> Option<Medium> {
        self.water_or_air(pollutant)
    }

    /// Whether `area` misses its environmental-quality target for `pollutant`, itself or through
    /// an ancestor.
    pub fn is_non_attainment(&self, area: &str, pollutant: &UnitTypeCode) -> bool {
        self.non_attainment_area(area, pollutant).is_some()
    }

    /// Headroom at a receptor, in its unit: `standard - background - current_load`
    /// ([`Receptor::headroom`]).
    pub fn receptor_headroom(&self, receptor: &Receptor) -> f64 {
        receptor.headroom()
    }
}
