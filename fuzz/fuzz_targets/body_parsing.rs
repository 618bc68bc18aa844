//! The request-body path: a body as a client sends it, through `parse_body` and, for a JSON object,
//! the field validations handlers apply. Input layout: byte 0 is control (bit 0: whether the
//! request declared a JSON content type; bits 1-7: how many of the following bytes are a
//! `Content-Type` header value), then that header value, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postbase::domain::{Email, Password, PostBody, PostTitle, Username};
use postbase::http::json::{is_json_content_type, parse_body, JsonObject, StrField, MAX_DEPTH};
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

/// Reads each field the way handlers do, through `JsonObject`'s accessors (so their field-type
/// rejection is fuzzed too), then runs each string through its newtype and checks that what a
/// parse accepts keeps the newtype's documented promise.
fn validate_fields(map: &serde_json::Map<String, Value>) {
    let object = JsonObject(map.clone());
    let names = [
        "username", "password", "email", "title", "body", "current_password",
    ];
    for name in names {
        let read = object.opt_string(name);
        match map.get(name) {
            Some(Value::String(s)) => assert_eq!(read.ok().flatten(), Some(s.as_str()), "{name}"),
            None | Some(Value::Null) => assert!(matches!(read, Ok(None)), "{name}"),
            Some(_) => assert!(read.is_err(), "{name}: a non-string must be refused"),
        }
        match (object.string(name), map.get(name)) {
            (Ok(StrField::Value(s)), Some(Value::String(v))) => assert_eq!(s, v),
            (Ok(StrField::Null), Some(Value::Null)) | (Ok(StrField::Absent), None) => {}
            (Err(_), Some(v)) => assert!(!v.is_string() && !v.is_null(), "{name}"),
            (got, want) => panic!("{name}: {:?} for {want:?}", got.is_ok()),
        }
    }
    let field = |name: &str| object.opt_string(name).ok().flatten();
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
    if let Some(s) = field("title") {
        if let Ok(t) = PostTitle::parse(s) {
            let t = t.into_inner();
            assert!(!t.trim().is_empty() && t.chars().count() <= PostTitle::MAX);
            assert_eq!(t, s, "a title is stored exactly as sent");
        }
    }
    if let Some(s) = field("body") {
        if let Ok(b) = PostBody::parse(s) {
            let b = b.into_inner();
            assert!(b.len() <= PostBody::MAX_BYTES);
            assert_eq!(b, s, "a body is stored exactly as sent");
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
