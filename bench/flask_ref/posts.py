"""Posts: the list (newest first, ?tag= ?author= ?liked_by=), create, read, replace, edit, delete."""

from flask import g, jsonify, request

from app import app, db
from helpers import (encode_cursor, error, if_match_fails, now_us, page_args, parse_tags, post_json,
                     post_response, tags_named, token_optional, token_required)
from models import Like, Post, Tag


@app.route("/api/posts", methods=["GET", "POST"])
def posts():
    if request.method == "GET":
        return list_posts()
    return create_post()


@token_optional
def list_posts():
    limit, cursor_id, problem = page_args(b"p")
    if problem:
        return problem
    query = Post.query
    filters = []  # what the next page's link repeats
    for name in ("author", "liked_by"):
        value = request.args.get(name)
        if value is None:
            continue
        if not value.isdigit():
            return error(f"Invalid {name}: must be a user id", 400, "validation_failed",
                         {name: "must be a user id"})
        if name == "author":
            query = query.filter(Post.author_id == int(value))
        else:
            query = query.join(Like, Like.post_id == Post.id).filter(Like.user_id == int(value))
        filters.append(f"&{name}={value}")
    tag = request.args.get("tag")
    if tag is not None:
        names, problem = parse_tags([tag])
        if problem:
            return error(f"Invalid tag: {problem}", 400, "invalid_field", {"tag": problem})
        query = query.filter(Post.tags.any(Tag.name == names[0]))
        filters.append(f"&tag={names[0]}")
    if cursor_id is not None:
        query = query.filter(Post.id < cursor_id)
    rows = query.order_by(Post.id.desc()).limit(limit + 1).all()
    page = rows[:limit]
    next_cursor = encode_cursor(b"p", page[-1].id) if len(rows) > limit else None
    resp = jsonify(posts=[post_json(p, g.current_user) for p in page], next_cursor=next_cursor)
    if next_cursor:
        resp.headers["Link"] = f'</api/posts?limit={limit}&cursor={next_cursor}{"".join(filters)}>; rel="next"'
    resp.headers["Vary"] = "Authorization"
    return resp


def post_fields(data, partial):
    """title, body and tags from a request body: (changes, None) or (None, an error response).
    Without `partial` (POST, PUT) a missing body is "" and missing tags are none."""
    changes = {}
    if "title" in data or not partial:
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            return None, error("Title required", 400, "field_required", {"title": "is required"})
        if len(title.strip()) > 200:
            return None, error("Validation failed", 400, "validation_failed", {"title": "at most 200 characters"})
        changes["title"] = title.strip()
    if "body" in data or not partial:
        body = data.get("body", "")
        if not isinstance(body, str) or len(body.encode()) > 65536:
            return None, error("Validation failed", 400, "validation_failed", {"body": "at most 64 KiB"})
        changes["body"] = body
    if "tags" in data or not partial:
        names, problem = parse_tags(data.get("tags", []))
        if problem:
            return None, error(f"Invalid tags: {problem}", 400, "invalid_field", {"tags": problem})
        changes["tags"] = tags_named(names)
    return changes, None


@token_required
def create_post():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error("Request body must be a JSON object", 400, "invalid_json")
    changes, problem = post_fields(data, partial=False)
    if problem:
        return problem
    ts = now_us()
    post = Post(author_id=g.current_user.id, version=1, created_at=ts, updated_at=ts, **changes)
    db.session.add(post)
    db.session.commit()
    resp = post_response(post, status=201)  # a write's answer shows the post as anyone sees it
    resp.headers["Location"] = f"/api/posts/{post.id}"
    return resp


@app.route("/api/posts/<int:id>", methods=["GET", "PUT", "PATCH", "DELETE"])
def post(id):
    if request.method == "GET":
        return get_post(id)
    if request.method == "DELETE":
        return delete_post(id)
    return update_post(id)


@token_optional
def get_post(id):
    post = Post.query.get(id)
    if post is None:
        return error("Post not found", 404, "not_found")
    resp = post_response(post, g.current_user)
    if request.headers.get("If-None-Match") == resp.headers["ETag"]:
        return "", 304, {"ETag": resp.headers["ETag"], "Vary": "Authorization"}
    return resp


def own_post(id):
    """The post, if the current user may change it: (post, None) or (None, an error response)."""
    post = Post.query.get(id)
    if post is None:
        return None, error("Post not found", 404, "not_found")
    if post.author_id != g.current_user.id and not g.current_user.admin:
        return None, error("Only the author may change this post", 403, "forbidden")
    if if_match_fails(post.version):
        return None, error("Precondition failed", 412, "precondition_failed")
    return post, None


@token_required
def update_post(id):
    post, problem = own_post(id)
    if problem:
        return problem
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error("Request body must be a JSON object", 400, "invalid_json")
    changes, problem = post_fields(data, partial=request.method == "PATCH")
    if problem:
        return problem
    for name, value in changes.items():
        setattr(post, name, value)
    post.version += 1
    post.updated_at = now_us()
    db.session.commit()
    return post_response(post)


@token_required
def delete_post(id):
    post, problem = own_post(id)
    if problem:
        return problem
    db.session.delete(post)  # its comments, likes and taggings go with it (ON DELETE CASCADE)
    db.session.commit()
    return "", 204
