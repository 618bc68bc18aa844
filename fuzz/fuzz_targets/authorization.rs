//! The `Authorization` header parser, which every authenticated request runs on bytes the client
//! chose. Besides never panicking, it must never accept a header that is not `Bearer pb_...`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postbase::auth::{parse_bearer, TokenHash};

fuzz_target!(|data: &[u8]| {
    let Some(hash) = parse_bearer(data) else {
        return;
    };
    let header = std::str::from_utf8(data).expect("accepted a non-UTF-8 header");
    assert!(
        header.len() >= 7 && header.as_bytes()[..7].eq_ignore_ascii_case(b"bearer "),
        "accepted a header without the Bearer scheme: {header:?}"
    );
    assert!(
        header.contains("pb_"),
        "accepted a token without the prefix: {header:?}"
    );
    // What is looked up is the hash of exactly the token the header carries.
    let token = header.get(7..).expect("the scheme is ASCII").trim();
    assert!(
        token.starts_with("pb_") && token.len() == 3 + 43,
        "odd token {token:?}"
    );
    assert!(
        hash == TokenHash::of(token),
        "hash of something else than the token"
    );
});
