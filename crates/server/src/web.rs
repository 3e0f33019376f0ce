//! The web interface: a small vanilla-JS front end (no framework, no build step, nothing fetched
//! from elsewhere at run time) embedded in the binary and served beside the API.
//!
//! The files live in `crates/server/web/`: one HTML shell (`index.html`) served for every page
//! URL, the client-side router and pages (`app.js`), the Chinese/English dictionary (`i18n.js`)
//! and the style sheet (`style.css`). The pages read the JSON API under `/v1` with the browser's
//! session cookie (`credentials: 'same-origin'`) and never see a token.
//!
//! Every response carries a strict Content-Security-Policy (`default-src 'self'`, no inline
//! scripts or styles, no framing), `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and
//! `Referrer-Policy: no-referrer`. The files are served with `Cache-Control: no-cache` and a
//! strong `ETag` (a hash of the embedded bytes), so a browser revalidates cheaply (304) and never
//! keeps a stale copy after an upgrade.
//!
//! Page URLs (each works on reload: the server answers the shell, the script renders the page):
//! `/`, `/market/{class}`, `/accounts/{id}`, `/approvals`, `/compliance`, `/auctions`,
//! `/auctions/{ref}`, `/transparency`, `/sign-in`.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX_HTML: &str = include_str!("../web/index.html");
const APP_JS: &str = include_str!("../web/app.js");
const I18N_JS: &str = include_str!("../web/i18n.js");
const STYLE_CSS: &str = include_str!("../web/style.css");
const FAVICON_SVG: &str = include_str!("../web/favicon.svg");

/// The Content-Security-Policy of every page and asset.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The page routes: every one answers the HTML shell.
pub const PAGES: &[&str] = &[
    "/",
    "/market/{*class}",
    "/accounts/{id}",
    "/approvals",
    "/compliance",
    "/auctions",
    "/auctions/{*reference}",
    "/transparency",
    "/sign-in",
];

/// An embedded file.
#[derive(Clone, Copy)]
struct Asset {
    body: &'static str,
    content_type: &'static str,
}

/// The router of the web interface (pages and `/assets/*`), without state.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let shell = Asset {
        body: INDEX_HTML,
        content_type: "text/html; charset=utf-8",
    };
    let mut router = Router::new();
    for page in PAGES {
        router = router.route(page, get(move |h: HeaderMap| serve(shell, h)));
    }
    for (path, body, content_type) in [
        ("/assets/app.js", APP_JS, "text/javascript; charset=utf-8"),
        ("/assets/i18n.js", I18N_JS, "text/javascript; charset=utf-8"),
        ("/assets/style.css", STYLE_CSS, "text/css; charset=utf-8"),
        ("/assets/favicon.svg", FAVICON_SVG, "image/svg+xml"),
    ] {
        let asset = Asset { body, content_type };
        router = router.route(path, get(move |h: HeaderMap| serve(asset, h)));
    }
    router
}

/// A strong entity tag: FNV-1a (64 bit) of the bytes. Not cryptographic; it only has to change
/// when the embedded file does.
fn etag(body: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("\"{hash:016x}\"")
}

async fn serve(asset: Asset, request: HeaderMap) -> Response {
    let tag = etag(asset.body);
    let not_modified = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = asset.body.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        r
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    security_headers(headers);
    response
}

/// The security headers of the web interface.
pub fn security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_loads_only_its_own_files() {
        // No inline script or style, nothing from another origin.
        assert!(!INDEX_HTML.contains("<script>"));
        assert!(!INDEX_HTML.contains("style="));
        assert!(!INDEX_HTML.contains("http://") && !INDEX_HTML.contains("https://"));
        for asset in ["/assets/app.js", "/assets/i18n.js", "/assets/style.css"] {
            assert!(INDEX_HTML.contains(asset), "{asset}");
        }
        for text in [APP_JS, I18N_JS, STYLE_CSS] {
            // The SVG namespace is a name, not a download.
            let text = text.replace("http://www.w3.org/2000/svg", "");
            assert!(!text.contains("https://") && !text.contains("http://"));
        }
    }

    #[test]
    fn etags_change_with_content() {
        assert_ne!(etag("a"), etag("b"));
        assert_eq!(etag("a"), etag("a"));
    }
}
