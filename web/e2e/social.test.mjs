// Tags, likes and comments, clicked through in Chromium against a real postbase on another origin:
// sign up, write a post with tags, like it, open its page, comment, filter by a tag, open the
// author's page; and what a visitor without a session sees.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { api, launchBrowser, newPage, saveLog, screenshot, startPostbase, startStatic } from "./helpers.mjs";

describe("tags, likes and comments in the browser client", () => {
  let server;
  let web;
  let browser;
  let page;
  let events;
  let seed; // another author: a post tagged rust, and an untagged one with many comments
  let chatty; // the seeded post with 22 comments
  let myPostId;
  let myUserId;

  before(async () => {
    server = await startPostbase();
    web = await startStatic();
    browser = await launchBrowser();
    ({ page, events } = await newPage(browser));

    const created = await api(server.url, "POST", "/api/users", { body: { username: "carol_seed", password: "seed password 1" } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const grant = await api(server.url, "POST", "/api/tokens", { body: { username: "carol_seed", password: "seed password 1" } });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    seed = { id: created.body.id, token: grant.body.token };
    const post = (body) => api(server.url, "POST", "/api/posts", { token: seed.token, body });
    const tagged = await post({ title: "Carol on Rust", body: "Seeded, tagged.", tags: ["rust"] });
    assert.equal(tagged.status, 201, JSON.stringify(tagged.body));
    const untagged = await post({ title: "Carol, untagged", body: "Seeded, with many comments." });
    assert.equal(untagged.status, 201, JSON.stringify(untagged.body));
    chatty = untagged.body.id;
    for (let i = 1; i <= 22; i++) {
      const comment = await api(server.url, "POST", `/api/posts/${chatty}/comments`, { token: seed.token, body: { body: `Seeded comment ${i}` } });
      assert.equal(comment.status, 201, JSON.stringify(comment.body));
    }
  });

  after(async () => {
    if (events) await saveLog("social-browser.log", events.join("\n") + "\n");
    if (server) await saveLog("social-postbase.log", server.log());
    await browser?.close();
    await web?.stop();
    await server?.stop();
  });

  const posts = () => page.getByTestId("post-list").getByTestId("post");
  const myPost = () => page.locator(`[data-testid=post][data-post-id="${myPostId}"]`);
  const token = () => page.evaluate(() => sessionStorage.getItem("postbase.token"));

  it("signs up and logs in", async () => {
    await page.goto(`${web.url}/?api=${encodeURIComponent(server.url)}#/signup`);
    const signup = page.getByTestId("signup-form");
    await signup.getByTestId("username").fill("dana");
    await signup.getByTestId("password").fill("dana's long password");
    await signup.getByTestId("submit").click();
    const login = page.getByTestId("login-form");
    await login.getByTestId("password").fill("dana's long password");
    await login.getByTestId("submit").click();
    await page.getByTestId("new-post-form").waitFor();
    assert.equal(await page.getByTestId("nav-user").textContent(), "dana");
  });

  it("refuses a bad tag beside the tags field, then writes a post with tags", async () => {
    const form = page.getByTestId("new-post-form");
    await form.getByTestId("title").fill("Tagged from the browser");
    await form.getByTestId("body").fill("A post with tags, likes and comments.");
    await form.getByTestId("tags").fill("Rust, not/allowed");
    await form.getByTestId("submit").click();
    await form.getByTestId("field-error-tags").waitFor();
    assert.match(await form.getByTestId("field-error-tags").textContent(), /letters, digits/);
    assert.equal(await posts().filter({ hasText: "Tagged from the browser" }).count(), 0, "nothing written");

    await form.getByTestId("tags").fill("Rust, web rust");
    await form.getByTestId("submit").click();
    await posts().first().getByText("Tagged from the browser").waitFor();
    myPostId = Number(await posts().first().getAttribute("data-post-id"));
    assert.deepEqual(await myPost().getByTestId("tag").allTextContents(), ["rust", "web"], "lower-cased, no duplicates");
    assert.equal(await myPost().getByTestId("like-count").textContent(), "0");
    assert.equal(await myPost().getByTestId("comment-count").textContent(), "0 comments");
    const stored = await api(server.url, "GET", `/api/posts/${myPostId}`);
    assert.deepEqual(stored.body.tags, ["rust", "web"]);
    myUserId = stored.body.author_id;
  });

  it("likes the post (the count goes to 1), unlikes and likes it again", async () => {
    const like = myPost().getByTestId("like-button");
    assert.equal(await like.getAttribute("aria-pressed"), "false");
    await like.click();
    await myPost().locator("[data-testid=like-button][aria-pressed=true]").waitFor();
    assert.equal(await myPost().getByTestId("like-count").textContent(), "1");
    const stored = await api(server.url, "GET", `/api/posts/${myPostId}`, { token: await token() });
    assert.equal(stored.body.like_count, 1);
    assert.equal(stored.body.liked, true);

    await like.click();
    await myPost().locator("[data-testid=like-button][aria-pressed=false]").waitFor();
    assert.equal(await myPost().getByTestId("like-count").textContent(), "0");
    await like.click();
    await myPost().locator("[data-testid=like-button][aria-pressed=true]").waitFor();
    assert.equal(await myPost().getByTestId("like-count").textContent(), "1");
    await screenshot(page, "social-01-liked");
  });

  it("shows the like after a reload (the list is read with the session's token)", async () => {
    await page.reload();
    await myPost().locator("[data-testid=like-button][aria-pressed=true]").waitFor();
    assert.equal(await myPost().getByTestId("like-count").textContent(), "1");
  });

  it("opens the post's page from its title", async () => {
    await myPost().getByTestId("post-title").click();
    await page.waitForURL(`**#/posts/${myPostId}`);
    const article = page.locator("article[data-testid=post]");
    await article.getByTestId("post-title").getByText("Tagged from the browser").waitFor();
    assert.equal(await article.getByTestId("like-button").getAttribute("aria-pressed"), "true");
    await page.getByTestId("comments-status").getByText("No comments yet.").waitFor();
    await page.getByTestId("comment-form").waitFor();
  });

  it("adds comments, shown as text, and deletes one", async () => {
    const form = page.getByTestId("comment-form");
    await form.getByTestId("body").fill("First comment, from the browser.");
    await form.getByTestId("submit").click();
    const comments = page.getByTestId("comment-list").getByTestId("comment");
    await comments.getByText("First comment, from the browser.").waitFor();
    assert.equal(await comments.first().getByTestId("comment-author").textContent(), "dana");
    assert.equal(await page.getByTestId("comment-count").textContent(), "1 comment");

    const markup = '<img src=x onerror="window.__pwned=1"><b>bold?</b>';
    await form.getByTestId("body").fill(markup);
    await form.getByTestId("submit").click();
    await page.getByTestId("comment-count").getByText("2 comments").waitFor();
    assert.equal(await comments.nth(1).getByTestId("comment-body").textContent(), markup, "shown as text");
    assert.equal(await comments.locator("img, b").count(), 0, "never parsed as HTML");
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    await screenshot(page, "social-02-post-page");

    await comments.nth(1).getByTestId("delete-comment").click();
    await comments.nth(1).getByTestId("confirm-delete-comment").click();
    await page.getByTestId("comment-count").getByText("1 comment").waitFor();
    assert.equal(await comments.count(), 1);
    const stored = await api(server.url, "GET", `/api/posts/${myPostId}/comments`);
    assert.deepEqual(stored.body.comments.map((c) => c.body), ["First comment, from the browser."]);
  });

  it("loads more comments, oldest first, with no delete button on other people's", async () => {
    await page.goto(`${web.url}/?api=${encodeURIComponent(server.url)}#/posts/${chatty}`);
    const comments = page.getByTestId("comment-list").getByTestId("comment");
    await comments.first().waitFor();
    assert.equal(await comments.count(), 20);
    assert.equal(await comments.first().getByTestId("comment-body").textContent(), "Seeded comment 1");
    assert.equal(await page.getByTestId("delete-comment").count(), 0);
    await page.getByTestId("load-more-comments").click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=comment-list] [data-testid=comment]").length === 22);
    await page.getByTestId("load-more-comments").waitFor({ state: "hidden" });
    assert.equal(await comments.last().getByTestId("comment-body").textContent(), "Seeded comment 22");
    assert.equal(await page.getByTestId("comment-count").textContent(), "22 comments");
  });

  it("filters the list by a tag, and clears the filter", async () => {
    await page.getByTestId("back-to-posts").click();
    await myPost().waitFor();
    assert.equal(await posts().count(), 3);
    await myPost().getByTestId("tag").getByText("rust").click();
    await page.waitForURL("**#/?tag=rust");
    await page.getByTestId("tag-filter").getByText("rust").waitFor();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=post-list] [data-testid=post]").length === 2);
    assert.deepEqual(await posts().getByTestId("post-title").allTextContents(), ["Tagged from the browser", "Carol on Rust"]);
    await screenshot(page, "social-03-tag-filter");

    await page.getByTestId("clear-filter").click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=post-list] [data-testid=post]").length === 3);
    assert.equal(await page.getByTestId("tag-filter").count(), 0);
  });

  it("opens the author's page from a post", async () => {
    await myPost().getByTestId("post-author").click();
    await page.waitForURL(`**#/users/${myUserId}`);
    await page.getByTestId("user-username").getByText("dana").waitFor();
    await posts().first().waitFor();
    assert.deepEqual(await posts().getByTestId("post-title").allTextContents(), ["Tagged from the browser"]);
    await screenshot(page, "social-04-author");

    await page.goto(`${web.url}/?api=${encodeURIComponent(server.url)}#/users/${seed.id}`);
    await page.getByTestId("user-username").getByText("carol_seed").waitFor();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=post-list] [data-testid=post]").length === 2);
  });

  it("says 'not found' for a post that does not exist", async () => {
    await page.goto(`${web.url}/?api=${encodeURIComponent(server.url)}#/posts/999999`);
    await page.getByTestId("not-found").waitFor();
  });

  it("without a session: counts and comments, no comment form, and a like asks to log in", async () => {
    await page.getByTestId("logout").click();
    await page.getByTestId("login-form").waitFor();
    await page.goto(`${web.url}/?api=${encodeURIComponent(server.url)}#/posts/${myPostId}`);
    const article = page.locator("article[data-testid=post]");
    await page.getByTestId("comment-list").getByTestId("comment").first().waitFor();
    assert.equal(await article.getByTestId("like-count").textContent(), "1");
    assert.equal(await article.getByTestId("like-button").getAttribute("aria-pressed"), "false");
    assert.equal(await page.getByTestId("comment-form").count(), 0);
    await page.getByTestId("comment-login-hint").waitFor();
    assert.equal(await page.getByTestId("delete-comment").count(), 0);
    await article.getByTestId("like-button").click();
    await page.getByTestId("banner-message").waitFor();
    assert.match(await page.getByTestId("banner-message").textContent(), /log in/i);
    const stored = await api(server.url, "GET", `/api/posts/${myPostId}`);
    assert.equal(stored.body.like_count, 1, "unchanged");
  });
});
