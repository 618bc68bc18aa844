-- What a POST with an `Idempotency-Key` answered, so that a retry gets the same answer instead of
-- doing the work again. `status` 0 marks a request still in progress. Kept at least 24 hours.
CREATE TABLE idempotency_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint BYTEA NOT NULL,
  status INTEGER NOT NULL,
  headers TEXT NOT NULL DEFAULT '{}',
  body BYTEA NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys(created_at);
