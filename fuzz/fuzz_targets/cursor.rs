//! Cursor decoding and list query strings, which come straight from a URL. Input layout: byte 0
//! chooses the list (bit 0) and whether the rest is a bare cursor or a whole query string (bit 1);
//! bytes 1-8 also serve as an id for the encode/decode round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postbase::http::pagination::{decode_cursor, encode_cursor, ListKind, ListParams, MAX_LIMIT};

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let (kind, other) = if control & 1 == 0 {
        (ListKind::Posts, ListKind::Users)
    } else {
        (ListKind::Users, ListKind::Posts)
    };
    let text = String::from_utf8_lossy(rest);

    if control & 2 == 0 {
        if let Some(id) = decode_cursor(kind, &text) {
            assert!(id > 0, "decoded a non-positive id {id}");
            // Only the exact string the server gave out is accepted: nothing edited decodes.
            assert_eq!(
                encode_cursor(kind, id),
                text,
                "a non-canonical cursor decoded"
            );
            assert_eq!(
                decode_cursor(other, &text),
                None,
                "a cursor decoded for both lists"
            );
        }
    } else if let Ok(params) = ListParams::parse(kind, Some(&text)) {
        assert!((1..=MAX_LIMIT).contains(&params.page.limit));
        assert!(params.page.after.is_none_or(|id| id > 0));
        let f = &params.filter;
        assert!(f.author.is_none_or(|id| id > 0));
        assert!(f.liked_by.is_none_or(|id| id > 0));
        assert!(f.tag.as_ref().is_none_or(|t| !t.is_empty() && !t.contains(char::is_uppercase)));
        assert!(kind == ListKind::Posts || *f == Default::default());
        assert_eq!(params.probe().limit, params.page.limit + 1);
    }

    // Round trip: every positive id survives encode then decode, and only for its own list.
    if let Some(bytes) = rest.get(..8) {
        let id = i64::from_le_bytes(bytes.try_into().unwrap()) & i64::MAX;
        if id > 0 {
            let cursor = encode_cursor(kind, id);
            assert_eq!(decode_cursor(kind, &cursor), Some(id), "round trip of {id}");
            assert_eq!(decode_cursor(other, &cursor), None);
            let query = format!("limit=5&cursor={cursor}");
            let params = ListParams::parse(kind, Some(&query)).expect("a cursor we made parses");
            assert_eq!(params.page.after, Some(id));
        }
    }
});
