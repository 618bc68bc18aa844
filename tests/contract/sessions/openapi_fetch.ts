// A whole session through openapi-fetch, typed by the `paths` openapi-typescript made from
// /api/openapi.json: every path, parameter and body below is checked by tsc --strict against the
// document. Run by tests/contract/generators.sh, which writes ./schema.ts beside this file.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema.js";

const BASE = process.env.POSTBASE_URL ?? "";

function check(cond: boolean, what: string): void {
  if (!cond) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  console.log(`ok - ${what}`);
}

const anon = createClient<paths>({ baseUrl: BASE });
const name = `oaf_${Math.random().toString(16).slice(2, 10)}`;
const password = "openapi-fetch password";

const signedUp = await anon.POST("/api/users", {
  body: { username: name, password, email: `${name}@example.com` },
});
check(signedUp.response.status === 201 && signedUp.data?.username === name, "sign up");
const userId = signedUp.data?.id ?? 0;
const taken = await anon.POST("/api/users", { body: { username: name.toUpperCase(), password } });
check(taken.response.status === 409 && taken.error?.error === "Username already taken", "a taken username is a typed 409");

const login = await anon.POST("/api/tokens", { body: { username: name, password } });
const token = login.data?.token ?? "";
check(login.response.status === 201 && token.startsWith("pb_"), "log in");
// The small wrapper a real client keeps: the token on every request of this client.
const bearer: Middleware = {
  onRequest({ request }) {
    request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
};
const me = createClient<paths>({ baseUrl: BASE });
me.use(bearer);
const profile = await me.GET("/api/profile");
check(profile.data?.email === `${name}@example.com`, "profile with email");

const created: number[] = [];
for (let i = 0; i < 5; i++) {
  const res = await me.POST("/api/posts", { body: { title: `post ${i}`, body: "from openapi-fetch" } });
  check(res.response.status === 201 && res.data?.author_id === userId, `create post ${i}`);
  created.push(res.data?.id ?? 0);
}

const seen: number[] = [];
let cursor: string | undefined;
let pages = 0;
do {
  const { data } = await anon.GET("/api/posts", { params: { query: { limit: 2, author: userId, cursor } } });
  pages += 1;
  check(data !== undefined && data.posts.length <= 2, `list page ${pages}`);
  seen.push(...(data?.posts ?? []).map((p) => p.id));
  cursor = data?.next_cursor ?? undefined;
} while (cursor);
check(pages === 3 && JSON.stringify(seen) === JSON.stringify([...created].reverse()), "paging through every post, newest first");

const path = { path: { id: created[0] } };
const first = await anon.GET("/api/posts/{id}", { params: path });
const etag = first.response.headers.get("etag") ?? "";
check(first.response.headers.get("cache-control") === "no-cache", "a post says how it may be cached");
const again = await anon.GET("/api/posts/{id}", { params: { ...path, header: { "If-None-Match": etag } } });
check(again.response.status === 304, "conditional GET of a post: 304");
const query = { query: { limit: 2, author: userId } };
const page = await anon.GET("/api/posts", { params: query });
const pageTag = page.response.headers.get("etag") ?? "";
const pageAgain = await anon.GET("/api/posts", { params: { ...query, header: { "If-None-Match": pageTag } } });
check(pageAgain.response.status === 304, "conditional GET of a list page: 304");

const edited = await me.PATCH("/api/posts/{id}", {
  params: { ...path, header: { "If-Match": etag } },
  body: { title: "edited" },
});
check(edited.data?.title === "edited" && edited.data?.body === "from openapi-fetch", "edit with If-Match");
const stale = await me.PATCH("/api/posts/{id}", { params: { ...path, header: { "If-Match": etag } }, body: { title: "x" } });
check(stale.response.status === 412 && typeof stale.error?.error === "string", "a stale If-Match is a typed 412");
const deleted = await me.DELETE("/api/posts/{id}", { params: { path: { id: created[1] } } });
check(deleted.response.status === 204, "delete");
const gone = await anon.GET("/api/posts/{id}", { params: { path: { id: created[1] } } });
check(gone.response.status === 404 && gone.error?.error === "Post not found", "deleted post is a typed 404");

const cleared = await me.PATCH("/api/users/{id}", { params: { path: { id: userId } }, body: { email: "" } });
check(cleared.response.status === 200 && cleared.data?.email == null, "an empty email clears it");

const out = await me.DELETE("/api/tokens/current");
check(out.response.status === 204, "log out");
const refused = await me.GET("/api/profile");
check(refused.response.status === 401 && refused.error?.error === "Invalid token", "the revoked token is refused");
console.log("openapi-fetch session: all steps passed");
