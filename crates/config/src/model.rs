use serde::{Deserialize, Serialize};
use yrd_types::{AccountKind, JurisdictionCode, UnitTypeCode, Vintage};

/// A whole market: what it trades, who administers it and the compliance rules it enforces.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    /// Name, currency.
    pub market: MarketInfo,
    /// Jurisdictions that issue units and administer installations.
    pub jurisdictions: Vec<Jurisdiction>,
    /// Tradable unit types.
    pub unit_types: Vec<UnitType>,
    /// Compliance calendar and rules.
    pub compliance: Compliance,
    /// The exchange (secondary market), if the market runs one.
    #[serde(default)]
    pub exchange: Option<ExchangeConfig>,
    /// Areas, river basins, airsheds, sectors, monitoring receptors and the cross-regional
    /// transfer rules for pollutant rights, if the market is cross-regional (`yrd-geography`).
    #[serde(default)]
    pub geography: Option<yrd_geography::Geography>,
    /// The registry's security timetable and limits (`[security]`): working-day calendar,
    /// delayed execution of transfers, trusted-list activation, per-transfer limit to untrusted
    /// accounts (EU Reg. 2019/1122 Art. 23, 35; `yrd-security`). Absent: the EU values.
    #[serde(default)]
    pub security: Option<yrd_security::SecurityConfig>,
}

impl MarketConfig {
    /// The security configuration in force: the `[security]` section, or the EU defaults
    /// ([`yrd_security::SecurityConfig::default`]) when it is absent.
    pub fn security_or_default(&self) -> yrd_security::SecurityConfig {
        self.security.clone().unwrap_or_default()
    }
}

/// The exchange: which unit types trade on it and under which rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeConfig {
    /// Unit types listed; each issued class (jurisdiction x unit type x vintage) of them is an
    /// instrument.
    pub unit_types: Vec<UnitTypeCode>,
    /// Trading rules: tick, lot, price band, block threshold, sessions, fees, calendar.
    pub rules: yrd_market::TradingRules,
    /// What happens when an order would trade with its own account's resting order.
    #[serde(default)]
    pub self_trade_prevention: SelfTradePrevention,
}

/// Self-trade prevention: an account never trades with itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfTradePrevention {
    /// The incoming order's remainder is cancelled (the default).
    #[default]
    CancelNewest,
    /// The resting orders of the same account are cancelled as they are reached.
    CancelOldest,
}

/// Identification and currency of the market.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketInfo {
    /// Short name, e.g. `yrd`.
    pub name: String,
    /// Human title.
    pub title: String,
    /// ISO 4217 currency code of settlement and penalties, e.g. `CNY`.
    pub currency: String,
    /// Minor units per major unit: 100 for CNY (fen) and EUR (cent).
    pub currency_minor_per_major: u32,
}

/// A jurisdiction: a province, municipality or national registry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jurisdiction {
    /// Code, e.g. `CN-SH`.
    pub code: JurisdictionCode,
    /// English name.
    pub name: String,
    /// Name in the local language, e.g. 上海.
    #[serde(default)]
    pub name_local: Option<String>,
}

/// What a unit type stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// An allowance to emit one tonne CO2e.
    CarbonAllowance,
    /// A pollutant discharge right (排污权), counted in kg.
    PollutantRight,
    /// An offset credit (e.g. CCER), usable for part of an obligation.
    Offset,
}

/// The base unit quantities of a unit type are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BaseUnit {
    /// Tonnes of CO2 equivalent.
    #[serde(rename = "t_co2e")]
    TonneCo2e,
    /// Kilograms of the pollutant.
    #[serde(rename = "kg")]
    Kilogram,
}

impl BaseUnit {
    /// Symbol used in reports.
    pub fn symbol(self) -> &'static str {
        match self {
            BaseUnit::TonneCo2e => "t CO2e",
            BaseUnit::Kilogram => "kg",
        }
    }
}

/// A tradable unit type.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitType {
    /// Code, e.g. `CEA`.
    pub code: UnitTypeCode,
    /// Human name.
    pub name: String,
    /// Allowance, pollutant right or offset.
    pub kind: UnitKind,
    /// What one unit is.
    pub base_unit: BaseUnit,
    /// Account kinds that may hold this unit type (EU Reg. 389/2013: each account type may hold
    /// only some unit types). Terminal kinds (surrender, cancellation, deletion) are always allowed.
    pub holders: Vec<AccountKind>,
}

/// How compliance status is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusRule {
    /// Each year on its own: surrendered for the year (plus any carried shortfall) vs verified.
    Annual,
    /// Cumulative over the trading period: all surrendered for the period so far vs all verified
    /// emissions of the period so far (EU Transaction Log practice).
    CumulativePeriod,
}

/// One compliance obligation: what is measured and which units discharge it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Obligation {
    /// Code, e.g. `CO2E`, `COD`.
    pub code: UnitTypeCode,
    /// Unit emissions are measured in; must equal the base unit of the surrender unit types.
    pub base_unit: BaseUnit,
    /// Unit types accepted for surrender against this obligation.
    pub surrender_unit_types: Vec<UnitTypeCode>,
    /// Whether units issued by another jurisdiction of the market may be surrendered (a linked or
    /// cross-regional market) or only the installation's own jurisdiction's units.
    pub cross_jurisdiction: bool,
}

/// A month and day, written `MM-DD`, of the year after the compliance year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MonthDay {
    /// 1-12.
    pub month: u8,
    /// 1-31, valid for the month (29 February refused: deadlines must exist every year).
    pub day: u8,
}

impl TryFrom<String> for MonthDay {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a month-day of the form MM-DD");
        let (m, d) = s.split_once('-').ok_or_else(bad)?;
        if m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let month: u8 = m.parse().map_err(|_| bad())?;
        let day: u8 = d.parse().map_err(|_| bad())?;
        const DAYS: [u8; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        if !(1..=12).contains(&month) || day == 0 || day > DAYS[usize::from(month - 1)] {
            return Err(format!("{s:?} is not a date that exists every year"));
        }
        Ok(MonthDay { month, day })
    }
}

impl From<MonthDay> for String {
    fn from(md: MonthDay) -> String {
        format!("{:02}-{:02}", md.month, md.day)
    }
}

/// A surrender deadline that applies from a compliance year on (the EU moved it from 30 April to
/// 30 September for 2023 emissions: Directive 2003/87/EC Art. 12(3) as amended by 2023/959).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurrenderDeadline {
    /// First compliance year this deadline applies to.
    pub from_year: u16,
    /// Day of the following year by which units must be surrendered.
    pub month_day: MonthDay,
}

/// A trading period (EU phase; China compliance period).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradingPeriod {
    /// Name, e.g. `2013-2020`.
    pub name: String,
    /// First compliance year.
    pub first_year: u16,
    /// Last compliance year (inclusive).
    pub last_year: u16,
    /// Whether units of the previous period's vintages may be used in this one (banking; EU phase
    /// 1 to 2: no; later: yes).
    pub bank_from_previous: bool,
}

/// How a shortfall is penalised.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Penalty {
    /// A fixed amount per unit of shortfall (EU: EUR 100 per tonne, Directive 2003/87/EC Art. 16(3)).
    FixedPerUnit {
        /// Amount per unit, in the currency's minor unit.
        amount_minor_per_unit: i64,
    },
    /// A multiple of a reference price per unit (China, 2024 Interim Regulations on the
    /// Administration of Carbon Emission Trading Art. 24: 5-10 x the previous month's average
    /// price).
    MultipleOfReferencePrice {
        /// The multiple applied.
        multiple: u32,
        /// Reference price per unit in minor units, used until the exchange publishes one.
        reference_price_minor: i64,
    },
}

/// What happens to a shortfall after the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarryOver {
    /// The obligation remains and is added to the next year's (EU Art. 16(3)).
    ObligationRemains,
    /// The shortfall, times `deduct_multiple`, is deducted from the next year's free allocation
    /// (China 2024 regulations; RGGI deducts 3 x excess).
    DeductFromNextAllocation,
    /// Nothing carries over.
    None,
}

/// Shortfall handling.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shortfall {
    /// What carries over.
    pub carry_over: CarryOver,
    /// Multiple of the shortfall deducted (1 = the shortfall itself).
    #[serde(default = "one")]
    pub deduct_multiple: u32,
}

fn one() -> u32 {
    1
}

/// The compliance calendar and rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compliance {
    /// What installations must cover.
    pub obligations: Vec<Obligation>,
    /// Annual or cumulative over the trading period.
    pub status_rule: StatusRule,
    /// Day of the following year by which verified emissions must be entered (EU: 31 March).
    pub reporting_deadline: MonthDay,
    /// Surrender deadlines by compliance year, in increasing `from_year`.
    pub surrender_deadlines: Vec<SurrenderDeadline>,
    /// Trading periods, contiguous and in order.
    pub trading_periods: Vec<TradingPeriod>,
    /// Whether units of a later vintage may be surrendered for an earlier year (none of the
    /// reference markets allow it).
    #[serde(default)]
    pub borrowing: bool,
    /// Penalty for a shortfall.
    pub penalty: Penalty,
    /// What happens to a shortfall.
    pub shortfall: Shortfall,
}

impl MarketConfig {
    /// The jurisdiction with this code.
    pub fn jurisdiction(&self, code: &JurisdictionCode) -> Option<&Jurisdiction> {
        self.jurisdictions.iter().find(|j| &j.code == code)
    }

    /// The unit type with this code.
    pub fn unit_type(&self, code: &UnitTypeCode) -> Option<&UnitType> {
        self.unit_types.iter().find(|u| &u.code == code)
    }

    /// The obligation with this code.
    pub fn obligation(&self, code: &UnitTypeCode) -> Option<&Obligation> {
        self.compliance.obligations.iter().find(|o| &o.code == code)
    }
}

impl Compliance {
    /// The trading period containing `year`.
    pub fn period_of(&self, year: u16) -> Option<&TradingPeriod> {
        self.trading_periods
            .iter()
            .find(|p| (p.first_year..=p.last_year).contains(&year))
    }

    /// The surrender deadline applying to compliance `year`.
    pub fn surrender_deadline(&self, year: u16) -> Option<MonthDay> {
        self.surrender_deadlines
            .iter()
            .rev()
            .find(|d| d.from_year <= year)
            .map(|d| d.month_day)
    }

    /// Whether units of `vintage` may be surrendered for compliance `year`: not from a later year
    /// unless borrowing is allowed, and not across a period boundary that forbids banking.
    pub fn vintage_eligible(&self, vintage: Vintage, year: u16) -> bool {
        let v = vintage.year();
        if v > year && !self.borrowing {
            return false;
        }
        let (Some(vp), Some(yp)) = (self.period_index(v), self.period_index(year)) else {
            return false;
        };
        if vp > yp {
            return false;
        }
        // Every period after the vintage's, up to the year's, must accept banked units.
        self.trading_periods[vp + 1..=yp]
            .iter()
            .all(|p| p.bank_from_previous)
    }

    fn period_index(&self, year: u16) -> Option<usize> {
        self.trading_periods
            .iter()
            .position(|p| (p.first_year..=p.last_year).contains(&year))
    }
}
