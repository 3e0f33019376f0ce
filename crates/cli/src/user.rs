//! `yrd-ets user ...`: provisioning users directly in `<data_dir>/users.db` (the machine's
//! operator; the server's `/v1/users` is for administrators signed in over HTTP). Passwords never
//! come on the command line: `--password-env VAR` or `--password-stdin`.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use yrd_auth::{Auth, AuthConfig, Password, Role, SystemClock, UserStore};

/// Where the password comes from.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct PasswordSource {
    /// Read the password from this environment variable.
    #[arg(long)]
    password_env: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

/// `yrd-ets user`.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Creates the first user, a registry administrator of a jurisdiction, in an empty store.
    Bootstrap {
        /// Data directory (the user store is `users.db` in it).
        #[arg(long)]
        data_dir: PathBuf,
        /// Username.
        #[arg(long)]
        username: String,
        /// Jurisdiction administered, e.g. CN-SH.
        #[arg(long)]
        jurisdiction: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Creates a user. Roles as yrd-auth's JSON, repeatable:
    /// `--role '{"role":"account_representative","accounts":["TR-SH-001"]}'`,
    /// `--role '{"role":"registry_administrator","jurisdiction":"CN-SH"}'`, `--role '{"role":"auditor"}'`.
    Add {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Username.
        #[arg(long)]
        username: String,
        /// A role (JSON); repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Sets the user's authenticator-app secret and prints it and the otpauth URI once. Revokes
    /// the user's sessions.
    EnrolTotp {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Username.
        #[arg(long)]
        username: String,
        /// Use this secret (base32, at least 128 bits) instead of a random one: for provisioning
        /// and test fixtures.
        #[arg(long)]
        secret: Option<String>,
    },
    /// Lists users: roles, suspension, lock-out, second factor.
    List {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Suspends a user (sign-in refused, sessions revoked).
    Suspend {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Username.
        #[arg(long)]
        username: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Lifts a suspension.
    Reinstate {
        /// Data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// Username.
        #[arg(long)]
        username: String,
    },
}

pub(crate) fn open(data_dir: &Path) -> Result<Auth> {
    let store = UserStore::open(data_dir)?;
    Ok(Auth::new(
        store,
        Arc::new(SystemClock),
        AuthConfig::default(),
    )?)
}

fn read_password(source: &PasswordSource) -> Result<Password> {
    if let Some(var) = &source.password_env {
        let value = std::env::var(var)
            .with_context(|| format!("the environment variable {var} holds no password"))?;
        return Ok(Password::new(value));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let line = line.trim_end_matches(['\n', '\r']).to_string();
    if line.is_empty() {
        bail!("no password on standard input");
    }
    Ok(Password::new(line))
}

/// Runs a `user` subcommand.
pub fn run(command: UserCommand) -> Result<ExitCode> {
    match command {
        UserCommand::Bootstrap {
            data_dir,
            username,
            jurisdiction,
            password,
        } => {
            let auth = open(&data_dir)?;
            let jurisdiction = yrd_types::JurisdictionCode::new(&jurisdiction)?;
            let id =
                auth.bootstrap_administrator(&username, &read_password(&password)?, jurisdiction)?;
            println!(
                "created {username} ({id}), registry administrator; enrol a second factor with `yrd-ets user enrol-totp`"
            );
        }
        UserCommand::Add {
            data_dir,
            username,
            roles,
            password,
        } => {
            let roles = roles
                .iter()
                .map(|r| serde_json::from_str::<Role>(r).with_context(|| format!("--role {r}")))
                .collect::<Result<Vec<_>>>()?;
            let auth = open(&data_dir)?;
            let id = auth.provision_user(&username, &read_password(&password)?, roles)?;
            println!("created {username} ({id})");
        }
        UserCommand::EnrolTotp {
            data_dir,
            username,
            secret,
        } => {
            let secret = match secret {
                Some(text) => Some(
                    totp_rs::Secret::Encoded(text.to_ascii_uppercase())
                        .to_bytes()
                        .map_err(|e| anyhow::anyhow!("--secret is not base32: {e:?}"))?,
                ),
                None => None,
            };
            let auth = open(&data_dir)?;
            let enrolment = auth.provision_totp(&username, secret)?;
            println!("secret_base32 {}", enrolment.secret_base32);
            println!("otpauth_uri   {}", enrolment.otpauth_uri);
        }
        UserCommand::List { data_dir } => {
            let auth = open(&data_dir)?;
            for u in auth.provision_users()? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    u.user.0,
                    u.username,
                    serde_json::to_string(&u.roles)?,
                    if u.second_factor_enrolled {
                        "totp"
                    } else {
                        "no-totp"
                    },
                    match (&u.suspended, u.locked_until) {
                        (Some(s), _) => format!("\tsuspended: {}", s.reason),
                        (None, Some(t)) => format!("\tlocked until {}", t.unix_seconds()),
                        (None, None) => String::new(),
                    }
                );
            }
        }
        UserCommand::Suspend {
            data_dir,
            username,
            reason,
        } => {
            open(&data_dir)?.provision_suspension(&username, Some(&reason))?;
            println!("suspended {username}");
        }
        UserCommand::Reinstate { data_dir, username } => {
            open(&data_dir)?.provision_suspension(&username, None)?;
            println!("reinstated {username}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
