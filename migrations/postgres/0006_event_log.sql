-- The event log (an outbox): every change a subscriber of /api/events can see, written in the
-- same transaction as the change itself. `id` comes from a sequence, and sequence values are not
-- handed out in commit order across connections, so an event's position is `pos`, assigned after
-- commit by a sequencer that sees only committed rows and holds the state row's lock (see
-- src/store/postgres/event_log.rs): positions then increase in the order events become visible,
-- and a reader that has seen position N will never later find a committed event below N.
CREATE TABLE event_log (
  id BIGSERIAL PRIMARY KEY,
  pos BIGINT UNIQUE,
  kind TEXT NOT NULL,
  post_id BIGINT,
  author_id BIGINT,
  actor_id BIGINT,
  data TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX event_log_unsequenced ON event_log (id) WHERE pos IS NULL;

-- The one row: the last position handed out, and the last trimmed by retention.
CREATE TABLE event_log_state (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  head BIGINT NOT NULL,
  trimmed_through BIGINT NOT NULL
);
INSERT INTO event_log_state (one, head, trimmed_through) VALUES (1, 0, 0);

CREATE TABLE event_tickets (
  hash BYTEA PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at BIGINT NOT NULL
);

-- A rare word's selectivity is estimated from the column's statistics; with the default target
-- a rare word looks common and the planner walks the newest posts instead of the GIN index.
ALTER TABLE posts ALTER COLUMN search SET STATISTICS 1000;
