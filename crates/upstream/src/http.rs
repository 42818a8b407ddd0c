//! The HTTP plumbing both clients share: timeouts, no redirects, a cap on the response size, the
//! classification of every failure into not found, retryable or permanent, and the containment of what
//! the upstream says (the key redacted, one short line) before it is stored, logged or served.

use std::time::{Duration, SystemTime};

use std::sync::Arc;

use countries_core::metrics::{Counted, Metric, Metrics};
use countries_core::ports::UpstreamError;
use memchr::memmem;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

/// The most of an error's body that is read: enough for an error envelope or a page's title. Only its
/// words are used, so a larger one is cut rather than refused, and its status still classifies it.
const ERROR_BODY_BYTES: usize = 16 * 1024;

/// The longest message kept from an answer, in characters: it is stored on every operation and served
/// on the anonymous `/status`, up to 100 at a time.
pub(crate) const MESSAGE_CHARS: usize = 200;

/// What stands for the key wherever an upstream sends it back.
const REDACTED: &str = "[key]";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    /// For the whole exchange, body included.
    pub timeout: Duration,
    pub max_bytes: usize,
}

pub(crate) struct Http {
    client: reqwest::Client,
    max_bytes: usize,
    /// Where the answers a person must act on are counted; nowhere until `counting`.
    pub(crate) metrics: Arc<dyn Metrics>,
}

impl Http {
    pub(crate) fn new(s: &HttpSettings) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(s.connect_timeout)
            .timeout(s.timeout)
            .user_agent(concat!("country-data-service/", env!("CARGO_PKG_VERSION")))
            // Neither v5 nor v3.1 redirects. Following one would let the upstream send the worker to
            // any host (the instance metadata, the Lambda runtime API) and publish the answer on
            // `/status`; a host-checking policy would still spend uncounted calls on every hop.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Http {
            client,
            max_bytes: s.max_bytes,
            metrics: Arc::new(Counted::default()),
        })
    }

    /// GETs `url` and reads its JSON body, classifying every failure. `not_found` recognises the
    /// upstream's own answer for "no such country" in a 404's body. Every copy of the `bearer` key in
    /// the body is replaced before anything reads it, so that no document or message can carry it.
    pub(crate) async fn get_json(
        &self,
        url: &str,
        bearer: Option<&str>,
        not_found: NotFoundBody,
    ) -> Result<Value, UpstreamError> {
        let mut request = self.client.get(url).header("accept", "application/json");
        if let Some(key) = bearer {
            request = request.bearer_auth(key);
        }
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let cap = if status.is_success() {
            self.max_bytes
        } else {
            ERROR_BODY_BYTES.min(self.max_bytes)
        };
        // Counted as it streams: `Content-Length` may be absent or lie.
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > cap {
                if !status.is_success() {
                    body.extend_from_slice(&chunk[..cap - body.len()]);
                    break;
                }
                return Err(UpstreamError::Permanent(format!(
                    "upstream response is larger than {} bytes",
                    self.max_bytes
                )));
            }
            body.extend_from_slice(&chunk);
        }
        if let Some(key) = bearer {
            body = redact(body, key);
        }
        classify(status, &headers, &body, not_found, self.metrics.as_ref())
    }
}

fn transport(e: reqwest::Error) -> UpstreamError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    UpstreamError::Retryable {
        message: format!("upstream {what}: {}", without_url(&e)),
        retry_after: None,
    }
}

/// The error's own words, without the URL (it can carry a host operators prefer not to publish).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Whether a 404's JSON body is the upstream's own "no such country" (v5's error envelope, v3.1's
/// `{"status": 404}`): any other 404 comes from a wrong path or base URL.
pub(crate) type NotFoundBody = fn(&Value) -> bool;

pub(crate) fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    not_found: NotFoundBody,
    metrics: &dyn Metrics,
) -> Result<Value, UpstreamError> {
    if status.is_success() {
        return serde_json::from_slice(body).map_err(|e| unreadable(&e, body));
    }
    let code = status.as_u16();
    if status.is_redirection() {
        metrics.count(Metric::UpstreamMisconfigured);
        // Where it points is the upstream's text, and may be an internal address: not repeated.
        return Err(UpstreamError::Permanent(format!(
            "upstream HTTP {code}, a redirect, which is not followed (is REST_COUNTRIES_URL its base URL?)"
        )));
    }
    let message = format!("upstream HTTP {code}: {}", message_of(body));
    Err(match status {
        StatusCode::NOT_FOUND
            if serde_json::from_slice::<Value>(body).is_ok_and(|v| not_found(&v)) =>
        {
            UpstreamError::NotFound(message)
        }
        StatusCode::NOT_FOUND => {
            metrics.count(Metric::UpstreamMisconfigured);
            // The hint first: the upstream's words after it are what a long message loses.
            UpstreamError::Permanent(format!(
                "upstream HTTP 404, not the upstream's answer for an unknown country (is \
                 REST_COUNTRIES_URL its base URL?): {}",
                message_of(body)
            ))
        }
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            metrics.count(Metric::UpstreamRejected);
            UpstreamError::Permanent(message)
        }
        StatusCode::TOO_MANY_REQUESTS => UpstreamError::Retryable {
            message,
            retry_after: retry_after(headers),
        },
        StatusCode::REQUEST_TIMEOUT => UpstreamError::Retryable {
            message,
            retry_after: None,
        },
        s if s.is_server_error() => UpstreamError::Retryable {
            message,
            retry_after: retry_after(headers),
        },
        _ => UpstreamError::Permanent(message),
    })
}

/// A body cut short (the JSON ends early, however the response was framed) is worth another try, like
/// any network error; a body that is not JSON is not.
fn unreadable(e: &serde_json::Error, body: &[u8]) -> UpstreamError {
    if e.is_eof() {
        return UpstreamError::Retryable {
            message: format!(
                "upstream response was cut short after {} bytes ({e})",
                body.len()
            ),
            retry_after: None,
        };
    }
    UpstreamError::Permanent(format!(
        "upstream sent a payload that cannot be read ({e}): {}",
        snippet(body)
    ))
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// The upstream's own message: from a JSON error envelope, an HTML page's title, or the text itself.
pub(crate) fn message_of(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(m) = json_message(&v)
    {
        return m;
    }
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    if let (Some(start), Some(end)) = (lower.find("<title>"), lower.find("</title>"))
        && start + 7 <= end
    {
        return format!("HTML page \"{}\"", text[start + 7..end].trim());
    }
    snippet(body)
}

/// `errors[0].message` (v5), `message` (v3.1), or `error`.
pub(crate) fn json_message(v: &Value) -> Option<String> {
    v["errors"][0]["message"]
        .as_str()
        .or(v["message"].as_str())
        .or(v["error"].as_str())
        .map(str::to_string)
}

/// The error as it may be stored, logged and served: see [`contained_text`]. Each client passes every
/// error through here, whatever built its message.
pub(crate) fn contained(e: UpstreamError, key: Option<&str>) -> UpstreamError {
    match e {
        UpstreamError::NotFound(m) => UpstreamError::NotFound(contained_text(&m, key)),
        UpstreamError::Retryable {
            message,
            retry_after,
        } => UpstreamError::Retryable {
            message: contained_text(&message, key),
            retry_after,
        },
        UpstreamError::Permanent(m) => UpstreamError::Permanent(contained_text(&m, key)),
    }
}

/// `text` with the key replaced, as one line of at most [`MESSAGE_CHARS`] characters. The body was
/// redacted already; this catches a key the upstream spelled with JSON escapes.
pub(crate) fn contained_text(text: &str, key: Option<&str>) -> String {
    match key {
        Some(k) if !k.is_empty() && text.contains(k) => summary(&text.replace(k, REDACTED)),
        _ => summary(text),
    }
}

/// Every verbatim copy of `key` in `body` replaced with [`REDACTED`], which keeps a JSON string valid.
fn redact(body: Vec<u8>, key: &str) -> Vec<u8> {
    let key = key.as_bytes();
    if key.is_empty() || memmem::find(&body, key).is_none() {
        return body;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut rest = &body[..];
    while let Some(at) = memmem::find(rest, key) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(REDACTED.as_bytes());
        rest = &rest[at + key.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// `text` as one line of at most [`MESSAGE_CHARS`] characters. Control characters (newlines, ANSI
/// escapes) and bidirectional overrides become spaces: in a log line or on a page they could forge
/// lines or reorder what a reader sees.
fn summary(text: &str) -> String {
    let words = text
        .split(|c: char| c.is_whitespace() || c.is_control() || is_bidi_control(c))
        .filter(|w| !w.is_empty());
    let mut line = String::new();
    let mut kept = 0;
    for word in words {
        let space = if line.is_empty() { "" } else { " " };
        for c in space.chars().chain(word.chars()) {
            if kept == MESSAGE_CHARS {
                line.pop();
                line.push('…');
                return line;
            }
            line.push(c);
            kept += 1;
        }
    }
    line
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".into();
    }
    let cut: String = text.chars().take(160).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn err(status: u16, headers: &[(&'static str, &str)], body: &str) -> UpstreamError {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        classify(
            StatusCode::from_u16(status).unwrap(),
            &map,
            body.as_bytes(),
            v31_not_found,
            &Counted::default(),
        )
        .unwrap_err()
    }

    fn v31_not_found(v: &Value) -> bool {
        v["status"] == 404
    }

    #[test]
    fn classifies_statuses() {
        assert!(
            matches!(err(404, &[], r#"{"status":404,"message":"Not Found"}"#), UpstreamError::NotFound(m) if m.ends_with("Not Found"))
        );
        for s in [400, 401, 403, 405, 410] {
            assert!(
                matches!(err(s, &[], "{}"), UpstreamError::Permanent(_)),
                "{s}"
            );
        }
        for s in [408, 500, 502, 503, 504] {
            assert!(
                matches!(err(s, &[], ""), UpstreamError::Retryable { .. }),
                "{s}"
            );
        }
        assert_eq!(
            err(429, &[("retry-after", "7")], "slow down"),
            UpstreamError::Retryable {
                message: "upstream HTTP 429: slow down".into(),
                retry_after: Some(Duration::from_secs(7))
            }
        );
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        match err(503, &[("retry-after", &later)], "") {
            UpstreamError::Retryable {
                retry_after: Some(d),
                ..
            } => assert!(d > Duration::from_secs(100)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keeps_the_upstream_message() {
        assert_eq!(
            err(
                401,
                &[],
                r#"{"errors":[{"message":"Authorization key required."}]}"#
            )
            .to_string(),
            "upstream HTTP 401: Authorization key required."
        );
        assert_eq!(
            err(
                502,
                &[],
                "<html><head><title>502 Bad Gateway</title></head></html>"
            )
            .to_string(),
            "upstream HTTP 502: HTML page \"502 Bad Gateway\""
        );
        let counted = Counted::default();
        let ok = |body: &[u8]| {
            classify(
                StatusCode::OK,
                &HeaderMap::new(),
                body,
                v31_not_found,
                &counted,
            )
        };
        assert!(matches!(
            ok(b"<html>oops</html>"),
            Err(UpstreamError::Permanent(m)) if m.contains("cannot be read")
        ));
        assert!(matches!(
            ok(b"{\"data\": {\"objects\": [{\"codes\": "),
            Err(UpstreamError::Retryable { message, .. }) if message.contains("cut short")
        ));
        assert!(matches!(
            ok(b"{\"data\": [1, 2,, 3]}"),
            Err(UpstreamError::Permanent(m)) if m.contains("cannot be read")
        ));
    }

    #[test]
    fn a_404_that_is_not_the_upstreams_answer_names_the_likely_misconfiguration() {
        for body in [
            "<html><title>404 Not Found</title></html>",
            r#"{"detail": "no route"}"#,
            "",
        ] {
            match err(404, &[], body) {
                UpstreamError::Permanent(m) => assert!(m.contains("REST_COUNTRIES_URL"), "{m}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    /// Upstream text becomes one short line (M2) without the key (M1): a 1.5 MB message, newlines,
    /// ANSI escapes and a bidirectional override, a key spelled with JSON escapes; the hint of a wrong
    /// base URL outlives a long page.
    #[test]
    fn upstream_text_is_contained() {
        let long = format!(r#"{{"message": "{}"}}"#, "a".repeat(1_500_000));
        let m = contained(err(500, &[], &long), None).to_string();
        assert_eq!(m.chars().count(), MESSAGE_CHARS, "{m}");
        assert!(
            m.starts_with("upstream HTTP 500: aaa") && m.ends_with("a…"),
            "{m}"
        );
        let forged = r#"{"message": "bad\u001b[31m\r\nINFO forged=line \u202Eevil\t"}"#;
        assert_eq!(
            contained(err(401, &[], forged), None).to_string(),
            "upstream HTTP 401: bad [31m INFO forged=line evil"
        );
        let escaped = r#"{"message": "invalid key Bearer \u0072c_live_secret"}"#;
        assert_eq!(
            contained(err(401, &[], escaped), Some("rc_live_secret")).to_string(),
            "upstream HTTP 401: invalid key Bearer [key]"
        );
        let page = format!("<html>{}</html>", "x".repeat(100_000));
        let m = contained(err(404, &[], &page), None).to_string();
        assert!(
            m.contains("REST_COUNTRIES_URL") && m.chars().count() <= MESSAGE_CHARS,
            "{m}"
        );
    }

    #[test]
    fn every_copy_of_the_key_is_redacted_and_nothing_else() {
        let body = br#"{"a": "kk1 key key", "b": "keykey"}"#.to_vec();
        assert_eq!(
            redact(body.clone(), "key"),
            br#"{"a": "kk1 [key] [key]", "b": "[key][key]"}"#.to_vec()
        );
        assert_eq!(redact(body.clone(), ""), body);
        assert_eq!(redact(body.clone(), "absent"), body);
    }

    /// The answers a person must act on are counted, each as its own metric; the others are not.
    #[test]
    fn a_refused_key_and_a_wrong_base_url_are_counted() {
        let counted = Counted::default();
        let answer = |status: u16, body: &str| {
            classify(
                StatusCode::from_u16(status).unwrap(),
                &HeaderMap::new(),
                body.as_bytes(),
                v31_not_found,
                &counted,
            )
        };
        assert!(answer(401, "{}").is_err());
        assert!(answer(403, "{}").is_err());
        assert!(answer(404, "<html>nginx</html>").is_err());
        assert!(answer(404, r#"{"status": 404}"#).is_err());
        assert!(answer(503, "{}").is_err());
        assert_eq!(counted.get(Metric::UpstreamRejected), 2);
        assert_eq!(counted.get(Metric::UpstreamMisconfigured), 1);
    }
}
