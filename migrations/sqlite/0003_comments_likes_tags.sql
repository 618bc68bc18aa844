-- Comments, likes and tags. A post keeps its like and comment counts and its tags in its own row,
-- so that reading a post or a page of them needs no join and no COUNT(*); triggers keep the counts
-- in the transaction of each change, cascaded deletes included.
ALTER TABLE posts ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE posts ADD COLUMN like_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN comment_count INTEGER NOT NULL DEFAULT 0;

CREATE TABLE comments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
  author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  body TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX comments_post_id ON comments(post_id, id);
CREATE INDEX comments_author_id ON comments(author_id);

-- The key serves `?liked_by=` pages (one range scan, newest post first); the index, a post's
-- cascade and counting.
CREATE TABLE likes (
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, post_id)
) WITHOUT ROWID;
CREATE INDEX likes_post_id ON likes(post_id);

-- One row per tag of a post: the key serves `?tag=` pages as one range scan.
CREATE TABLE post_tags (
  tag TEXT NOT NULL,
  post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
  PRIMARY KEY (tag, post_id)
) WITHOUT ROWID;
CREATE INDEX post_tags_post_id ON post_tags(post_id);

-- How many posts carry each tag, for `GET /api/tags` without counting.
CREATE TABLE tag_counts (
  name TEXT PRIMARY KEY,
  count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tag_counts_popular ON tag_counts(count DESC, name);

CREATE TRIGGER comments_counted AFTER INSERT ON comments BEGIN
  UPDATE posts SET comment_count = comment_count + 1 WHERE id = NEW.post_id;
END;
CREATE TRIGGER comments_uncounted AFTER DELETE ON comments BEGIN
  UPDATE posts SET comment_count = comment_count - 1 WHERE id = OLD.post_id;
END;
CREATE TRIGGER likes_counted AFTER INSERT ON likes BEGIN
  UPDATE posts SET like_count = like_count + 1 WHERE id = NEW.post_id;
END;
CREATE TRIGGER likes_uncounted AFTER DELETE ON likes BEGIN
  UPDATE posts SET like_count = like_count - 1 WHERE id = OLD.post_id;
END;
CREATE TRIGGER post_tags_counted AFTER INSERT ON post_tags BEGIN
  INSERT INTO tag_counts (name, count) VALUES (NEW.tag, 1)
    ON CONFLICT (name) DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER post_tags_uncounted AFTER DELETE ON post_tags BEGIN
  UPDATE tag_counts SET count = count - 1 WHERE name = OLD.tag;
  DELETE FROM tag_counts WHERE name = OLD.tag AND count <= 0;
END;
