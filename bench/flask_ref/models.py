"""The models, mapped onto postbase's schema (migrations/sqlite/) so that both servers read and write
the same SQLite file; tags are the exception, kept the tutorial's way in tables of their own.

A post's like and comment counts are columns of `posts` that the schema's triggers keep as likes
and comments come and go, for this app's writes as for postbase's; this app reads them like any
other column. (Counting per post with `post.likes.count()`, as a tutorial app might, makes a page
of 20 posts 41 queries: about ten times slower here, which would measure the N+1 pattern rather
than the stack.) A post's tags are a many-to-many relationship through an association table,
loaded with the post (`lazy="selectin"`, as in Flask-SQLAlchemy's many-to-many example).
"""

from app import db


class User(db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String, unique=True, nullable=False)
    email = db.Column(db.String)
    password_hash = db.Column(db.String, nullable=False)
    admin = db.Column(db.Integer, nullable=False, default=0)
    # The profile and its counts: postbase's columns (its triggers keep the counts), read as they
    # are, like the posts' like and comment counts.
    bio = db.Column(db.String, nullable=False, default="")
    image = db.Column(db.String)
    follower_count = db.Column(db.Integer, nullable=False, default=0)
    following_count = db.Column(db.Integer, nullable=False, default=0)
    post_count = db.Column(db.Integer, nullable=False, default=0)
    version = db.Column(db.Integer, nullable=False, default=1)
    created_at = db.Column(db.Integer, nullable=False)
    updated_at = db.Column(db.Integer, nullable=False)


class Token(db.Model):
    __tablename__ = "tokens"
    hash = db.Column(db.LargeBinary, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.Integer, nullable=False)
    expires_at = db.Column(db.Integer, nullable=False)


# The reference's own tables (created by `flask --app app init-db`): postbase keeps a post's tags
# differently (`posts.tags`, `post_tags`, `tag_counts`), so these have names postbase does not use.
# A post's tags are read in the order they were added (`id`), which is the order they were given.
taggings = db.Table(
    "taggings",
    db.Column("id", db.Integer, primary_key=True),
    db.Column("tag_id", db.Integer, db.ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
    db.Column("post_id", db.Integer, db.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False,
              index=True),
    db.UniqueConstraint("tag_id", "post_id"),
)


class Tag(db.Model):
    __tablename__ = "tags"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String, unique=True, nullable=False)


class Post(db.Model):
    __tablename__ = "posts"
    id = db.Column(db.Integer, primary_key=True)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    title = db.Column(db.String, nullable=False)
    body = db.Column(db.String, nullable=False, default="")
    summary = db.Column(db.String, nullable=False, default="")
    version = db.Column(db.Integer, nullable=False, default=1)
    created_at = db.Column(db.Integer, nullable=False)
    updated_at = db.Column(db.Integer, nullable=False)
    like_count = db.Column(db.Integer, nullable=False, default=0)  # kept by the schema's triggers
    comment_count = db.Column(db.Integer, nullable=False, default=0)  # likewise
    tags = db.relationship("Tag", secondary=taggings, order_by=taggings.c.id, lazy="selectin")


class Like(db.Model):
    __tablename__ = "likes"
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    post_id = db.Column(db.Integer, db.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True,
                        index=True)
    created_at = db.Column(db.Integer, nullable=False)


class Comment(db.Model):
    __tablename__ = "comments"
    id = db.Column(db.Integer, primary_key=True)
    post_id = db.Column(db.Integer, db.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    body = db.Column(db.String, nullable=False)
    version = db.Column(db.Integer, nullable=False, default=1)
    created_at = db.Column(db.Integer, nullable=False)
    updated_at = db.Column(db.Integer, nullable=False)
