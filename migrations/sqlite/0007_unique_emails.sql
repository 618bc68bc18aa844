-- An email belongs to one account, whatever its case: logging in by email (the RealWorld API
-- does) must find exactly one. Accounts without an email (NULL) are not constrained. A database
-- holding two accounts whose emails differ only in case stops this migration with the index's
-- name; clear or change one of them (`postbase user ...`), then start again.
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
