-- The event log (an outbox): every change a subscriber of /api/events can see, written in the
-- same transaction as the change itself, so that a change is logged if and only if it committed.
-- A row's id is its position: the single writer commits in id order, and AUTOINCREMENT never
-- hands out an id again after rows are trimmed. `author_id` is the author of the post the event
-- is about (for `author=` filters, feed and notification recipients); `actor_id` who acted.
CREATE TABLE event_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  post_id INTEGER,
  author_id INTEGER,
  actor_id INTEGER,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- The one row of bookkeeping: positions up to `trimmed_through` were trimmed by retention.
CREATE TABLE event_log_state (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  trimmed_through INTEGER NOT NULL
);
INSERT INTO event_log_state (one, trimmed_through) VALUES (1, 0);

-- Tickets for browsers' EventSource, which cannot send Authorization: single use, short-lived,
-- stored hashed like tokens.
CREATE TABLE event_tickets (
  hash BLOB PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
