//! What each registry command needs: the `yrd-auth` [`Action`]s a caller must be allowed before
//! `POST /v1/transactions` hands the command to the registry.
//!
//! One exhaustive `match` over [`Command`] with no wildcard arm: a new command does not compile
//! until it is classified here. Accounts, installations, auctions, call markets, transfers and
//! surrenders are looked up in the latest snapshot to find their jurisdiction and parties; a
//! command naming an entity the snapshot does not know is refused before it reaches the writer
//! (422 `UNKNOWN_REFERENCE`), so that nothing is applied without the check of the entity it
//! acts on. A direct `transfer` out of a holder's account is refused to everyone over HTTP
//! (administrators move units between their jurisdiction's own accounts; holders' units move by
//! `propose_transfer` and approval).
//!
//! | command | action |
//! |---|---|
//! | `place_order`, `cancel_order`, `reduce_order`, `amend_order` | `InitiateMovement(account)` |
//! | `propose_block_trade` | `InitiateMovement(proposed_by)` |
//! | `confirm_block_trade`, `withdraw_block_trade` | `InitiateMovement(account)` |
//! | `submit_bid`, `withdraw_bid`, `submit_call_step`, `withdraw_call_step` | `InitiateMovement(account)` |
//! | `withdraw` (cash out) | `InitiateMovement(account)` |
//! | `surrender` | `InitiateMovement(account)` |
//! | `cancel` (voluntary cancellation by the holder) | `InitiateMovement(from)` |
//! | `enter_emissions` | `EnterEmissions(installation)` (its verifier, or an administrator of its jurisdiction) |
//! | `reverse_surrender` | `Administer(jurisdiction of the surrendering installation)` |
//! | `open_system_accounts`, `open_account`, `issue`, `process_deadline` | `Administer(jurisdiction named)` |
//! | `create_call_market` | `Administer(operator)` |
//! | `approve_cross_regional_transfer` | `Administer(approving jurisdiction named)` |
//! | `close_account`, `register_installation`, `deposit`, `set_account_area`, `delete` | `Administer(account's jurisdiction)` |
//! | `transfer` (the direct, administrative move) | `Administer(sending account's jurisdiction)` |
//! | `allocate`, `set_installation_active`, `set_no_obligation`, `suspend_process` | `Administer(installation's jurisdiction)` |
//! | `create_auction` | `Administer(class's jurisdiction)` and, for a joint auction, every share's |
//! | `qualify_bidder`, `set_bidder_suspended`, `clear_auction` | `Administer(auction's class's jurisdiction)` |
//! | `clear_call_market`, `cancel_call_market` | `Administer(operator)` |
//! | `set_trading_halt` | `Administer(instrument's issuing jurisdiction)` |
//! | `propose_transfer`, `cancel_transfer` | `InitiateMovement(from)` |
//! | `approve_transfer` | `ApproveMovement(from, initiator)` - four eyes: never the initiator |
//! | `propose_trusted_account`, `remove_trusted_account` | `InitiateMovement(account)` |
//! | `approve_trusted_account` | `ApproveMovement(account, initiator of the proposal)` |
//! | `set_account_suspended` | `Administer(account's jurisdiction)` |
//! | `set_process_suspended` | `Administer(jurisdiction named)` |
//! | `execute_due_transfers` | `Administer` of every jurisdiction (the server's own scheduler submits it every minute) |
//!
//! Every `InitiateMovement` and `Administer` needs a second factor passed in the last minutes
//! (`yrd_auth::Action::requires_second_factor`).

use yrd_auth::{AccountRef, Action, InstallationRef, UserId};
use yrd_registry::{Command, RegistryState, security};
use yrd_types::{AccountId, AccountKind, InstallationId, JurisdictionCode, OrderRef};

/// The account as an action names it, if the state knows it.
pub fn account_ref(state: &RegistryState, id: &AccountId) -> Option<AccountRef> {
    let ledger = state.ledger();
    ledger.find(id).map(|no| AccountRef {
        id: id.clone(),
        jurisdiction: ledger.account(no).spec.jurisdiction.clone(),
    })
}

/// The jurisdiction of an installation, if the state knows it.
pub fn installation_jurisdiction(
    state: &RegistryState,
    id: &InstallationId,
) -> Option<JurisdictionCode> {
    let compliance = state.compliance();
    compliance
        .find(id)
        .map(|no| compliance.installation(no).jurisdiction.clone())
}

fn auction_jurisdiction(state: &RegistryState, auction: &OrderRef) -> Option<JurisdictionCode> {
    state
        .auctions()
        .get(auction)
        .map(|a| a.class().jurisdiction.clone())
}

fn call_market_operator(state: &RegistryState, market: &OrderRef) -> Option<JurisdictionCode> {
    state
        .regional()
        .call_market(market)
        .map(|m| m.operator.clone())
}

/// The user named as the initiator of what an approval command approves (a pending transfer or
/// trusted-account proposal), if the command is one and the state knows it: the server resolves
/// it to a user id for [`Action::ApproveMovement`].
pub fn approval_initiator(state: &RegistryState, command: &Command) -> Option<String> {
    match command {
        Command::ApproveTransfer { transfer, .. } => {
            security::transfer_parties(state, transfer).map(|(_, initiator)| initiator)
        }
        Command::ApproveTrustedAccount {
            account, trusted, ..
        } => security::trusted_accounts(state, account)?
            .into_iter()
            .find(|row| &row.trusted == trusted)
            .map(|row| row.initiator),
        _ => None,
    }
}

/// Stands for an initiator the user store does not know: someone other than any caller.
const UNKNOWN_INITIATOR: UserId = UserId(i64::MIN);

/// Why a command cannot be authorised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAuthorisable {
    /// It names an account, installation, transfer, auction or call market that the state does
    /// not know. Refused before the writer: a command is authorised against the entities it acts
    /// on, never passed through on the chance that they exist by the time it is applied.
    UnknownEntity,
    /// A direct `transfer` out of a holder's account: holders' units move only by
    /// `propose_transfer` and a second person's approval (EU Reg. 2019/1122 Art. 23, 35).
    HolderTransfer,
}

/// The actions `command` needs, in the order they are checked (deduplicated). `initiator` is
/// the user id of [`approval_initiator`] (`None`: unknown to the user store).
///
/// # Errors
///
/// [`NotAuthorisable`]: an entity the state does not know, or a direct transfer out of a
/// holder's account.
pub fn command_actions(
    state: &RegistryState,
    command: &Command,
    initiator: Option<UserId>,
) -> Result<Vec<Action>, NotAuthorisable> {
    if let Command::Transfer { from, .. } = command
        && let Some(no) = state.ledger().find(from)
        && matches!(
            state.ledger().account(no).spec.kind,
            AccountKind::OperatorHolding | AccountKind::Trading
        )
    {
        return Err(NotAuthorisable::HolderTransfer);
    }
    let approve = |account: &AccountId| {
        account_ref(state, account).map(|account| Action::ApproveMovement {
            account,
            initiator: initiator.unwrap_or(UNKNOWN_INITIATOR),
        })
    };
    let move_from = |id: &AccountId| account_ref(state, id).map(Action::InitiateMovement);
    let admin_of_account =
        |id: &AccountId| account_ref(state, id).map(|a| Action::Administer(a.jurisdiction));
    let admin_of_installation =
        |id: &InstallationId| installation_jurisdiction(state, id).map(Action::Administer);
    let admin = |j: &JurisdictionCode| Some(Action::Administer(j.clone()));
    let actions: Vec<Option<Action>> = match command {
        // Movements out of a holder's account: its representatives, with a second factor.
        Command::PlaceOrder { account, .. }
        | Command::CancelOrder { account, .. }
        | Command::ReduceOrder { account, .. }
        | Command::AmendOrder { account, .. }
        | Command::ConfirmBlockTrade { account, .. }
        | Command::WithdrawBlockTrade { account, .. }
        | Command::SubmitBid { account, .. }
        | Command::WithdrawBid { account, .. }
        | Command::SubmitCallStep { account, .. }
        | Command::WithdrawCallStep { account, .. }
        | Command::Withdraw { account, .. }
        | Command::Surrender { account, .. } => vec![move_from(account)],
        Command::ProposeBlockTrade { proposed_by, .. } => vec![move_from(proposed_by)],
        Command::Cancel { from, .. } => vec![move_from(from)],

        // Verified emissions: the installation's verifier or its jurisdiction's administrator.
        Command::EnterEmissions { installation, .. } => {
            vec![
                installation_jurisdiction(state, installation).map(|jurisdiction| {
                    Action::EnterEmissions(InstallationRef {
                        id: installation.clone(),
                        jurisdiction,
                    })
                }),
            ]
        }
        Command::ReverseSurrender { surrender, .. } => vec![
            state
                .surrender_installation(surrender)
                .and_then(|i| installation_jurisdiction(state, i))
                .map(Action::Administer),
        ],

        // Administrative processes of a jurisdiction.
        Command::OpenSystemAccounts { jurisdiction }
        | Command::OpenAccount { jurisdiction, .. }
        | Command::Issue { jurisdiction, .. }
        | Command::ProcessDeadline { jurisdiction, .. }
        | Command::ApproveCrossRegionalTransfer { jurisdiction, .. } => vec![admin(jurisdiction)],
        Command::CreateCallMarket { operator, .. } => vec![admin(operator)],
        Command::CloseAccount { account }
        | Command::RegisterInstallation { account, .. }
        | Command::Deposit { account, .. }
        | Command::SetAccountArea { account, .. } => vec![admin_of_account(account)],
        Command::Transfer { from, .. } | Command::Delete { from, .. } => {
            vec![admin_of_account(from)]
        }
        Command::Allocate { installation, .. }
        | Command::SetInstallationActive { installation, .. }
        | Command::SetNoObligation { installation, .. }
        | Command::SuspendProcess { installation, .. } => {
            vec![admin_of_installation(installation)]
        }
        Command::CreateAuction { class, joint, .. } => std::iter::once(class)
            .chain(joint.iter().map(|share| &share.class))
            .map(|c| admin(&c.jurisdiction))
            .collect(),
        Command::QualifyBidder { auction, .. }
        | Command::SetBidderSuspended { auction, .. }
        | Command::ClearAuction { auction } => {
            vec![auction_jurisdiction(state, auction).map(Action::Administer)]
        }
        Command::ClearCallMarket { market } | Command::CancelCallMarket { market } => {
            vec![call_market_operator(state, market).map(Action::Administer)]
        }
        Command::SetTradingHalt { class, .. } => vec![admin(&class.jurisdiction)],

        // The registry security controls (EU Reg. 2019/1122 Art. 23, 30, 35).
        Command::ProposeTransfer { from, .. } => vec![move_from(from)],
        Command::CancelTransfer { transfer, .. } => {
            vec![security::transfer_parties(state, transfer).and_then(|(from, _)| move_from(&from))]
        }
        Command::ApproveTransfer { transfer, .. } => {
            vec![security::transfer_parties(state, transfer).and_then(|(from, _)| approve(&from))]
        }
        Command::ProposeTrustedAccount { account, .. }
        | Command::RemoveTrustedAccount { account, .. } => vec![move_from(account)],
        Command::ApproveTrustedAccount { account, .. } => vec![approve(account)],
        Command::SetAccountSuspended { account, .. } => vec![admin_of_account(account)],
        Command::SetProcessSuspended { jurisdiction, .. } => vec![admin(jurisdiction)],
        Command::ExecuteDueTransfers { .. } => state
            .config()
            .jurisdictions
            .iter()
            .map(|j| admin(&j.code))
            .collect(),
    };
    let mut out: Vec<Action> = Vec::new();
    for action in actions {
        let action = action.ok_or(NotAuthorisable::UnknownEntity)?;
        if !out.contains(&action) {
            out.push(action);
        }
    }
    Ok(out)
}

/// Whether `command` is a second person's approval (recorded in the authentication audit log
/// besides the journal).
pub fn is_approval(command: &Command) -> bool {
    matches!(
        command,
        Command::ApproveTransfer { .. }
            | Command::ApproveTrustedAccount { .. }
            | Command::ApproveCrossRegionalTransfer { .. }
    )
}

/// What an approval approves, for the audit log: the transfer, the trusted account, or the
/// cross-regional approval's reference.
pub fn command_subject(command: &Command) -> String {
    match command {
        Command::ApproveTransfer { transfer, .. } => transfer.to_string(),
        Command::ApproveTrustedAccount {
            account, trusted, ..
        } => format!("{trusted} on the trusted list of {account}"),
        Command::ApproveCrossRegionalTransfer {
            approval,
            jurisdiction,
            from,
            to,
            quantity,
            ..
        } => format!("{approval} by {jurisdiction}: {quantity} from {from} to {to}"),
        _ => String::new(),
    }
}

/// The command's `type` (`place_order`, ...), for messages and the audit log.
pub fn command_type(command: &Command) -> String {
    serde_json::to_value(command)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_else(|| "command".into())
}
