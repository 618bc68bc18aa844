-- Profiles, follows, the feed and search. A user keeps their follower, following and post counts
-- in their own row, kept by triggers in the transaction of each change, cascades included.
ALTER TABLE users ADD COLUMN bio TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN image TEXT;
ALTER TABLE users ADD COLUMN follower_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN following_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN post_count INTEGER NOT NULL DEFAULT 0;
UPDATE users SET post_count = (SELECT count(*) FROM posts WHERE author_id = users.id);

-- The id orders the follower and following lists (newest follow first) and is their cursor.
CREATE TABLE follows (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  follower_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  followee_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  UNIQUE (follower_id, followee_id)
);
CREATE INDEX follows_followers ON follows(followee_id, id);
CREATE INDEX follows_following ON follows(follower_id, id);

-- The feed, fanned out on write: one row per (follower, post by someone they follow). A page of
-- the feed is one range scan of this key, however many people the reader follows and however
-- quiet they are. Rows are added when a post is written or a follow begins (all the followed
-- user's posts) and removed with the post or the follow.
CREATE TABLE feed (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, post_id)
) WITHOUT ROWID;
CREATE INDEX feed_post_id ON feed(post_id);

CREATE TRIGGER posts_fanned_out AFTER INSERT ON posts BEGIN
  UPDATE users SET post_count = post_count + 1 WHERE id = NEW.author_id;
  INSERT INTO feed (user_id, post_id)
    SELECT follower_id, NEW.id FROM follows WHERE followee_id = NEW.author_id;
END;
CREATE TRIGGER posts_uncounted AFTER DELETE ON posts BEGIN
  UPDATE users SET post_count = post_count - 1 WHERE id = OLD.author_id;
END;
CREATE TRIGGER follows_counted AFTER INSERT ON follows BEGIN
  UPDATE users SET following_count = following_count + 1 WHERE id = NEW.follower_id;
  UPDATE users SET follower_count = follower_count + 1 WHERE id = NEW.followee_id;
  INSERT INTO feed (user_id, post_id)
    SELECT NEW.follower_id, id FROM posts WHERE author_id = NEW.followee_id;
END;
CREATE TRIGGER follows_uncounted AFTER DELETE ON follows BEGIN
  UPDATE users SET following_count = following_count - 1 WHERE id = OLD.follower_id;
  UPDATE users SET follower_count = follower_count - 1 WHERE id = OLD.followee_id;
  DELETE FROM feed WHERE user_id = OLD.follower_id
    AND post_id IN (SELECT id FROM posts WHERE author_id = OLD.followee_id);
END;

-- Full-text search over titles and bodies: FTS5 reading the posts table (external content), kept
-- in step by triggers in each write's transaction. unicode61 with remove_diacritics 2: words are
-- runs of letters and digits, case and diacritics folded. The prefix indexes serve type-ahead.
CREATE VIRTUAL TABLE posts_search USING fts5(
  title, body, content = 'posts', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);
INSERT INTO posts_search (posts_search) VALUES ('rebuild');
CREATE TRIGGER posts_indexed AFTER INSERT ON posts BEGIN
  INSERT INTO posts_search (rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
END;
CREATE TRIGGER posts_unindexed AFTER DELETE ON posts BEGIN
  INSERT INTO posts_search (posts_search, rowid, title, body)
    VALUES ('delete', OLD.id, OLD.title, OLD.body);
END;
CREATE TRIGGER posts_reindexed AFTER UPDATE OF title, body ON posts
  WHEN OLD.title IS NOT NEW.title OR OLD.body IS NOT NEW.body BEGIN
  INSERT INTO posts_search (posts_search, rowid, title, body)
    VALUES ('delete', OLD.id, OLD.title, OLD.body);
  INSERT INTO posts_search (rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body);
END;
