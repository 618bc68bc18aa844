// Shared pieces of the browser tests: a real postbase on one port, the built client served by a
// tiny static server on another (so a different origin), and Debian's Chromium via playwright-core.

import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST_DIR = join(WEB_DIR, "dist");
export const SCREENSHOT_DIR = resolve(WEB_DIR, "..", "target", "e2e-screenshots");

/**
 * POSTBASE_BIN, else target/release/postbase, else target/debug/postbase; when both builds
 * exist, the newer one, so a stale release binary does not shadow a fresh debug build.
 */
export function postbaseBinary() {
  if (process.env.POSTBASE_BIN) return resolve(WEB_DIR, process.env.POSTBASE_BIN);
  const builds = ["release", "debug"]
    .map((profile) => resolve(WEB_DIR, "..", "target", profile, "postbase"))
    .filter((path) => existsSync(path))
    .map((path) => ({ path, mtime: statSync(path).mtimeMs }));
  if (builds.length === 0) throw new Error("no postbase binary: build it (cargo build --release) or set POSTBASE_BIN");
  builds.sort((a, b) => b.mtime - a.mtime);
  return builds[0].path;
}

function run(bin, args) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolvePromise(output) : reject(new Error(`${bin} ${args.join(" ")} exited ${code}:\n${output}`)),
    );
  });
}

/** Spawns `postbase serve` with `args`; resolves with the child and its port once it listens. */
async function serve(bin, args, env, onOutput) {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env });
  let output = "";
  const port = await new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`postbase did not report "listening on" within 30 s:\n${output}`)), 30_000);
    let found = false;
    const onData = (chunk) => {
      output += chunk;
      onOutput(chunk);
      if (found) return;
      const match = /listening on (?:http:\/\/)?127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        found = true;
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`postbase exited ${code} before listening:\n${output}`));
    });
  });
  return { child, port };
}

/**
 * Starts postbase on a free port with a fresh SQLite database in a temp directory.
 * Returns { url, port, log(), crashAndRestart(), stop() }.
 */
export async function startPostbase({ corsOrigins } = {}) {
  const bin = postbaseBinary();
  const dir = await mkdtemp(join(tmpdir(), "postbase-e2e-"));
  const databaseUrl = `sqlite://${join(dir, "e2e.db")}`;
  await run(bin, ["migrate", "--database-url", databaseUrl]);

  const args = (addr) => {
    const list = ["serve", "--addr", addr, "--database-url", databaseUrl];
    if (corsOrigins) list.push("--cors-origins", corsOrigins);
    return list;
  };
  // Settings come from the flags alone, not from whatever POSTBASE_* the caller has set.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("POSTBASE_")));
  env.NO_COLOR = "1";
  let output = "";
  const note = (chunk) => (output += chunk);
  let { child, port } = await serve(bin, args("127.0.0.1:0"), env, note);
  const url = `http://127.0.0.1:${port}`;
  const health = await fetch(`${url}/healthz`);
  if (health.status !== 200) throw new Error(`GET /healthz answered ${health.status}`);

  const stopChild = async (signal) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };

  return {
    url,
    port,
    log: () => output,
    /** Kills postbase (SIGKILL, as a crash would), then starts it again on the same port and database. */
    async crashAndRestart() {
      await stopChild("SIGKILL");
      ({ child } = await serve(bin, args(`127.0.0.1:${port}`), env, note));
    },
    async stop() {
      await stopChild("SIGTERM");
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

/**
 * Serves web/dist on its own port. With `apiBase`, /config.js is generated to set
 * window.POSTBASE_API, the way a deployment would replace that file.
 */
export async function startStatic({ apiBase } = {}) {
  if (!existsSync(join(DIST_DIR, "index.html"))) throw new Error("web/dist is missing: run `npm run build` first");
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    res.setHeader("Cache-Control", "no-store");
    if (path === "/config.js" && apiBase) {
      res.writeHead(200, { "Content-Type": TYPES[".js"] });
      res.end(`window.POSTBASE_API = ${JSON.stringify(apiBase)};\n`);
      return;
    }
    const file = normalize(join(DIST_DIR, path === "/" ? "index.html" : path));
    if (!file.startsWith(DIST_DIR + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((r) => server.close(r)),
  };
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
}

/** A browser page that records its console errors and failed requests, for messages on failure. */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const events = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") events.push(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => events.push(`pageerror: ${err.message}`));
  page.on("requestfailed", (req) => events.push(`requestfailed: ${req.method()} ${req.url()} ${req.failure()?.errorText}`));
  return { context, page, events };
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/** Keeps a log next to the screenshots, for reading after a failed run. */
export async function saveLog(name, text) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, name);
  await writeFile(path, text);
  return path;
}

/** Copies a screenshot to web/screenshot.png when there is none yet, or when UPDATE_SCREENSHOT=1. */
export async function publishScreenshot(path) {
  const target = join(WEB_DIR, "screenshot.png");
  if (!existsSync(target) || process.env.UPDATE_SCREENSHOT === "1") await copyFile(path, target);
}

/** JSON over HTTP straight to the API from node (no browser, no CORS). */
export async function api(base, method, path, { token, body, headers = {} } = {}) {
  const response = await fetch(base + path, {
    method,
    headers: {
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, body: json };
}

/** True for http(s)/ws(s) URLs on 127.0.0.1, localhost or ::1; data:, blob: and about: URLs never touch the network. */
export function isLoopbackUrl(raw) {
  const url = new URL(raw);
  if (["data:", "blob:", "about:"].includes(url.protocol)) return true;
  return ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

/**
 * Networking only on loopback for everything the context does: any request to another host is
 * aborted before it leaves the browser, and recorded (with any the router did not see), so a test
 * can assert that none was even attempted. Returns the list of attempted non-loopback requests.
 */
export async function confineToLoopback(context) {
  const attempted = [];
  const seen = new WeakSet();
  const note = (req) => {
    if (seen.has(req)) return;
    seen.add(req);
    attempted.push(`${req.method()} ${req.url()}`);
  };
  await context.route(
    (url) => !isLoopbackUrl(url.href),
    (route) => {
      note(route.request());
      return route.abort("blockedbyclient");
    },
  );
  await context.routeWebSocket(
    (url) => !isLoopbackUrl(url.href),
    (ws) => {
      attempted.push(`WEBSOCKET ${ws.url()}`);
      return ws.close();
    },
  );
  context.on("request", (req) => {
    if (!isLoopbackUrl(req.url())) note(req);
  });
  return attempted;
}

/**
 * Records every Content-Security-Policy violation in the context's pages (reported by the page
 * itself through a `securitypolicyviolation` listener installed before any of its scripts run).
 * Returns the list of violations, as text.
 */
export async function recordCspViolations(context) {
  const violations = [];
  await context.exposeBinding("__e2eCspViolation", ({ frame }, text) => violations.push(`${frame.url()}: ${text}`));
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__e2eCspViolation(
        `${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber} (${e.disposition}): ${e.sample}`,
      );
    });
  });
  return violations;
}

/**
 * The id of the first event in postbase's log that `match({ name, data })` accepts, read from
 * `GET /api/events?since=0` (with `token`, its private topics too); waits up to 5 s for one.
 */
export async function eventId(base, match, { token, topics } = {}) {
  const query = new URLSearchParams({ since: "0" });
  if (topics) query.set("topics", topics);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 5_000);
  try {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const response = await fetch(`${base}/api/events?${query}`, { headers, signal: abort.signal });
    if (response.status !== 200) throw new Error(`GET /api/events answered ${response.status}`);
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let end = buffered.indexOf("\n\n"); end !== -1; end = buffered.indexOf("\n\n")) {
        const lines = buffered.slice(0, end).split("\n");
        buffered = buffered.slice(end + 2);
        const field = (name) => lines.find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2);
        const [id, name, data] = [field("id"), field("event"), field("data")];
        if (id && name && data && match({ name, data: JSON.parse(data) })) return Number(id);
      }
    }
    throw new Error("the event stream ended before the event came");
  } catch (err) {
    if (abort.signal.aborted) throw new Error("no such event in the log within 5 s");
    throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}
