// Follows, the feed, profiles and search, clicked through in Chromium against a real postbase on
// another origin: one user writes posts, another opens the writer's page, follows them, reads the
// feed, edits their own bio and picture, searches the posts as they type, and unfollows.

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, it } from "node:test";
import { deflateSync, crc32 } from "node:zlib";
import { api, confineToLoopback, launchBrowser, newPage, saveLog, screenshot, startPostbase, startStatic } from "./helpers.mjs";

/** A 48×48 PNG in two colours, made here so the test needs no file and no other host. */
function png() {
  const size = 48;
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = [0]; // filter: none
    for (let x = 0; x < size; x++) row.push(...(x + y < size ? [36, 86, 201] : [244, 180, 60]));
    rows.push(Buffer.from(row));
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Serves the picture on its own loopback port, as an image host would; counts the requests. */
async function startImageHost() {
  const picture = png();
  const served = [];
  const host = createServer((req, res) => {
    served.push(req.url);
    res.writeHead(200, { "Content-Type": "image/png", "Cache-Control": "no-store" }).end(picture);
  });
  await new Promise((r) => host.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${host.address().port}`, served, stop: () => new Promise((r) => host.close(r)) };
}

describe("follows, the feed, profiles and search in the browser client", () => {
  let server;
  let web;
  let images;
  let browser;
  let page;
  let events;
  let offLoopback;
  let writer; // user A: writes the posts, is followed
  let reader; // user B: the one in the browser
  const searches = []; // the ?q= of every GET /api/posts the page made

  const signUp = async (username, password) => {
    const created = await api(server.url, "POST", "/api/users", { body: { username, password } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const grant = await api(server.url, "POST", "/api/tokens", { body: { username, password } });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    return { id: created.body.id, token: grant.body.token, username, password };
  };
  const write = async (user, title, body) => {
    const post = await api(server.url, "POST", "/api/posts", { token: user.token, body: { title, body } });
    assert.equal(post.status, 201, JSON.stringify(post.body));
  };

  before(async () => {
    server = await startPostbase();
    web = await startStatic();
    images = await startImageHost();
    browser = await launchBrowser();
    let context;
    ({ context, page, events } = await newPage(browser));
    offLoopback = await confineToLoopback(context);
    page.on("request", (req) => {
      const url = new URL(req.url());
      if (url.pathname === "/api/posts" && url.searchParams.has("q")) searches.push(url.searchParams.get("q"));
    });

    const other = await signUp("cara_other", "cara's password");
    await write(other, "Soup of the day", "Tomato soup, from someone nobody here follows.");
    writer = await signUp("alice_writer", "alice's password");
    reader = await signUp("bob_reader", "bob's password");
    const bio = await api(server.url, "PATCH", `/api/users/${writer.id}`, {
      token: writer.token,
      body: { bio: "Writes about gardens & <b>code</b>." },
    });
    assert.equal(bio.status, 200, JSON.stringify(bio.body));
    await write(writer, "Gardening in spring", "Tomatoes and basil on the balcony.");
    await write(writer, "Rust ownership explained", "Borrowing, moving and lifetimes.");
    await write(writer, "Weekend notes", "More tomatoes, and a long bike ride.");
  });

  after(async () => {
    if (events) await saveLog("follows-browser.log", events.join("\n") + "\n");
    if (server) await saveLog("follows-postbase.log", server.log());
    await browser?.close();
    await images?.stop();
    await web?.stop();
    await server?.stop();
  });

  const open = (hash) => page.goto(`${web.url}/?api=${encodeURIComponent(server.url)}${hash}`);
  const titles = () => page.getByTestId("post-list").getByTestId("post").getByTestId("post-title").allTextContents();
  /** Waits until the list shows exactly these titles, in this order. */
  const listShows = async (expected) => {
    await page.waitForFunction(
      (want) =>
        JSON.stringify([...document.querySelectorAll("[data-testid=post-list] [data-testid=post-title]")].map((a) => a.textContent)) ===
        JSON.stringify(want),
      expected,
    );
    assert.deepEqual(await titles(), expected);
  };
  const followButton = () => page.getByTestId("user-card").getByTestId("follow-button");
  const allPosts = ["Weekend notes", "Rust ownership explained", "Gardening in spring", "Soup of the day"];

  it("logs in as the reader, who has a Feed tab and an empty feed", async () => {
    await open("#/login");
    const login = page.getByTestId("login-form");
    await login.getByTestId("username").fill(reader.username);
    await login.getByTestId("password").fill(reader.password);
    await login.getByTestId("submit").click();
    await page.getByTestId("nav-user").getByText(reader.username).waitFor();
    await listShows(allPosts);

    await page.getByTestId("nav-feed").click();
    await page.waitForURL("**#/feed");
    // The URL changes before the router marks the link: wait for the mark, then check it.
    await page.locator("[data-testid=nav-feed][aria-current=page]").waitFor();
    assert.equal(await page.getByTestId("nav-feed").getAttribute("aria-current"), "page");
    await page.getByTestId("list-status").getByText("Your feed is empty").waitFor();
    assert.equal(await page.getByTestId("post-list").getByTestId("post").count(), 0);
  });

  it("opens the writer's page from a post: counts, bio as text, no picture, a Follow button", async () => {
    await page.getByTestId("nav-home").click();
    await listShows(allPosts);
    await page.getByTestId("post").filter({ hasText: "Weekend notes" }).getByTestId("post-author").click();
    await page.waitForURL(`**#/users/${writer.id}`);
    const card = page.getByTestId("user-card");
    await card.getByTestId("user-username").getByText("alice_writer").waitFor();
    assert.equal(await card.getByTestId("user-counts").textContent(), "0 followers · 0 following · 3 posts");
    assert.equal(await card.getByTestId("user-bio").textContent(), "Writes about gardens & <b>code</b>.", "shown as text");
    assert.equal(await card.locator("b").count(), 0, "never parsed as HTML");
    assert.equal(await card.getByTestId("user-image").count(), 0);
    assert.equal(await card.getByTestId("user-no-image").textContent(), "A");
    assert.equal(await followButton().textContent(), "Follow");
    assert.equal(await followButton().getAttribute("aria-pressed"), "false");
    await listShows(["Weekend notes", "Rust ownership explained", "Gardening in spring"]);
  });

  it("follows the writer: the follower count goes to 1, and stays after a reload", async () => {
    await followButton().click();
    await page.getByTestId("user-card").locator("[data-testid=follow-button][aria-pressed=true]").waitFor();
    assert.equal(await followButton().textContent(), "Unfollow");
    assert.equal(await page.getByTestId("follower-count").textContent(), "1");
    assert.equal(await page.getByTestId("user-counts").textContent(), "1 follower · 0 following · 3 posts");
    const stored = await api(server.url, "GET", `/api/users/${writer.id}`, { token: reader.token });
    assert.equal(stored.body.follower_count, 1);
    assert.equal(stored.body.following, true);
    await screenshot(page, "follows-01-author-followed");

    await page.reload();
    await page.getByTestId("user-card").locator("[data-testid=follow-button][aria-pressed=true]").waitFor();
    assert.equal(await page.getByTestId("follower-count").textContent(), "1");
  });

  it("shows the writer's posts in the Feed tab, newest first, and no one else's", async () => {
    await page.getByTestId("nav-feed").click();
    await page.waitForURL("**#/feed");
    await listShows(["Weekend notes", "Rust ownership explained", "Gardening in spring"]);
    assert.equal(await page.getByTestId("list-status").isVisible(), false);
    const authors = await page.getByTestId("post-list").getByTestId("post-author").allTextContents();
    assert.deepEqual([...new Set(authors)], ["alice_writer"]);
    await screenshot(page, "follows-02-feed");
  });

  it("edits the reader's bio and picture: a bad picture URL is refused beside its field", async () => {
    await page.getByTestId("nav-profile").click();
    const form = page.getByTestId("profile-form");
    await form.waitFor();
    // Fresh from the API (the session's copy is from before the follow).
    await page.getByTestId("profile-card").getByTestId("user-counts").getByText("0 followers · 1 following · 0 posts").waitFor();
    await form.getByTestId("bio").fill("Reads about gardens.");
    await form.getByTestId("image").fill("javascript:alert(1)");
    await form.getByTestId("submit").click();
    await form.getByTestId("field-error-image").waitFor();
    assert.equal(await form.getByTestId("field-error-image").textContent(), "must be an absolute http or https URL");
    assert.equal(await form.getByTestId("image").getAttribute("aria-invalid"), "true");
    assert.equal(await form.getByTestId("field-error-bio").isVisible(), false);
    const unchanged = await api(server.url, "GET", `/api/users/${reader.id}`);
    assert.equal(unchanged.body.bio, "", "nothing saved");
    assert.equal(unchanged.body.image, null);

    const bio = "Reads about gardens.\nSecond line, <i>not HTML</i>.";
    const picture = `${images.url}/bob.png`;
    await form.getByTestId("bio").fill(bio);
    await form.getByTestId("image").fill(picture);
    await form.getByTestId("submit").click();
    await form.getByTestId("form-error").getByText("Profile saved.").waitFor();
    assert.equal(await form.getByTestId("field-error-image").isVisible(), false);
    const card = page.getByTestId("profile-card");
    assert.equal(await card.getByTestId("user-bio").textContent(), bio);
    assert.equal(await card.locator("i").count(), 0);
    assert.equal(await card.getByTestId("user-image").getAttribute("src"), picture);
    await screenshot(page, "follows-03-profile-saved");
    const stored = await api(server.url, "GET", `/api/users/${reader.id}`);
    assert.equal(stored.body.bio, bio);
    assert.equal(stored.body.image, picture);
  });

  it("shows the new bio and picture on the reader's own page, with no Follow button", async () => {
    await page.getByTestId("public-page").click();
    await page.waitForURL(`**#/users/${reader.id}`);
    const card = page.getByTestId("user-card");
    await card.getByTestId("user-bio").getByText("Second line, <i>not HTML</i>.").waitFor();
    const image = card.getByTestId("user-image");
    assert.equal(await image.getAttribute("src"), `${images.url}/bob.png`);
    await page.waitForFunction(() => document.querySelector("[data-testid=user-card] img")?.naturalWidth === 48);
    assert.ok(images.served.includes("/bob.png"), "the picture was fetched from its host");
    assert.equal(await followButton().count(), 0, "no following oneself");
    await card.getByTestId("self-hint").waitFor();
    await screenshot(page, "follows-04-own-page");
  });

  it("searches the posts as the reader types: only matching posts, and clearing brings all back", async () => {
    await page.getByTestId("nav-home").click();
    await listShows(allPosts);
    const box = page.getByTestId("search");
    const before = searches.length;
    await box.pressSequentially("tomat", { delay: 20 });
    await listShows(["Weekend notes", "Gardening in spring", "Soup of the day"]);
    assert.ok(searches.length - before < 5, `debounced: ${JSON.stringify(searches.slice(before))}`);
    assert.equal(searches.at(-1), "tomat");
    assert.match(page.url(), /#\/\?q=tomat$/);
    await screenshot(page, "follows-05-search");

    await box.fill("tomatoes basil");
    await listShows(["Gardening in spring"]);
    await box.fill("zzzz");
    await page.getByTestId("list-status").getByText("No posts match “zzzz”.").waitFor();
    assert.equal(await page.getByTestId("post-list").getByTestId("post").count(), 0);

    await box.fill("");
    await listShows(allPosts);
    assert.match(page.url(), /#\/$/);
    assert.equal(await page.getByTestId("list-status").isVisible(), false);
  });

  it("keeps a search across a reload, and Clear ends it", async () => {
    await page.getByTestId("search").fill("rust");
    await listShows(["Rust ownership explained"]);
    await page.reload();
    await listShows(["Rust ownership explained"]);
    assert.equal(await page.getByTestId("search").inputValue(), "rust");
    await page.getByTestId("clear-search").click();
    await listShows(allPosts);
    assert.equal(await page.getByTestId("search").inputValue(), "");
  });

  it("unfollows the writer: the count goes back to 0 and the feed is empty again", async () => {
    await open(`#/users/${writer.id}`);
    await page.getByTestId("user-card").locator("[data-testid=follow-button][aria-pressed=true]").waitFor();
    await followButton().click();
    await page.getByTestId("user-card").locator("[data-testid=follow-button][aria-pressed=false]").waitFor();
    assert.equal(await followButton().textContent(), "Follow");
    assert.equal(await page.getByTestId("follower-count").textContent(), "0");
    const stored = await api(server.url, "GET", `/api/users/${writer.id}`, { token: reader.token });
    assert.equal(stored.body.follower_count, 0);
    assert.equal(stored.body.following, false);

    await page.getByTestId("nav-feed").click();
    await page.getByTestId("list-status").getByText("Your feed is empty").waitFor();
    assert.equal(await page.getByTestId("post-list").getByTestId("post").count(), 0);
  });

  it("without a session: no Feed tab, the feed asks to log in, and Follow asks to log in", async () => {
    await page.getByTestId("logout").click();
    await page.getByTestId("login-form").waitFor();
    assert.equal(await page.getByTestId("nav-feed").count(), 0);
    await open("#/feed");
    await page.getByTestId("notice").getByText("Log in to see your feed.").waitFor();
    await page.getByTestId("login-form").waitFor();

    await open(`#/users/${writer.id}`);
    await page.getByTestId("user-counts").getByText("0 followers · 0 following · 3 posts").waitFor();
    await followButton().click();
    await page.getByTestId("banner-message").waitFor();
    assert.match(await page.getByTestId("banner-message").textContent(), /log in/i);
    const stored = await api(server.url, "GET", `/api/users/${writer.id}`);
    assert.equal(stored.body.follower_count, 0, "unchanged");
  });

  it("made no request off loopback and logged no page errors", () => {
    assert.deepEqual(offLoopback, []);
    assert.deepEqual(
      events.filter((e) => e.startsWith("pageerror")),
      [],
    );
  });
});
