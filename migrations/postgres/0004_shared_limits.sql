-- The login throttle, shared by every instance on this database (on SQLite, one process, it stays
-- in memory). The rules are those of `auth/throttle.rs`, here run where every instance sees the
-- same rows, each call one statement that locks the rows it decides on.
--
-- A row per key: `p:<account> <address>` and `a:<account>`. Times are microseconds since the epoch.
-- `in_flight` holds the start time of each attempt let through and not yet settled; one older than
-- the flight limit (its instance died mid-check) counts as a failure, since its hash may have run.
CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY,
  failures BIGINT[] NOT NULL DEFAULT '{}',
  in_flight BIGINT[] NOT NULL DEFAULT '{}',
  locked_until BIGINT NOT NULL DEFAULT 0,
  locks INTEGER NOT NULL DEFAULT 0,
  touched_at BIGINT NOT NULL
);
CREATE INDEX login_throttle_touched_at ON login_throttle (touched_at);

-- Ages a locked row: failures out of the window go; attempts in flight past the limit become
-- failures.
CREATE FUNCTION postbase_throttle_age(r login_throttle, now BIGINT, win BIGINT, flight BIGINT)
RETURNS login_throttle LANGUAGE plpgsql AS $$
BEGIN
  r.failures := ARRAY(
    SELECT t FROM unnest(r.failures || ARRAY(SELECT s FROM unnest(r.in_flight) s WHERE s < now - flight)) t
    WHERE t >= now - win ORDER BY t);
  r.in_flight := ARRAY(SELECT s FROM unnest(r.in_flight) s WHERE s >= now - flight);
  RETURN r;
END $$;

-- Lets an attempt start: 0 when admitted (its start time `now` is then in flight on both keys),
-- else how many microseconds to wait.
CREATE FUNCTION postbase_throttle_begin(
  pair TEXT, account TEXT, now BIGINT, win BIGINT, flight BIGINT,
  pair_max INTEGER, account_max INTEGER, busy_wait BIGINT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
  r login_throttle;
  m INTEGER;
  wait BIGINT := 0;
BEGIN
  INSERT INTO login_throttle (key, touched_at) VALUES (account, now), (pair, now)
    ON CONFLICT (key) DO NOTHING;
  FOR r IN SELECT * FROM login_throttle WHERE key IN (pair, account) ORDER BY key FOR UPDATE LOOP
    r := postbase_throttle_age(r, now, win, flight);
    m := CASE WHEN r.key = pair THEN pair_max ELSE account_max END;
    IF r.locked_until > now THEN
      wait := greatest(wait, r.locked_until - now);
    ELSIF cardinality(r.in_flight) >= greatest(m - cardinality(r.failures), 1) THEN
      wait := greatest(wait, busy_wait);
    END IF;
    UPDATE login_throttle SET failures = r.failures, in_flight = r.in_flight, touched_at = now
      WHERE key = r.key;
  END LOOP;
  IF wait = 0 THEN
    UPDATE login_throttle SET in_flight = in_flight || now WHERE key IN (pair, account);
  END IF;
  RETURN wait;
END $$;

-- Settles the attempt that began at `started`: a failure is counted on both keys (and locks a key
-- at its maximum, for a back-off that doubles with each lock, up to the window); a success clears
-- the pair's record. Returns the pair's failures in the window. Also forgets a few records idle
-- for longer than the window.
CREATE FUNCTION postbase_throttle_settle(
  pair TEXT, account TEXT, started BIGINT, failed BOOLEAN, now BIGINT, win BIGINT, flight BIGINT,
  pair_max INTEGER, account_max INTEGER, lockout BIGINT)
RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
  r login_throttle;
  m INTEGER;
  at INTEGER;
  pair_failures INTEGER := 0;
BEGIN
  FOR r IN SELECT * FROM login_throttle WHERE key IN (pair, account) ORDER BY key FOR UPDATE LOOP
    at := array_position(r.in_flight, started);
    IF at IS NOT NULL THEN
      r.in_flight := r.in_flight[1:at - 1] || r.in_flight[at + 1:];
    END IF;
    r := postbase_throttle_age(r, now, win, flight);
    m := CASE WHEN r.key = pair THEN pair_max ELSE account_max END;
    IF failed THEN
      r.failures := r.failures || now;
      IF cardinality(r.failures) >= m THEN
        r.locked_until := now + least(lockout * power(2, least(r.locks, 30))::BIGINT,
                                      greatest(win, lockout));
        r.locks := r.locks + 1;
      END IF;
      IF r.key = pair THEN
        pair_failures := cardinality(r.failures);
      END IF;
    END IF;
    IF NOT failed AND r.key = pair AND cardinality(r.in_flight) = 0 THEN
      DELETE FROM login_throttle WHERE key = pair;
    ELSE
      UPDATE login_throttle SET failures = r.failures, in_flight = r.in_flight,
        locked_until = r.locked_until, locks = r.locks, touched_at = now WHERE key = r.key;
    END IF;
  END LOOP;
  DELETE FROM login_throttle WHERE key IN (
    SELECT key FROM login_throttle WHERE touched_at < now - win - flight
      AND cardinality(in_flight) = 0 ORDER BY touched_at LIMIT 100);
  RETURN pair_failures;
END $$;

-- Per-client request budgets (`--rate-limit`, `--signup-limit`) for the whole deployment: one token
-- bucket per budget and client address. Instances do not take one token per request: each leases
-- a few at a time (`postbase_rate_lease`), spends them locally and gives back what it did not use,
-- so a client spreading its requests over N instances gets the budget once, not N times.
CREATE TABLE rate_buckets (
  key TEXT PRIMARY KEY,
  tokens DOUBLE PRECISION NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX rate_buckets_updated_at ON rate_buckets (updated_at);

-- Takes up to `want` tokens (a negative `want` gives tokens back) from the bucket `k`, refilled at
-- `per_us` tokens a microsecond up to `capacity`: how many were taken, and how many are left.
CREATE FUNCTION postbase_rate_lease(
  k TEXT, want DOUBLE PRECISION, now BIGINT, capacity DOUBLE PRECISION, per_us DOUBLE PRECISION,
  OUT granted DOUBLE PRECISION, OUT level DOUBLE PRECISION)
LANGUAGE plpgsql AS $$
DECLARE
  t DOUBLE PRECISION;
BEGIN
  INSERT INTO rate_buckets (key, tokens, updated_at) VALUES (k, capacity, now)
    ON CONFLICT (key) DO NOTHING;
  SELECT least(capacity, tokens + greatest(now - updated_at, 0) * per_us) INTO t
    FROM rate_buckets WHERE key = k FOR UPDATE;
  granted := least(want, floor(t));
  level := least(capacity, t - granted);
  UPDATE rate_buckets SET tokens = level, updated_at = greatest(updated_at, now) WHERE key = k;
  -- Now and then, forget buckets full again (idle clients).
  IF random() < 0.01 THEN
    DELETE FROM rate_buckets WHERE key IN (
      SELECT key FROM rate_buckets WHERE updated_at < now - 3600000000 ORDER BY updated_at LIMIT 100);
  END IF;
END $$;
