//! The handlers. Reads take the latest [`crate::Snapshot`] (an `Arc`, never a lock held across
//! an await or an fsync) and answer from the registry's read models; the one write,
//! `POST /v1/transactions`, goes through the writer and answers only once the transaction is
//! durable or refused.

use crate::AppState;
use crate::auth::{Authenticated, Caller, SignedIn};
use crate::authz;
use crate::clock;
use crate::error::{ApiError, ErrorBody, codes};
use crate::extract::{ApiPath, ApiQuery, IdempotencyKey, JsonBody};
use crate::model::*;
use crate::writer::WriteOutcome;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use yrd_auth::{Action, Denied};
use yrd_registry::{RegistryState, RuleCode, Submission, reports};
use yrd_types::{AccountId, JurisdictionCode, OrderRef, TransactionId, UnitClass};

/// Default and largest page of the compliance table.
const PER_PAGE_DEFAULT: u32 = 100;
const PER_PAGE_MAX: u32 = 1_000;
const DEPTH_DEFAULT: u32 = 10;
const DEPTH_MAX: u32 = 100;
const TRADES_DEFAULT: u32 = 50;
const TRADES_MAX: u32 = yrd_registry::exchange::RECENT_TRADES as u32;

pub(crate) fn parse_account(id: &str) -> Result<AccountId, ApiError> {
    AccountId::new(id)
        .map_err(|e| ApiError::bad_request(codes::INVALID_PATH, e.to_string(), Some("id")))
}

/// Parses a unit class (`CN-SH/CEA/2019`), answering 400 with `code` about `field`.
pub(crate) fn parse_class(text: &str, code: &str, field: &str) -> Result<UnitClass, ApiError> {
    text.parse().map_err(|e: yrd_types::InvalidValue| {
        ApiError::bad_request(code, e.to_string(), Some(field))
    })
}

fn parse_ref(text: &str) -> Result<OrderRef, ApiError> {
    OrderRef::new(text)
        .map_err(|e| ApiError::bad_request(codes::INVALID_PATH, e.to_string(), Some("ref")))
}

pub(crate) fn unknown_account(account: &AccountId) -> ApiError {
    ApiError::not_found(
        &RuleCode::UnknownAccount.as_str(),
        format!("no account {account}"),
        "id",
    )
}

/// Checks that `caller` may read `account`: 401 for anonymous callers; for a signed-in caller
/// an unknown account and an account the caller may not read give the same 404
/// `UNKNOWN_ACCOUNT`, so that nobody learns which accounts exist beyond their own.
pub(crate) fn read_account(
    caller: &Caller,
    state: &RegistryState,
    account: &AccountId,
) -> Result<(), ApiError> {
    if caller.is_anonymous() {
        return Err(crate::auth::unauthenticated(
            "sign in to read an account (POST /v1/session)",
        ));
    }
    let Some(reference) = authz::account_ref(state, account) else {
        return Err(unknown_account(account));
    };
    match yrd_auth::authorize(&caller.principal, &Action::ReadAccount(reference)) {
        Ok(()) => Ok(()),
        Err(Denied::NotPermitted(_)) => Err(unknown_account(account)),
        Err(d) => Err(crate::auth::denied(&d)),
    }
}

fn in_range(value: Option<u32>, default: u32, max: u32, field: &str) -> Result<u32, ApiError> {
    let v = value.unwrap_or(default);
    if (1..=max).contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::bad_request(
            codes::INVALID_QUERY,
            format!("query parameter `{field}` must be 1-{max}, not {v}"),
            Some(field),
        ))
    }
}

/// An instrument without a market yet (no order was ever placed) but tradable: its class was
/// issued and its unit type is listed on the exchange. Its book and trades are empty, not 404.
fn tradable(state: &RegistryState, class: &UnitClass) -> bool {
    state.ledger().class_no(class).is_some()
        && state
            .config()
            .exchange
            .as_ref()
            .is_some_and(|x| x.unit_types.contains(&class.unit_type))
}

fn unknown_instrument(class: &UnitClass) -> ApiError {
    ApiError::not_found(
        &RuleCode::UnknownInstrument.as_str(),
        format!("no instrument {class}: the class was never issued or its unit type is not traded"),
        "class",
    )
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/v1/health", tag = "service",
    responses((status = 200, body = Health)))]
pub(crate) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the store is open and the writer takes transactions; the last journaled sequence
/// number the reads include.
#[utoipa::path(get, path = "/v1/ready", tag = "service",
    responses((status = 200, body = Ready), (status = 503, body = ErrorBody)))]
pub(crate) async fn ready(State(app): State<AppState>) -> Result<Json<Ready>, ApiError> {
    let snapshot = app.snapshot();
    if app.writer.is_stopped() || *app.shutdown.borrow() {
        let reason = app
            .writer
            .failure()
            .unwrap_or("the service is shutting down")
            .to_string();
        return Err(ApiError::unavailable(format!(
            "not ready (last journaled seq {}): {reason}",
            snapshot.last_seq()
        )));
    }
    Ok(Json(Ready {
        ready: true,
        last_seq: snapshot.last_seq(),
        market: snapshot.state.config().market.name.clone(),
        business_date: snapshot.state.last_date(),
        writer: "running".into(),
        reason: None,
    }))
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "service",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub(crate) async fn openapi_json(State(app): State<AppState>) -> Response {
    let text = app.openapi.get().cloned().unwrap_or_default();
    (
        [(header::CONTENT_TYPE, "application/json")],
        text.to_string(),
    )
        .into_response()
}

/// Metrics in the Prometheus text format: HTTP requests by route and status with latencies,
/// writer batches (size, commit time, snapshot time), transactions by outcome, the journal's
/// last sequence number, stream subscribers.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain", body = String)))]
pub(crate) async fn metrics_text(State(app): State<AppState>) -> Response {
    let text = app.metrics.as_ref().map_or_else(String::new, |h| {
        h.run_upkeep();
        h.render()
    });
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// What an account holds, by class, with serial blocks.
#[utoipa::path(get, path = "/v1/accounts/{id}/holdings", tag = "accounts",
    params(("id" = String, Path, description = "Account id, e.g. OHA-SH-001")),
    responses((status = 200, body = Holdings), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn holdings(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Holdings>, ApiError> {
    let account = parse_account(&id)?;
    let snapshot = app.snapshot();
    read_account(&caller, &snapshot.state, &account)?;
    let rows =
        reports::holdings(&snapshot.state, &account).ok_or_else(|| unknown_account(&account))?;
    Ok(Json(Holdings::new(account.as_str(), rows)))
}

/// An exchange participant's cash: available, reserved, pending proceeds.
#[utoipa::path(get, path = "/v1/accounts/{id}/cash", tag = "accounts",
    params(("id" = String, Path, description = "Account id"), CashQuery),
    responses((status = 200, body = Cash), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn cash(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<CashQuery>,
) -> Result<Json<Cash>, ApiError> {
    let account = parse_account(&id)?;
    let snapshot = app.snapshot();
    read_account(&caller, &snapshot.state, &account)?;
    let state = &snapshot.state;
    let date = query
        .date
        .or(state.last_date())
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let row =
        reports::cash_balance(state, &account, date).ok_or_else(|| unknown_account(&account))?;
    Ok(Json(Cash::new(row, &state.config().market.currency)))
}

/// An account's open orders.
#[utoipa::path(get, path = "/v1/accounts/{id}/orders", tag = "accounts",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, body = Orders), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn orders(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Orders>, ApiError> {
    let account = parse_account(&id)?;
    let snapshot = app.snapshot();
    read_account(&caller, &snapshot.state, &account)?;
    let rows =
        reports::open_orders(&snapshot.state, &account).ok_or_else(|| unknown_account(&account))?;
    Ok(Json(Orders::new(account.as_str(), rows)))
}

/// The public compliance table, filtered and paginated.
#[utoipa::path(get, path = "/v1/compliance", tag = "registry",
    params(ComplianceQuery),
    responses((status = 200, body = CompliancePage), (status = 400, body = ErrorBody)))]
pub(crate) async fn compliance(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiQuery(query): ApiQuery<ComplianceQuery>,
) -> Result<Json<CompliancePage>, ApiError> {
    app.authorize(&caller, &Action::ReadPublic)?;
    let per_page = in_range(query.per_page, PER_PAGE_DEFAULT, PER_PAGE_MAX, "per_page")?;
    let page = in_range(query.page, 1, u32::MAX, "page")?;
    let snapshot = app.snapshot();
    let state = &snapshot.state;
    let jurisdiction = match query.jurisdiction.as_deref() {
        None => None,
        Some(text) => {
            let code = JurisdictionCode::new(text).map_err(|e| {
                ApiError::bad_request(codes::INVALID_QUERY, e.to_string(), Some("jurisdiction"))
            })?;
            if !state.config().jurisdictions.iter().any(|j| j.code == code) {
                return Err(ApiError::bad_request(
                    &RuleCode::UnknownJurisdiction.as_str(),
                    format!("the market has no jurisdiction {code}"),
                    Some("jurisdiction"),
                ));
            }
            Some(code)
        }
    };
    let status = match query.status.as_deref() {
        None => None,
        Some(s @ ("A" | "B" | "C" | "D" | "E" | "X" | "-" | "none")) => Some(s),
        Some(other) => {
            return Err(ApiError::bad_request(
                codes::INVALID_QUERY,
                format!("query parameter `status` must be A-E, X, - or none, not {other:?}"),
                Some("status"),
            ));
        }
    };
    let mut rows = reports::compliance_table(state, query.year, jurisdiction.as_ref());
    if let Some(wanted) = status {
        rows.retain(|r| r.status.map_or("none", |s| s.as_str()) == wanted);
    }
    let total = rows.len() as u64;
    let total_pages = total.div_ceil(u64::from(per_page));
    let start = (u64::from(page) - 1).saturating_mul(u64::from(per_page));
    let items: Vec<ComplianceRow> = rows
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(per_page as usize)
        .map(ComplianceRow::from)
        .collect();
    Ok(Json(CompliancePage {
        items,
        page,
        per_page,
        total,
        total_pages,
        next_page: (u64::from(page) < total_pages).then(|| page + 1),
    }))
}

/// Supply by jurisdiction, unit type and vintage: issued, held, surrendered, cancelled, deleted.
#[utoipa::path(get, path = "/v1/supply", tag = "registry",
    responses((status = 200, body = Supply)))]
pub(crate) async fn supply(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Supply>, ApiError> {
    app.authorize(&caller, &Action::ReadPublic)?;
    let snapshot = app.snapshot();
    Ok(Json(Supply {
        classes: reports::supply(&snapshot.state)
            .into_iter()
            .map(SupplyRow::from)
            .collect(),
    }))
}

/// Today's market: per instrument the top of book and the day's statistics.
#[utoipa::path(get, path = "/v1/market/summary", tag = "market",
    responses((status = 200, body = MarketSummary)))]
pub(crate) async fn market_summary(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<MarketSummary>, ApiError> {
    app.authorize(&caller, &Action::ReadPublic)?;
    let snapshot = app.snapshot();
    Ok(Json(MarketSummary {
        trading_date: snapshot.state.exchange().trading_date(),
        instruments: reports::market_summary(&snapshot.state)
            .into_iter()
            .map(Instrument::from)
            .collect(),
    }))
}

/// An instrument's book by price level.
#[utoipa::path(get, path = "/v1/market/{class}/book", tag = "market",
    params(("class" = String, Path, description = "Unit class, URL-encoded: CN-SH%2FCEA%2F2019"), BookQuery),
    responses((status = 200, body = Book), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn book(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiPath(class): ApiPath<String>,
    ApiQuery(query): ApiQuery<BookQuery>,
) -> Result<Json<Book>, ApiError> {
    let class = parse_class(&class, codes::INVALID_PATH, "class")?;
    app.authorize(&caller, &Action::ReadPublic)?;
    let depth = in_range(query.depth, DEPTH_DEFAULT, DEPTH_MAX, "depth")?;
    let snapshot = app.snapshot();
    let state = &snapshot.state;
    let levels = match reports::depth(state, &class, depth as usize) {
        Some(levels) => levels,
        None if tradable(state, &class) => Vec::new(),
        None => return Err(unknown_instrument(&class)),
    };
    let (mut bids, mut asks) = (Vec::new(), Vec::new());
    for l in levels {
        let level = Level {
            price: l.price,
            volume: l.volume,
            orders: l.orders,
        };
        match l.side {
            yrd_registry::OrderSide::Buy => bids.push(level),
            yrd_registry::OrderSide::Sell => asks.push(level),
        }
    }
    Ok(Json(Book {
        class: class.to_string(),
        bids,
        asks,
    }))
}

/// An instrument's recent trades, most recent first.
#[utoipa::path(get, path = "/v1/market/{class}/trades", tag = "market",
    params(("class" = String, Path, description = "Unit class, URL-encoded: CN-SH%2FCEA%2F2019"), TradesQuery),
    responses((status = 200, body = Trades), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn trades(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiPath(class): ApiPath<String>,
    ApiQuery(query): ApiQuery<TradesQuery>,
) -> Result<Json<Trades>, ApiError> {
    let class = parse_class(&class, codes::INVALID_PATH, "class")?;
    app.authorize(&caller, &Action::ReadPublic)?;
    let limit = in_range(query.limit, TRADES_DEFAULT, TRADES_MAX, "limit")?;
    let snapshot = app.snapshot();
    let state = &snapshot.state;
    let trades = match reports::recent_trades(state, &class, limit as usize) {
        Some(trades) => trades,
        None if tradable(state, &class) => Vec::new(),
        None => return Err(unknown_instrument(&class)),
    };
    Ok(Json(Trades {
        class: class.to_string(),
        trades: trades
            .into_iter()
            .map(|t| Trade {
                date: t.date,
                time: t.time,
                price: t.price,
                quantity: t.quantity,
                aggressor: t.aggressor.into(),
            })
            .collect(),
    }))
}

/// An auction's public view: terms, participation counts, and the public result once cleared.
#[utoipa::path(get, path = "/v1/auctions/{ref}", tag = "auctions",
    params(("ref" = String, Path, description = "Auction reference (URL-encode `/`)")),
    responses((status = 200, body = Auction), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn auction(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiPath(reference): ApiPath<String>,
) -> Result<Json<Auction>, ApiError> {
    let reference = parse_ref(&reference)?;
    app.authorize(&caller, &Action::ReadPublic)?;
    let snapshot = app.snapshot();
    let a = snapshot.state.auctions().get(&reference).ok_or_else(|| {
        ApiError::not_found(
            codes::UNKNOWN_AUCTION,
            format!("no auction {reference}"),
            "ref",
        )
    })?;
    let (qualified, bids) = a.participation();
    let rules = a.rules();
    Ok(Json(Auction {
        auction: reference.to_string(),
        status: if a.result.is_some() {
            "cleared"
        } else {
            "open"
        }
        .into(),
        class: a.class().to_string(),
        closes: a.closes(),
        supply: rules.supply,
        lot: rules.lot,
        reserve_price_minor: rules.reserve_price_minor,
        purchase_limit_pct: rules.purchase_limit_pct,
        qualified_bidders: qualified as u64,
        sealed_bids: bids as u64,
        result: a.result.as_ref().and_then(|r| serde_json::to_value(r).ok()),
    }))
}

/// A call market's public view: terms, step count, and the outcome once cleared.
#[utoipa::path(get, path = "/v1/call-markets/{ref}", tag = "auctions",
    params(("ref" = String, Path, description = "Call market reference (URL-encode `/`)")),
    responses((status = 200, body = CallMarket), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn call_market(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiPath(reference): ApiPath<String>,
) -> Result<Json<CallMarket>, ApiError> {
    let reference = parse_ref(&reference)?;
    app.authorize(&caller, &Action::ReadPublic)?;
    let snapshot = app.snapshot();
    let m = snapshot
        .state
        .regional()
        .call_market(&reference)
        .ok_or_else(|| {
            ApiError::not_found(
                codes::UNKNOWN_CALL_MARKET,
                format!("no call market {reference}"),
                "ref",
            )
        })?;
    let status = if m.cancelled {
        "cancelled"
    } else if m.result.is_some() {
        "cleared"
    } else {
        "open"
    };
    Ok(Json(CallMarket {
        market: reference.to_string(),
        status: status.into(),
        operator: m.operator.to_string(),
        pollutant: m.pollutant.to_string(),
        vintage: m.vintage.year(),
        areas: m.areas.clone(),
        receptors: m.receptors.clone(),
        lot: m.lot,
        closes: m.closes,
        steps: m.steps.len() as u64,
        result: m.result.as_ref().map(|r| CallResult {
            fills: r.fills.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            settlement_prices: r.settlement_prices.clone(),
            receptor_prices: r.receptor_prices.clone(),
            net_change: r.net_change.clone(),
            headroom: r.headroom.clone(),
            receptor_load_change: r.receptor_load_change.clone(),
            total_surplus_minor: clamp_i64(r.total_surplus_minor),
            operator_revenue_minor: clamp_i64(r.operator_revenue_minor),
        }),
    }))
}

/// The net-flow ledger between jurisdictions, pairwise balances and areas' net inflows.
#[utoipa::path(get, path = "/v1/net-flows", tag = "registry",
    responses((status = 200, body = NetFlows)))]
pub(crate) async fn net_flows(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<NetFlows>, ApiError> {
    app.authorize(&caller, &Action::ReadPublic)?;
    let snapshot = app.snapshot();
    let state = &snapshot.state;
    let rows = reports::net_flows(state);
    let pairs = reports::pair_balances(&rows);
    Ok(Json(NetFlows {
        pairs: pairs
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
        flows: rows
            .into_iter()
            .map(|r| NetFlow {
                issuer: r.issuer,
                user: r.user,
                unit_type: r.unit_type,
                held: r.held,
                surrendered: r.surrendered,
                cancelled: r.cancelled,
            })
            .collect(),
        areas: state
            .regional()
            .inflows()
            .map(|(area, pollutant, v)| AreaInflow {
                area: area.to_string(),
                pollutant: pollutant.to_string(),
                net_inflow: clamp_i64(v),
            })
            .collect(),
    }))
}

/// Submits a registry transaction (signed-in users only). The `Idempotency-Key` header, scoped to
/// the user, is its transaction id `<user id>:<key>`: a retry by the same user with the same key
/// and body returns the original receipt (200), the same key with another body is refused (409
/// `TRANSACTION_ID_REUSED`); another user's key never collides. The caller must be allowed every
/// action the command needs (see `docs/api.md`): 403 `FORBIDDEN` or `SECOND_FACTOR_REQUIRED`
/// otherwise, audited. 201 means the transaction is durably journaled; 422 lists every rule it
/// broke (nothing changed; audited).
#[utoipa::path(post, path = "/v1/transactions", tag = "transactions",
    params(("Idempotency-Key" = String, Header, description = "Idempotency key, scoped to the user: the transaction id is `<user id>:<key>`, at most 128 characters from letters, digits and -_.:/")),
    request_body = TransactionRequest,
    responses(
        (status = 201, description = "Journaled", body = Receipt),
        (status = 200, description = "A retry: the original receipt", body = Receipt),
        (status = 400, description = "Malformed request, missing or too long Idempotency-Key", body = ErrorBody),
        (status = 401, description = "Not signed in, or the session ended", body = ErrorBody),
        (status = 403, description = "FORBIDDEN (no role allows it) or SECOND_FACTOR_REQUIRED", body = ErrorBody),
        (status = 409, description = "The key was used with another body", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Refused by the rules; every violation listed", body = ErrorBody),
        (status = 503, description = "The writer is not running", body = ErrorBody),
    ))]
pub(crate) async fn submit_transaction(
    State(app): State<AppState>,
    SignedIn(caller, _token): SignedIn,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut body): JsonBody<serde_json::Value>,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    let (Some(user), Some(username)) = (caller.principal.user_id(), caller.principal.username())
    else {
        return Err(crate::auth::unauthenticated(
            "sign in to submit transactions",
        ));
    };
    let id = scoped_key(user, &key)?;
    // What the server decides - the clock and the signed-in user - goes in before the parse.
    let administrator = caller
        .principal
        .roles()
        .iter()
        .any(|r| matches!(r, yrd_auth::Role::RegistryAdministrator { .. }));
    let stamp = clock::prepare(&mut body, username, administrator, app.clock.now())?;
    let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::internal(e.to_string()))?;
    let request: TransactionRequest = crate::extract::parse_json(&bytes)?;
    let kind = authz::command_type(&request.command);
    // No snapshot is held across an await: the writer reuses a released snapshot instead of
    // cloning the whole state for the next one.
    let initiator_name = authz::approval_initiator(&app.snapshot().state, &request.command);
    let initiator = match &initiator_name {
        Some(name) => app.user_id(name.clone()).await?,
        None => None,
    };
    // One snapshot for the checks; if what is approved appeared since the initiator was looked
    // up, the approval is judged as naming something unknown (retry), never without its initiator.
    let checked = {
        let snapshot = app.snapshot();
        if authz::approval_initiator(&snapshot.state, &request.command) != initiator_name {
            Err(authz::NotAuthorisable::UnknownEntity)
        } else {
            authz::command_actions(&snapshot.state, &request.command, initiator)
        }
    };
    let actions = match checked {
        Ok(actions) => actions,
        Err(e) => {
            let error = not_authorisable(&e, &kind);
            app.audit_refusal(&caller, format!("{kind} {id}"), &error)
                .await;
            return Err(error);
        }
    };
    for action in actions {
        if let Err(error) = app.authorize(&caller, &action) {
            app.audit_refusal(&caller, format!("{kind} {id}: {action}"), &error)
                .await;
            return Err(error);
        }
    }
    let submission = Submission {
        id: id.clone(),
        date: request.date.unwrap_or_else(|| app.clock.now().date()),
        command: request.command,
    };
    let approval = authz::is_approval(&submission.command)
        .then(|| format!("{kind} {}", authz::command_subject(&submission.command)));
    let outcome = app.writer.submit_stamped(submission, stamp).await;
    let (status, seq, duplicate, effects) = match outcome {
        WriteOutcome::Accepted { seq, effects } => {
            if let Some(action) = approval {
                app.audit_approval(&caller, action, id.to_string()).await;
            }
            (StatusCode::CREATED, seq, false, effects)
        }
        WriteOutcome::Duplicate { seq, effects } => (StatusCode::OK, seq, true, effects),
        WriteOutcome::Rejected(rejection) => {
            let error = ApiError::rejection(&rejection);
            app.audit_refusal(&caller, format!("{kind} {id}"), &error)
                .await;
            return Err(error);
        }
        WriteOutcome::Unavailable(reason) => return Err(ApiError::unavailable(reason)),
    };
    Ok((
        status,
        Json(Receipt {
            tx_id: id.to_string(),
            seq,
            duplicate,
            effects,
        }),
    ))
}

/// The answer to a command that cannot be authorised (see [`authz::NotAuthorisable`]).
fn not_authorisable(e: &authz::NotAuthorisable, kind: &str) -> ApiError {
    match e {
        authz::NotAuthorisable::UnknownEntity => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::UNKNOWN_REFERENCE,
            format!(
                "{kind} names an account, installation, transfer, auction or call market this \
                 registry does not know (or not yet: retry once the command that creates it was \
                 answered)"
            ),
            Some("command"),
        ),
        authz::NotAuthorisable::HolderTransfer => ApiError::new(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            "a holder's units move only by propose_transfer and a second representative's \
             approval (four eyes, EU Reg. 2019/1122 Art. 23); a direct transfer is for the \
             registry's own accounts",
            Some("command.from"),
        ),
    }
}

/// The transaction id of `key` for `user`: `<user id>:<key>`, which must still be a valid
/// transaction id (at most 128 characters).
fn scoped_key(user: yrd_auth::UserId, key: &TransactionId) -> Result<TransactionId, ApiError> {
    let prefix = format!("{}:", user.0);
    TransactionId::new(format!("{prefix}{key}")).map_err(|_| {
        ApiError::bad_request(
            codes::INVALID_IDEMPOTENCY_KEY,
            format!(
                "the Idempotency-Key is scoped to the user as the transaction id `{prefix}<key>`, \
                 which may have at most 128 characters: use a key of at most {} characters",
                128usize.saturating_sub(prefix.len())
            ),
            Some(crate::extract::IDEMPOTENCY_KEY),
        )
    })
}

/// Unknown routes.
pub(crate) async fn not_found() -> ApiError {
    crate::error::for_status(StatusCode::NOT_FOUND)
}
