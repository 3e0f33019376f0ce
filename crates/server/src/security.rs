//! The registry security controls over HTTP: an account's transfers under four eyes and its
//! trusted account list (its representatives and auditors), the suspensions in force
//! (administrators and auditors), and the scheduler that executes delayed transfers when they
//! fall due (EU Reg. 2019/1122 Art. 23, 30, 35; see `docs/security.md`).
//!
//! Proposing, approving and cancelling go through `POST /v1/transactions` like every command;
//! the server sets their time and user ([`crate::clock`]).

use crate::AppState;
use crate::auth::Authenticated;
use crate::clock::Stamp;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiPath;
use crate::handlers::{parse_account, read_account, unknown_account};
use crate::writer::WriteOutcome;
use axum::Json;
use axum::extract::State;
use chrono::NaiveDateTime;
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;
use yrd_auth::Action;
use yrd_registry::{Command, Submission, security};
use yrd_types::TransactionId;

/// One transfer under the security controls.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferItem {
    /// Transfer id.
    pub transfer: String,
    /// Sending account.
    pub from: String,
    /// Receiving account.
    pub to: String,
    /// Unit class, e.g. `CN-SH/CEA/2020`.
    pub class: String,
    /// Units (base units: t CO2e, kg).
    pub quantity: u64,
    /// Username of the representative who proposed it.
    pub initiator: String,
    /// When proposed (registry local time).
    pub proposed_at: NaiveDateTime,
    /// Username of the approving representative.
    pub approver: Option<String>,
    /// When approved.
    pub approved_at: Option<NaiveDateTime>,
    /// When it executes or executed.
    pub execute_at: Option<NaiveDateTime>,
    /// `awaiting_approval`, `scheduled`, `executed`, `cancelled` or `failed`.
    pub status: String,
    /// Why it failed, or who cancelled it.
    pub reason: Option<String>,
}

/// The transfers of an account (sent or received), newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransferList {
    /// The transfers.
    pub items: Vec<TransferItem>,
}

/// One entry of a trusted account list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrustedItem {
    /// The trusted account.
    pub trusted: String,
    /// `pending_approval`, `pending_activation` or `active`.
    pub status: String,
    /// Proposing representative.
    pub initiator: String,
    /// Approving representative.
    pub approver: Option<String>,
    /// From when it is trusted (4 working days after approval).
    pub active_from: Option<NaiveDateTime>,
}

/// An account's trusted account list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrustedList {
    /// The entries, by trusted account.
    pub items: Vec<TrustedItem>,
}

/// A suspended account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuspendedAccount {
    /// Account.
    pub account: String,
    /// The reason recorded.
    pub reason: String,
}

/// A suspended process of a jurisdiction.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuspendedProcess {
    /// Jurisdiction.
    pub jurisdiction: String,
    /// `transfers`, `trading`, `auctions`, `issuance` or `surrender`.
    pub process: String,
}

/// The suspensions in force.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuspensionList {
    /// Suspended accounts.
    pub accounts: Vec<SuspendedAccount>,
    /// Suspended processes.
    pub processes: Vec<SuspendedProcess>,
}

/// The transfers an account sent or received under the security controls (proposed, awaiting
/// approval, scheduled, executed, cancelled, failed), newest first.
#[utoipa::path(get, path = "/v1/accounts/{id}/transfers", tag = "security",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, body = TransferList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn transfers(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TransferList>, ApiError> {
    let account = parse_account(&id)?;
    let snapshot = app.snapshot();
    read_account(&caller, &snapshot.state, &account)?;
    let items = security::pending_transfers(&snapshot.state, Some(&account))
        .into_iter()
        .map(|r| TransferItem {
            transfer: r.transfer.to_string(),
            from: r.from.to_string(),
            to: r.to.to_string(),
            class: r.class.to_string(),
            quantity: r.quantity,
            initiator: r.initiator,
            proposed_at: r.proposed_at,
            approver: r.approver,
            approved_at: r.approved_at,
            execute_at: r.execute_at,
            status: r.status.to_string(),
            reason: r.reason,
        })
        .collect();
    Ok(Json(TransferList { items }))
}

/// An account's trusted account list: transfers to these accounts are not delayed beyond the
/// working-day window and are not limited.
#[utoipa::path(get, path = "/v1/accounts/{id}/trusted", tag = "security",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, body = TrustedList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn trusted(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TrustedList>, ApiError> {
    let account = parse_account(&id)?;
    let snapshot = app.snapshot();
    read_account(&caller, &snapshot.state, &account)?;
    let rows = security::trusted_accounts(&snapshot.state, &account)
        .ok_or_else(|| unknown_account(&account))?;
    // The registry judges activation at the latest time it applied; the server's clock may be
    // later (nothing happened since), and it is what the next proposal will be judged at.
    let now = app.clock.now();
    let items = rows
        .into_iter()
        .map(|r| TrustedItem {
            trusted: r.trusted.to_string(),
            status: match r.active_from {
                Some(from) if from <= now => "active".to_string(),
                _ => r.status.to_string(),
            },
            initiator: r.initiator,
            approver: r.approver,
            active_from: r.active_from,
        })
        .collect();
    Ok(Json(TrustedList { items }))
}

/// Suspended accounts and processes (administrators and auditors).
#[utoipa::path(get, path = "/v1/suspensions", tag = "security",
    responses((status = 200, body = SuspensionList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn suspensions(
    State(app): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<SuspensionList>, ApiError> {
    app.authorize(&caller, &Action::ReadCompliance)?;
    let s = security::suspensions(&app.snapshot().state);
    Ok(Json(SuspensionList {
        accounts: s
            .accounts
            .into_iter()
            .map(|a| SuspendedAccount {
                account: a.account.to_string(),
                reason: a.reason,
            })
            .collect(),
        processes: s
            .processes
            .into_iter()
            .map(|p| SuspendedProcess {
                jurisdiction: p.jurisdiction.to_string(),
                process: p.process.as_str().to_string(),
            })
            .collect(),
    }))
}

/// How often the scheduler looks for transfers that fell due.
pub const SCHEDULER_PERIOD: Duration = Duration::from_secs(15);

/// Runs until shutdown: whenever a scheduled transfer is due by the registry's clock, submits
/// `execute_due_transfers` (its `at` stamped by the writer). Nothing is journaled while nothing
/// is due.
pub async fn run_scheduler(app: AppState) {
    let mut shutdown = app.shutdown.clone();
    let mut tick = tokio::time::interval(SCHEDULER_PERIOD);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        execute_due(&app).await;
    }
}

/// One pass of the scheduler: submits `execute_due_transfers` if anything is due.
pub async fn execute_due(app: &AppState) -> Option<WriteOutcome> {
    let now = app.clock.now();
    let snapshot = app.snapshot();
    let due = snapshot.state.security().next_due()?;
    if due > now {
        return None;
    }
    // Unique per pass: the journal position it follows and the clock's time.
    let id = TransactionId::new(format!(
        "system/execute-due/{}/{}",
        snapshot.state.last_seq(),
        now.format("%Y%m%dT%H%M%S")
    ))
    .ok()?;
    drop(snapshot);
    let submission = Submission {
        id,
        date: now.date(),
        command: Command::ExecuteDueTransfers { at: now },
    };
    let stamp = Stamp {
        date: true,
        at: true,
        time: false,
    };
    let outcome = app.writer.submit_stamped(submission, stamp).await;
    match &outcome {
        WriteOutcome::Accepted { effects, .. } => {
            tracing::info!(effects = effects.len(), "executed due transfers")
        }
        WriteOutcome::Rejected(r) => {
            tracing::warn!(rejection = %r, "execute_due_transfers refused")
        }
        _ => {}
    }
    Some(outcome)
}
