"""Comments: a post's list (oldest first), create, read, edit, delete."""

from flask import g, jsonify, request

from app import app, db
from helpers import comment_json, encode_cursor, error, if_match_fails, now_us, page_args, token_required
from models import Comment, Post


def comment_body(data):
    """The comment's body from a request body: (body, None) or (None, an error response)."""
    if not isinstance(data, dict):
        return None, error("Request body must be a JSON object", 400, "invalid_json")
    body = data.get("body")
    if body is None:
        return None, error("Body required", 400, "field_required", {"body": "is required"})
    problem = None
    if not isinstance(body, str):
        problem = "must be a string"
    elif not body.strip():
        problem = "must not be empty"
    elif len(body) > 10_000:
        problem = "must be at most 10000 characters"
    if problem:
        return None, error(f"Invalid body: {problem}", 400, "invalid_field", {"body": problem})
    return body, None


@app.route("/api/posts/<int:id>/comments", methods=["GET", "POST"])
def post_comments(id):
    if request.method == "GET":
        return list_comments(id)
    return create_comment(id)


def list_comments(post_id):
    if Post.query.get(post_id) is None:
        return error("Post not found", 404, "not_found")
    limit, cursor_id, problem = page_args(b"c")
    if problem:
        return problem
    query = Comment.query.filter_by(post_id=post_id)
    if cursor_id is not None:
        query = query.filter(Comment.id > cursor_id)
    rows = query.order_by(Comment.id).limit(limit + 1).all()
    page = rows[:limit]
    next_cursor = encode_cursor(b"c", page[-1].id) if len(rows) > limit else None
    resp = jsonify(comments=[comment_json(c) for c in page], next_cursor=next_cursor)
    if next_cursor:
        resp.headers["Link"] = f'</api/posts/{post_id}/comments?limit={limit}&cursor={next_cursor}>; rel="next"'
    return resp


@token_required
def create_comment(post_id):
    if Post.query.get(post_id) is None:
        return error("Post not found", 404, "not_found")
    body, problem = comment_body(request.get_json(silent=True))
    if problem:
        return problem
    ts = now_us()
    comment = Comment(post_id=post_id, author_id=g.current_user.id, body=body, version=1,
                      created_at=ts, updated_at=ts)
    db.session.add(comment)
    db.session.commit()
    resp = jsonify(comment_json(comment))
    resp.headers["Location"] = f"/api/comments/{comment.id}"
    resp.headers["ETag"] = f'"{comment.version}"'
    return resp, 201


@app.route("/api/comments/<int:id>", methods=["GET", "PATCH", "DELETE"])
def comment(id):
    comment = Comment.query.get(id)
    if comment is None:
        return error("Comment not found", 404, "not_found")
    if request.method == "GET":
        resp = jsonify(comment_json(comment))
        resp.headers["ETag"] = f'"{comment.version}"'
        return resp
    return change_comment(comment)


@token_required
def change_comment(comment):
    user = g.current_user
    may = comment.author_id == user.id or user.admin
    if request.method == "DELETE" and not may:  # the post's author may delete comments on it
        may = Post.query.get(comment.post_id).author_id == user.id
    if not may:
        return error("Only the author may change this comment", 403, "forbidden")
    if if_match_fails(comment.version):
        return error("Precondition failed", 412, "precondition_failed")
    if request.method == "DELETE":
        db.session.delete(comment)
        db.session.commit()
        return "", 204
    body, problem = comment_body(request.get_json(silent=True))
    if problem:
        return problem
    comment.body = body
    comment.version += 1
    comment.updated_at = now_us()
    db.session.commit()
    resp = jsonify(comment_json(comment))
    resp.headers["ETag"] = f'"{comment.version}"'
    return resp
