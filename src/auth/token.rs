use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Every token starts with this, so a leaked one is recognisable (secret scanners, logs).
pub(super) const PREFIX: &str = "pb_";
/// 32 random bytes, base64url without padding.
const SECRET_CHARS: usize = 43;

/// A freshly issued token: shown to its owner once, never stored.
pub struct Token(String);

/// Redacted: a token must never reach a log line.
impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// What is stored and looked up: the SHA-256 of the whole token string.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

impl Token {
    /// 256 bits from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl TokenHash {
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

/// Reads `Authorization: Bearer pb_...`, returning the hash to look up, or `None` for anything else
/// (missing, another scheme, wrong prefix, wrong length, stray characters). Never panics.
pub fn parse_bearer(header: &[u8]) -> Option<TokenHash> {
    let header = std::str::from_utf8(header).ok()?;
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = rest.trim();
    let secret = token.strip_prefix(PREFIX)?;
    let well_formed = secret.len() == SECRET_CHARS
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| TokenHash::of(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_have_the_prefix_and_parse_back_to_their_hash() {
        let t = Token::generate();
        assert!(t.as_str().starts_with("pb_"));
        assert_eq!(t.as_str().len(), 3 + 43);
        let header = format!("Bearer {}", t.as_str());
        assert!(parse_bearer(header.as_bytes()) == Some(t.hash()));
        let lower = format!("bearer {}", t.as_str());
        assert!(parse_bearer(lower.as_bytes()) == Some(t.hash()));
    }

    #[test]
    fn two_tokens_differ() {
        assert_ne!(Token::generate().as_str(), Token::generate().as_str());
    }

    #[test]
    fn malformed_headers_are_refused() {
        let t = Token::generate();
        let s = t.as_str();
        for bad in [
            String::new(),
            "Bearer".into(),
            "Bearer ".into(),
            s.to_string(),
            format!("Basic {s}"),
            format!("Bearer {}", &s[..s.len() - 1]),
            format!("Bearer {s}x"),
            format!("Bearer xx_{}", &s[3..]),
            format!("Bearer {}!", &s[..s.len() - 1]),
        ] {
            assert!(parse_bearer(bad.as_bytes()).is_none(), "{bad:?}");
        }
        assert!(parse_bearer(&[0xff, 0xfe, b' ', b'x']).is_none());
    }

    #[test]
    fn the_debug_of_a_token_hash_is_redacted() {
        let token = Token::generate();
        let hash = token.hash();
        let shown = format!("{hash:?} {:?}", Some(&hash));
        assert_eq!(shown, "TokenHash(<redacted>) Some(TokenHash(<redacted>))");
        let hex: String = hash.0.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!shown.contains(&hex[..8]) && !shown.contains(token.as_str()));
    }
}
