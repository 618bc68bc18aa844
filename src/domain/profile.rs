//! What a user shows of themself: a short bio and a picture's address.

use serde::Deserialize;

use super::text::parsed_from_string;

parsed_from_string!(Bio, ImageUrl);

/// A bio: 0-1,000 characters of any text, stored as sent (empty clears it).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "String")]
pub struct Bio(String);

impl Bio {
    pub const MAX: usize = 1_000;

    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s.chars().count() > Self::MAX {
            return Err("must be at most 1000 characters");
        }
        Ok(Self(s.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A picture's address: an absolute `http` or `https` URL, at most 2,048 characters, stored as
/// sent. Other schemes (`javascript:`, `data:`, `file:`) are refused because a client puts this
/// straight into an `<img src>`. The check is of shape, exactly [`ImageUrl::PATTERN`] (so that
/// what the published schema allows is what is accepted): a host of name characters or an IP in
/// brackets, an optional port, then anything visible (non-ASCII must be percent-encoded).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ImageUrl(String);

impl ImageUrl {
    pub const MAX: usize = 2_048;
    pub const PATTERN: &'static str = "^[Hh][Tt][Tt][Pp][Ss]?://([A-Za-z0-9._~-]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?([/?#][!-~]*)?$";

    pub fn parse(s: &str) -> Result<Self, &'static str> {
        const BAD: &str = "must be an absolute http or https URL";
        if s.chars().count() > Self::MAX {
            return Err("must be at most 2048 characters");
        }
        let lower = s.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or(BAD)?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.starts_with('[') || h.ends_with(']') => (h, Some(p)),
            _ => (authority, None),
        };
        let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(ip) => {
                !ip.is_empty()
                    && ip
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            }
            None => {
                !host.is_empty()
                    && host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b))
            }
        };
        let port_ok = port
            .is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
        let tail_ok = tail.bytes().all(|b| (b'!'..=b'~').contains(&b));
        if !(host_ok && port_ok && tail_ok) {
            return Err(BAD);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bios_up_to_1000_characters_parse_and_longer_ones_do_not() {
        assert!(Bio::parse("").is_ok());
        assert!(Bio::parse(&"é".repeat(1000)).is_ok());
        assert!(Bio::parse(&"é".repeat(1001)).is_err());
    }

    #[test]
    fn only_absolute_http_urls_with_a_host_are_images() {
        for ok in [
            "https://example.com/a.png",
            "http://example.com",
            "HTTPS://EXAMPLE.COM/x?y=1#z",
            "https://[::1]:8080/p.jpg",
        ] {
            assert!(ImageUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "example.com/a.png",
            "/a.png",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "file:///etc/passwd",
            "ftp://example.com/a.png",
            "https:/example.com",
            "https:example.com",
            "https://",
            "https://exa mple.com",
            "https://example.com:123456/",
            "https://ex%41mple.com/",
            "https://[::1/",
            "https://example.com/é",
            "https://example.com/\n",
            &format!("https://example.com/{}", "a".repeat(2048)),
        ] {
            assert!(ImageUrl::parse(bad).is_err(), "{bad:?}");
        }
    }
}
