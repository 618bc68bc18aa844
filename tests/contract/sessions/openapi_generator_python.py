"""A whole session through the Python client openapi-generator's `python` generator made from
/api/openapi.json (pydantic models that validate what is sent).

Nobody here wrote the generator; if it cannot express a step, the document is what needs fixing.
Run by tests/contract/generators.sh, which generates the client as `postbase_oag` and starts postbase.
"""
import os
import secrets
import sys

from postbase_oag import ApiClient, Configuration
from postbase_oag.api import PostsApi, TokensApi, UsersApi
from postbase_oag.exceptions import ApiException
from postbase_oag.models import EmailOrNone, Login, PostInput, PostPatch, SignUp, UserPatch

BASE = os.environ["POSTBASE_URL"]


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")
    print(f"ok - {what}")


def status_of(call, *args, **kwargs):
    """The status of a call: the generated client raises ApiException for anything but 2xx."""
    try:
        return call(*args, **kwargs).status_code
    except ApiException as e:
        return e.status


anon = ApiClient(Configuration(host=BASE))
name = "oag_" + secrets.token_hex(4)
password = "openapi-generator password"

res = UsersApi(anon).create_user_with_http_info(
    SignUp(username=name, password=password, email=EmailOrNone(f"{name}@example.com"))
)
check(res.status_code == 201 and res.data.username == name, "sign up")
user_id = res.data.id
taken = SignUp(username=name.upper(), password=password)
check(status_of(UsersApi(anon).create_user_with_http_info, taken) == 409, "a taken username is 409")

issued = TokensApi(anon).create_token(Login(username=name, password=password))
check(issued.token.startswith("pb_") and issued.user.id == user_id, "log in")
me = ApiClient(Configuration(host=BASE, access_token=issued.token))
check(TokensApi(me).get_profile().email == f"{name}@example.com", "profile with email")

posts = PostsApi(me)
created = []
for i in range(5):
    post = posts.create_post(PostInput(title=f"post {i}", body="from openapi-generator python"))
    check(post.author_id == user_id, f"create post {i}")
    created.append(post.id)

seen, cursor, pages = [], None, 0
while True:
    page = posts.list_posts(limit=2, author=user_id, cursor=cursor)
    pages += 1
    check(len(page.posts) <= 2, f"list page {pages}")
    seen += [p.id for p in page.posts]
    cursor = page.next_cursor
    if not cursor:
        break
check(pages == 3 and seen == sorted(created, reverse=True), "paging through every post, newest first")

first = posts.get_post_with_http_info(created[0])
etag = first.headers["etag"]
check(first.headers["cache-control"] == "no-cache", "a post says how it may be cached")
check(status_of(posts.get_post_with_http_info, created[0], if_none_match=etag) == 304, "conditional GET of a post: 304")
page = posts.list_posts_with_http_info(limit=2, author=user_id)
again = status_of(posts.list_posts_with_http_info, limit=2, author=user_id, if_none_match=page.headers["etag"])
check(again == 304, "conditional GET of a list page: 304")

edited = posts.update_post(created[0], PostPatch(title="edited"), if_match=etag)
check(edited.title == "edited" and edited.body == "from openapi-generator python", "edit with If-Match")
stale = status_of(posts.update_post_with_http_info, created[0], PostPatch(title="stale"), if_match=etag)
check(stale == 412, "a stale If-Match is 412")
posts.delete_post(created[1])
check(status_of(posts.get_post_with_http_info, created[1]) == 404, "deleted post is 404")

cleared = UsersApi(me).update_user(user_id, UserPatch(email=EmailOrNone("")))
check(cleared.email is None, "an empty email clears it")
public = UsersApi(anon).get_user(user_id)
check(public.username == name and public.email is None, "public user, without email")

TokensApi(me).delete_current_token()
check(status_of(TokensApi(me).get_profile_with_http_info) == 401, "the revoked token is refused")
print("openapi-generator python session: all steps passed")
