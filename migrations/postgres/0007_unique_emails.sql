-- An email belongs to one account, whatever its case (see the SQLite migration of the same name).
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
