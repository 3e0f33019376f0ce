//! Tests of the service as the server will use it, with an in-memory store and a manual clock.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::Arc;

use yrd_types::{AccountId, InstallationId, JurisdictionCode};

use crate::password::needs_rehash;
use crate::*;

/// 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000;
const SRC: &str = "192.0.2.10";
const ADMIN_PASSWORD: &str = "admin password one";
const ALICE_PASSWORD: &str = "alice's long password";

fn j(code: &str) -> JurisdictionCode {
    JurisdictionCode::new(code).unwrap()
}

fn account(id: &str, jurisdiction: &str) -> AccountRef {
    AccountRef {
        id: AccountId::new(id).unwrap(),
        jurisdiction: j(jurisdiction),
    }
}

fn installation(id: &str, jurisdiction: &str) -> InstallationRef {
    InstallationRef {
        id: InstallationId::new(id).unwrap(),
        jurisdiction: j(jurisdiction),
    }
}

fn accounts(ids: &[&str]) -> BTreeSet<AccountId> {
    ids.iter().map(|id| AccountId::new(*id).unwrap()).collect()
}

fn pw(text: &str) -> Password {
    Password::new(text)
}

/// An authenticator app: the secret, and the last step it showed a code for.
struct App {
    secret: Vec<u8>,
    last_step: Cell<Option<u64>>,
}

impl App {
    fn from(enrolment: &TotpEnrolment) -> App {
        let secret = totp_rs::Secret::Encoded(enrolment.secret_base32.clone())
            .to_bytes()
            .unwrap();
        App {
            secret,
            last_step: Cell::new(None),
        }
    }

    /// A code the service will accept at `now`: the earliest step of the window not used yet.
    fn code(&self, now: Timestamp) -> String {
        let current = u64::try_from(now.unix_seconds()).unwrap() / TOTP_STEP_SECS;
        let step = match self.last_step.get() {
            Some(last) => (last + 1).max(current - 1),
            None => current,
        };
        assert!(
            step <= current + 1,
            "test used more than three codes in one step"
        );
        self.last_step.set(Some(step));
        crate::totp::code_at(&self.secret, TOTP_DIGITS, step * TOTP_STEP_SECS).unwrap()
    }

    /// A six-digit code that is not valid anywhere in the window at `now`.
    fn wrong_code(&self, now: Timestamp) -> String {
        let current = u64::try_from(now.unix_seconds()).unwrap() / TOTP_STEP_SECS;
        let valid: Vec<String> = (current - 1..=current + 1)
            .map(|step| {
                crate::totp::code_at(&self.secret, TOTP_DIGITS, step * TOTP_STEP_SECS).unwrap()
            })
            .collect();
        (0..4)
            .map(|n| format!("{n:06}"))
            .find(|c| !valid.contains(c))
            .unwrap()
    }

    /// The code of the current step, whether used or not.
    fn current_code(&self, now: Timestamp) -> String {
        let current = u64::try_from(now.unix_seconds()).unwrap() / TOTP_STEP_SECS;
        crate::totp::code_at(&self.secret, TOTP_DIGITS, current * TOTP_STEP_SECS).unwrap()
    }
}

struct Fixture {
    auth: Auth,
    clock: Arc<ManualClock>,
    /// The administrator as confirmed at set-up, with the second factor.
    admin: Principal,
}

impl Fixture {
    /// An in-memory store with an administrator of CN-SH, "admin", who has enrolled an app.
    fn new() -> Fixture {
        Fixture::with_config(AuthConfig::insecure_for_tests())
    }

    fn with_config(config: AuthConfig) -> Fixture {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(T0)));
        let auth = Auth::new(UserStore::open_in_memory().unwrap(), clock.clone(), config).unwrap();
        auth.bootstrap_administrator("admin", &pw(ADMIN_PASSWORD), j("CN-SH"))
            .unwrap();
        let s = auth
            .sign_in("admin", &pw(ADMIN_PASSWORD), "admin-desk")
            .unwrap();
        let enrolment = auth.begin_totp_enrolment(&s.token).unwrap();
        let admin_app = App::from(&enrolment);
        let admin = auth
            .confirm_totp_enrolment(&s.token, &admin_app.code(clock.now()), "admin-desk")
            .unwrap();
        assert!(admin.has_second_factor());
        Fixture { auth, clock, admin }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The administrator with both factors (as authenticated at set-up).
    fn admin(&self) -> Principal {
        self.admin.clone()
    }

    /// Creates `name` with `roles` and the password [`ALICE_PASSWORD`].
    fn create(&self, name: &str, roles: Vec<Role>) -> UserId {
        self.auth
            .create_user(&self.admin(), name, &pw(ALICE_PASSWORD), roles)
            .unwrap()
    }

    /// Creates `name`, signs in and enrols an app; returns the session token and the app.
    fn enrolled(&self, name: &str, roles: Vec<Role>) -> (SessionToken, App) {
        self.create(name, roles);
        let s = self.auth.sign_in(name, &pw(ALICE_PASSWORD), SRC).unwrap();
        assert!(!s.second_factor_enrolled);
        let app = App::from(&self.auth.begin_totp_enrolment(&s.token).unwrap());
        self.auth
            .confirm_totp_enrolment(&s.token, &app.code(self.now()), SRC)
            .unwrap();
        (s.token, app)
    }

    fn audit(&self) -> Vec<AuditRecord> {
        let auditor = Principal {
            user: None,
            username: Some("test auditor".into()),
            roles: vec![Role::Auditor],
            second_factor: false,
        };
        self.auth.audit_log(&auditor, 0, 10_000).unwrap()
    }

    fn events_of(&self, username: &str) -> Vec<AuditEvent> {
        self.audit()
            .into_iter()
            .filter(|r| r.username.as_deref() == Some(username))
            .map(|r| r.event)
            .collect()
    }
}

fn ar_a1() -> Vec<Role> {
    vec![Role::AccountRepresentative {
        accounts: accounts(&["A1"]),
    }]
}

// ---------------------------------------------------------------- passwords

#[test]
fn hashing_verifies_the_right_password_only() {
    let params = Argon2Params::INSECURE_FOR_TESTS;
    let hash = hash_password(&pw("correct horse battery staple"), &params).unwrap();
    assert!(verify_password(&pw("correct horse battery staple"), &hash).unwrap());
    assert!(!verify_password(&pw("correct horse battery stapler"), &hash).unwrap());
    assert!(!verify_password(&pw(""), &hash).unwrap());
    // A fresh salt each time: the same password hashes differently.
    let again = hash_password(&pw("correct horse battery staple"), &params).unwrap();
    assert_ne!(hash, again);
    assert!(!hash.contains("correct horse"));
    // A corrupted stored hash is an error, not a wrong password.
    assert!(matches!(
        verify_password(&pw("x"), "not a phc string"),
        Err(AuthError::Hashing(_))
    ));
}

#[test]
fn hashes_use_argon2id_with_the_owasp_parameters() {
    let hash = hash_password(&pw("correct horse battery staple"), &Argon2Params::OWASP).unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(verify_password(&pw("correct horse battery staple"), &hash).unwrap());
    assert!(!needs_rehash(&hash, &Argon2Params::OWASP));
    assert!(needs_rehash(&hash, &Argon2Params::INSECURE_FOR_TESTS));
    assert_eq!(AuthConfig::default().argon2, Argon2Params::OWASP);
}

#[test]
fn passwords_never_print() {
    let p = pw("super secret password");
    assert_eq!(format!("{p:?}"), "Password(<redacted>)");
    let e = AuthError::InvalidCredentials.to_string();
    assert!(!e.contains("super"));
}

#[test]
fn password_policy_errors_are_specific() {
    let policy = PasswordPolicy::default();
    assert_eq!(
        policy.check("alice", &pw("elevenchars")),
        Err(PasswordPolicyError::TooShort {
            min: 12,
            actual: 11
        })
    );
    assert_eq!(policy.check("alice", &pw("twelve chars")), Ok(()));
    // Characters, not bytes: 12 non-ASCII characters pass.
    assert_eq!(
        policy.check("alice", &pw("排污权排污权排污权排污权")),
        Ok(())
    );
    assert_eq!(
        policy.check("alice", &pw(&"x".repeat(129))),
        Err(PasswordPolicyError::TooLong {
            max: 128,
            actual: 129
        })
    );
    assert_eq!(
        policy.check("alice.wang.sh", &pw("Alice.Wang.SH")),
        Err(PasswordPolicyError::SameAsUsername)
    );
    assert_eq!(
        PasswordPolicyError::TooShort { min: 12, actual: 5 }.to_string(),
        "the password must have at least 12 characters; it has 5"
    );
}

#[test]
fn user_creation_applies_the_policy_and_username_rules() {
    let f = Fixture::new();
    let admin = f.admin();
    let short = f.auth.create_user(&admin, "bob", &pw("short"), vec![]);
    assert!(matches!(
        short,
        Err(AuthError::PasswordPolicy(
            PasswordPolicyError::TooShort { .. }
        ))
    ));
    let same = f
        .auth
        .create_user(&admin, "bob.the.builder", &pw("BOB.the.builder"), vec![]);
    assert!(matches!(
        same,
        Err(AuthError::PasswordPolicy(
            PasswordPolicyError::SameAsUsername
        ))
    ));
    let bad_name = f
        .auth
        .create_user(&admin, "b ob", &pw(ALICE_PASSWORD), vec![]);
    assert!(matches!(bad_name, Err(AuthError::InvalidUsername { .. })));
    f.auth
        .create_user(&admin, "Bob", &pw(ALICE_PASSWORD), vec![])
        .unwrap();
    // Usernames are case-insensitive.
    assert_eq!(
        f.auth
            .create_user(&admin, "BOB", &pw(ALICE_PASSWORD), vec![]),
        Err(AuthError::UsernameTaken("bob".into()))
    );
    assert!(f.auth.sign_in("BoB", &pw(ALICE_PASSWORD), SRC).is_ok());
    assert_eq!(normalize_username("Alice@SH").unwrap(), "alice@sh");
    for bad in ["ab", "-alice", "al ice", "alice/x", &"a".repeat(65)] {
        assert!(normalize_username(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn a_hash_with_old_parameters_is_remade_at_sign_in() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(T0)));
    let store = UserStore::open_in_memory().unwrap();
    let old = Auth::new(store, clock.clone(), AuthConfig::insecure_for_tests()).unwrap();
    old.bootstrap_administrator("admin", &pw(ADMIN_PASSWORD), j("CN-SH"))
        .unwrap();
    let store = old.into_store();
    let stronger = Argon2Params {
        memory_kib: 64,
        iterations: 2,
        parallelism: 1,
    };
    let config = AuthConfig {
        argon2: stronger,
        ..AuthConfig::insecure_for_tests()
    };
    let auth = Auth::new(store, clock, config).unwrap();
    auth.sign_in("admin", &pw(ADMIN_PASSWORD), SRC).unwrap();
    let hash = auth
        .store()
        .read(|tx| Ok(tx.user_by_name("admin")?.unwrap().password_hash))
        .unwrap();
    assert!(hash.contains("m=64,t=2,p=1"), "{hash}");
    assert!(auth.sign_in("admin", &pw(ADMIN_PASSWORD), SRC).is_ok());
}

// ---------------------------------------------------------------- second factor

#[test]
fn second_factor_is_required_for_movements_and_expires() {
    let f = Fixture::new();
    let (token, app) = f.enrolled("alice", ar_a1());
    let a1 = account("A1", "CN-SH");
    let initiate = Action::InitiateMovement(a1.clone());
    assert!(initiate.requires_second_factor());
    assert!(!Action::ReadAccount(a1.clone()).requires_second_factor());

    // A new session: password only.
    let s = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    assert!(s.second_factor_enrolled);
    let p = f.auth.authenticate(&s.token).unwrap();
    assert!(!p.has_second_factor());
    assert_eq!(authorize(&p, &Action::ReadAccount(a1.clone())), Ok(()));
    assert_eq!(
        authorize(&p, &initiate),
        Err(Denied::SecondFactorRequired(initiate.clone()))
    );

    f.clock.advance(30);
    let p = f
        .auth
        .verify_second_factor(&s.token, &app.code(f.now()), SRC)
        .unwrap();
    assert!(p.has_second_factor());
    assert_eq!(authorize(&p, &initiate), Ok(()));

    // Valid for 300 s (the session stays alive: used every 100 s).
    for _ in 0..2 {
        f.clock.advance(100);
        assert_eq!(
            authorize(&f.auth.authenticate(&s.token).unwrap(), &initiate),
            Ok(())
        );
    }
    f.clock.advance(100);
    let p = f.auth.authenticate(&s.token).unwrap();
    assert!(!p.has_second_factor());
    assert!(matches!(
        authorize(&p, &initiate),
        Err(Denied::SecondFactorRequired(_))
    ));
    // The enrolment session is unaffected by the other session.
    let _ = token;
}

#[test]
fn a_code_cannot_be_used_twice() {
    let f = Fixture::new();
    let (token, app) = f.enrolled("alice", ar_a1());
    f.clock.advance(60);
    let code = app.current_code(f.now());
    f.auth.verify_second_factor(&token, &code, SRC).unwrap();
    assert_eq!(
        f.auth.verify_second_factor(&token, &code, SRC),
        Err(AuthError::OneTimePasswordReplayed)
    );
    // Still refused 30 s later, while the code is inside the +/-1 step window.
    f.clock.advance(30);
    assert_eq!(
        f.auth.verify_second_factor(&token, &code, SRC),
        Err(AuthError::OneTimePasswordReplayed)
    );
    // A new code works.
    f.auth
        .verify_second_factor(&token, &app.current_code(f.now()), SRC)
        .unwrap();
    let events = f.events_of("alice");
    assert!(events.contains(&AuditEvent::SecondFactor {
        outcome: SecondFactorOutcome::Replayed
    }));
}

#[test]
fn wrong_codes_lock_the_user_even_with_the_right_password_in_between() {
    let f = Fixture::new();
    let (token, app) = f.enrolled("alice", ar_a1());
    for i in 0..5 {
        // Signing in again with the right password must not reset the count of wrong codes.
        f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
        assert_eq!(
            f.auth
                .verify_second_factor(&token, &app.wrong_code(f.now()), SRC),
            Err(AuthError::InvalidOneTimePassword),
            "attempt {i}"
        );
    }
    // Locked: the right code is refused (the session holder, who gave the right password, is
    // told), and the right password gets the same error as a wrong one.
    assert_eq!(
        f.auth
            .verify_second_factor(&token, &app.current_code(f.now()), "elsewhere"),
        Err(AuthError::UserLocked {
            retry_after_secs: 900
        })
    );
    assert_eq!(
        f.auth.sign_in("alice", &pw(ALICE_PASSWORD), "elsewhere"),
        Err(AuthError::InvalidCredentials)
    );
    let status = f.auth.user_status(&f.admin(), "alice").unwrap();
    assert_eq!(
        status.locked_until,
        Some(f.now().plus_seconds(900)),
        "{status:?}"
    );
    assert!(f.events_of("alice").contains(&AuditEvent::UserLockedOut {
        kind: FailureKind::OneTimePassword,
        until: f.now().plus_seconds(900)
    }));
}

#[test]
fn replacing_an_enrolled_second_factor_needs_it() {
    let f = Fixture::new();
    let (_, app) = f.enrolled("alice", ar_a1());
    let s = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    assert_eq!(
        f.auth.begin_totp_enrolment(&s.token),
        Err(AuthError::SecondFactorRequired)
    );
    f.clock.advance(30);
    f.auth
        .verify_second_factor(&s.token, &app.code(f.now()), SRC)
        .unwrap();
    let new_app = App::from(&f.auth.begin_totp_enrolment(&s.token).unwrap());
    // Until confirmed, the old app stays in force.
    f.clock.advance(30);
    f.auth
        .verify_second_factor(&s.token, &app.code(f.now()), SRC)
        .unwrap();
    assert_eq!(
        f.auth.confirm_totp_enrolment(&s.token, "999999x", SRC),
        Err(AuthError::InvalidOneTimePassword)
    );
    f.auth
        .confirm_totp_enrolment(&s.token, &new_app.code(f.now()), SRC)
        .unwrap();
    f.clock.advance(30);
    assert_eq!(
        f.auth
            .verify_second_factor(&s.token, &app.current_code(f.now()), SRC),
        Err(AuthError::InvalidOneTimePassword)
    );
    f.auth
        .verify_second_factor(&s.token, &new_app.code(f.now()), SRC)
        .unwrap();
    assert_eq!(
        f.auth.confirm_totp_enrolment(&s.token, "123456", SRC),
        Err(AuthError::NoPendingEnrolment)
    );
}

#[test]
fn enrolment_uri_names_the_issuer_and_user() {
    let f = Fixture::new();
    f.create("alice", ar_a1());
    let s = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    let e = f.auth.begin_totp_enrolment(&s.token).unwrap();
    assert_eq!(e.secret_base32.len(), 32);
    assert!(
        e.otpauth_uri
            .starts_with("otpauth://totp/yrd-ets:alice?secret="),
        "{}",
        e.otpauth_uri
    );
    assert!(e.otpauth_uri.contains(&e.secret_base32));
    assert!(
        e.otpauth_uri
            .ends_with("&issuer=yrd-ets&algorithm=SHA1&digits=6&period=30")
    );
    // Without an enrolled app there is nothing to verify against.
    assert_eq!(
        f.auth.verify_second_factor(&s.token, "123456", SRC),
        Err(AuthError::SecondFactorNotEnrolled)
    );
}

// ---------------------------------------------------------------- sessions

#[test]
fn sessions_expire_after_the_idle_timeout() {
    let f = Fixture::new();
    f.create("alice", ar_a1());
    let s = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    assert_eq!(s.token.as_str().len(), 43);
    f.clock.advance(899);
    assert!(f.auth.authenticate(&s.token).is_ok());
    // Use reset the idle timer: 899 s more is fine, 900 s after the last use is not.
    f.clock.advance(899);
    assert!(f.auth.authenticate(&s.token).is_ok());
    f.clock.advance(900);
    assert_eq!(
        f.auth.authenticate(&s.token),
        Err(AuthError::SessionExpired)
    );
    // And it stays expired even if the clock is set back.
    f.clock
        .set(Timestamp::from_unix_seconds(f.now().unix_seconds() - 1000));
    assert_eq!(
        f.auth.authenticate(&s.token),
        Err(AuthError::SessionExpired)
    );
    assert!(f.events_of("alice").contains(&AuditEvent::SessionExpired {
        reason: "idle".into()
    }));
}

#[test]
fn the_idle_timer_is_kept_to_fifteen_seconds() {
    // A request less than TOUCH_GRANULARITY_SECS after the last recorded one writes nothing, so
    // the idle timeout (900 s) counts from the recorded one: a session used at 0 s and 14 s
    // expires at 900 s; one used at 0 s and 15 s lives until 915 s.
    assert_eq!(crate::service::TOUCH_GRANULARITY_SECS, 15);
    let f = Fixture::new();
    f.create("alice", ar_a1());
    let quick = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    let slow = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    f.clock.advance(14);
    assert!(f.auth.authenticate(&quick.token).is_ok());
    f.clock.advance(1);
    assert!(f.auth.authenticate(&slow.token).is_ok());
    f.clock.advance(899 - 15 + 1); // 900 s after sign-in
    assert_eq!(
        f.auth.authenticate(&quick.token),
        Err(AuthError::SessionExpired)
    );
    assert!(f.auth.authenticate(&slow.token).is_ok());
}

#[test]
fn sessions_end_at_the_absolute_lifetime_however_busy() {
    let f = Fixture::new();
    f.create("alice", ar_a1());
    let start = f.now();
    let s = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    assert_eq!(s.expires_at, start.plus_seconds(8 * 3600));
    while f.now() < start.plus_seconds(8 * 3600 - 600) {
        f.clock.advance(600);
        assert!(f.auth.authenticate(&s.token).is_ok(), "at {}", f.now());
    }
    f.clock.set(start.plus_seconds(8 * 3600 - 1));
    assert!(f.auth.authenticate(&s.token).is_ok());
    f.clock.advance(1);
    assert_eq!(
        f.auth.authenticate(&s.token),
        Err(AuthError::SessionExpired)
    );
    assert!(f.events_of("alice").contains(&AuditEvent::SessionExpired {
        reason: "absolute".into()
    }));
}

#[test]
fn session_lifetimes_are_configurable() {
    let mut config = AuthConfig::insecure_for_tests();
    config.session = SessionConfig {
        idle_timeout_secs: 60,
        absolute_lifetime_secs: 120,
        second_factor_validity_secs: 30,
    };
    let f = Fixture::with_config(config);
    f.create("alice", ar_a1());
    let s = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    f.clock.advance(59);
    assert!(f.auth.authenticate(&s.token).is_ok());
    f.clock.advance(60);
    assert_eq!(
        f.auth.authenticate(&s.token),
        Err(AuthError::SessionExpired)
    );
}

#[test]
fn sign_out_and_unknown_tokens() {
    let f = Fixture::new();
    f.create("alice", ar_a1());
    let s = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    let other = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    f.auth.sign_out(&s.token).unwrap();
    assert_eq!(
        f.auth.authenticate(&s.token),
        Err(AuthError::InvalidSession)
    );
    f.auth.sign_out(&s.token).unwrap(); // again: no error
    assert!(f.auth.authenticate(&other.token).is_ok());
    for bad in ["", "garbage", &"A".repeat(43)] {
        assert_eq!(
            f.auth.authenticate(&SessionToken::new(bad)),
            Err(AuthError::InvalidSession),
            "{bad:?}"
        );
    }
    // Only the hash of the token is stored.
    let store = f.auth.store();
    let stored: Vec<u8> = store
        .connection()
        .query_row(
            "SELECT token_sha256 FROM sessions WHERE id = (SELECT MAX(id) FROM sessions)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert_eq!(
        Some(<[u8; 32]>::try_from(stored).unwrap()),
        other.token.digest()
    );
}

#[test]
fn changing_the_password_revokes_other_sessions() {
    let f = Fixture::new();
    f.create("alice", ar_a1());
    let a = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    let b = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    assert_eq!(
        f.auth.change_password(
            &a.token,
            &pw("wrong current pw"),
            &pw("a new long password"),
            SRC
        ),
        Err(AuthError::InvalidCredentials)
    );
    assert!(matches!(
        f.auth
            .change_password(&a.token, &pw(ALICE_PASSWORD), &pw("short"), SRC),
        Err(AuthError::PasswordPolicy(_))
    ));
    f.auth
        .change_password(
            &a.token,
            &pw(ALICE_PASSWORD),
            &pw("a new long password"),
            SRC,
        )
        .unwrap();
    assert!(f.auth.authenticate(&a.token).is_ok());
    assert_eq!(
        f.auth.authenticate(&b.token),
        Err(AuthError::InvalidSession)
    );
    assert_eq!(
        f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC),
        Err(AuthError::InvalidCredentials)
    );
    assert!(
        f.auth
            .sign_in("alice", &pw("a new long password"), SRC)
            .is_ok()
    );
}

// ---------------------------------------------------------------- brute force

#[test]
fn five_wrong_passwords_lock_the_user_for_fifteen_minutes() {
    let f = Fixture::new();
    f.create("alice", ar_a1());
    for i in 0..4 {
        assert_eq!(
            f.auth
                .sign_in("alice", &pw("wrong password!"), &format!("10.0.0.{i}")),
            Err(AuthError::InvalidCredentials)
        );
    }
    // Four failures: not locked yet, and a success resets the count.
    f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    for i in 0..5 {
        assert_eq!(
            f.auth
                .sign_in("alice", &pw("wrong password!"), &format!("10.0.1.{i}")),
            Err(AuthError::InvalidCredentials)
        );
    }
    let locked_at = f.now();
    // Locked: the right password gets exactly the wrong-password error.
    assert_eq!(
        f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC),
        Err(AuthError::InvalidCredentials)
    );
    assert_eq!(
        f.auth.sign_in("nobody-here", &pw(ALICE_PASSWORD), SRC),
        Err(AuthError::InvalidCredentials)
    );
    // Administrators see until when.
    let status = f.auth.user_status(&f.admin(), "alice").unwrap();
    assert_eq!(status.locked_until, Some(locked_at.plus_seconds(900)));
    assert_eq!(status.failed_passwords, 0);

    f.clock.advance(899);
    assert_eq!(
        f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC),
        Err(AuthError::InvalidCredentials)
    );
    f.clock.advance(1);
    let s = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    assert!(f.auth.authenticate(&s.token).is_ok());
    assert_eq!(
        f.auth
            .user_status(&f.admin(), "alice")
            .unwrap()
            .locked_until,
        None
    );

    let events = f.events_of("alice");
    let count = |outcome| {
        events
            .iter()
            .filter(|e| **e == AuditEvent::SignIn { outcome })
            .count()
    };
    assert_eq!(count(SignInOutcome::WrongPassword), 9);
    assert_eq!(count(SignInOutcome::UserLocked), 2);
    assert_eq!(count(SignInOutcome::Success), 2);
    assert!(events.contains(&AuditEvent::UserLockedOut {
        kind: FailureKind::Password,
        until: locked_at.plus_seconds(900)
    }));
}

#[test]
fn an_administrator_can_unlock_early() {
    let f = Fixture::new();
    f.create("alice", ar_a1());
    for i in 0..5 {
        let _ = f
            .auth
            .sign_in("alice", &pw("wrong password!"), &format!("10.0.0.{i}"));
    }
    assert!(f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).is_err());
    f.auth.unlock_user(&f.admin(), "alice").unwrap();
    assert!(f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).is_ok());
    assert!(f.events_of("alice").contains(&AuditEvent::Unlocked));
}

#[test]
fn unknown_users_and_wrong_passwords_look_the_same() {
    let f = Fixture::new();
    f.create("alice", ar_a1());
    let unknown = f
        .auth
        .sign_in("mallory", &pw(ALICE_PASSWORD), "a")
        .unwrap_err();
    let wrong = f
        .auth
        .sign_in("alice", &pw("not her password"), "b")
        .unwrap_err();
    let malformed = f.auth.sign_in("x", &pw(ALICE_PASSWORD), "c").unwrap_err();
    assert_eq!(unknown, wrong);
    assert_eq!(malformed, wrong);
    assert_eq!(wrong.to_string(), "invalid username or password");
    let audit = f.audit();
    let mallory = audit
        .iter()
        .find(|r| r.username.as_deref() == Some("mallory"))
        .unwrap();
    assert_eq!(
        mallory.event,
        AuditEvent::SignIn {
            outcome: SignInOutcome::UnknownUser
        }
    );
    assert_eq!(mallory.user, None);
    assert_eq!(mallory.source.as_deref(), Some("a"));
}

#[test]
fn a_source_with_five_failures_is_locked_whatever_the_usernames() {
    let f = Fixture::new();
    f.create("alice", ar_a1());
    let attacker = "198.51.100.66";
    for name in ["u1", "u2", "u3", "u4", "alice"] {
        assert_eq!(
            f.auth.sign_in(name, &pw("Password123456"), attacker),
            Err(AuthError::InvalidCredentials)
        );
    }
    // Locked source: even alice's right password from there is refused, without a hint about her.
    assert_eq!(
        f.auth.sign_in("alice", &pw(ALICE_PASSWORD), attacker),
        Err(AuthError::SourceLocked {
            retry_after_secs: 900
        })
    );
    let locked_at = f.now();
    assert!(
        f.audit()
            .iter()
            .any(|r| r.source.as_deref() == Some(attacker)
                && r.event
                    == AuditEvent::SourceLockedOut {
                        kind: FailureKind::Password,
                        until: locked_at.plus_seconds(900),
                    })
    );
    // Alice herself (one failure) is not locked, and other sources are fine.
    assert!(f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).is_ok());
    f.clock.advance(899);
    assert!(
        f.auth
            .sign_in("alice", &pw(ALICE_PASSWORD), attacker)
            .is_err()
    );
    f.clock.advance(1);
    assert!(
        f.auth
            .sign_in("alice", &pw(ALICE_PASSWORD), attacker)
            .is_ok()
    );
}

#[test]
fn lockout_policy_is_configurable() {
    let mut config = AuthConfig::insecure_for_tests();
    config.lockout = LockoutPolicy {
        user_max_failures: 2,
        source_max_failures: 100,
        lock_secs: 60,
    };
    let f = Fixture::with_config(config);
    f.create("alice", ar_a1());
    for _ in 0..2 {
        let _ = f.auth.sign_in("alice", &pw("wrong password!"), SRC);
    }
    assert!(f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).is_err());
    f.clock.advance(60);
    assert!(f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).is_ok());
}

// ---------------------------------------------------------------- suspension

#[test]
fn suspension_revokes_sessions_and_refuses_sign_in() {
    let f = Fixture::new();
    let (token, _) = f.enrolled("alice", ar_a1());
    assert!(f.auth.authenticate(&token).is_ok());

    // Only administrators may suspend.
    let alice = f.auth.authenticate(&token).unwrap();
    assert!(matches!(
        f.auth.suspend_user(&alice, "admin", "coup"),
        Err(AuthError::Denied(Denied::NotPermitted(Action::ManageUsers)))
    ));

    let admin = f.admin();
    assert_eq!(
        f.auth.suspend_user(&admin, "admin", "oops"),
        Err(AuthError::SelfAdministration)
    );
    f.auth
        .suspend_user(&admin, "alice", "phishing suspected")
        .unwrap();
    assert_eq!(f.auth.authenticate(&token), Err(AuthError::InvalidSession));
    assert_eq!(
        f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC),
        Err(AuthError::Suspended)
    );
    // A wrong password says nothing about the suspension.
    assert_eq!(
        f.auth.sign_in("alice", &pw("wrong password!"), SRC),
        Err(AuthError::InvalidCredentials)
    );
    let status = f.auth.user_status(&admin, "alice").unwrap();
    assert_eq!(
        status.suspended,
        Some(Suspension {
            at: f.now(),
            reason: "phishing suspected".into()
        })
    );
    assert_eq!(status.live_sessions, 0);

    f.auth.reinstate_user(&admin, "alice").unwrap();
    assert!(f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).is_ok());
    let events = f.events_of("alice");
    assert!(events.contains(&AuditEvent::Suspended {
        reason: "phishing suspected".into()
    }));
    assert!(events.contains(&AuditEvent::Reinstated));
    let suspended_row = f
        .audit()
        .into_iter()
        .find(|r| matches!(r.event, AuditEvent::Suspended { .. }))
        .unwrap();
    assert_eq!(suspended_row.actor.as_deref(), Some("admin"));
}

#[test]
fn administrators_need_the_second_factor_and_cannot_grant_themselves_roles() {
    let f = Fixture::new();
    let s = f.auth.sign_in("admin", &pw(ADMIN_PASSWORD), SRC).unwrap();
    let password_only = f.auth.authenticate(&s.token).unwrap();
    assert_eq!(
        f.auth
            .create_user(&password_only, "bob", &pw(ALICE_PASSWORD), vec![]),
        Err(AuthError::Denied(Denied::SecondFactorRequired(
            Action::ManageUsers
        )))
    );
    // Reading users needs no second factor.
    assert!(f.auth.users(&password_only).is_ok());
    let admin = f.admin();
    assert_eq!(
        f.auth.set_roles(&admin, "admin", vec![Role::Auditor]),
        Err(AuthError::SelfAdministration)
    );
    assert_eq!(
        f.auth.set_roles(&admin, "ghost", vec![]),
        Err(AuthError::NoSuchUser("ghost".into()))
    );
}

#[test]
fn role_changes_apply_at_the_next_request_and_are_audited() {
    let f = Fixture::new();
    f.create("alice", ar_a1());
    let s = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    let a2 = account("A2", "CN-SH");
    assert!(
        authorize(
            &f.auth.authenticate(&s.token).unwrap(),
            &Action::ReadAccount(a2.clone())
        )
        .is_err()
    );
    let new_roles = vec![
        Role::AccountRepresentative {
            accounts: accounts(&["A1", "A2"]),
        },
        Role::Auditor,
        Role::Auditor,
    ];
    f.auth.set_roles(&f.admin(), "alice", new_roles).unwrap();
    let p = f.auth.authenticate(&s.token).unwrap();
    assert_eq!(authorize(&p, &Action::ReadAccount(a2)), Ok(()));
    assert_eq!(p.roles().len(), 2, "duplicates removed");
    let change = f
        .events_of("alice")
        .into_iter()
        .find(|e| matches!(e, AuditEvent::RolesChanged { .. }))
        .unwrap();
    assert_eq!(
        change,
        AuditEvent::RolesChanged {
            before: ar_a1(),
            after: p.roles().to_vec()
        }
    );
}

#[test]
fn admin_resets_password_and_second_factor() {
    let f = Fixture::new();
    let (token, app) = f.enrolled("alice", ar_a1());
    let admin = f.admin();
    f.auth
        .reset_password(&admin, "alice", &pw("temporary password 1"))
        .unwrap();
    assert_eq!(f.auth.authenticate(&token), Err(AuthError::InvalidSession));
    let s = f
        .auth
        .sign_in("alice", &pw("temporary password 1"), SRC)
        .unwrap();
    f.auth.reset_second_factor(&admin, "alice").unwrap();
    assert_eq!(
        f.auth.authenticate(&s.token),
        Err(AuthError::InvalidSession)
    );
    let s = f
        .auth
        .sign_in("alice", &pw("temporary password 1"), SRC)
        .unwrap();
    assert!(!s.second_factor_enrolled);
    f.clock.advance(30);
    assert_eq!(
        f.auth
            .verify_second_factor(&s.token, &app.code(f.now()), SRC),
        Err(AuthError::SecondFactorNotEnrolled)
    );
    let events = f.events_of("alice");
    assert!(events.contains(&AuditEvent::PasswordReset));
    assert!(events.contains(&AuditEvent::SecondFactorReset));
}

#[test]
fn bootstrap_only_once() {
    let f = Fixture::new();
    assert_eq!(
        f.auth
            .bootstrap_administrator("second", &pw(ADMIN_PASSWORD), j("CN-JS")),
        Err(AuthError::AlreadyBootstrapped)
    );
}

// ---------------------------------------------------------------- authorization

/// Every role against every action. Columns: administrator of CN-SH, account representative of
/// A1, additional authorised representative of A1, verifier of I1, auditor, public. A1 and I1
/// are in CN-SH, A2 and I2 in CN-JS.
#[test]
fn authorization_matrix() {
    let other = UserId(999);
    let a1 = account("A1", "CN-SH");
    let a2 = account("A2", "CN-JS");
    let roles = [
        Role::RegistryAdministrator {
            jurisdiction: j("CN-SH"),
        },
        Role::AccountRepresentative {
            accounts: accounts(&["A1"]),
        },
        Role::AdditionalAuthorisedRepresentative {
            accounts: accounts(&["A1"]),
        },
        Role::Verifier {
            installations: [InstallationId::new("I1").unwrap()].into_iter().collect(),
        },
        Role::Auditor,
        Role::Public,
    ];
    #[rustfmt::skip]
    let table: Vec<(Action, &str)> = vec![
        //                                                            adm ar aar ver aud pub
        (Action::ReadPublic,                                          "Y  Y  Y   Y   Y   Y"),
        (Action::ReadAccount(a1.clone()),                             "Y  Y  Y   .   Y   ."),
        (Action::ReadAccount(a2.clone()),                             ".  .  .   .   Y   ."),
        (Action::InitiateMovement(a1.clone()),                        ".  Y  .   .   .   ."),
        (Action::InitiateMovement(a2.clone()),                        ".  .  .   .   .   ."),
        (Action::ApproveMovement { account: a1.clone(), initiator: other }, ".  .  Y   .   .   ."),
        (Action::ApproveMovement { account: a2.clone(), initiator: other }, ".  .  .   .   .   ."),
        (Action::ReadCompliance,                                      "Y  .  .   .   Y   ."),
        (Action::EnterEmissions(installation("I1", "CN-SH")),         "Y  .  .   Y   .   ."),
        (Action::EnterEmissions(installation("I2", "CN-JS")),         ".  .  .   .   .   ."),
        (Action::Administer(j("CN-SH")),                              "Y  .  .   .   .   ."),
        (Action::Administer(j("CN-JS")),                              ".  .  .   .   .   ."),
        (Action::ReadUsers,                                           "Y  .  .   .   Y   ."),
        (Action::ManageUsers,                                         "Y  .  .   .   .   ."),
        (Action::ReadAudit,                                           "Y  .  .   .   Y   ."),
    ];
    let second_factor_actions: Vec<bool> = table
        .iter()
        .map(|(a, _)| a.requires_second_factor())
        .collect();
    assert_eq!(
        second_factor_actions,
        [
            false, false, false, true, true, true, true, false, false, false, true, true, false,
            true, false
        ]
    );
    let mut cells = 0;
    for (action, row) in &table {
        let expected: Vec<bool> = row.split_whitespace().map(|c| c == "Y").collect();
        assert_eq!(expected.len(), roles.len(), "{action}");
        for (role, allowed) in roles.iter().zip(expected) {
            assert_eq!(role_permits(role, action), allowed, "{role:?} / {action}");
            for second_factor in [false, true] {
                let p = Principal {
                    user: Some(UserId(1)),
                    username: Some("someone".into()),
                    roles: vec![role.clone()],
                    second_factor,
                };
                let want = if !allowed {
                    Err(Denied::NotPermitted(action.clone()))
                } else if action.requires_second_factor() && !second_factor {
                    Err(Denied::SecondFactorRequired(action.clone()))
                } else {
                    Ok(())
                };
                assert_eq!(
                    authorize(&p, action),
                    want,
                    "{role:?} / {action} / 2FA {second_factor}"
                );
                cells += 1;
            }
        }
        // Anonymous: the public row.
        let want_public = *action == Action::ReadPublic;
        assert_eq!(
            authorize(&Principal::anonymous(), action).is_ok(),
            want_public,
            "{action}"
        );
        // No roles at all: public reports only.
        let nobody = Principal {
            user: Some(UserId(2)),
            username: Some("nobody".into()),
            roles: vec![],
            second_factor: true,
        };
        assert_eq!(authorize(&nobody, action).is_ok(), want_public, "{action}");
    }
    assert_eq!(cells, 15 * 6 * 2);
}

#[test]
fn four_eyes_refuses_self_approval_even_with_both_roles() {
    let a1 = account("A1", "CN-SH");
    let both = Principal {
        user: Some(UserId(7)),
        username: Some("carol".into()),
        roles: vec![
            Role::AccountRepresentative {
                accounts: accounts(&["A1"]),
            },
            Role::AdditionalAuthorisedRepresentative {
                accounts: accounts(&["A1"]),
            },
        ],
        second_factor: true,
    };
    assert_eq!(
        authorize(&both, &Action::InitiateMovement(a1.clone())),
        Ok(())
    );
    assert_eq!(
        authorize(
            &both,
            &Action::ApproveMovement {
                account: a1.clone(),
                initiator: UserId(7)
            }
        ),
        Err(Denied::SameInitiator)
    );
    assert_eq!(
        authorize(
            &both,
            &Action::ApproveMovement {
                account: a1,
                initiator: UserId(8)
            }
        ),
        Ok(())
    );
}

#[test]
fn roles_serialise_with_a_tag() {
    let role = Role::AccountRepresentative {
        accounts: accounts(&["OHA-AT-47"]),
    };
    let json = serde_json::to_string(&role).unwrap();
    assert_eq!(
        json,
        r#"{"role":"account_representative","accounts":["OHA-AT-47"]}"#
    );
    assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
    assert!(
        serde_json::from_str::<Role>(r#"{"role":"registry_administrator","jurisdiction":"cn"}"#)
            .is_err()
    );
}

// ---------------------------------------------------------------- audit log

#[test]
fn audit_rows_are_written_for_every_attempt_and_cannot_be_changed() {
    let f = Fixture::new();
    let (token, app) = f.enrolled("alice", ar_a1());
    let _ = f.auth.sign_in("alice", &pw("wrong password!"), SRC);
    f.clock.advance(30);
    let _ = f
        .auth
        .verify_second_factor(&token, &app.wrong_code(f.now()), SRC);
    f.auth
        .verify_second_factor(&token, &app.code(f.now()), SRC)
        .unwrap();

    let rows = f.audit();
    assert!(rows.windows(2).all(|w| w[1].seq == w[0].seq + 1));
    assert_eq!(rows[0].seq, 1);
    assert_eq!(rows[0].actor.as_deref(), Some("bootstrap"));
    let alice: Vec<&AuditRecord> = rows
        .iter()
        .filter(|r| r.username.as_deref() == Some("alice"))
        .collect();
    let kinds: Vec<&str> = alice.iter().map(|r| r.event.kind()).collect();
    assert_eq!(
        kinds,
        [
            "user_created",
            "sign_in",
            "second_factor_enrolment_started",
            "second_factor_enrolled",
            "sign_in",
            "second_factor",
            "second_factor"
        ]
    );
    assert_eq!(
        alice[4].event,
        AuditEvent::SignIn {
            outcome: SignInOutcome::WrongPassword
        }
    );
    assert_eq!(alice[4].source.as_deref(), Some(SRC));
    assert_eq!(alice[6].at, f.now());

    // Paging.
    let auditor = Principal {
        user: None,
        username: Some("auditor".into()),
        roles: vec![Role::Auditor],
        second_factor: false,
    };
    let page = f.auth.audit_log(&auditor, 3, 2).unwrap();
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [4, 5]);
    // Only auditors and administrators read it.
    let alice_p = f.auth.authenticate(&token).unwrap();
    assert!(matches!(
        f.auth.audit_log(&alice_p, 0, 10),
        Err(AuthError::Denied(Denied::NotPermitted(Action::ReadAudit)))
    ));

    // Append-only at the SQL level.
    let store = f.auth.store();
    let conn = store.connection();
    for sql in [
        "UPDATE audit SET kind = 'nothing' WHERE seq = 1",
        "UPDATE audit SET outcome = 'success'",
        "DELETE FROM audit WHERE seq = 2",
        "DELETE FROM audit",
        "INSERT OR REPLACE INTO audit (seq, at, kind, outcome, detail) VALUES (1, 0, 'x', 'success', '{}')",
        "INSERT INTO audit (seq, at, kind, outcome, detail) VALUES (0, 0, 'x', 'success', '{}')",
    ] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("audit is append-only"), "{sql}: {err}");
    }
    let err = conn
        .execute("DELETE FROM users WHERE username = 'alice'", [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("never deleted"), "{err}");
    let count: i64 = conn
        .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(usize::try_from(count).unwrap(), rows.len());
}

#[test]
fn no_secret_reaches_the_audit_log() {
    let f = Fixture::new();
    let (token, app) = f.enrolled("alice", ar_a1());
    let _ = f.auth.sign_in("alice", &pw("a very wrong password"), SRC);
    f.clock.advance(30);
    let code = app.code(f.now());
    f.auth.verify_second_factor(&token, &code, SRC).unwrap();
    let store = f.auth.store();
    let dump: Vec<String> = store
        .connection()
        .prepare("SELECT COALESCE(username, '') || COALESCE(actor, '') || COALESCE(source, '') || detail FROM audit")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let all = dump.join("\n");
    for secret in [
        ALICE_PASSWORD,
        ADMIN_PASSWORD,
        "a very wrong password",
        &code,
        token.as_str(),
    ] {
        assert!(!all.contains(secret), "{secret:?} in the audit log");
    }
}

// ---------------------------------------------------------------- the file store

#[test]
fn file_store_uses_wal_full_sync_private_mode_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(T0)));
    {
        let store = UserStore::open(dir.path()).unwrap();
        assert_eq!(store.path(), Some(dir.path().join(FILE_NAME).as_path()));
        let mode: String = store
            .connection()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = store
            .connection()
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let app_id: i32 = store
            .connection()
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .unwrap();
        assert_eq!(app_id, APPLICATION_ID);
        let auth = Auth::new(store, clock.clone(), AuthConfig::insecure_for_tests()).unwrap();
        auth.bootstrap_administrator("admin", &pw(ADMIN_PASSWORD), j("CN-SH"))
            .unwrap();
        for _ in 0..5 {
            let _ = auth.sign_in("admin", &pw("wrong password!"), SRC);
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Reopened: the user, the lock and the log are still there.
    let auth = Auth::new(
        UserStore::open(dir.path()).unwrap(),
        clock.clone(),
        AuthConfig::insecure_for_tests(),
    )
    .unwrap();
    assert_eq!(
        auth.sign_in("admin", &pw(ADMIN_PASSWORD), SRC),
        Err(AuthError::SourceLocked {
            retry_after_secs: 900
        })
    );
    assert_eq!(
        auth.sign_in("admin", &pw(ADMIN_PASSWORD), "elsewhere"),
        Err(AuthError::InvalidCredentials)
    );
    clock.advance(900);
    assert!(auth.sign_in("admin", &pw(ADMIN_PASSWORD), SRC).is_ok());
}

#[test]
fn a_foreign_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE something (x INTEGER);")
        .unwrap();
    drop(conn);
    let err = UserStore::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("not a yrd-ets user store"), "{err}");
}

#[test]
fn application_id_literal_matches_the_constant() {
    assert_eq!(APPLICATION_ID, 1_498_563_669);
    assert_eq!(SCHEMA_VERSION, 1);
}

#[test]
fn purge_deletes_old_sessions_only() {
    let f = Fixture::new();
    f.create("alice", ar_a1());
    let old = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    f.auth.sign_out(&old.token).unwrap();
    f.clock.advance(8 * 3600 + 1);
    let live = f.auth.sign_in("alice", &pw(ALICE_PASSWORD), SRC).unwrap();
    let (sessions, _) = f.auth.purge().unwrap();
    assert!(sessions >= 1);
    assert!(f.auth.authenticate(&live.token).is_ok());
    assert_eq!(
        f.auth.authenticate(&old.token),
        Err(AuthError::InvalidSession)
    );
}

#[test]
fn invalid_configurations_are_refused() {
    let mut c = AuthConfig::insecure_for_tests();
    c.session.idle_timeout_secs = 0;
    assert!(matches!(c.validate(), Err(AuthError::Config(m)) if m.contains("idle_timeout_secs")));
    let mut c = AuthConfig::insecure_for_tests();
    c.session.absolute_lifetime_secs = 10;
    assert!(c.validate().is_err());
    let mut c = AuthConfig::insecure_for_tests();
    c.argon2.memory_kib = 1;
    assert!(matches!(c.validate(), Err(AuthError::Config(_))));
    let mut c = AuthConfig::insecure_for_tests();
    c.totp_issuer = "a:b".into();
    assert!(c.validate().is_err());
    assert!(AuthConfig::default().validate().is_ok());
    // From TOML-like JSON with defaults filled in.
    let c: AuthConfig = serde_json::from_str(r#"{"session":{"idle_timeout_secs":300}}"#).unwrap();
    assert_eq!(c.session.idle_timeout_secs, 300);
    assert_eq!(c.session.absolute_lifetime_secs, 28_800);
    assert_eq!(c.lockout, LockoutPolicy::default());
}

#[test]
fn auth_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Auth>();
}

#[test]
fn concurrent_failures_lock_exactly_once() {
    let f = Fixture::new();
    f.create("alice", ar_a1());
    std::thread::scope(|scope| {
        for i in 0..10 {
            let auth = &f.auth;
            scope.spawn(move || {
                assert_eq!(
                    auth.sign_in("alice", &pw("wrong password!"), &format!("10.9.0.{i}"))
                        .unwrap_err(),
                    AuthError::InvalidCredentials
                );
            });
        }
    });
    let events = f.events_of("alice");
    let count = |wanted: &dyn Fn(&AuditEvent) -> bool| events.iter().filter(|e| wanted(e)).count();
    let wrong = AuditEvent::SignIn {
        outcome: SignInOutcome::WrongPassword,
    };
    let locked = AuditEvent::SignIn {
        outcome: SignInOutcome::UserLocked,
    };
    assert_eq!(count(&|e| *e == wrong), 5);
    assert_eq!(count(&|e| *e == locked), 5);
    assert_eq!(count(&|e| matches!(e, AuditEvent::UserLockedOut { .. })), 1);
    assert!(
        f.auth
            .user_status(&f.admin(), "alice")
            .unwrap()
            .locked_until
            .is_some()
    );
}

#[test]
fn refusals_are_audited_append_only() {
    let f = Fixture::new();
    let (token, _) = f.enrolled("alice", ar_a1());
    let p = f.auth.authenticate(&token).unwrap();
    let seq = f
        .auth
        .record_refusal(
            &p,
            Some(SRC),
            "place_order 2:o-1: initiate a movement from account A1",
            "SECOND_FACTOR_REQUIRED",
            "needs a one-time password",
        )
        .unwrap();
    let log = f.auth.audit_log(&f.admin(), seq - 1, 10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].username.as_deref(), Some("alice"));
    assert_eq!(log[0].source.as_deref(), Some(SRC));
    assert_eq!(
        log[0].event,
        AuditEvent::Refused {
            action: "place_order 2:o-1: initiate a movement from account A1".into(),
            code: "SECOND_FACTOR_REQUIRED".into(),
            message: "needs a one-time password".into(),
        }
    );
    assert_eq!(log[0].event.kind(), "refused");
    assert!(!log[0].event.is_success());
}

#[test]
fn a_group_of_notes_is_written_together_in_order() {
    let f = Fixture::new();
    let (token, _) = f.enrolled("alice", ar_a1());
    let p = f.auth.authenticate(&token).unwrap();
    let before = f.auth.audit_log(&f.admin(), 0, 1000).unwrap().len();
    let notes = vec![
        (
            p.clone(),
            Some(SRC.to_string()),
            crate::AuditNote::Approved {
                action: "approve_transfer T-1".into(),
                transaction: "7:a-1".into(),
            },
        ),
        (
            p,
            None,
            crate::AuditNote::Refused {
                action: "approve_transfer T-2".into(),
                code: "FORBIDDEN".into(),
                message: "four eyes".into(),
            },
        ),
    ];
    f.auth.record_notes(&notes).unwrap();
    let log = f.auth.audit_log(&f.admin(), 0, 1000).unwrap();
    assert_eq!(log.len(), before + 2);
    let added = &log[before..];
    assert_eq!(
        added[0].event,
        AuditEvent::Approved {
            action: "approve_transfer T-1".into(),
            transaction: "7:a-1".into(),
        }
    );
    assert_eq!(added[0].event.kind(), "approved");
    assert!(added[0].event.is_success());
    assert_eq!(added[1].event.kind(), "refused");
    assert_eq!(added[1].source, None);
    assert!(added[0].seq < added[1].seq);
}

#[test]
fn session_status_reports_the_end_and_the_enrolment() {
    let f = Fixture::new();
    f.create("bob", ar_a1());
    let s = f.auth.sign_in("bob", &pw(ALICE_PASSWORD), SRC).unwrap();
    let status = f.auth.session_status(&s.token).unwrap();
    assert_eq!(status.expires_at, s.expires_at);
    assert!(!status.second_factor_enrolled);
    assert_eq!(status.principal.username(), Some("bob"));
    f.auth.sign_out(&s.token).unwrap();
    assert_eq!(
        f.auth.session_status(&s.token),
        Err(AuthError::InvalidSession)
    );
}

#[test]
fn the_operator_provisions_users_and_second_factors() {
    let f = Fixture::new();
    f.auth
        .provision_user("carol", &pw(ALICE_PASSWORD), ar_a1())
        .unwrap();
    assert!(matches!(
        f.auth.provision_user("carol", &pw(ALICE_PASSWORD), vec![]),
        Err(AuthError::UsernameTaken(_))
    ));
    assert!(matches!(
        f.auth.provision_totp("carol", Some(vec![1; 8])),
        Err(AuthError::Config(_))
    ));
    let secret = b"12345678901234567890".to_vec();
    let enrolment = f
        .auth
        .provision_totp("carol", Some(secret.clone()))
        .unwrap();
    assert_eq!(enrolment.secret_base32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    let s = f.auth.sign_in("carol", &pw(ALICE_PASSWORD), SRC).unwrap();
    assert!(s.second_factor_enrolled);
    let code = crate::totp::code_at(&secret, 6, f.now().unix_seconds() as u64).unwrap();
    assert!(
        f.auth
            .verify_second_factor(&s.token, &code, SRC)
            .unwrap()
            .has_second_factor()
    );
    f.auth
        .provision_suspension("carol", Some("left the company"))
        .unwrap();
    assert_eq!(
        f.auth.authenticate(&s.token),
        Err(AuthError::InvalidSession)
    );
    let users = f.auth.provision_users().unwrap();
    let carol = users.iter().find(|u| u.username == "carol").unwrap();
    assert!(carol.suspended.is_some() && carol.second_factor_enrolled);
    f.auth.provision_suspension("carol", None).unwrap();
    let log = f.auth.audit_log(&f.admin(), 0, 1_000).unwrap();
    assert!(
        log.iter().any(|r| r.actor.as_deref() == Some("operator")
            && r.event == AuditEvent::SecondFactorEnrolled)
    );
}
