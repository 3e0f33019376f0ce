//! The OpenAPI document, generated: every route registered through `utoipa_axum` contributes its
//! `#[utoipa::path]` (method, path, parameters, responses), every body type its derived schema.
//! Nothing here is written by hand except the document's title and tags.
//!
//! The registry's `Command` and `Effect` are large tagged enums owned by `yrd-registry` (which
//! does not depend on utoipa); their schemas are objects with a `type` (`effect`) discriminator
//! whose allowed values are read from the enums themselves at run time (serde lists a tagged
//! enum's variants when it meets an unknown one), so the list cannot drift from the code.

use crate::error::{ErrorBody, ErrorDetail, ViolationBody};
use crate::stream::{BlockTradeEvent, QuoteEvent, TradeEvent};
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use yrd_registry::{Command, Effect};

/// The document's frame; paths are added by the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "yrd-ets API",
        description = "HTTP JSON API of the yrd-ets registry, exchange and compliance service. \
            Quantities are integers in the unit type's base unit; prices and money in the \
            currency's minor unit. Every error has the body {\"error\": {\"code\", \"message\", \
            \"field\"}}. State-changing requests need an Idempotency-Key header. Sign in with \
            POST /v1/session; send the token as `Authorization: Bearer <token>` or the \
            yrd_session cookie.",
        license(name = "Apache-2.0")
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        ViolationBody,
        TradeEvent,
        BlockTradeEvent,
        QuoteEvent
    )),
    tags(
        (name = "service", description = "Liveness, readiness, metrics, this document"),
        (name = "accounts", description = "Holdings, cash and open orders of an account"),
        (name = "registry", description = "Compliance table, supply, net flows"),
        (name = "market", description = "Exchange market data and the live stream"),
        (name = "auctions", description = "Primary-market auctions and call markets"),
        (name = "transactions", description = "Submitting registry transactions"),
        (name = "session", description = "Sign-in, second factor, sign-out, authenticator enrolment, password"),
        (name = "users", description = "Users (administrators; auditors read) and the authentication audit log")
    )
)]
pub struct ApiDoc;

/// Schema stand-in for `yrd_registry::Command`.
pub struct CommandDoc;

/// Schema stand-in for `yrd_registry::Effect`.
pub struct EffectDoc;

/// The variant names of a serde enum internally tagged with `tag`, in declaration order.
pub fn variant_names<T: DeserializeOwned>(tag: &str) -> Vec<String> {
    let probe = serde_json::json!({ tag: "\u{1}" });
    let Err(e) = serde_json::from_value::<T>(probe) else {
        return Vec::new();
    };
    let message = e.to_string();
    let Some((_, expected)) = message.split_once("expected ") else {
        return Vec::new();
    };
    let expected = expected.strip_prefix("one of ").unwrap_or(expected);
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Every command type (`transfer`, `place_order`, ...).
pub fn command_types() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| variant_names::<Command>("type"))
}

/// Every effect type (`moved`, `traded`, ...).
pub fn effect_types() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| variant_names::<Effect>("effect"))
}

fn tagged_object(description: &str, tag: &str, names: &[String]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .description(Some(description))
        .property(
            tag,
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names.iter().cloned())),
        )
        .required(tag)
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .into()
}

impl utoipa::PartialSchema for CommandDoc {
    fn schema() -> RefOr<Schema> {
        tagged_object(
            "A registry command: `type` names it, the other members are its fields (see \
             yrd_registry::Command; e.g. transfer: from, to, class, quantity).",
            "type",
            command_types(),
        )
    }
}

impl utoipa::ToSchema for CommandDoc {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Command")
    }
}

impl utoipa::PartialSchema for EffectDoc {
    fn schema() -> RefOr<Schema> {
        tagged_object(
            "One thing a transaction did: `effect` names it (see yrd_registry::Effect).",
            "effect",
            effect_types(),
        )
    }
}

impl utoipa::ToSchema for EffectDoc {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Effect")
    }
}
