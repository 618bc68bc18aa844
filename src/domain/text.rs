use std::fmt;

use serde::Deserialize;

/// `TryFrom<String>` through `parse`, so that serde (a request body) parses with the same rules.
macro_rules! parsed_from_string {
    ($($t:ty),*) => {$(
        impl TryFrom<String> for $t {
            type Error = &'static str;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
    )*};
}
pub(crate) use parsed_from_string;

parsed_from_string!(Username, Password, Email, PostTitle, PostBody);

/// A username: 3-32 characters of `[A-Za-z0-9_-]`. Uniqueness is case-insensitive (in storage).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 32;

    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let len = s.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err("must be 3-32 characters long");
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err("may contain only letters A-Z and a-z, digits, '_' and '-'");
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: 8-128 characters. `Debug` is redacted so it cannot reach a log line.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 8;
    pub const MAX: usize = 128;

    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let len = s.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err("must be 8-128 characters long");
        }
        Ok(Self(s.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// An email address, checked for shape only (one `@`, a non-empty local part, a dotted domain, no
/// spaces, at most 254 characters); whether it receives mail is not our business.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 254;

    pub fn parse(s: &str) -> Result<Self, &'static str> {
        const BAD: &str = "must be a valid email address";
        if s.len() > Self::MAX || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(BAD);
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(BAD);
        };
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(BAD);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A text of at most `$max` characters, not all of them whitespace, stored exactly as sent. The
/// limit counts the text as sent, so that the published schema's `maxLength` is exact.
macro_rules! not_blank_text {
    ($(#[$doc:meta])* $name:ident, $max:expr, $too_long:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
        #[serde(try_from = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX: usize = $max;

            pub fn parse(s: &str) -> Result<Self, &'static str> {
                if s.trim().is_empty() {
                    return Err("must not be empty");
                }
                if s.chars().count() > Self::MAX {
                    return Err($too_long);
                }
                Ok(Self(s.to_owned()))
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }
    };
}
pub(crate) use not_blank_text;

not_blank_text!(
    /// A post title: 1-200 characters, not blank.
    PostTitle,
    200,
    "must be at most 200 characters"
);

/// A post body: up to 64 KiB of UTF-8. Stored exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "String")]
pub struct PostBody(String);

impl PostBody {
    pub const MAX_BYTES: usize = 64 * 1024;

    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s.len() > Self::MAX_BYTES {
            return Err("must be at most 64 KiB");
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
    fn usernames_of_allowed_characters_and_length_parse() {
        for ok in ["abc", "a_b-c", "ABC123", &"x".repeat(32)] {
            assert_eq!(Username::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn usernames_too_short_too_long_or_with_other_characters_are_rejected() {
        for bad in [
            "",
            "ab",
            &"x".repeat(33),
            "has space",
            "dot.ted",
            "émile",
            "a/b",
            "ab\0",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn passwords_are_8_to_128_characters_counted_as_characters() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"p".repeat(128)).is_ok());
        assert!(Password::parse(&"p".repeat(129)).is_err());
        // Eight multi-byte characters are eight characters.
        assert!(Password::parse("éééééééé").is_ok());
    }

    #[test]
    fn password_debug_never_shows_the_password() {
        let p = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[test]
    fn emails_need_a_local_part_an_at_and_a_dotted_domain() {
        for ok in [
            "a@b.co",
            "first.last+tag@example.org",
            "x@sub.domain.example",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok:?} should parse");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            "a@-b.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn titles_must_not_be_blank_are_at_most_200_characters_and_are_kept_as_sent() {
        assert!(PostTitle::parse("").is_err());
        assert!(PostTitle::parse("   \n\t").is_err());
        assert_eq!(PostTitle::parse("  hi  ").unwrap().into_inner(), "  hi  ");
        assert!(PostTitle::parse(&"t".repeat(200)).is_ok());
        assert!(PostTitle::parse(&"t".repeat(201)).is_err());
        assert!(PostTitle::parse(&format!(" {}", "t".repeat(200))).is_err());
        assert!(PostTitle::parse(&"漢".repeat(200)).is_ok());
    }

    #[test]
    fn bodies_may_be_empty_and_up_to_64_kib() {
        assert!(PostBody::parse("").is_ok());
        assert!(PostBody::parse(&"b".repeat(64 * 1024)).is_ok());
        assert!(PostBody::parse(&"b".repeat(64 * 1024 + 1)).is_err());
    }
}
