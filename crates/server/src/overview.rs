//! Aggregated public reads for the web interface (and any other client): the list of auctions
//! with their public results, an instrument's daily price history, the compliance summary by
//! jurisdiction and the public transparency report.
//!
//! Everything here is derived from the latest [`crate::Snapshot`] and is public information: no
//! account, bidder or counterparty is named. Amounts are integers (minor units, base units).
//!
//! **Price history.** The registry keeps no table of past closes: at each day roll it moves the
//! close into the next day's band centre and journals a `day_closed` effect, but the state keeps
//! only the current day's statistics and the last [`yrd_registry::exchange::RECENT_TRADES`] book
//! trades per instrument. `GET /v1/market/{class}/history` therefore derives the daily figures
//! from those retained trades with the registry's own rules (`yrd_market::DayStats`: the close is
//! the day's VWAP rounded half-up to the tick). When the buffer is full its oldest day may be cut
//! short, so that day is left out and `truncated` is true.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody, codes};
use crate::extract::{ApiPath, ApiQuery};
use crate::handlers::parse_class;
use crate::model::{PairBalance, SupplyRow, clamp_i64};
use axum::Json;
use axum::extract::State;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use yrd_auth::Action;
use yrd_market::DayStats;
use yrd_registry::exchange::RECENT_TRADES;
use yrd_registry::{RegistryState, reports};
use yrd_types::UnitClass;

/// One auction in the list: terms and, once cleared, the public result (no bidder identities).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuctionSummary {
    /// Reference.
    pub auction: String,
    /// `open` (bidding or awaiting clearing) or `cleared`.
    pub status: String,
    /// Allowances sold.
    pub class: String,
    /// Last day of the bidding window.
    pub closes: NaiveDate,
    /// Allowances offered before any containment reserve acts.
    pub supply: u64,
    /// Lot size.
    pub lot: u64,
    /// Reserve price, minor units per allowance.
    pub reserve_price_minor: i64,
    /// Qualified bidders.
    pub qualified_bidders: u64,
    /// Sealed bids (count only).
    pub sealed_bids: u64,
    /// Once cleared: what every winner pays per allowance (`null` if nothing sold).
    pub clearing_price_minor: Option<i64>,
    /// Once cleared: allowances offered after the containment reserves acted.
    pub quantity_offered: Option<u64>,
    /// Once cleared: allowances sold.
    pub sold: Option<u64>,
    /// Once cleared: allowances not sold.
    pub unsold: Option<u64>,
    /// Once cleared: bidders that bid.
    pub bidders: Option<u32>,
    /// Once cleared: bidders awarded something.
    pub winners: Option<u32>,
    /// Once cleared: units bid / units offered, two decimals (`-` when nothing was offered).
    pub bid_to_cover: Option<String>,
    /// Once cleared: the auction was cancelled (under-subscription rule).
    pub cancelled: Option<bool>,
}

/// `GET /v1/auctions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuctionList {
    /// Every auction the caller may see, by reference.
    pub auctions: Vec<AuctionSummary>,
}

/// The list of auctions with their public results, by reference.
#[utoipa::path(get, path = "/v1/auctions", tag = "auctions",
    responses((status = 200, body = AuctionList)))]
pub(crate) async fn auctions(
    State(app): State<AppState>,
    Authenticated(_caller): Authenticated,
) -> Result<Json<AuctionList>, ApiError> {
    let snapshot = app.snapshot();
    let auctions = snapshot
        .state
        .auctions()
        .iter()
        .map(|(reference, a)| {
            let (qualified, bids) = a.participation();
            let rules = a.rules();
            let r = a.result.as_ref();
            AuctionSummary {
                auction: reference.to_string(),
                status: if r.is_some() { "cleared" } else { "open" }.into(),
                class: a.class().to_string(),
                closes: a.closes(),
                supply: rules.supply,
                lot: rules.lot,
                reserve_price_minor: rules.reserve_price_minor,
                qualified_bidders: qualified as u64,
                sealed_bids: bids as u64,
                clearing_price_minor: r.and_then(|r| r.clearing_price_minor),
                quantity_offered: r.map(|r| r.quantity_offered),
                sold: r.map(|r| r.sold),
                unsold: r.map(|r| r.unsold),
                bidders: r.map(|r| r.bidders),
                winners: r.map(|r| r.winners),
                bid_to_cover: r.map(|r| r.bid_to_cover.to_string()),
                cancelled: r.map(|r| r.cancelled),
            }
        })
        .collect();
    Ok(Json(AuctionList { auctions }))
}

/// One trading day of an instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HistoryDay {
    /// Business date.
    pub date: NaiveDate,
    /// First trade price, minor units.
    pub open: i64,
    /// Highest trade price.
    pub high: i64,
    /// Lowest trade price.
    pub low: i64,
    /// Last trade price.
    pub last: i64,
    /// The closing price: the day's VWAP rounded half-up to the tick (the registry's rule). For
    /// the current trading day (`closed` false) it is provisional.
    pub close: i64,
    /// Volume-weighted average price, rounded half-up to the minor unit.
    pub vwap: i64,
    /// Units traded on the book.
    pub volume: u64,
    /// Value traded, minor units.
    pub turnover: i64,
    /// Book trades.
    pub trades: u64,
    /// False for the exchange's current trading day (it may still trade).
    pub closed: bool,
}

/// `GET /v1/market/{class}/history`: daily figures of the days with book trades, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct History {
    /// Instrument.
    pub class: String,
    /// Where the figures come from: `recent_trades` (the trades the exchange retains).
    pub source: String,
    /// True when older trades were dropped from the exchange's buffer: days before the first
    /// listed one are not available (the partial oldest day is left out).
    pub truncated: bool,
    /// Previous close of the current day (the centre of today's band), minor units.
    pub previous_close: i64,
    /// Days with book trades, oldest first.
    pub days: Vec<HistoryDay>,
}

/// Query of `GET /v1/market/{class}/history`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only days on or after this date.
    pub from: Option<NaiveDate>,
}

/// Daily open, high, low, close, VWAP and volume of an instrument, derived from the trades the
/// exchange retains (see the module docs).
#[utoipa::path(get, path = "/v1/market/{class}/history", tag = "market",
    params(("class" = String, Path, description = "Unit class, URL-encoded: CN-SH%2FCEA%2F2019"), HistoryQuery),
    responses((status = 200, body = History), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn history(
    State(app): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiPath(class): ApiPath<String>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<History>, ApiError> {
    let class = parse_class(&class, codes::INVALID_PATH, "class")?;
    app.authorize(&principal, &Action::ReadPublic)?;
    let snapshot = app.snapshot();
    let state = &snapshot.state;
    let Some((_, inst)) = state.exchange().instruments().find(|(c, _)| **c == class) else {
        if tradable(state, &class) {
            return Ok(Json(History {
                class: class.to_string(),
                source: "recent_trades".into(),
                truncated: false,
                previous_close: state
                    .config()
                    .exchange
                    .as_ref()
                    .map_or(0, |x| x.rules.initial_reference_price_minor),
                days: Vec::new(),
            }));
        }
        return Err(ApiError::not_found(
            &yrd_registry::RuleCode::UnknownInstrument.as_str(),
            format!(
                "no instrument {class}: the class was never issued or its unit type is not traded"
            ),
            "class",
        ));
    };
    let tick = tick_minor(state);
    let truncated = inst.trades.len() >= RECENT_TRADES;
    let mut by_day: BTreeMap<NaiveDate, DayStats> = BTreeMap::new();
    for t in &inst.trades {
        by_day
            .entry(t.date)
            .or_insert_with(|| DayStats::new(tick))
            .record_book_trade(t.price, t.quantity)
            .map_err(|e| ApiError::internal(format!("history of {class}: {e}")))?;
    }
    let first = by_day.keys().next().copied();
    let today = state.exchange().trading_date();
    let days = by_day
        .into_iter()
        .filter(|(d, _)| !(truncated && Some(*d) == first))
        .filter(|(d, _)| query.from.is_none_or(|from| *d >= from))
        .filter_map(|(date, s)| {
            Some(HistoryDay {
                date,
                open: s.open()?,
                high: s.high()?,
                low: s.low()?,
                last: s.last()?,
                close: s.close()?,
                vwap: s.vwap()?,
                volume: s.volume(),
                turnover: s.turnover().0,
                trades: s.trade_count(),
                closed: today != Some(date),
            })
        })
        .collect();
    Ok(Json(History {
        class: class.to_string(),
        source: "recent_trades".into(),
        truncated,
        previous_close: inst.previous_close,
        days,
    }))
}

fn tick_minor(state: &RegistryState) -> i64 {
    state
        .config()
        .exchange
        .as_ref()
        .map_or(1, |x| x.rules.tick_minor)
        .max(1)
}

fn tradable(state: &RegistryState, class: &UnitClass) -> bool {
    state.ledger().class_no(class).is_some()
        && state
            .config()
            .exchange
            .as_ref()
            .is_some_and(|x| x.unit_types.contains(&class.unit_type))
}

/// Compliance of one jurisdiction, obligation and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ComplianceSummaryRow {
    /// Jurisdiction.
    pub jurisdiction: String,
    /// Obligation code, e.g. `CO2E`.
    pub obligation: String,
    /// Compliance year.
    pub year: u16,
    /// Installations with a record for the year.
    pub installations: u64,
    /// Status `A` or `E`.
    pub compliant: u64,
    /// Status `B`, `C` or `D`.
    pub not_compliant: u64,
    /// No status yet (the deadline has not been processed).
    pub pending: u64,
    /// Status `X` (suspended) or `-` (no obligation).
    pub other: u64,
    /// Count per status code (`none`: not yet judged).
    pub by_status: BTreeMap<String, u64>,
    /// Units allocated free.
    pub allocated: u64,
    /// Verified emissions entered.
    pub verified: u64,
    /// Units surrendered.
    pub surrendered: u64,
    /// Shortfall judged.
    pub shortfall: u64,
    /// Penalties, minor units.
    pub penalties: i64,
}

impl From<reports::JurisdictionSummary> for ComplianceSummaryRow {
    fn from(s: reports::JurisdictionSummary) -> Self {
        let count = |codes: &[&str]| -> u64 {
            codes
                .iter()
                .map(|c| s.by_status.get(*c).copied().unwrap_or(0))
                .sum()
        };
        Self {
            compliant: count(&["A", "E"]),
            not_compliant: count(&["B", "C", "D"]),
            pending: count(&["none"]),
            other: count(&["X", "-"]),
            jurisdiction: s.jurisdiction,
            obligation: s.obligation,
            year: s.year,
            installations: s.installations,
            allocated: s.allocated,
            verified: s.verified,
            surrendered: s.surrendered,
            shortfall: s.shortfall,
            penalties: s.penalties.0,
            by_status: s.by_status,
        }
    }
}

/// `GET /v1/compliance/summary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ComplianceSummary {
    /// The compliance years with records, ascending (for a year picker).
    pub years: Vec<u16>,
    /// By jurisdiction, obligation and year.
    pub items: Vec<ComplianceSummaryRow>,
}

/// Query of `GET /v1/compliance/summary`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ComplianceSummaryQuery {
    /// Only this compliance year.
    pub year: Option<u16>,
}

/// Compliance by jurisdiction: installations and counts by status, verified emissions,
/// surrendered units.
#[utoipa::path(get, path = "/v1/compliance/summary", tag = "registry",
    params(ComplianceSummaryQuery),
    responses((status = 200, body = ComplianceSummary), (status = 400, body = ErrorBody)))]
pub(crate) async fn compliance_summary(
    State(app): State<AppState>,
    Authenticated(principal): Authenticated,
    ApiQuery(query): ApiQuery<ComplianceSummaryQuery>,
) -> Result<Json<ComplianceSummary>, ApiError> {
    app.authorize(&principal, &Action::ReadPublic)?;
    let snapshot = app.snapshot();
    Ok(Json(summary_of(&snapshot.state, query.year)))
}

fn summary_of(state: &RegistryState, year: Option<u16>) -> ComplianceSummary {
    let rows = reports::compliance_table(state, None, None);
    let mut years: Vec<u16> = rows.iter().map(|r| r.year).collect();
    years.sort_unstable();
    years.dedup();
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| year.is_none_or(|y| r.year == y))
        .collect();
    ComplianceSummary {
        years,
        items: reports::jurisdiction_summaries(&rows)
            .into_iter()
            .map(ComplianceSummaryRow::from)
            .collect(),
    }
}

/// A jurisdiction of the market.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct JurisdictionInfo {
    /// Code, e.g. `CN-SH`.
    pub code: String,
    /// English name.
    pub name: String,
    /// Name in the local language, e.g. 上海.
    pub name_local: Option<String>,
}

/// Trading of one instrument over the days the exchange retains trades for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MarketStatistics {
    /// Instrument.
    pub class: String,
    /// First business date covered (`null`: no trades retained).
    pub from: Option<NaiveDate>,
    /// Last business date covered.
    pub to: Option<NaiveDate>,
    /// Trading days with book trades.
    pub days: u64,
    /// Book trades.
    pub trades: u64,
    /// Units traded on the book.
    pub volume: u64,
    /// Value traded, minor units.
    pub turnover: i64,
    /// Volume-weighted average price over the period, rounded half-up to the minor unit.
    pub vwap: Option<i64>,
    /// Latest trade price.
    pub last: Option<i64>,
    /// True when older trades fell out of the exchange's buffer (the period starts later).
    pub truncated: bool,
}

/// `GET /v1/transparency`: the public transparency report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Transparency {
    /// Market configuration name.
    pub market: String,
    /// ISO 4217 currency of the amounts (minor units of it).
    pub currency: String,
    /// Minor units per major unit (100 for CNY).
    pub currency_minor_per_major: u32,
    /// Business date of the last transaction.
    pub as_of: Option<NaiveDate>,
    /// Journal sequence number the report includes.
    pub last_seq: u64,
    /// The market's jurisdictions, in configuration order.
    pub jurisdictions: Vec<JurisdictionInfo>,
    /// Supply by jurisdiction, unit type and vintage.
    pub supply: Vec<SupplyRow>,
    /// Compliance by jurisdiction, obligation and year.
    pub compliance: Vec<ComplianceSummaryRow>,
    /// Net balances between jurisdictions, per unit type.
    pub net_flows: Vec<PairBalance>,
    /// Market statistics per instrument (from the trades the exchange retains).
    pub market_statistics: Vec<MarketStatistics>,
    /// Number of auctions (their public results: `GET /v1/auctions`).
    pub auctions: u64,
}

/// The public transparency report: supply, compliance by jurisdiction, net flows between
/// jurisdictions, market statistics. Nothing in it names an account.
#[utoipa::path(get, path = "/v1/transparency", tag = "registry",
    responses((status = 200, body = Transparency)))]
pub(crate) async fn transparency(
    State(app): State<AppState>,
    Authenticated(principal): Authenticated,
) -> Result<Json<Transparency>, ApiError> {
    app.authorize(&principal, &Action::ReadPublic)?;
    let snapshot = app.snapshot();
    let state = &snapshot.state;
    let config = state.config();
    let tick = tick_minor(state);
    let market_statistics = state
        .exchange()
        .instruments()
        .map(|(class, inst)| {
            let mut all = DayStats::new(tick);
            let mut days: Vec<NaiveDate> = inst.trades.iter().map(|t| t.date).collect();
            days.dedup();
            for t in &inst.trades {
                // Within Quantity::MAX and i64 prices the sums fit; an overflow would leave
                // the figures as they were rather than wrap.
                let _ = all.record_book_trade(t.price, t.quantity);
            }
            MarketStatistics {
                class: class.to_string(),
                from: inst.trades.front().map(|t| t.date),
                to: inst.trades.back().map(|t| t.date),
                days: days.len() as u64,
                trades: all.trade_count(),
                volume: all.volume(),
                turnover: all.turnover().0,
                vwap: all.vwap(),
                last: all.last(),
                truncated: inst.trades.len() >= RECENT_TRADES,
            }
        })
        .collect();
    let pairs = reports::pair_balances(&reports::net_flows(state));
    Ok(Json(Transparency {
        market: config.market.name.clone(),
        currency: config.market.currency.clone(),
        currency_minor_per_major: config.market.currency_minor_per_major,
        as_of: state.last_date(),
        last_seq: state.last_seq(),
        jurisdictions: config
            .jurisdictions
            .iter()
            .map(|j| JurisdictionInfo {
                code: j.code.to_string(),
                name: j.name.clone(),
                name_local: j.name_local.clone(),
            })
            .collect(),
        supply: reports::supply(state)
            .into_iter()
            .map(SupplyRow::from)
            .collect(),
        compliance: summary_of(state, None).items,
        net_flows: pairs
            .into_iter()
            .map(|p| PairBalance {
                first: p.first,
                second: p.second,
                unit_type: p.unit_type,
                first_to_second: p.first_to_second,
                second_to_first: p.second_to_first,
                net: clamp_i64(p.net),
            })
            .collect(),
        market_statistics,
        auctions: state.auctions().iter().count() as u64,
    }))
}
