-- A post's summary (0-300 characters; the RealWorld API's `description`), and the counts that
-- page totals are read from instead of counting rows per request: how many posts a user likes,
-- and how many posts there are. Both kept by triggers in each write's transaction.
ALTER TABLE posts ADD COLUMN summary TEXT NOT NULL DEFAULT '';

ALTER TABLE users ADD COLUMN liked_count INTEGER NOT NULL DEFAULT 0;
UPDATE users SET liked_count = (SELECT count(*) FROM likes WHERE user_id = users.id);
CREATE TRIGGER likes_given AFTER INSERT ON likes BEGIN
  UPDATE users SET liked_count = liked_count + 1 WHERE id = NEW.user_id;
END;
CREATE TRIGGER likes_taken_back AFTER DELETE ON likes BEGIN
  UPDATE users SET liked_count = liked_count - 1 WHERE id = OLD.user_id;
END;

-- One row on SQLite (one writer); PostgreSQL spreads the same total over shards.
CREATE TABLE post_totals (
  shard INTEGER PRIMARY KEY,
  n INTEGER NOT NULL
);
INSERT INTO post_totals (shard, n) SELECT 0, count(*) FROM posts;
CREATE TRIGGER posts_totalled AFTER INSERT ON posts BEGIN
  UPDATE post_totals SET n = n + 1 WHERE shard = 0;
END;
CREATE TRIGGER posts_untotalled AFTER DELETE ON posts BEGIN
  UPDATE post_totals SET n = n - 1 WHERE shard = 0;
END;
