//! Server-Sent Events as postbase sends them: messages of `id:`, `event:` and one `data:` line,
//! separated by a blank line, in whatever chunks the connection delivers; and the RFC 3339 times
//! in their JSON.

/// One message's fields; comments (`: keep-alive`) and `retry:` leave all three empty.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Message<'a> {
    pub id: Option<i64>,
    pub event: &'a str,
    pub data: &'a str,
}

/// Bytes received but not yet a whole message.
#[derive(Default)]
pub struct Parser {
    buf: Vec<u8>,
}

impl Parser {
    /// Adds `chunk` and hands every message it completes to `each`, in order.
    pub fn feed(&mut self, chunk: &[u8], mut each: impl FnMut(Message<'_>)) {
        self.buf.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(end) = find_blank_line(&self.buf[start..]) {
            let raw = &self.buf[start..start + end];
            start += end + 2;
            // postbase writes ASCII field names and JSON data: not UTF-8 would be a server bug,
            // and shows as a message without fields (counted as unexpected by the caller).
            let text = std::str::from_utf8(raw).unwrap_or("");
            let mut m = Message::default();
            for line in text.split('\n') {
                if let Some(v) = line.strip_prefix("id: ") {
                    m.id = v.parse().ok();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    m.event = v;
                } else if let Some(v) = line.strip_prefix("data: ") {
                    m.data = v;
                }
            }
            each(m);
        }
        self.buf.drain(..start);
    }
}

fn find_blank_line(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\n\n")
}

/// Microseconds since the Unix epoch of `YYYY-MM-DDTHH:MM:SS[.f…]Z` (UTC, as postbase writes it).
pub fn rfc3339_micros(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut micros = 0;
    if b[19] == b'.' {
        let frac = &s[20..s.len() - 1];
        let digits: String = frac.chars().chain("000000".chars()).take(6).collect();
        micros = digits.parse::<i64>().ok()?;
    }
    // Days from 1970-01-01 to the civil date (Howard Hinnant's `days_from_civil`).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000_000 + sec * 1_000_000 + micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_split_across_chunks_come_out_whole_and_in_order() {
        let mut p = Parser::default();
        let mut got = Vec::new();
        let stream = "retry: 2000\n\nid: 7\nevent: post.created\ndata: {\"id\":1}\n\n: keep-alive\n\nid: 9\nevent: x\ndata: {}\n\n";
        for chunk in stream.as_bytes().chunks(5) {
            p.feed(chunk, |m| {
                got.push((m.id, m.event.to_owned(), m.data.to_owned()))
            });
        }
        assert_eq!(
            got,
            vec![
                (None, String::new(), String::new()),
                (Some(7), "post.created".into(), "{\"id\":1}".into()),
                (None, String::new(), String::new()),
                (Some(9), "x".into(), "{}".into()),
            ]
        );
    }

    #[test]
    fn rfc3339_times_read_as_postbase_writes_them() {
        assert_eq!(rfc3339_micros("1970-01-01T00:00:00.000000Z"), Some(0));
        assert_eq!(
            rfc3339_micros("2025-11-25T12:00:00.123456Z"),
            Some(1_764_072_000_123_456)
        );
        assert_eq!(
            rfc3339_micros("2000-02-29T23:59:59Z"),
            Some(951_868_799_000_000)
        );
        assert_eq!(rfc3339_micros("yesterday"), None);
    }
}
