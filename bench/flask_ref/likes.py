"""Likes (PUT and DELETE /api/posts/<id>/like, both idempotent) and the most used tags."""

from flask import g, jsonify, request
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from app import app, db
from helpers import error, now_us, post_response, token_required
from models import Like, Post, Tag, taggings


@app.route("/api/posts/<int:id>/like", methods=["PUT", "DELETE"])
@token_required
def like(id):
    post = Post.query.get(id)
    if post is None:
        return error("Post not found", 404, "not_found")
    existing = Like.query.get((g.current_user.id, id))
    if request.method == "PUT" and existing is None:
        db.session.add(Like(user_id=g.current_user.id, post_id=id, created_at=now_us()))
        try:
            db.session.commit()
        except IntegrityError:  # the same like, just made by a concurrent request
            db.session.rollback()
    elif request.method == "DELETE" and existing is not None:
        db.session.delete(existing)
        db.session.commit()
    return post_response(post, g.current_user)


@app.route("/api/tags")
def popular_tags():
    count = func.count(taggings.c.post_id)
    rows = (db.session.query(Tag.name, count).join(taggings, taggings.c.tag_id == Tag.id)
            .group_by(Tag.id).order_by(count.desc(), Tag.name).limit(100).all())
    return jsonify([{"name": name, "count": n} for name, n in rows])
