//! The request-body path: a body as a client sends it, through `parse_body` and, for a JSON object,
//! the typed-body parsing and field validations handlers apply. Input layout: byte 0 is control (bit 0: whether the
//! request declared a JSON content type; bits 1-7: how many of the following bytes are a
//! `Content-Type` header value), then that header value, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postbase::domain::{CommentBody, Email, Password, PostBody, PostTitle, Tags, Username};
use postbase::error::ApiError;
use postbase::http::body::from_object;
use postbase::http::json::{is_json_content_type, parse_body, MAX_DEPTH};
use serde::Deserialize;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let declared_json = control & 1 == 1;
    let (content_type, body) = rest.split_at(usize::from(control >> 1).min(rest.len()));
    if is_json_content_type(content_type) {
        // Only a UTF-8 value naming a JSON media type (or a `+json` suffix) may pass.
        let value = std::str::from_utf8(content_type).expect("accepted a non-UTF-8 content type");
        let mime = value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        assert!(mime.ends_with("json"), "accepted content type {value:?}");
    }

    let blank = body.iter().all(u8::is_ascii_whitespace);
    match parse_body(declared_json, body) {
        Ok(map) => {
            assert!(declared_json || blank, "undeclared non-empty body accepted");
            assert!(!blank || map.is_empty(), "blank body gave fields");
            assert!(
                depth(&Value::Object(map.clone())) <= MAX_DEPTH,
                "over-deep body accepted"
            );
            validate_fields(&map);
        }
        Err(_) => assert!(!blank, "a blank body is an empty object, never an error"),
    }
});

/// Every field a body may have, as the handlers' body types declare them.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Fields {
    username: Option<Username>,
    password: Option<Password>,
    email: Option<Email>,
    title: Option<PostTitle>,
    body: Option<PostBody>,
    tags: Option<Tags>,
    comment: Option<CommentBody>,
}

/// Runs the object through the typed-body path handlers use (`from_object`): it must answer a
/// value or a 400 naming a field, never panic. Then runs each field through its newtype and checks
/// that what a parse accepts keeps the newtype's documented promise.
fn validate_fields(map: &serde_json::Map<String, Value>) {
    match from_object::<Fields>(map.clone()) {
        Ok(_) => {}
        Err(ApiError::BadRequest { fields, .. }) => {
            assert_eq!(fields.len(), 1, "one field is named");
        }
        Err(other) => panic!("a body's field gave {other:?}"),
    }
    let field = |name: &str| map.get(name).and_then(Value::as_str);
    if let Some(s) = field("username") {
        if let Ok(u) = Username::parse(s) {
            let n = u.as_str().chars().count();
            assert!((Username::MIN..=Username::MAX).contains(&n));
            assert!(u
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        }
    }
    if let Some(s) = field("password") {
        if let Ok(p) = Password::parse(s) {
            let n = p.expose().chars().count();
            assert!((Password::MIN..=Password::MAX).contains(&n));
            assert_eq!(
                format!("{p:?}"),
                "Password(<redacted>)",
                "Debug must not show it"
            );
        }
    }
    if let Some(s) = field("email") {
        if let Ok(e) = Email::parse(s) {
            let e = e.as_str();
            assert!(e.len() <= Email::MAX && e.matches('@').count() == 1);
            assert!(!e.chars().any(char::is_whitespace));
        }
    }
    for (name, max) in [("title", PostTitle::MAX), ("comment", CommentBody::MAX)] {
        let parsed = field(name).map(|s| (s, PostTitle::parse(s).map(PostTitle::into_inner)));
        let parsed = match name {
            "comment" => field(name).map(|s| (s, CommentBody::parse(s).map(CommentBody::into_inner))),
            _ => parsed,
        };
        if let Some((s, Ok(t))) = parsed {
            assert!(!t.trim().is_empty() && t.chars().count() <= max);
            assert_eq!(t, s, "{name} is stored exactly as sent");
        }
    }
    if let Some(s) = field("body") {
        if let Ok(b) = PostBody::parse(s) {
            let b = b.into_inner();
            assert!(b.len() <= PostBody::MAX_BYTES);
            assert_eq!(b, s, "a body is stored exactly as sent");
        }
    }
    if let Some(Value::Array(tags)) = map.get("tags") {
        let strings: Option<Vec<&str>> = tags.iter().map(Value::as_str).collect();
        if let Some(Ok(parsed)) = strings.map(|s| Tags::parse(&s)) {
            let parsed = parsed.into_inner();
            assert!(parsed.len() <= Tags::MAX && parsed.len() <= tags.len());
            for t in &parsed {
                assert_eq!(Tags::parse_one(t).as_deref(), Ok(t.as_str()), "stored form");
            }
        }
    }
}

/// Nesting depth of a parsed value, counted the way `parse_body` counts it on bytes.
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}
