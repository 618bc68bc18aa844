// The same client served from an origin postbase does not allow: the browser must refuse the
// responses, the page must say so, and nothing may be written.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { api, launchBrowser, newPage, saveLog, screenshot, startPostbase, startStatic } from "./helpers.mjs";

describe("the client on an origin the API does not allow", () => {
  let server;
  let web;
  let browser;
  let page;
  let events;
  const corsErrors = []; // what Chromium's network layer says about each blocked request

  before(async () => {
    // Some other origin is allowed; the client's own origin is not.
    server = await startPostbase({ corsOrigins: "http://127.0.0.1:1" });
    // This time the API base comes from config.js, the way a deployment would set it.
    web = await startStatic({ apiBase: server.url });
    browser = await launchBrowser();
    ({ page, events } = await newPage(browser));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    cdp.on("Network.loadingFailed", (event) => {
      if (event.corsErrorStatus) corsErrors.push(event.corsErrorStatus.corsError);
    });
  });

  after(async () => {
    if (events) await saveLog("cors-browser.log", events.join("\n") + "\n");
    if (server) await saveLog("cors-postbase.log", server.log());
    await browser?.close();
    await web?.stop();
    await server?.stop();
  });

  it("still serves allowed origins (the server itself is fine)", async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    const preflight = await fetch(`${server.url}/api/users`, {
      method: "OPTIONS",
      headers: { Origin: "http://127.0.0.1:1", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
    });
    assert.equal(preflight.headers.get("access-control-allow-origin"), "http://127.0.0.1:1");
  });

  it("shows that the API cannot be reached when listing posts", async () => {
    await page.goto(`${web.url}/#/`);
    assert.equal(await page.getByTestId("api-base").textContent(), server.url);
    await page.getByTestId("banner").getByText(`Cannot reach the API at ${server.url}`).waitFor();
    assert.match(await page.getByTestId("banner").textContent(), /blocked by CORS/);
  });

  it("refuses to sign up, visibly, and nothing is written", async () => {
    await page.getByTestId("nav-signup").click();
    const form = page.getByTestId("signup-form");
    await form.getByTestId("username").fill("mallory");
    await form.getByTestId("password").fill("a long enough password");
    await form.getByTestId("submit").click();
    await form.getByTestId("form-error").getByText(`Cannot reach the API at ${server.url} (network error or blocked by CORS)`).waitFor();
    await screenshot(page, "10-cors-blocked-signup");

    const users = await api(server.url, "GET", "/api/users");
    assert.equal(users.status, 200);
    assert.deepEqual(users.body.users, [], "no account was created");
  });

  it("refuses to log in, visibly, for an account that exists", async () => {
    const created = await api(server.url, "POST", "/api/users", { body: { username: "carol", password: "a long enough password" } });
    assert.equal(created.status, 201);
    await page.getByTestId("to-login").click();
    const form = page.getByTestId("login-form");
    await form.getByTestId("username").fill("carol");
    await form.getByTestId("password").fill("a long enough password");
    await form.getByTestId("submit").click();
    await form.getByTestId("form-error").getByText("blocked by CORS").waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("postbase.token")), null, "no token reached the page");
    assert.equal(await page.getByTestId("logout").count(), 0, "still logged out");
    await screenshot(page, "11-cors-blocked-login");
  });

  it("was the browser's CORS check that blocked the responses", () => {
    assert.ok(corsErrors.length >= 3, `expected CORS failures for list, sign-up and login, got ${JSON.stringify(corsErrors)}`);
    for (const error of corsErrors) assert.match(error, /AllowOrigin|Preflight|Cors/i);
  });
});
