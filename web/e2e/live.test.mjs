// Live updates, with two people in two browser contexts (two computers, as far as the API can
// tell): A writes, likes and comments in hers, and B's, already showing the list, the post's page
// or the feed, changes within 2 s without a reload. Also: nothing shown twice, a tag filter
// respected, and a stream cut by a crash of the API resumed with a new ticket and `since`.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { api, eventId, launchBrowser, newPage, saveLog, screenshot, startPostbase, startStatic } from "./helpers.mjs";

/** "Live": each change must show within 2 s. */
const WITHIN = { timeout: 2000 };

const LIST_TITLES = "[data-testid=post-list] [data-testid=post-title]";
const inList = (id) => `[data-testid=post-list] [data-testid=post][data-post-id="${id}"]`;

describe("live updates between two browser contexts", () => {
  let server;
  let web;
  let browser;
  let a; // { page, events } of A, who writes
  let b; // of B, who watches
  let ana;
  let ben; // follows ana
  let seeded; // a post of ben's, liked by ben
  let fresh; // the post A writes in the browser
  const streams = []; // the URL of each event stream B's page opened

  const signUp = async (username, password) => {
    const created = await api(server.url, "POST", "/api/users", { body: { username, password } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const grant = await api(server.url, "POST", "/api/tokens", { body: { username, password } });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    return { id: created.body.id, token: grant.body.token, username, password };
  };

  before(async () => {
    server = await startPostbase();
    web = await startStatic();
    browser = await launchBrowser();
    ana = await signUp("ana_writer", "ana's password");
    ben = await signUp("ben_reader", "ben's password");
    assert.equal((await api(server.url, "PUT", `/api/users/${ana.id}/follow`, { token: ben.token })).status, 200);
    const post = await api(server.url, "POST", "/api/posts", { token: ben.token, body: { title: "Ben's seeded post", body: "Liked by Ben." } });
    assert.equal(post.status, 201, JSON.stringify(post.body));
    seeded = post.body;
    assert.equal((await api(server.url, "PUT", `/api/posts/${seeded.id}/like`, { token: ben.token })).status, 200);
    a = await newPage(browser);
    b = await newPage(browser);
    b.page.on("request", (req) => {
      if (new URL(req.url()).pathname === "/api/events") streams.push(req.url());
    });
  });

  after(async () => {
    if (a) await saveLog("live-browser-a.log", a.events.join("\n") + "\n");
    if (b) await saveLog("live-browser-b.log", b.events.join("\n") + "\n");
    if (server) await saveLog("live-postbase.log", server.log());
    await browser?.close();
    await web?.stop();
    await server?.stop();
  });

  const open = (page, hash) => page.goto(`${web.url}/?api=${encodeURIComponent(server.url)}${hash}`);
  const logIn = async (page, user) => {
    await open(page, "#/login");
    const form = page.getByTestId("login-form");
    await form.getByTestId("username").fill(user.username);
    await form.getByTestId("password").fill(user.password);
    await form.getByTestId("submit").click();
    await page.getByTestId("nav-user").getByText(user.username).waitFor();
    // The stream reopened for the session as the navigation changed: wait until it is open.
    await page.locator("[data-testid=live-status][data-state=open]").waitFor();
  };
  const titles = (page) => page.locator(LIST_TITLES).allTextContents();
  /** Waits, 2 s at most, until the first element `selector` finds in `page` reads `text`. */
  const reads = (page, selector, text) =>
    page.waitForFunction(([s, t]) => document.querySelector(s)?.textContent === t, [selector, text], WITHIN);
  /** Waits, 2 s at most, until `page` has received the event `id` (each is drawn as it comes). */
  const heard = (page, id) =>
    page.waitForFunction((want) => Number(document.querySelector("[data-testid=live-status]")?.dataset.lastEventId) >= want, id, WITHIN);
  const publicEvent = (name, id) => eventId(server.url, (e) => e.name === name && e.data.id === id);
  const write = async (page, title, body) => {
    const form = page.getByTestId("new-post-form");
    await form.getByTestId("title").fill(title);
    await form.getByTestId("body").fill(body);
    await form.getByTestId("submit").click();
  };

  it("logs A and B in, each in a context of their own; B's stream opens with a ticket, never the token", async () => {
    await logIn(a.page, ana);
    await logIn(b.page, ben);
    await b.page.locator(inList(seeded.id)).waitFor();
    await b.page.evaluate(() => (window.__sameDocument = true)); // a reload would lose it
    const token = await b.page.evaluate(() => sessionStorage.getItem("postbase.token"));
    for (const url of streams) assert.ok(!url.includes(token), `no token in ${url}`);
    const signedIn = new URL(streams.at(-1));
    assert.equal(signedIn.searchParams.get("topics"), "posts,comments,likes,feed");
    assert.match(signedIn.searchParams.get("ticket"), /^pb_/);
  });

  it("shows a post A writes at the top of B's list within 2 s, and once in A's own list", async () => {
    await write(a.page, "Written live by Ana", "B sees this without reloading.");
    await reads(b.page, LIST_TITLES, "Written live by Ana");
    fresh = Number(await b.page.locator("[data-testid=post-list] [data-testid=post]").first().getAttribute("data-post-id"));
    await reads(b.page, `${inList(fresh)} [data-testid=post-author]`, "ana_writer");
    // A's page learns of the post twice, from the API's answer and from the event: one card.
    await heard(a.page, await publicEvent("post.created", fresh));
    assert.deepEqual((await titles(a.page)).slice(0, 2), ["Written live by Ana", "Ben's seeded post"]);
    assert.equal((await titles(a.page)).filter((t) => t === "Written live by Ana").length, 1);
    assert.equal((await titles(b.page)).filter((t) => t === "Written live by Ana").length, 1);
    await screenshot(b.page, "live-01-new-post");
  });

  it("changes B's like counts within 2 s as A likes, but not whether B likes the post", async () => {
    const pressed = (id) => b.page.locator(`${inList(id)} [data-testid=like-button]`).getAttribute("aria-pressed");
    assert.equal(await pressed(seeded.id), "true", "B likes his own seeded post");
    await a.page.locator(`${inList(seeded.id)} [data-testid=like-button]`).click();
    await reads(b.page, `${inList(seeded.id)} [data-testid=like-count]`, "2");
    assert.equal(await pressed(seeded.id), "true", "still B's like");

    await a.page.locator(`${inList(fresh)} [data-testid=like-button]`).click();
    await reads(b.page, `${inList(fresh)} [data-testid=like-count]`, "1");
    assert.equal(await pressed(fresh), "false", "A's like is not B's");
    await a.page.locator(`${inList(fresh)} [data-testid=like-button][aria-pressed=true]`).waitFor();
    assert.equal(await a.page.locator(`${inList(fresh)} [data-testid=like-count]`).textContent(), "1");
  });

  it("shows A's comment on the post B has open within 2 s, then its edit and its deletion", async () => {
    await b.page.locator(`${inList(fresh)} [data-testid=post-title]`).click();
    await b.page.getByTestId("comments-status").getByText("No comments yet.").waitFor();
    await a.page.locator(`${inList(fresh)} [data-testid=post-title]`).click();
    const form = a.page.getByTestId("comment-form");
    await form.getByTestId("body").fill("A comment, live.");
    await form.getByTestId("submit").click();
    await reads(b.page, "[data-testid=comment-list] [data-testid=comment-body]", "A comment, live.");
    await reads(b.page, "article [data-testid=comment-count]", "1 comment");
    const commentId = Number(await b.page.getByTestId("comment").first().getAttribute("data-comment-id"));
    // A's page, too, hears of her comment twice: shown once, counted once.
    await heard(a.page, await eventId(server.url, (e) => e.name === "comment.created" && e.data.id === commentId));
    assert.equal(await a.page.getByTestId("comment").count(), 1);
    assert.equal(await a.page.locator("article [data-testid=comment-count]").textContent(), "1 comment");
    await screenshot(b.page, "live-02-comment");

    // The client cannot edit comments: A edits hers through the API, as another app of hers might.
    const token = await a.page.evaluate(() => sessionStorage.getItem("postbase.token"));
    const edited = await api(server.url, "PATCH", `/api/comments/${commentId}`, { token, body: { body: "A comment, edited." } });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    await reads(b.page, "[data-testid=comment-list] [data-testid=comment-body]", "A comment, edited.");

    await a.page.getByTestId("delete-comment").click();
    await a.page.getByTestId("confirm-delete-comment").click();
    await b.page.getByTestId("comment").waitFor({ state: "detached", ...WITHIN });
    await reads(b.page, "article [data-testid=comment-count]", "0 comments");
    await heard(a.page, await eventId(server.url, (e) => e.name === "comment.deleted" && e.data.id === commentId));
    assert.equal(await a.page.locator("article [data-testid=comment-count]").textContent(), "0 comments");
  });

  it("updates B's list within 2 s when A edits the post, and takes it away when she deletes it", async () => {
    await b.page.getByTestId("back-to-posts").click();
    await b.page.locator(inList(fresh)).waitFor();
    const article = a.page.locator("article[data-testid=post]");
    await article.getByTestId("edit-post").click();
    const form = article.getByTestId("edit-post-form");
    await form.getByTestId("title").fill("Written live, then edited");
    await form.getByTestId("submit").click();
    await reads(b.page, `${inList(fresh)} [data-testid=post-title]`, "Written live, then edited");
    assert.equal(await b.page.locator(`${inList(fresh)} [data-testid=like-count]`).textContent(), "1", "counts kept");

    await article.getByTestId("delete-post").click();
    await article.getByTestId("confirm-delete").click();
    await b.page.locator(inList(fresh)).waitFor({ state: "detached", ...WITHIN });
    assert.deepEqual(await titles(b.page), ["Ben's seeded post"]);
  });

  it("shows a new post by A, whom B follows, at the top of B's feed within 2 s, once", async () => {
    await b.page.getByTestId("nav-feed").click();
    await b.page.getByTestId("list-status").getByText("Your feed is empty").waitFor();
    await a.page.getByTestId("new-post-form").waitFor(); // back on the list after the deletion
    await write(a.page, "For Ana's followers", "In Ben's feed as it is written.");
    await reads(b.page, LIST_TITLES, "For Ana's followers");
    const id = Number(await b.page.locator("[data-testid=post-list] [data-testid=post]").first().getAttribute("data-post-id"));
    // Both the public post.created and B's own feed event name it: one card.
    await heard(b.page, await publicEvent("post.created", id));
    await heard(b.page, await eventId(server.url, (e) => e.name === "feed" && e.data.id === id, { token: ben.token, topics: "feed" }));
    assert.deepEqual(await titles(b.page), ["For Ana's followers"]);
    assert.equal(await b.page.getByTestId("list-status").isVisible(), false);
    await screenshot(b.page, "live-03-feed");
  });

  it("lets into a list filtered by a tag only the new posts with that tag", async () => {
    await b.page.evaluate(() => (window.location.hash = "#/?tag=garden"));
    await b.page.getByTestId("list-status").getByText("No posts tagged garden.").waitFor();
    const post = (body) => api(server.url, "POST", "/api/posts", { token: ana.token, body });
    const untagged = await post({ title: "Not about gardens", body: "No tags." });
    assert.equal(untagged.status, 201, JSON.stringify(untagged.body));
    assert.equal((await post({ title: "Spring in the garden", body: "Tagged.", tags: ["garden"] })).status, 201);
    await reads(b.page, LIST_TITLES, "Spring in the garden");
    await heard(b.page, await publicEvent("post.created", untagged.body.id));
    assert.deepEqual(await titles(b.page), ["Spring in the garden"]);
  });

  it("reconnects after the API crashes, with a new ticket and `since`, and misses nothing", async () => {
    const opened = streams.length;
    const last = await b.page.getByTestId("live-status").getAttribute("data-last-event-id");
    await server.crashAndRestart();
    // B's client waits a second before trying again: this post is most likely written before its
    // stream is back, so only `since` can bring it. The wait below allows for the back-off.
    const post = await api(server.url, "POST", "/api/posts", {
      token: ana.token,
      body: { title: "Written while B was away", body: "After a crash.", tags: ["garden"] },
    });
    assert.equal(post.status, 201, JSON.stringify(post.body));
    await b.page.waitForFunction((s) => document.querySelector(s)?.textContent === "Written while B was away", LIST_TITLES, {
      timeout: 15_000,
    });
    await b.page.locator("[data-testid=live-status][data-state=open]").waitFor();
    const resumed = streams.slice(opened).map((url) => new URL(url).searchParams);
    assert.ok(resumed.length >= 1, "a new stream");
    for (const params of resumed) assert.equal(params.get("since"), last);
    const tickets = streams.map((url) => new URL(url).searchParams.get("ticket")).filter(Boolean);
    assert.equal(new Set(tickets).size, tickets.length, "a new ticket for each stream");
    assert.deepEqual(await titles(b.page), ["Written while B was away", "Spring in the garden"]);
  });

  it("never reloaded B's page, and logged no page errors in either context", async () => {
    assert.equal(await b.page.evaluate(() => window.__sameDocument), true);
    for (const { events } of [a, b]) {
      assert.deepEqual(
        events.filter((e) => e.startsWith("pageerror")),
        [],
      );
    }
  });
});
