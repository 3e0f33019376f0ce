//! Roles, actions and the authorization decision.
//!
//! The roles are those of the EU Union Registry (Commission Delegated Regulation (EU) 2019/1122,
//! Art. 20-23: national administrators, authorised and additional authorised representatives,
//! verifiers) and of CITSS (the California-Quebec registry: primary and alternate account
//! representatives, account viewing agents, auditors). A user may hold several roles; a request is
//! allowed when one of them allows it ([`authorize`]). Which role allows which action is one
//! function, [`role_permits`], and the test module checks every role against every action.
//!
//! Four eyes (Reg. 2019/1122 Art. 23(3), Art. 35): a movement is initiated by an account
//! representative and approved by an additional authorised representative who is a different
//! person; [`Action::ApproveMovement`] names the initiator so that [`authorize`] refuses an
//! approval by the same user, even one holding both roles.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use yrd_types::{AccountId, InstallationId, JurisdictionCode};

/// A user's stable number in the user store (usernames are unique too, but this never changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "user #{}", self.0)
    }
}

/// A role held by a user. Serialised as JSON with a `role` tag, e.g.
/// `{"role":"account_representative","accounts":["OHA-AT-47"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case", deny_unknown_fields)]
pub enum Role {
    /// A national (EU) or provincial (China) registry administrator for one jurisdiction: runs
    /// its administrative processes and manages users. Cannot initiate or approve movements of
    /// holders' accounts.
    RegistryAdministrator {
        /// The jurisdiction administered.
        jurisdiction: JurisdictionCode,
    },
    /// An authorised (EU) or primary/alternate account (CITSS) representative: reads these
    /// accounts and initiates movements of units and cash out of them (transfers, surrenders,
    /// orders, withdrawals).
    AccountRepresentative {
        /// The accounts represented.
        accounts: BTreeSet<AccountId>,
    },
    /// An additional authorised representative: reads these accounts and approves movements that
    /// another person initiated (the four-eyes second person).
    AdditionalAuthorisedRepresentative {
        /// The accounts represented.
        accounts: BTreeSet<AccountId>,
    },
    /// An accredited verifier: enters verified emissions of these installations.
    Verifier {
        /// The installations the verifier is engaged for.
        installations: BTreeSet<InstallationId>,
    },
    /// Reads everything (accounts, compliance, users, the authentication audit log), changes
    /// nothing.
    Auditor,
    /// Reads the public transparency reports only.
    Public,
}

/// An account as an action names it: its identifier and the jurisdiction whose registry holds it
/// (the server looks the latter up in the registry state).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountRef {
    /// The account.
    pub id: AccountId,
    /// The jurisdiction the account belongs to.
    pub jurisdiction: JurisdictionCode,
}

/// An installation as an action names it: its identifier and its jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InstallationRef {
    /// The installation.
    pub id: InstallationId,
    /// The jurisdiction that regulates it.
    pub jurisdiction: JurisdictionCode,
}

/// Something a principal asks to do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Read public transparency reports (allowed to everyone, signed in or not).
    ReadPublic,
    /// Read an account's holdings, serials, cash and transactions.
    ReadAccount(AccountRef),
    /// Initiate a movement of units or cash out of an account: transfer, surrender, deletion,
    /// order, block trade, withdrawal, trusted-list change.
    InitiateMovement(AccountRef),
    /// Approve a movement of an account that `initiator` initiated.
    ApproveMovement {
        /// The account the units or cash leave.
        account: AccountRef,
        /// The user who initiated the movement; must not be the approver.
        initiator: UserId,
    },
    /// Read non-public compliance data: verified emissions, surrenders and statuses of every
    /// installation.
    ReadCompliance,
    /// Enter or correct the verified emissions of an installation.
    EnterEmissions(InstallationRef),
    /// Run an administrative process of a jurisdiction: open and close accounts, issue and
    /// allocate, run auctions, process deadlines, suspend accounts or processes.
    Administer(JurisdictionCode),
    /// See users and their state (roles, suspension, lock-out and its `locked_until`).
    ReadUsers,
    /// Create users, change their roles, suspend, reinstate, unlock, reset passwords and second
    /// factors.
    ManageUsers,
    /// Read the authentication audit log.
    ReadAudit,
}

impl Action {
    /// Whether the principal must have passed the second factor recently (see
    /// `SessionConfig::second_factor_validity_secs`): every action that creates, moves or
    /// approves the movement of units or cash, or that changes who may do so.
    pub fn requires_second_factor(&self) -> bool {
        match self {
            Action::InitiateMovement(_)
            | Action::ApproveMovement { .. }
            | Action::Administer(_)
            | Action::ManageUsers => true,
            Action::ReadPublic
            | Action::ReadAccount(_)
            | Action::ReadCompliance
            | Action::EnterEmissions(_)
            | Action::ReadUsers
            | Action::ReadAudit => false,
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::ReadPublic => f.write_str("read public reports"),
            Action::ReadAccount(a) => write!(f, "read account {} ({})", a.id, a.jurisdiction),
            Action::InitiateMovement(a) => {
                write!(f, "initiate a movement from account {}", a.id)
            }
            Action::ApproveMovement { account, initiator } => write!(
                f,
                "approve a movement from account {} initiated by {initiator}",
                account.id
            ),
            Action::ReadCompliance => f.write_str("read compliance data"),
            Action::EnterEmissions(i) => {
                write!(
                    f,
                    "enter emissions of installation {} ({})",
                    i.id, i.jurisdiction
                )
            }
            Action::Administer(j) => write!(f, "administer jurisdiction {j}"),
            Action::ReadUsers => f.write_str("read users"),
            Action::ManageUsers => f.write_str("manage users"),
            Action::ReadAudit => f.write_str("read the authentication audit log"),
        }
    }
}

/// Why [`authorize`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// None of the principal's roles allows the action.
    #[error("not permitted to {0}")]
    NotPermitted(Action),
    /// The approver is the initiator (four eyes: EU Reg. 2019/1122 Art. 23(3)).
    #[error("four eyes: a movement must be approved by someone other than its initiator")]
    SameInitiator,
    /// The action moves units or cash and the session has not passed the second factor recently.
    #[error("{0} requires a one-time password")]
    SecondFactorRequired(Action),
}

/// Who is asking: a signed-in user as the service authenticated them, or anonymous public.
///
/// Only the service ([`crate::Auth::authenticate`] and friends) makes a principal for a user, with
/// the roles it holds at that moment; the server should not keep one beyond a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub(crate) user: Option<UserId>,
    pub(crate) username: Option<String>,
    pub(crate) roles: Vec<Role>,
    pub(crate) second_factor: bool,
}

impl Principal {
    /// Someone not signed in: the [`Role::Public`] role only.
    pub fn anonymous() -> Principal {
        Principal {
            user: None,
            username: None,
            roles: vec![Role::Public],
            second_factor: false,
        }
    }

    /// The user, `None` for anonymous.
    pub fn user_id(&self) -> Option<UserId> {
        self.user
    }

    /// The username, `None` for anonymous.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The roles held.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// Whether the session passed the second factor within its validity period.
    pub fn has_second_factor(&self) -> bool {
        self.second_factor
    }

    /// How the audit log names this principal as an actor.
    pub(crate) fn actor_name(&self) -> String {
        self.username.clone().unwrap_or_else(|| "anonymous".into())
    }
}

/// Whether `role` allows `action` (ignoring the second factor and four eyes, which [`authorize`]
/// adds). [`Action::ReadPublic`] is allowed to every role.
pub fn role_permits(role: &Role, action: &Action) -> bool {
    match (role, action) {
        (_, Action::ReadPublic) => true,

        (Role::RegistryAdministrator { jurisdiction }, action) => match action {
            Action::ReadAccount(a) => a.jurisdiction == *jurisdiction,
            Action::EnterEmissions(i) => i.jurisdiction == *jurisdiction,
            Action::Administer(j) => j == jurisdiction,
            Action::ReadCompliance
            | Action::ReadUsers
            | Action::ManageUsers
            | Action::ReadAudit => true,
            Action::ReadPublic | Action::InitiateMovement(_) | Action::ApproveMovement { .. } => {
                false
            }
        },

        (Role::AccountRepresentative { accounts }, action) => match action {
            Action::ReadAccount(a) | Action::InitiateMovement(a) => accounts.contains(&a.id),
            _ => false,
        },

        (Role::AdditionalAuthorisedRepresentative { accounts }, action) => match action {
            Action::ReadAccount(a) => accounts.contains(&a.id),
            Action::ApproveMovement { account, .. } => accounts.contains(&account.id),
            _ => false,
        },

        (Role::Verifier { installations }, action) => match action {
            Action::EnterEmissions(i) => installations.contains(&i.id),
            _ => false,
        },

        (Role::Auditor, action) => matches!(
            action,
            Action::ReadAccount(_) | Action::ReadCompliance | Action::ReadUsers | Action::ReadAudit
        ),

        (Role::Public, _) => false,
    }
}

/// Decides whether `principal` may do `action`: one of its roles must allow it; an approval must
/// come from someone other than the initiator; an action that
/// [requires the second factor](Action::requires_second_factor) needs a principal that passed it
/// recently.
///
/// # Errors
///
/// [`Denied::NotPermitted`], [`Denied::SameInitiator`] or [`Denied::SecondFactorRequired`], checked
/// in that order.
pub fn authorize(principal: &Principal, action: &Action) -> Result<(), Denied> {
    if !principal.roles.iter().any(|r| role_permits(r, action)) && *action != Action::ReadPublic {
        return Err(Denied::NotPermitted(action.clone()));
    }
    if let Action::ApproveMovement { initiator, .. } = action
        && principal.user == Some(*initiator)
    {
        return Err(Denied::SameInitiator);
    }
    if action.requires_second_factor() && !principal.second_factor {
        return Err(Denied::SecondFactorRequired(action.clone()));
    }
    Ok(())
}
