//! Extractors that turn every malformed input into an [`ApiError`] with the one error body: a JSON
//! body ([`JsonBody`]: syntax errors with line and column, unknown fields, wrong types, the size
//! limit), query strings ([`ApiQuery`]), path segments ([`ApiPath`]) and the `Idempotency-Key`
//! header ([`IdempotencyKey`]).

use crate::BODY_LIMIT;
use crate::error::{ApiError, codes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;
use serde_json::Value;
use yrd_types::TransactionId;

/// The header that carries the idempotency key of a state-changing request.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// A JSON request body, at most [`BODY_LIMIT`] bytes, `Content-Type: application/json`.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json(content_type) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                format!("the body must be application/json, not {content_type:?}"),
                Some("Content-Type"),
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
            .await
            .map_err(|e| {
                if is_length_limit(&e) {
                    crate::error::for_status(StatusCode::PAYLOAD_TOO_LARGE)
                } else {
                    ApiError::bad_request(
                        codes::MALFORMED_JSON,
                        format!("the request body could not be read: {e}"),
                        None,
                    )
                }
            })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Whether a `Content-Type` is JSON (`application/json` or `application/*+json`).
pub fn is_json(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// Parses `bytes` as one JSON value of type `T`, mapping every failure to a 400 with a precise
/// code, the field concerned and, for syntax errors, the line and column.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| json_error(bytes, e))?;
    de.end().map_err(|e| {
        ApiError::bad_request(
            codes::MALFORMED_JSON,
            format!(
                "malformed JSON at line {} column {}: {}",
                e.line(),
                e.column(),
                strip_position(&e.to_string())
            ),
            None,
        )
    })?;
    Ok(value)
}

/// serde_json appends " at line L column C" to its messages; the API states the position itself.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => message[..i].to_string(),
        _ => message.to_string(),
    }
}

fn json_error(bytes: &[u8], e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_json::error::Category;
    let segments: Vec<String> = e.path().iter().filter_map(segment_name).collect();
    let inner = e.into_inner();
    let (line, column) = (inner.line(), inner.column());
    let message = strip_position(&inner.to_string());
    if !matches!(inner.classify(), Category::Data) {
        return ApiError::bad_request(
            codes::MALFORMED_JSON,
            format!("malformed JSON at line {line} column {column}: {message}"),
            None,
        );
    }
    let code = if message.starts_with("unknown field") {
        codes::UNKNOWN_FIELD
    } else if message.starts_with("missing field") {
        codes::MISSING_FIELD
    } else if message.starts_with("invalid type") {
        codes::WRONG_TYPE
    } else {
        codes::INVALID_VALUE
    };
    let field = locate_field(bytes, segments, code, &message);
    let field = (!field.is_empty()).then_some(field);
    ApiError::bad_request(
        code,
        format!("{message} (line {line} column {column})"),
        field.as_deref(),
    )
}

fn segment_name(segment: &serde_path_to_error::Segment) -> Option<String> {
    use serde_path_to_error::Segment;
    match segment {
        Segment::Map { key } => Some(key.clone()),
        Segment::Seq { index } => Some(index.to_string()),
        Segment::Enum { .. } | Segment::Unknown => None,
    }
}

/// The dotted path of the field an error concerns. serde's path stops where a value had to be
/// buffered (the registry's commands are internally tagged enums), so the field inside is
/// recovered from the message: the name in backticks for unknown and missing fields, `type` for
/// an unknown command type, and for a wrong value the one member whose value the message quotes.
fn locate_field(bytes: &[u8], mut path: Vec<String>, code: &str, message: &str) -> String {
    let named = backticked(message);
    match code {
        codes::UNKNOWN_FIELD | codes::MISSING_FIELD => {
            if let Some(name) = named
                && path.last() != Some(&name)
            {
                path.push(name);
            }
        }
        _ => {
            let body: Option<Value> = serde_json::from_slice(bytes).ok();
            let at = body.as_ref().and_then(|b| walk(b, &path));
            if let Some(Value::Object(members)) = at {
                if message.starts_with("unknown variant") && members.contains_key("type") {
                    path.push("type".into());
                } else if let Some(key) = quoted_member(members, message) {
                    path.push(key);
                }
            }
        }
    }
    path.join(".")
}

fn backticked(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

fn walk<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, segment| match v {
        Value::Object(m) => m.get(segment),
        Value::Array(a) => a.get(segment.parse::<usize>().ok()?),
        _ => None,
    })
}

/// The single member of `members` whose value the message quotes (serde quotes a string as
/// `"value"` and a number or boolean as `` `value` ``), if exactly one matches.
fn quoted_member(members: &serde_json::Map<String, Value>, message: &str) -> Option<String> {
    let matches = |v: &Value| match v {
        Value::String(s) => message.contains(&format!("{s:?}")),
        Value::Number(n) => message.contains(&format!("`{n}`")),
        Value::Bool(b) => message.contains(&format!("`{b}`")),
        Value::Null => message.starts_with("invalid type: null"),
        Value::Object(_) => message.starts_with("invalid type: map"),
        Value::Array(_) => message.starts_with("invalid type: sequence"),
    };
    let mut found = members.iter().filter(|(k, v)| *k != "type" && matches(v));
    match (found.next(), found.next()) {
        (Some((key, _)), None) => Some(key.clone()),
        _ => None,
    }
}

/// Query parameters of type `T` (which should deny unknown fields): a parameter that does not
/// parse, is unknown or is refused by `T` gives 400 `INVALID_QUERY` naming it.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or("")).map(ApiQuery)
    }
}

/// Parses a query string into `T`; see [`ApiQuery`].
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let mut field: Vec<String> = e.path().iter().filter_map(segment_name).collect();
        let message = e.inner().to_string();
        if field.is_empty()
            && (message.starts_with("unknown field") || message.starts_with("missing field"))
            && let Some(name) = backticked(&message)
        {
            field.push(name);
        }
        let field = field.join(".");
        let shown = if field.is_empty() {
            message
        } else {
            format!("query parameter `{field}`: {message}")
        };
        ApiError::bad_request(
            codes::INVALID_QUERY,
            shown,
            (!field.is_empty()).then_some(field.as_str()),
        )
    })
}

/// Path parameters of type `T`, percent-decoded (a unit class `CN-SH/CEA/2019` is written
/// `CN-SH%2FCEA%2F2019`); a segment that does not decode gives 400 `INVALID_PATH`.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| ApiError::bad_request(codes::INVALID_PATH, e.body_text(), None))
    }
}

/// The `Idempotency-Key` header, required on every state-changing request: it becomes the
/// registry transaction id (1-128 characters from letters, digits and `-_.:/`). Missing: 400
/// `MISSING_IDEMPOTENCY_KEY`; malformed: 400 `INVALID_IDEMPOTENCY_KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub TransactionId);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(IDEMPOTENCY_KEY) else {
            return Err(ApiError::bad_request(
                codes::MISSING_IDEMPOTENCY_KEY,
                "state-changing requests need an Idempotency-Key header; it becomes the transaction id, \
                 so a retry with the same key and body returns the original receipt",
                Some(IDEMPOTENCY_KEY),
            ));
        };
        let text = value.to_str().map_err(|_| {
            ApiError::bad_request(
                codes::INVALID_IDEMPOTENCY_KEY,
                "the Idempotency-Key header is not visible ASCII",
                Some(IDEMPOTENCY_KEY),
            )
        })?;
        TransactionId::new(text).map(IdempotencyKey).map_err(|e| {
            ApiError::bad_request(
                codes::INVALID_IDEMPOTENCY_KEY,
                e.to_string(),
                Some(IDEMPOTENCY_KEY),
            )
        })
    }
}
