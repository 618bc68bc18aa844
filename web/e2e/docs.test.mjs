// The interactive API docs at /docs, opened in Chromium with networking only on loopback: every
// asset must come from postbase itself (nothing from a CDN), the page must run under its strict
// Content-Security-Policy without a violation, list the operations of /api/openapi.json, and
// "Try it out" must work against the running server, anonymously and with a bearer token.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  api,
  confineToLoopback,
  launchBrowser,
  newPage,
  recordCspViolations,
  saveLog,
  screenshot,
  startPostbase,
} from "./helpers.mjs";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

describe("the API docs page", () => {
  let server;
  let browser;
  let context;
  let page;
  let events; // console errors and warnings, page errors, failed requests: for the log
  let offLoopback; // requests to anything but loopback, aborted
  let cspViolations;
  const consoleErrors = [];
  let provoked = null; // the one error the page is made to log on purpose: the browser's note of a 401
  let documented; // "GET /api/posts", ... from the document itself
  let author; // a user with a token, whose post is in the list

  before(async () => {
    server = await startPostbase();
    browser = await launchBrowser();
    ({ context, page, events } = await newPage(browser));
    offLoopback = await confineToLoopback(context);
    cspViolations = await recordCspViolations(context);
    page.on("console", (msg) => {
      if (msg.type() !== "error") return;
      const text = `console.error: ${msg.text()} (${msg.location().url})`;
      if (provoked && text === provoked) provoked = null; // seen once, as expected; a second one counts
      else consoleErrors.push(text);
    });
    page.on("pageerror", (err) => consoleErrors.push(`pageerror: ${err.message}`));

    const doc = await api(server.url, "GET", "/api/openapi.json");
    assert.equal(doc.status, 200);
    documented = Object.entries(doc.body.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => METHODS.includes(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );

    const username = "docs_reader";
    const password = "docs reader password";
    const created = await api(server.url, "POST", "/api/users", { body: { username, password } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const grant = await api(server.url, "POST", "/api/tokens", { body: { username, password } });
    assert.equal(grant.status, 201, JSON.stringify(grant.body));
    author = { id: created.body.id, username, token: grant.body.token };
    const post = await api(server.url, "POST", "/api/posts", {
      token: author.token,
      body: { title: "Seen through the docs page", body: "Created from node before the page runs a request." },
    });
    assert.equal(post.status, 201, JSON.stringify(post.body));
  });

  after(async () => {
    const lines = [...events, ...consoleErrors, ...(cspViolations ?? []).map((v) => `csp: ${v}`)];
    lines.push(...(offLoopback ?? []).map((r) => `off-loopback request: ${r}`));
    await saveLog("docs-browser.log", lines.join("\n") + "\n");
    if (server) await saveLog("docs-postbase.log", server.log());
    await browser?.close();
    await server?.stop();
  });

  /** The block of one operation, by method and path, e.g. ("get", "/api/posts"). */
  const operation = (method, path) => page.locator(`.opblock.opblock-${method}:has(.opblock-summary-path[data-path="${path}"])`);

  /** Expands an operation, makes it editable, executes it; returns its live response row. */
  async function tryItOut(method, path) {
    const block = operation(method, path);
    await block.scrollIntoViewIfNeeded();
    if (!(await block.locator(".opblock-body").isVisible())) await block.locator(".opblock-summary").first().click();
    // tryItOutEnabled: the operation may already be editable, in which case the button says "Cancel".
    const tryOut = block.locator("button.try-out__btn");
    await tryOut.waitFor();
    if ((await tryOut.textContent()).trim() === "Try it out") await tryOut.click();
    // A previous run's response stays on the page until cleared: clear it, so the one read is new.
    const clear = block.locator("button.btn-clear");
    if (await clear.isVisible()) {
      await clear.click();
      await block.locator(".live-responses-table").waitFor({ state: "detached" });
    }
    const sent = page.waitForResponse((r) => r.request().method() === method.toUpperCase() && new URL(r.url()).pathname === path);
    await block.locator("button.execute").click();
    const served = await sent;
    const response = block.locator(".live-responses-table tbody .response").first();
    await response.waitFor();
    return { block, response, served };
  }

  it("serves /docs as the Swagger UI page under its own strict CSP", async () => {
    const redirect = await fetch(`${server.url}/docs`, { redirect: "manual" });
    assert.ok([301, 302, 303, 307, 308].includes(redirect.status), `GET /docs answered ${redirect.status}`);
    assert.equal(new URL(redirect.headers.get("location"), server.url).pathname, "/docs/");

    const response = await page.goto(`${server.url}/docs`);
    assert.equal(response.status(), 200);
    assert.equal(new URL(page.url()).pathname, "/docs/");
    const csp = response.headers()["content-security-policy"];
    assert.ok(csp, "the docs page has a Content-Security-Policy");
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    await page.locator(".swagger-ui .information-container .title").waitFor();
    await page.locator(".opblock").first().waitFor();
    assert.match(await page.title(), /^postbase API/, "the page is titled for postbase");
    await screenshot(page, "docs-01-loaded");
  });

  it("lists every operation of the document", async () => {
    const listed = await page.locator(".opblock").evaluateAll((blocks) =>
      blocks.map((b) => {
        const method = b.querySelector(".opblock-summary-method").textContent.trim();
        const path = b.querySelector(".opblock-summary-path").getAttribute("data-path");
        return `${method} ${path}`;
      }),
    );
    assert.ok(listed.length >= 16, `only ${listed.length} operations listed: ${listed.join(", ")}`);
    for (const op of ["GET /api/posts", "POST /api/users", "POST /api/tokens", "DELETE /api/posts/{id}", "GET /api/profile"]) {
      assert.ok(listed.includes(op), `${op} is not listed; listed: ${listed.join(", ")}`);
    }
    assert.deepEqual([...listed].sort(), [...documented].sort(), "the page lists exactly the document's operations");
    // Visible, not merely in the DOM: the path text and the operation id are shown.
    const listPosts = operation("get", "/api/posts");
    assert.equal(await listPosts.isVisible(), true);
    assert.equal((await listPosts.locator(".opblock-summary-path").innerText()).replace(/\u200b/g, ""), "/api/posts");
    assert.equal((await listPosts.locator(".opblock-summary-operation-id").innerText()).trim(), "listPosts");
    assert.equal(await page.locator("button.authorize").first().isVisible(), true, "the bearer scheme offers Authorize");
  });

  it("runs GET /api/posts from the page against the running server", async () => {
    const { block, response } = await tryItOut("get", "/api/posts");
    assert.equal((await response.locator(".response-col_status").innerText()).trim(), "200");
    const body = await response.locator(".response-col_description").innerText();
    assert.match(body, /"posts"/);
    assert.match(body, /Seen through the docs page/);
    assert.match(body, new RegExp(`"author_id":\\s*${author.id}\\b`));
    // The request Swagger UI shows is the one it sent: to this server.
    const requestUrl = await block.locator(".request-url pre").innerText();
    assert.equal(new URL(requestUrl.trim()).origin, server.url);
    await response.scrollIntoViewIfNeeded();
    await screenshot(page, "docs-02-list-posts");
  });

  it("signs up and logs in with the example bodies as they stand", async () => {
    for (const [path, expected] of [["/api/users", /"username":\s*"ada_l"/], ["/api/tokens", /"token":\s*"pb_/]]) {
      const { response } = await tryItOut("post", path);
      assert.equal((await response.locator(".response-col_status").innerText()).trim(), "201", path);
      assert.match(await response.locator(".response-col_description").innerText(), expected);
    }
  });

  it("without a token, GET /api/profile shows the 401 from the server", async () => {
    // Chromium logs every 4xx as "Failed to load resource"; that one line is expected here.
    provoked = `console.error: Failed to load resource: the server responded with a status of 401 (Unauthorized) (${server.url}/api/profile)`;
    const { response } = await tryItOut("get", "/api/profile");
    assert.equal((await response.locator(".response-col_status").innerText()).trim(), "401");
    assert.match(await response.locator(".response-col_description").innerText(), /www-authenticate: Bearer/i);
    // Let that console message arrive (up to 2 s) before the expectation is dropped.
    for (let waited = 0; provoked && waited < 2_000; waited += 50) await page.waitForTimeout(50);
    provoked = null;
  });

  it("authorizes with a bearer token and runs GET /api/profile", async () => {
    await page.locator(".auth-wrapper button.authorize").click();
    const dialog = page.locator(".dialog-ux .modal-ux");
    await dialog.waitFor();
    const field = dialog.locator(".auth-container input").first();
    await field.fill(author.token);
    await screenshot(page, "docs-03-authorize");
    await dialog.locator("button.modal-btn.authorize").click();
    await dialog.locator("button.modal-btn.auth", { hasText: "Logout" }).waitFor();
    await dialog.locator("button.btn-done").click();
    await dialog.waitFor({ state: "detached" });
    assert.match(await page.locator(".auth-wrapper button.authorize").getAttribute("class"), /\blocked\b/);

    const { block, response } = await tryItOut("get", "/api/profile");
    assert.equal((await response.locator(".response-col_status").innerText()).trim(), "200");
    const body = await response.locator(".response-col_description").innerText();
    assert.match(body, new RegExp(`"username":\\s*"${author.username}"`));
    const curl = await block.locator(".curl-command").innerText();
    assert.match(curl, /Authorization: Bearer pb_/, "the request carried the token");
    await response.scrollIntoViewIfNeeded();
    await screenshot(page, "docs-04-profile");
  });

  it("loaded nothing from anywhere but loopback, and broke no rule of the page", async () => {
    assert.deepEqual(offLoopback, [], "requests to non-loopback hosts were attempted");
    assert.deepEqual(cspViolations, [], "Content-Security-Policy violations");
    assert.deepEqual(consoleErrors, [], "console errors");
  });
});
