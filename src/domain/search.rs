//! A search as typed into `?q=`: cut into words the way both databases' full-text engines cut
//! text, so that the query each engine is given is made only of words, never of its operators.

/// The words of a search: runs of letters and digits, in the order typed (each engine folds case
/// and diacritics itself, the same way for the query as for the text it indexed). Everything
/// else (spaces, punctuation, quotes, `*`, `-`, FTS and tsquery operators) only separates words,
/// so no input can change the query's meaning beyond its words. The last word matches as a
/// prefix (type-ahead); every word must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery(Vec<String>);

impl SearchQuery {
    pub const MAX_CHARS: usize = 200;
    pub const MAX_WORDS: usize = 10;

    /// `None` when the text has no words at all (a search for nothing is no filter).
    pub fn parse(q: &str) -> Result<Option<Self>, &'static str> {
        if q.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 200 characters");
        }
        let words: Vec<String> = q
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        if words.len() > Self::MAX_WORDS {
            return Err("must have at most 10 words");
        }
        Ok((!words.is_empty()).then_some(Self(words)))
    }

    pub fn words(&self) -> &[String] {
        &self.0
    }

    /// The words as typed again, space-separated (for a next page's link).
    pub fn to_query_text(&self) -> String {
        self.0.join(" ")
    }
}

/// A word as a full-text engine indexes it: lower case (letter by letter, so a final sigma is a
/// sigma), and the diacritics of letters that decompose into a letter and marks taken off, as
/// SQLite's `unicode61` tokenizer with `remove_diacritics 2` does (`Crème` -> `creme`).
pub fn fold(word: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    word.chars()
        .flat_map(char::to_lowercase)
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect()
}

/// The words of a text as an engine indexes them (see [`fold`]).
pub fn terms(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(fold)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(q: &str) -> Vec<String> {
        SearchQuery::parse(q)
            .unwrap()
            .map(|s| s.0)
            .unwrap_or_default()
    }

    #[test]
    fn operators_quotes_and_punctuation_only_separate_words() {
        assert_eq!(words("Hello, World"), ["Hello", "World"]);
        assert_eq!(
            words("\"rust\" AND NOT (sql*) NEAR/3 a:b -c ^e"),
            ["rust", "AND", "NOT", "sql", "NEAR", "3", "a", "b", "c", "e"]
        );
        assert_eq!(words("x' OR '1'='1"), ["x", "OR", "1", "1"]);
        assert_eq!(words("Çafé naïve"), ["Çafé", "naïve"]);
        assert!(words("  * \" ' ()  ").is_empty());
    }

    #[test]
    fn words_fold_case_and_latin_diacritics() {
        let folded: Vec<String> = terms("Crème BRÛLÉE, ΣΟΦΟΣ naïve — x²").collect();
        assert_eq!(folded, ["creme", "brulee", "σοφοσ", "naive", "x²"]);
    }

    #[test]
    fn more_than_200_characters_or_10_words_is_refused() {
        assert!(SearchQuery::parse(&"a".repeat(200)).is_ok());
        assert!(SearchQuery::parse(&"a".repeat(201)).is_err());
        assert!(SearchQuery::parse("a b c d e f g h i j").is_ok());
        assert!(SearchQuery::parse("a b c d e f g h i j k").is_err());
        assert!(SearchQuery::parse("a.b.c.d.e.f.g.h.i.j.k").is_err());
    }
}
