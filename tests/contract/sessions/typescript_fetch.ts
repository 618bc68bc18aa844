// A whole session through the client openapi-generator's `typescript-fetch` made from
// /api/openapi.json. Nobody here wrote the generator: if it cannot express a step, the document is
// what needs fixing. Run by tests/contract/generators.sh, which generates the client into
// ./client beside this file, compiles both with tsc --strict and starts postbase.
import {
  Configuration,
  PostsApi,
  ResponseError,
  TokensApi,
  UsersApi,
} from "./client/index.js";

const BASE = process.env.POSTBASE_URL ?? "";

function check(cond: boolean, what: string): void {
  if (!cond) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  console.log(`ok - ${what}`);
}

/** The status of a call: the generated client throws `ResponseError` for anything but 2xx. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (e) {
    if (e instanceof ResponseError) return e.response.status;
    throw e;
  }
}

const name = `tsf_${Math.random().toString(16).slice(2, 10)}`;
const password = "typescript-fetch password";
const anon = new Configuration({ basePath: BASE });

const signedUp = await new UsersApi(anon).createUserRaw({
  signUp: { username: name, password, email: `${name}@example.com` },
});
const user = await signedUp.value();
check(signedUp.raw.status === 201 && user.username === name, "sign up");
check(signedUp.raw.headers.get("location") === `/api/users/${user.id}`, "sign-up Location");
check(
  (await statusOf(new UsersApi(anon).createUser({ signUp: { username: name.toUpperCase(), password } }))) === 409,
  "a taken username is 409",
);

const issued = await new TokensApi(anon).createToken({ login: { username: name, password } });
check(issued.token.startsWith("pb_") && issued.user.id === user.id, "log in");
const me = new Configuration({ basePath: BASE, accessToken: issued.token });
const profile = await new TokensApi(me).getProfile();
check(profile.email === `${name}@example.com`, "profile with email");

const posts = new PostsApi(me);
const created: number[] = [];
for (let i = 0; i < 5; i++) {
  const post = await posts.createPost({ postInput: { title: `post ${i}`, body: "from typescript-fetch" } });
  check(post.authorId === user.id, `create post ${i}`);
  created.push(post.id);
}

const seen: number[] = [];
let cursor: string | undefined;
let pages = 0;
do {
  const page = await posts.listPosts({ limit: 2, author: user.id, cursor });
  pages += 1;
  check(page.posts.length <= 2, `list page ${pages}`);
  seen.push(...page.posts.map((p) => p.id));
  cursor = page.nextCursor ?? undefined;
} while (cursor);
check(pages === 3 && JSON.stringify(seen) === JSON.stringify([...created].reverse()), "paging through every post, newest first");

const first = await posts.getPostRaw({ id: created[0] });
const etag = first.raw.headers.get("etag") ?? "";
check(first.raw.headers.get("cache-control") === "no-cache", "a post says how it may be cached");
check((await statusOf(posts.getPost({ id: created[0], ifNoneMatch: etag }))) === 304, "conditional GET of a post: 304");
const page = await posts.listPostsRaw({ limit: 2, author: user.id });
const pageTag = page.raw.headers.get("etag") ?? "";
check(
  (await statusOf(posts.listPosts({ limit: 2, author: user.id, ifNoneMatch: pageTag }))) === 304,
  "conditional GET of a list page: 304",
);

const edited = await posts.updatePost({ id: created[0], ifMatch: etag, postPatch: { title: "edited" } });
check(edited.title === "edited" && edited.body === "from typescript-fetch", "edit with If-Match");
check(
  (await statusOf(posts.updatePost({ id: created[0], ifMatch: etag, postPatch: { title: "stale" } }))) === 412,
  "a stale If-Match is 412",
);
await posts.deletePost({ id: created[1] });
check((await statusOf(posts.getPost({ id: created[1] }))) === 404, "deleted post is 404");

const cleared = await new UsersApi(me).updateUser({ id: user.id, userPatch: { email: "" } });
check(cleared.email == null, "an empty email clears it");
const seenByOthers = await new UsersApi(anon).getUser({ id: user.id });
check(seenByOthers.username === name && seenByOthers.email === undefined, "public user, without email");

await new TokensApi(me).deleteCurrentToken();
check((await statusOf(new TokensApi(me).getProfile())) === 401, "the revoked token is refused");
console.log("typescript-fetch session: all steps passed");
