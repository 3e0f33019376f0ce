//! The API's JSON types. They mirror the registry's read models (`yrd_registry::reports`) field by
//! field but are the API's own, so that the published contract (and the OpenAPI document derived
//! from these types) changes only when the API does.
//!
//! Units: quantities are integers in the unit type's base unit (t CO2e for carbon, kg for
//! pollutants); prices and money are integers in the currency's minor unit (fen), prices per base
//! unit unless stated otherwise.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use yrd_registry::reports;
use yrd_registry::{Command, Effect, OrderSide};

/// `GET /v1/health`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the process serves requests.
    #[schema(example = "ok")]
    pub status: String,
}

/// `GET /v1/ready`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ready {
    /// The store is open and the writer takes transactions.
    pub ready: bool,
    /// Sequence number of the last journaled transaction the reads include.
    pub last_seq: u64,
    /// Market configuration name, e.g. `yrd`.
    pub market: String,
    /// Business date of the last transaction.
    pub business_date: Option<NaiveDate>,
    /// `running`, or `stopped` (shutting down or after a storage failure).
    pub writer: String,
    /// Why the writer stopped, if it failed.
    pub reason: Option<String>,
}

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Buy (bid).
    Buy,
    /// Sell (ask).
    Sell,
}

impl From<OrderSide> for Side {
    fn from(side: OrderSide) -> Self {
        match side {
            OrderSide::Buy => Side::Buy,
            OrderSide::Sell => Side::Sell,
        }
    }
}

/// A block of serial numbers, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct SerialBlock {
    /// First serial.
    pub first: u64,
    /// Last serial.
    pub last: u64,
}

/// One unit class an account holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Holding {
    /// Unit class, e.g. `CN-SH/CEA/2019`.
    #[schema(example = "CN-SH/CEA/2019")]
    pub class: String,
    /// Units held.
    pub quantity: u64,
    /// Serial blocks, ascending.
    pub blocks: Vec<SerialBlock>,
}

/// `GET /v1/accounts/{id}/holdings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Holdings {
    /// Account.
    pub account: String,
    /// Holdings by class, in class order.
    pub holdings: Vec<Holding>,
}

impl Holdings {
    /// From the registry's report.
    pub fn new(account: &str, rows: Vec<reports::HoldingRow>) -> Self {
        Self {
            account: account.to_string(),
            holdings: rows
                .into_iter()
                .map(|r| Holding {
                    class: r.class.to_string(),
                    quantity: r.quantity,
                    blocks: r
                        .blocks
                        .iter()
                        .map(|b| SerialBlock {
                            first: b.first,
                            last: b.last,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Sale proceeds that become available on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct PendingCash {
    /// Date they become available.
    pub date: NaiveDate,
    /// Amount, minor units.
    pub amount: i64,
}

/// `GET /v1/accounts/{id}/cash`: a participant's cash, minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Cash {
    /// Account.
    pub account: String,
    /// ISO 4217 currency of the amounts (minor units of it).
    #[schema(example = "CNY")]
    pub currency: String,
    /// Free to reserve or withdraw now (not counting proceeds that have become due).
    pub available: i64,
    /// Reserved for open buy orders, block proposals and bid guarantees.
    pub reserved: i64,
    /// Sale proceeds not yet available, by date.
    pub pending: Vec<PendingCash>,
    /// The date `available_on` refers to.
    pub date: NaiveDate,
    /// What can be reserved or withdrawn on `date`: available plus proceeds due by then.
    pub available_on: i64,
    /// available + reserved + pending.
    pub total: i64,
}

impl Cash {
    /// From the registry's report.
    pub fn new(row: reports::CashRow, currency: &str) -> Self {
        Self {
            account: row.account.to_string(),
            currency: currency.to_string(),
            available: row.available,
            reserved: row.reserved,
            pending: row
                .pending
                .iter()
                .map(|(date, amount)| PendingCash {
                    date: *date,
                    amount: *amount,
                })
                .collect(),
            date: row.date,
            available_on: row.available_on,
            total: row.total,
        }
    }
}

/// Query of `GET /v1/accounts/{id}/cash`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CashQuery {
    /// Date for `available_on` (default: the registry's current business date).
    pub date: Option<NaiveDate>,
}

/// An open order as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OpenOrder {
    /// The participant's order reference.
    pub order: String,
    /// Instrument.
    pub class: String,
    /// Buy or sell.
    pub side: Side,
    /// Limit price (for a market order, the band bound its reservation used), minor units.
    pub price: i64,
    /// Units not yet traded or cancelled.
    pub remaining: u64,
}

/// `GET /v1/accounts/{id}/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Orders {
    /// Account.
    pub account: String,
    /// Open orders by reference.
    pub orders: Vec<OpenOrder>,
}

impl Orders {
    /// From the registry's report.
    pub fn new(account: &str, rows: Vec<reports::OpenOrderRow>) -> Self {
        Self {
            account: account.to_string(),
            orders: rows
                .into_iter()
                .map(|r| OpenOrder {
                    order: r.order.to_string(),
                    class: r.class.to_string(),
                    side: r.side.into(),
                    price: r.price,
                    remaining: r.remaining,
                })
                .collect(),
        }
    }
}

/// One row of the public compliance table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ComplianceRow {
    /// Installation id.
    pub installation: String,
    /// Installation name.
    pub name: String,
    /// Competent jurisdiction.
    pub jurisdiction: String,
    /// Sector.
    pub sector: String,
    /// Obligation code, e.g. `CO2E`.
    pub obligation: String,
    /// Compliance year.
    pub year: u16,
    /// Units allocated free for the year (net of any deduction).
    pub allocated: u64,
    /// Units withheld from the year's allocation for an earlier shortfall.
    pub deducted: u64,
    /// Verified emissions (`null`: not entered).
    pub verified: Option<u64>,
    /// Net units surrendered for the year.
    pub surrendered: u64,
    /// Status code `A`-`E`, `X` or `-` (`null` before the deadline is processed).
    pub status: Option<String>,
    /// Changed after the deadline (the EUTL's `*`).
    pub changed_after_deadline: bool,
    /// Shortfall judged.
    pub shortfall: u64,
    /// Penalty, minor units.
    pub penalty: i64,
}

impl From<reports::ComplianceRow> for ComplianceRow {
    fn from(r: reports::ComplianceRow) -> Self {
        Self {
            installation: r.installation,
            name: r.name,
            jurisdiction: r.jurisdiction,
            sector: r.sector,
            obligation: r.obligation,
            year: r.year,
            allocated: r.allocated,
            deducted: r.deducted,
            verified: r.verified,
            surrendered: r.surrendered,
            status: r.status.map(|s| s.as_str().to_string()),
            changed_after_deadline: r.changed_after_deadline,
            shortfall: r.shortfall,
            penalty: r.penalty.0,
        }
    }
}

/// Query of `GET /v1/compliance`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    /// Only this compliance year.
    pub year: Option<u16>,
    /// Only this jurisdiction, e.g. `CN-SH`.
    pub jurisdiction: Option<String>,
    /// Only this status: `A`-`E`, `X`, `-`, or `none` (not yet judged).
    pub status: Option<String>,
    /// Page, from 1 (default 1).
    pub page: Option<u32>,
    /// Rows per page, 1-1000 (default 100).
    pub per_page: Option<u32>,
}

/// `GET /v1/compliance`: one page of the compliance table, ordered by jurisdiction, installation,
/// year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CompliancePage {
    /// The rows of this page.
    pub items: Vec<ComplianceRow>,
    /// This page, from 1.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
    /// Rows matching the filters, on all pages.
    pub total: u64,
    /// Pages: ceil(total / per_page), 0 when nothing matches.
    pub total_pages: u64,
    /// The next page, if there is one.
    pub next_page: Option<u32>,
}

/// Supply of one unit class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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

impl From<reports::SupplyRow> for SupplyRow {
    fn from(r: reports::SupplyRow) -> Self {
        Self {
            jurisdiction: r.jurisdiction,
            unit_type: r.unit_type,
            vintage: r.vintage,
            issued: r.issued,
            held: r.held,
            surrendered: r.surrendered,
            cancelled: r.cancelled,
            deleted: r.deleted,
        }
    }
}

/// `GET /v1/supply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Supply {
    /// By jurisdiction, unit type and vintage.
    pub classes: Vec<SupplyRow>,
}

/// The best price on one side of a book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Quote {
    /// Price, minor units per base unit.
    pub price: i64,
    /// Units resting at that price.
    pub volume: u64,
    /// Orders resting at that price.
    pub orders: u32,
}

impl From<reports::Quote> for Quote {
    fn from(q: reports::Quote) -> Self {
        Self {
            price: q.price,
            volume: q.volume,
            orders: q.orders,
        }
    }
}

/// One instrument's market today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Instrument {
    /// Instrument (unit class).
    pub class: String,
    /// Previous close: the centre of today's price band.
    pub previous_close: i64,
    /// Trading halted by the operator.
    pub halted: bool,
    /// Best bid.
    pub best_bid: Option<Quote>,
    /// Best ask.
    pub best_ask: Option<Quote>,
    /// Today's first trade price.
    pub open: Option<i64>,
    /// Today's highest trade price.
    pub high: Option<i64>,
    /// Today's lowest trade price.
    pub low: Option<i64>,
    /// Today's latest trade price.
    pub last: Option<i64>,
    /// Units traded today.
    pub volume: u64,
    /// Value traded today, minor units.
    pub turnover: i64,
    /// Volume-weighted average price today.
    pub vwap: Option<i64>,
    /// Trades today.
    pub trades: u64,
}

impl From<reports::InstrumentSummary> for Instrument {
    fn from(s: reports::InstrumentSummary) -> Self {
        Self {
            class: s.class.to_string(),
            previous_close: s.previous_close,
            halted: s.halted,
            best_bid: s.best_bid.map(Quote::from),
            best_ask: s.best_ask.map(Quote::from),
            open: s.open,
            high: s.high,
            low: s.low,
            last: s.last,
            volume: s.volume,
            turnover: s.turnover.0,
            vwap: s.vwap,
            trades: s.trades,
        }
    }
}

/// `GET /v1/market/summary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MarketSummary {
    /// Business date of the exchange's current trading day, if trading began.
    pub trading_date: Option<NaiveDate>,
    /// One row per instrument with a market, in class order.
    pub instruments: Vec<Instrument>,
}

/// One aggregated price level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Level {
    /// Price, minor units per base unit.
    pub price: i64,
    /// Units resting at the price.
    pub volume: u64,
    /// Orders resting at the price.
    pub orders: u32,
}

/// `GET /v1/market/{class}/book`: the book by price level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Book {
    /// Instrument.
    pub class: String,
    /// Bids, best (highest) first.
    pub bids: Vec<Level>,
    /// Asks, best (lowest) first.
    pub asks: Vec<Level>,
}

/// Query of `GET /v1/market/{class}/book`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BookQuery {
    /// Price levels per side, 1-100 (default 10).
    pub depth: Option<u32>,
}

/// A trade as published (no parties).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Trade {
    /// Business date.
    pub date: NaiveDate,
    /// Time of the order that matched.
    pub time: NaiveTime,
    /// Price, minor units per base unit.
    pub price: i64,
    /// Units.
    pub quantity: u64,
    /// Side of the order that took liquidity.
    pub aggressor: Side,
}

/// `GET /v1/market/{class}/trades`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Trades {
    /// Instrument.
    pub class: String,
    /// Most recent first.
    pub trades: Vec<Trade>,
}

/// Query of `GET /v1/market/{class}/trades`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TradesQuery {
    /// Trades, 1-1000 (default 50); the exchange keeps the last 1,000 per instrument.
    pub limit: Option<u32>,
}

/// Query of `GET /v1/market/stream`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Only events of this instrument, e.g. `CN-SH/CEA/2019`.
    pub class: Option<String>,
}

/// `GET /v1/auctions/{ref}`: an auction's public view (bids stay sealed; no bidder is named).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Auction {
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
    /// Purchase limit per bidder group, percent of supply.
    pub purchase_limit_pct: Option<u32>,
    /// Qualified bidders.
    pub qualified_bidders: u64,
    /// Sealed bids (count only).
    pub sealed_bids: u64,
    /// Once cleared: the public report (clearing price, sold, unsold, bidders, winners,
    /// bid-to-cover, tie rule, seed ...; see `yrd_auction::PublicReport`).
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

/// The public outcome of a cleared call market.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CallResult {
    /// Lots filled per step reference.
    pub fills: BTreeMap<String, u64>,
    /// Settlement price per area, minor units per lot.
    pub settlement_prices: BTreeMap<String, i64>,
    /// Receptor shadow prices, minor units per receptor unit.
    pub receptor_prices: BTreeMap<String, f64>,
    /// Net change per area, lots.
    pub net_change: BTreeMap<String, i64>,
    /// Headroom each receptor had (receptor units).
    pub headroom: BTreeMap<String, f64>,
    /// Load change the settled fills cause at each receptor (receptor units).
    pub receptor_load_change: BTreeMap<String, f64>,
    /// Buy fills x price minus sell fills x price at the steps' limits, minor units.
    pub total_surplus_minor: i64,
    /// What buyers paid minus what sellers received, minor units.
    pub operator_revenue_minor: i64,
}

/// `GET /v1/call-markets/{ref}`: a receptor-constrained call market (steps stay sealed).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CallMarket {
    /// Reference.
    pub market: String,
    /// `open`, `cleared` or `cancelled`.
    pub status: String,
    /// Operating jurisdiction.
    pub operator: String,
    /// Pollutant.
    pub pollutant: String,
    /// Vintage of the rights.
    pub vintage: u16,
    /// Areas taking part.
    pub areas: Vec<String>,
    /// Receptors constraining the clearing.
    pub receptors: Vec<String>,
    /// Base units per lot.
    pub lot: u64,
    /// Last day steps are accepted.
    pub closes: NaiveDate,
    /// Sealed steps (count only).
    pub steps: u64,
    /// The outcome, once cleared.
    pub result: Option<CallResult>,
}

/// Units issued by one jurisdiction held, surrendered or cancelled in another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NetFlow {
    /// Issuing jurisdiction.
    pub issuer: String,
    /// Jurisdiction whose accounts hold, surrendered or cancelled them.
    pub user: String,
    /// Unit type.
    pub unit_type: String,
    /// Held in the user's accounts.
    pub held: u64,
    /// Surrendered by the user's installations.
    pub surrendered: u64,
    /// Cancelled by the user's account holders.
    pub cancelled: u64,
}

/// Net position of a pair of jurisdictions in one unit type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PairBalance {
    /// First jurisdiction (the smaller code).
    pub first: String,
    /// Second jurisdiction.
    pub second: String,
    /// Unit type.
    pub unit_type: String,
    /// Units of `first` in `second`.
    pub first_to_second: u64,
    /// Units of `second` in `first`.
    pub second_to_first: u64,
    /// first_to_second - second_to_first (positive: `first` is a net exporter).
    pub net: i64,
}

/// An area's cumulative net inflow of a pollutant (transfers after ratios, call-market fills).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AreaInflow {
    /// Area code.
    pub area: String,
    /// Pollutant.
    pub pollutant: String,
    /// Base units (kg); negative: a net outflow.
    pub net_inflow: i64,
}

/// `GET /v1/net-flows`: the net-flow ledger between jurisdictions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NetFlows {
    /// Per issuer, user and unit type.
    pub flows: Vec<NetFlow>,
    /// Pairwise balances.
    pub pairs: Vec<PairBalance>,
    /// Areas' net inflows.
    pub areas: Vec<AreaInflow>,
}

/// Clamps an `i128` report figure into JSON's safe integer world.
pub fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// `POST /v1/transactions` body. The transaction id is the `Idempotency-Key` header.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"date": "2024-03-04", "command": {"type": "transfer", "from": "OHA-SH-001", "to": "TR-SH-001", "class": "CN-SH/CEA/2019", "quantity": 500}}))]
pub struct TransactionRequest {
    /// Business date the transaction takes effect (never before the last one recorded); left
    /// out, the registry's date today. Set by the server for the security commands.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// The registry command: `{"type": "<command type>", ...fields}` (see
    /// `yrd_registry::Command`).
    #[schema(value_type = crate::openapi::CommandDoc)]
    pub command: Command,
}

/// A receipt: the transaction is durably journaled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Receipt {
    /// Transaction id (the idempotency key).
    pub tx_id: String,
    /// Journal sequence number.
    pub seq: u64,
    /// True when this answers a retry: the transaction was journaled before, nothing new
    /// happened, `seq` and `effects` are the original ones.
    pub duplicate: bool,
    /// What it did: `{"effect": "<effect type>", ...}` (see `yrd_registry::Effect`).
    #[schema(value_type = Vec<crate::openapi::EffectDoc>)]
    pub effects: Vec<Effect>,
}
