-- A post's summary and the counts page totals are read from (see the SQLite migration of the
-- same name). Summaries are UTF-8 in BYTEA like titles and bodies.
ALTER TABLE posts ADD COLUMN summary BYTEA NOT NULL DEFAULT '';

ALTER TABLE users ADD COLUMN liked_count BIGINT NOT NULL DEFAULT 0;
UPDATE users SET liked_count = (SELECT count(*) FROM likes WHERE user_id = users.id);
CREATE FUNCTION postbase_count_likes_given() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE users SET liked_count = liked_count + 1 WHERE id = NEW.user_id;
  ELSE
    UPDATE users SET liked_count = liked_count - 1 WHERE id = OLD.user_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER likes_given AFTER INSERT OR DELETE ON likes
  FOR EACH ROW EXECUTE FUNCTION postbase_count_likes_given();

-- The number of posts, in 16 shards: a single row would make every post's transaction wait for
-- the previous one's commit. Each connection adds to the shard of its backend; the total is the
-- sum of 16 rows.
CREATE TABLE post_totals (
  shard INTEGER PRIMARY KEY,
  n BIGINT NOT NULL
);
INSERT INTO post_totals (shard, n) SELECT s, 0 FROM generate_series(0, 15) s;
UPDATE post_totals SET n = (SELECT count(*) FROM posts) WHERE shard = 0;
CREATE FUNCTION postbase_total_posts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE post_totals SET n = n + CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END
    WHERE shard = pg_backend_pid() % 16;
  RETURN NULL;
END $$;
CREATE TRIGGER posts_totalled AFTER INSERT OR DELETE ON posts
  FOR EACH ROW EXECUTE FUNCTION postbase_total_posts();
