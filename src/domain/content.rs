//! What users write besides posts: comment bodies, and the tags on posts.

use serde::Deserialize;

use super::text::{not_blank_text, parsed_from_string};

parsed_from_string!(CommentBody, Summary);

impl TryFrom<Vec<String>> for Tags {
    type Error = &'static str;
    fn try_from(tags: Vec<String>) -> Result<Self, Self::Error> {
        Self::parse(&tags)
    }
}

not_blank_text!(
    /// A comment: 1-10,000 characters, not blank.
    CommentBody,
    10_000,
    "must be at most 10000 characters"
);

/// A post's summary (what lists and the RealWorld API's `description` show): 0-300 characters of
/// any text, stored as sent (empty: none).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "String")]
pub struct Summary(String);

impl Summary {
    pub const MAX: usize = 300;

    pub fn parse(s: &str) -> Result<Self, &'static str> {
        if s.chars().count() > Self::MAX {
            return Err("must be at most 300 characters");
        }
        Ok(Self(s.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A post's tags: at most [`Tags::MAX`], each a [`Tags::PATTERN`] word, lower-cased, duplicates
/// dropped (after lower-casing), order kept. The count is of the tags as sent, so that the
/// published `maxItems` is exact.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "Vec<String>")]
pub struct Tags(Vec<String>);

impl Tags {
    pub const MAX: usize = 10;
    pub const MAX_LEN: usize = 32;
    /// ASCII letters and digits, `-` and `_`: safe in a URL, a path and a search.
    pub const PATTERN: &'static str = "^[A-Za-z0-9_-]{1,32}$";

    pub fn parse<S: AsRef<str>>(tags: &[S]) -> Result<Self, &'static str> {
        if tags.len() > Self::MAX {
            return Err("must be at most 10 tags");
        }
        let mut out: Vec<String> = Vec::with_capacity(tags.len());
        for tag in tags {
            let tag = Self::parse_one(tag.as_ref())?;
            if !out.contains(&tag) {
                out.push(tag);
            }
        }
        Ok(Self(out))
    }

    /// One tag (as in `?tag=`), lower-cased.
    pub fn parse_one(tag: &str) -> Result<String, &'static str> {
        if tag.is_empty()
            || tag.len() > Self::MAX_LEN
            || !tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("each tag must be 1-32 letters, digits, '-' or '_'");
        }
        Ok(tag.to_ascii_lowercase())
    }

    pub fn into_inner(self) -> Vec<String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_1_to_10000_characters_not_blank() {
        assert!(CommentBody::parse("").is_err());
        assert!(CommentBody::parse(" \n").is_err());
        assert!(CommentBody::parse(&"é".repeat(10_000)).is_ok());
        assert!(CommentBody::parse(&"c".repeat(10_001)).is_err());
    }

    #[test]
    fn tags_are_lower_cased_deduplicated_in_order_and_bounded() {
        let tags = Tags::parse(&["Rust", "web", "rust", "WEB", "a_b-1"]).unwrap();
        assert_eq!(tags.into_inner(), ["rust", "web", "a_b-1"]);
        assert!(Tags::parse(&[""; 0]).unwrap().into_inner().is_empty());
        for bad in ["", "has space", "é", "a/b", &"x".repeat(33)] {
            assert!(Tags::parse(&[bad]).is_err(), "{bad:?}");
        }
        assert!(Tags::parse(&["x"; 11]).is_err());
        assert!(Tags::parse(&[&"x".repeat(32)]).is_ok());
    }
}
