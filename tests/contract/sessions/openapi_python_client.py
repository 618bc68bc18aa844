"""A whole session through a client that openapi-python-client generated from /api/openapi.json.

Nobody here wrote the generator; if it cannot express a step, the document is what needs fixing.
Run by tests/contract/generators.sh, which generates the client and starts postbase.
"""
import os
import secrets
import sys

from postbase_client import AuthenticatedClient, Client
from postbase_client.api.posts import create_post, delete_post, get_post, list_posts, update_post
from postbase_client.api.tokens import create_token, delete_current_token, get_profile
from postbase_client.api.users import create_user, get_user, update_user
from postbase_client.models import Error, Login, Post, PostInput, PostPage, PostPatch, SignUp, TokenIssued, UserPatch, UserWithEmail

BASE = os.environ["POSTBASE_URL"]


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")
    print(f"ok - {what}")


anon = Client(base_url=BASE, raise_on_unexpected_status=True)
name = "gen_" + secrets.token_hex(4)
password = "generated client password"

res = create_user.sync_detailed(client=anon, body=SignUp(username=name, password=password, email=f"{name}@example.com"))
check(res.status_code == 201 and res.parsed.username == name, "sign up")
check(res.headers["location"] == f"/api/users/{res.parsed.id}", "sign-up Location")
user_id = res.parsed.id

res = create_user.sync_detailed(client=anon, body=SignUp(username=name.upper(), password=password))
check(res.status_code == 409 and isinstance(res.parsed, Error), "a taken username is a typed 409 Error")

res = create_token.sync_detailed(client=anon, body=Login(username=name, password="wrong password"))
check(res.status_code == 401 and res.parsed.error == "Invalid username or password", "wrong password is a typed 401")

issued = create_token.sync(client=anon, body=Login(username=name, password=password))
check(isinstance(issued, TokenIssued) and issued.token.startswith("pb_"), "log in")
me = AuthenticatedClient(base_url=BASE, token=issued.token, raise_on_unexpected_status=True)

profile = get_profile.sync(client=me)
check(isinstance(profile, UserWithEmail) and profile.email == f"{name}@example.com", "profile with email")

created = []
for i in range(5):
    res = create_post.sync_detailed(client=me, body=PostInput(title=f"post {i}", body="from a generated client"))
    check(res.status_code == 201 and isinstance(res.parsed, Post) and res.parsed.author_id == user_id, f"create post {i}")
    created.append(res.parsed.id)

res = get_post.sync_detailed(created[0], client=anon)
etag = res.headers["etag"]
check(res.headers["cache-control"] == "no-cache", "a post says how it may be cached")
res = get_post.sync_detailed(created[0], client=anon, if_none_match=etag)
check(res.status_code == 304 and res.parsed is None, "conditional GET of a post: 304")
res = list_posts.sync_detailed(client=anon, limit=2, author=user_id)
res = list_posts.sync_detailed(client=anon, limit=2, author=user_id, if_none_match=res.headers["etag"])
check(res.status_code == 304, "conditional GET of a list page: 304")
res = update_post.sync_detailed(created[0], client=me, body=PostPatch(title="edited"), if_match=etag)
check(res.status_code == 200 and res.parsed.title == "edited" and res.parsed.body == "from a generated client", "edit with If-Match")
res = update_post.sync_detailed(created[0], client=me, body=PostPatch(title="stale"), if_match=etag)
check(res.status_code == 412 and isinstance(res.parsed, Error), "a stale If-Match is a typed 412")

seen, cursor, pages = [], None, 0
while True:
    pages += 1
    page = list_posts.sync(client=anon, limit=2, author=user_id, cursor=cursor) if cursor else list_posts.sync(client=anon, limit=2, author=user_id)
    check(isinstance(page, PostPage) and len(page.posts) <= 2, f"list page {pages}")
    seen += [p.id for p in page.posts]
    cursor = page.next_cursor
    if not cursor:
        break
check(pages == 3 and seen == sorted(created, reverse=True), "paging through every post, newest first")

res = delete_post.sync_detailed(created[1], client=me)
check(res.status_code == 204, "delete")
res = get_post.sync_detailed(created[1], client=anon)
check(res.status_code == 404 and res.parsed.error == "Post not found", "deleted post is a typed 404")

res = update_user.sync_detailed(user_id, client=me, body=UserPatch(email=""))
check(res.status_code == 200 and res.parsed.email is None, "an empty email clears it")
check(get_user.sync(user_id, client=anon).username == name, "public user")

res = delete_current_token.sync_detailed(client=me)
check(res.status_code == 204, "log out")
res = get_profile.sync_detailed(client=me)
check(res.status_code == 401 and res.parsed.error == "Invalid token", "the revoked token is refused")
print("generated client session: all steps passed")
