// A person's session, clicked through in Chromium against a real postbase on another origin:
// sign up, log in, write a post, edit it, load more, delete it, log out; plus the error screens.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { api, launchBrowser, newPage, saveLog, publishScreenshot, screenshot, startPostbase, startStatic } from "./helpers.mjs";

describe("a session in the browser client", () => {
  let server;
  let web;
  let browser;
  let page;
  let events;
  let seed; // another author, whose posts fill more than one page
  let myPostId;

  before(async () => {
    server = await startPostbase();
    web = await startStatic();
    browser = await launchBrowser();
    ({ page, events } = await newPage(browser));

    const created = await api(server.url, "POST", "/api/users", { body: { username: "bob_seed", password: "seed password 1" } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const grant = await api(server.url, "POST", "/api/tokens", { body: { username: "bob_seed", password: "seed password 1" } });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    seed = { id: created.body.id, token: grant.body.token };
    for (let i = 1; i <= 22; i++) {
      const post = await api(server.url, "POST", "/api/posts", {
        token: seed.token,
        body: { title: `Seeded post ${i}`, body: `Written by the test through the API, number ${i}.` },
      });
      assert.equal(post.status, 201, JSON.stringify(post.body));
    }
  });

  after(async () => {
    if (events) await saveLog("session-browser.log", events.join("\n") + "\n");
    if (server) await saveLog("session-postbase.log", server.log());
    await browser?.close();
    await web?.stop();
    await server?.stop();
  });

  const posts = () => page.getByTestId("post-list").getByTestId("post");
  const mine = () => posts().filter({ has: page.getByTestId("edit-post") });

  it("opens the client from its own origin, pointed at the API by ?api=", async () => {
    await page.goto(`${web.url}/?api=${encodeURIComponent(server.url)}#/`);
    await page.getByTestId("post").first().waitFor();
    assert.equal(await page.getByTestId("api-base").textContent(), server.url);
    assert.notEqual(new URL(web.url).port, new URL(server.url).port);
    assert.equal(await posts().count(), 20, "the first page holds 20 posts");
    assert.equal(await page.getByTestId("edit-post").count(), 0, "no edit buttons when logged out");
    assert.equal(await page.getByTestId("load-more").isVisible(), true);
    await screenshot(page, "01-posts-logged-out");
  });

  it("shows the API's validation problems next to the sign-up fields", async () => {
    await page.getByTestId("nav-signup").click();
    const form = page.getByTestId("signup-form");
    await form.getByTestId("username").fill("x!");
    await form.getByTestId("password").fill("a long enough password");
    await form.getByTestId("submit").click();
    await form.getByTestId("field-error-username").waitFor();
    assert.match(await form.getByTestId("field-error-username").textContent(), /\S/);

    await form.getByTestId("username").fill("alice");
    await form.getByTestId("password").fill("short");
    await form.getByTestId("submit").click();
    await form.getByTestId("field-error-password").waitFor();
    assert.equal(await form.getByTestId("field-error-username").isVisible(), false, "old problem cleared");
    await screenshot(page, "02-signup-errors");

    await form.getByTestId("username").fill("bob_seed");
    await form.getByTestId("password").fill("a long enough password");
    await form.getByTestId("submit").click();
    await page.getByText("Username already taken").waitFor();
  });

  it("signs up", async () => {
    const form = page.getByTestId("signup-form");
    await form.getByTestId("username").fill("alice");
    await form.getByTestId("email").fill("alice@example.com");
    await form.getByTestId("password").fill("correct horse battery");
    await form.getByTestId("submit").click();
    await page.getByTestId("login-form").waitFor();
    assert.match(await page.getByTestId("notice").textContent(), /alice created/);
    const users = await api(server.url, "GET", "/api/users");
    assert.deepEqual(users.body.users.map((u) => u.username), ["bob_seed", "alice"]);
  });

  it("refuses a wrong password in words, then logs in", async () => {
    const form = page.getByTestId("login-form");
    assert.equal(await form.getByTestId("username").inputValue(), "alice", "username carried over from sign-up");
    await form.getByTestId("password").fill("wrong password");
    await form.getByTestId("submit").click();
    await form.getByText("Invalid username or password").waitFor();
    await screenshot(page, "03-login-error");

    await form.getByTestId("password").fill("correct horse battery");
    await form.getByTestId("submit").click();
    await page.getByTestId("new-post-form").waitFor();
    assert.equal(await page.getByTestId("nav-user").textContent(), "alice");
    const token = await page.evaluate(() => sessionStorage.getItem("postbase.token"));
    assert.match(token, /^pb_/, "token kept in sessionStorage");
    assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing in localStorage");
  });

  it("creates a post, with the title required", async () => {
    const form = page.getByTestId("new-post-form");
    await form.getByTestId("title").fill("   ");
    await form.getByTestId("submit").click();
    await form.getByTestId("field-error-title").waitFor();

    await form.getByTestId("title").fill("Hello from the browser");
    await form.getByTestId("body").fill("First post, written in Chromium\non another origin.");
    await form.getByTestId("submit").click();
    await mine().first().waitFor();
    const first = posts().first();
    assert.equal(await first.getByTestId("post-title").textContent(), "Hello from the browser");
    assert.equal(await first.getByTestId("post-author").textContent(), "alice");
    myPostId = Number(await first.getAttribute("data-post-id"));
    const stored = await api(server.url, "GET", `/api/posts/${myPostId}`);
    assert.equal(stored.status, 200);
    assert.equal(stored.body.title, "Hello from the browser");
    await screenshot(page, "04-posts-logged-in").then(publishScreenshot);
  });

  it("offers edit and delete only on one's own posts", async () => {
    assert.equal(await mine().count(), 1);
    const others = posts().filter({ hasNot: page.getByTestId("edit-post") });
    assert.equal(await others.count(), (await posts().count()) - 1);
    assert.equal(await others.first().getByTestId("delete-post").count(), 0);
  });

  it("will not overwrite a change made elsewhere while editing (ETag, If-Match)", async () => {
    const post = page.locator(`[data-testid=post][data-post-id="${myPostId}"]`);
    await post.getByTestId("edit-post").click();
    const form = post.getByTestId("edit-post-form");
    await form.getByTestId("title").waitFor();
    // Meanwhile, in another tab, the body changes.
    const token = await page.evaluate(() => sessionStorage.getItem("postbase.token"));
    const patched = await api(server.url, "PATCH", `/api/posts/${myPostId}`, { token, body: { body: "Changed elsewhere." } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    await form.getByTestId("title").fill("Lost update?");
    await form.getByTestId("submit").click();
    await form.getByTestId("form-error").getByText("changed elsewhere").waitFor();
    const stored = await api(server.url, "GET", `/api/posts/${myPostId}`);
    assert.equal(stored.body.title, "Hello from the browser", "the stale save was refused");
    await post.getByTestId("cancel-edit").click();
    await post.getByTestId("edit-post").waitFor();
  });

  it("edits the post", async () => {
    const post = page.locator(`[data-testid=post][data-post-id="${myPostId}"]`);
    await post.getByTestId("edit-post").click();
    const form = post.getByTestId("edit-post-form");
    assert.equal(await form.getByTestId("title").inputValue(), "Hello from the browser");
    await form.getByTestId("title").fill("Hello again, edited");
    await screenshot(page, "05-editing");
    await form.getByTestId("submit").click();
    await post.getByText("Hello again, edited").waitFor();
    assert.equal(await post.getByTestId("edit-post-form").count(), 0);
    const stored = await api(server.url, "GET", `/api/posts/${myPostId}`);
    assert.equal(stored.body.title, "Hello again, edited");
    assert.equal(stored.body.body, "Changed elsewhere.", "the edit started from the stored version");
  });

  it("loads more posts with the cursor until there are none", async () => {
    assert.equal(await posts().count(), 21, "the first page of 20, plus the post just written");
    await page.getByTestId("load-more").click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=post-list] [data-testid=post]").length === 23);
    await page.getByTestId("load-more").waitFor({ state: "hidden" });
    const titles = await posts().getByTestId("post-title").allTextContents();
    assert.equal(titles.at(-1), "Seeded post 1", "oldest post last");
    assert.equal(new Set(titles).size, 23, "no post twice");
    await screenshot(page, "06-load-more");
  });

  it("shows the profile with one's own posts", async () => {
    await page.getByTestId("nav-profile").click();
    await page.getByTestId("profile-username").waitFor();
    assert.equal(await page.getByTestId("profile-username").textContent(), "alice");
    await page.getByTestId("profile-email").getByText("alice@example.com").waitFor();
    await page.getByTestId("post-list").getByText("Hello again, edited").waitFor();
    assert.equal(await posts().count(), 1, "only alice's posts on her profile");

    const form = page.getByTestId("email-form");
    await form.getByTestId("email").fill("not an address");
    await form.getByTestId("submit").click();
    await form.getByTestId("field-error-email").waitFor();
    await form.getByTestId("email").fill("alice@example.org");
    await form.getByTestId("submit").click();
    await page.getByTestId("profile-email").getByText("alice@example.org").waitFor();
    await screenshot(page, "07-profile");
  });

  it("deletes the post", async () => {
    await page.getByTestId("nav-home").click();
    const post = page.locator(`[data-testid=post][data-post-id="${myPostId}"]`);
    await post.getByTestId("delete-post").click();
    await post.getByTestId("confirm-delete").click();
    await post.waitFor({ state: "detached" });
    const stored = await api(server.url, "GET", `/api/posts/${myPostId}`);
    assert.equal(stored.status, 404);
  });

  it("keeps the session across a reload of the tab", async () => {
    await page.reload();
    await page.getByTestId("nav-user").waitFor();
    assert.equal(await page.getByTestId("nav-user").textContent(), "alice");
    await screenshot(page, "08-after-reload");
  });

  it("logs out, which revokes the token", async () => {
    const token = await page.evaluate(() => sessionStorage.getItem("postbase.token"));
    await page.getByTestId("logout").click();
    await page.getByTestId("login-form").waitFor();
    await page.getByTestId("nav-login").waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("postbase.token")), null);
    const profile = await api(server.url, "GET", "/api/profile", { token });
    assert.equal(profile.status, 401, "token revoked on the server");
  });

  it("says 'Session expired' on a 401 and offers the way back to log in", async () => {
    const form = page.getByTestId("login-form");
    await form.getByTestId("username").fill("alice");
    await form.getByTestId("password").fill("correct horse battery");
    await form.getByTestId("submit").click();
    await page.getByTestId("new-post-form").waitFor();
    // The token dies behind the page's back (revoked from elsewhere).
    const token = await page.evaluate(() => sessionStorage.getItem("postbase.token"));
    assert.equal((await api(server.url, "DELETE", "/api/tokens/current", { token })).status, 204);

    const compose = page.getByTestId("new-post-form");
    await compose.getByTestId("title").fill("Never stored");
    await compose.getByTestId("submit").click();
    await page.getByTestId("banner").getByText("Session expired").waitFor();
    await screenshot(page, "09-session-expired");
    await page.getByTestId("relogin").click();
    await page.getByTestId("login-form").waitFor();
    const all = await api(server.url, "GET", "/api/posts?limit=100");
    assert.ok(!all.body.posts.some((p) => p.title === "Never stored"));
  });
});
