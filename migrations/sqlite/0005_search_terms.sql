-- Every word indexed for search, once, as FTS5 indexes it (lower case, diacritics off), of four
-- characters or more: the dictionary that turns a typed prefix longer than the prefix indexes
-- into the words it may begin (see src/store/sqlite/search.rs). Written in each post's
-- transaction; filled from the posts already there when this migration runs. Words of deleted
-- posts stay: a word that matches nothing costs nothing.
CREATE TABLE search_terms (
  term TEXT PRIMARY KEY
) WITHOUT ROWID;
