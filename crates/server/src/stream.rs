//! Live market data: `GET /v1/market/stream`, server-sent events.
//!
//! The writer derives the events from each durable batch - one `trade` per `Effect::Traded`, one
//! `block_trade` per `Effect::BlockTraded`, and a `quote` (best bid and offer, last price, day
//! volume) for every instrument whose top of book changed - and broadcasts them after publishing
//! the batch's snapshot, so a client that reacts to an event by reading the book sees at least
//! that state. Each event's `id` is the journal sequence number it derives from.
//!
//! A new subscriber first gets a `quote` for every instrument (the current top of book), then the
//! live events. A subscriber too slow to keep up gets a `lagged` event saying how many it missed
//! (it should re-read the summary), then the stream goes on. Streams end when the service shuts
//! down.

use crate::AppState;
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::model::{Quote, Side, StreamQuery};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{NaiveDate, NaiveTime};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Serialize;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::broadcast::error::RecvError;
use utoipa::ToSchema;
use yrd_auth::Action;
use yrd_registry::{Command, Effect, OrderSide, RegistryState, Submission, SubmitResult, reports};
use yrd_types::UnitClass;

/// An event ready to send: its SSE name, instrument, sequence number and JSON data.
#[derive(Debug, Clone)]
pub struct MarketEvent {
    /// `trade`, `block_trade` or `quote`.
    pub kind: &'static str,
    /// Instrument.
    pub class: UnitClass,
    /// Journal sequence number the event derives from.
    pub seq: u64,
    /// The JSON payload.
    pub data: Arc<str>,
}

/// SSE `trade`: one trade on the book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TradeEvent {
    /// Journal sequence number of the transaction that traded.
    pub seq: u64,
    /// Instrument.
    pub class: String,
    /// Business date.
    pub date: NaiveDate,
    /// Time of the order that matched.
    pub time: Option<NaiveTime>,
    /// Price, minor units per base unit.
    pub price: i64,
    /// Units.
    pub quantity: u64,
    /// Side of the order that took liquidity.
    pub aggressor: Option<Side>,
}

/// SSE `block_trade`: a negotiated block trade, settled off the book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BlockTradeEvent {
    /// Journal sequence number.
    pub seq: u64,
    /// Instrument.
    pub class: String,
    /// Business date.
    pub date: NaiveDate,
    /// Price, minor units per base unit.
    pub price: i64,
    /// Units.
    pub quantity: u64,
}

/// SSE `quote`: an instrument's top of book after a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QuoteEvent {
    /// Journal sequence number of the state it shows.
    pub seq: u64,
    /// Instrument.
    pub class: String,
    /// Best bid.
    pub best_bid: Option<Quote>,
    /// Best ask (offer).
    pub best_ask: Option<Quote>,
    /// Last trade price today.
    pub last: Option<i64>,
    /// Units traded today.
    pub volume: u64,
    /// Trading halted.
    pub halted: bool,
}

type Top = (Option<Quote>, Option<Quote>, Option<i64>, u64, bool);

/// The top of book last published per instrument, to publish only changes.
#[derive(Debug, Default)]
pub struct QuoteTracker {
    last: HashMap<UnitClass, Top>,
}

impl QuoteTracker {
    /// Starts from `state`'s books.
    pub fn new(state: &RegistryState) -> Self {
        let mut tracker = Self::default();
        let _ = tracker.changes(state);
        tracker
    }

    /// Quote events for every instrument whose top of book differs from the last published.
    pub fn changes(&mut self, state: &RegistryState) -> Vec<QuoteEvent> {
        let mut out = Vec::new();
        for summary in reports::market_summary(state) {
            let top: Top = (
                summary.best_bid.map(Quote::from),
                summary.best_ask.map(Quote::from),
                summary.last,
                summary.volume,
                summary.halted,
            );
            if self.last.get(&summary.class) != Some(&top) {
                out.push(quote_event(state.last_seq(), &summary.class, &top));
                self.last.insert(summary.class, top);
            }
        }
        out
    }
}

fn quote_event(seq: u64, class: &UnitClass, top: &Top) -> QuoteEvent {
    QuoteEvent {
        seq,
        class: class.to_string(),
        best_bid: top.0,
        best_ask: top.1,
        last: top.2,
        volume: top.3,
        halted: top.4,
    }
}

/// The current top of book of every instrument, as quote events.
pub fn current_quotes(state: &RegistryState) -> Vec<QuoteEvent> {
    let mut tracker = QuoteTracker::default();
    tracker.changes(state)
}

fn event<T: Serialize>(
    kind: &'static str,
    class: &UnitClass,
    seq: u64,
    payload: &T,
) -> MarketEvent {
    MarketEvent {
        kind,
        class: class.clone(),
        seq,
        data: serde_json::to_string(payload)
            .unwrap_or_else(|_| "{}".into())
            .into(),
    }
}

fn quote_market_event(q: &QuoteEvent) -> Option<MarketEvent> {
    let class: UnitClass = q.class.parse().ok()?;
    Some(event("quote", &class, q.seq, q))
}

fn touches_exchange(effect: &Effect) -> bool {
    matches!(
        effect,
        Effect::OrderAccepted { .. }
            | Effect::Traded { .. }
            | Effect::OrderCancelled { .. }
            | Effect::OrderReduced { .. }
            | Effect::OrderAmended { .. }
            | Effect::DayClosed { .. }
            | Effect::BlockTraded { .. }
            | Effect::TradingHalted { .. }
    )
}

/// The market events of one durable batch: its trades in journal order, then the changed quotes
/// (against `state`, the state after the batch).
pub(crate) fn batch_events(
    submissions: &[Submission],
    results: &[SubmitResult],
    state: &RegistryState,
    quotes: &mut QuoteTracker,
) -> Vec<MarketEvent> {
    let mut events = Vec::new();
    let mut exchange = false;
    for (submission, result) in submissions.iter().zip(results) {
        let Ok(receipt) = result else { continue };
        if receipt.duplicate {
            continue;
        }
        let (time, own_order, own_side) = match &submission.command {
            Command::PlaceOrder {
                time, order, side, ..
            } => (Some(*time), Some(order), Some(*side)),
            Command::AmendOrder { time, order, .. } => (Some(*time), Some(order), None),
            _ => (None, None, None),
        };
        for effect in &receipt.effects {
            exchange |= touches_exchange(effect);
            match effect {
                Effect::Traded {
                    class,
                    price_minor,
                    quantity,
                    buy_order,
                    sell_order,
                    ..
                } => {
                    let aggressor = own_side.or_else(|| match own_order {
                        Some(o) if o == buy_order => Some(OrderSide::Buy),
                        Some(o) if o == sell_order => Some(OrderSide::Sell),
                        _ => None,
                    });
                    let payload = TradeEvent {
                        seq: receipt.seq,
                        class: class.to_string(),
                        date: submission.date,
                        time,
                        price: *price_minor,
                        quantity: *quantity,
                        aggressor: aggressor.map(Side::from),
                    };
                    events.push(event("trade", class, receipt.seq, &payload));
                }
                Effect::BlockTraded {
                    class,
                    price_minor,
                    quantity,
                    ..
                } => {
                    let payload = BlockTradeEvent {
                        seq: receipt.seq,
                        class: class.to_string(),
                        date: submission.date,
                        price: *price_minor,
                        quantity: *quantity,
                    };
                    events.push(event("block_trade", class, receipt.seq, &payload));
                }
                _ => {}
            }
        }
    }
    if exchange {
        events.extend(quotes.changes(state).iter().filter_map(quote_market_event));
    }
    events
}

fn sse(event: &MarketEvent) -> Event {
    Event::default()
        .event(event.kind)
        .id(event.seq.to_string())
        .data(&*event.data)
}

/// One live stream: counted against the server's limit while it lasts (and in the subscriber
/// gauge).
struct SubscriberGuard(Arc<AtomicUsize>);

impl SubscriberGuard {
    /// A place among at most `max` live streams, if one is free.
    fn acquire(live: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        if live.fetch_add(1, Ordering::AcqRel) >= max {
            live.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        metrics::gauge!("yrd_sse_subscribers").increment(1.0);
        Some(SubscriberGuard(live.clone()))
    }
}

impl Drop for SubscriberGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
        metrics::gauge!("yrd_sse_subscribers").decrement(1.0);
    }
}

/// Live market data as server-sent events.
#[utoipa::path(
    get,
    path = "/v1/market/stream",
    tag = "market",
    params(StreamQuery),
    responses(
        (status = 200, content_type = "text/event-stream",
         description = "Events `quote` (QuoteEvent), `trade` (TradeEvent), `block_trade` \
            (BlockTradeEvent) and `lagged` ({\"missed\": n}); `id` is the journal sequence number. \
            Starts with a quote per instrument.",
         body = String),
        (status = 400, description = "Invalid class", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn market_stream(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(query): ApiQuery<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    app.authorize(&caller, &Action::ReadPublic)?;
    let filter = query
        .class
        .as_deref()
        .map(|c| crate::handlers::parse_class(c, crate::error::codes::INVALID_QUERY, "class"))
        .transpose()?;
    if *app.shutdown.borrow() {
        return Err(ApiError::unavailable("the service is shutting down"));
    }
    // Each stream holds a connection open: their number is bounded (`max_streams`).
    let guard = SubscriberGuard::acquire(&app.streams, app.max_streams).ok_or_else(|| {
        ApiError::unavailable(format!(
            "{} live market streams are open, the most this server serves; retry later",
            app.max_streams
        ))
    })?;
    // Subscribe before reading the snapshot: nothing published in between is missed.
    let receiver = app.events.subscribe();
    let snapshot = app.snapshot();
    let keep =
        |filter: &Option<UnitClass>, class: &UnitClass| filter.as_ref().is_none_or(|f| f == class);
    let initial: Vec<Result<Event, Infallible>> = current_quotes(&snapshot.state)
        .iter()
        .filter_map(quote_market_event)
        .filter(|e| keep(&filter, &e.class))
        .map(|e| Ok(sse(&e)))
        .collect();
    let live = stream::unfold(
        (receiver, app.shutdown.clone(), filter, guard),
        move |(mut receiver, mut shutdown, filter, guard)| async move {
            loop {
                let received = tokio::select! {
                    biased;
                    _ = shutdown.wait_for(|stopping| *stopping) => return None,
                    received = receiver.recv() => received,
                };
                let event = match received {
                    Ok(e) if keep(&filter, &e.class) => sse(&e),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => Event::default()
                        .event("lagged")
                        .data(format!("{{\"missed\":{missed}}}")),
                    Err(RecvError::Closed) => return None,
                };
                return Some((Ok(event), (receiver, shutdown, filter, guard)));
            }
        },
    );
    Ok(Sse::new(stream::iter(initial).chain(live)).keep_alive(KeepAlive::default()))
}
