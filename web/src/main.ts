import "./style.css";
import "./people.css";
import { Api, ApiError } from "./api";
import type { App } from "./app";
import { resolveApiBase } from "./config";
import { h, replaceChildren } from "./dom";
import { Live } from "./live";
import { clearSession, session, setSession, storedToken } from "./session";
import { bannerElement, clearBanner, reportError, showBanner } from "./ui";
import { postView, userView } from "./pages";
import { profileView } from "./profile";
import { type View, feedView, logOut, loginView, postsView, signupView } from "./views";

const routes: Record<string, View> = {
  "#/": postsView,
  "#/login": loginView,
  "#/signup": signupView,
  "#/profile": profileView,
  "#/feed": feedView,
};

/** Routes with a part in the path: `#/posts/12`, `#/users/3`. */
const patterns: [RegExp, View][] = [
  [/^#\/posts\/(?<id>[1-9][0-9]{0,15})$/, postView],
  [/^#\/users\/(?<id>[1-9][0-9]{0,15})$/, userView],
];

/** The view for a hash and its parameters; `#/?tag=rust` is the posts view with `tag`. Unknown: the posts. */
function route(hash: string): [View, Record<string, string>] {
  const [path, query = ""] = (hash || "#/").split("?", 2);
  const params: Record<string, string> = Object.fromEntries(new URLSearchParams(query));
  const exact = routes[path];
  if (exact) return [exact, params];
  for (const [pattern, view] of patterns) {
    const match = pattern.exec(path);
    if (match) return [view, { ...params, ...match.groups }];
  }
  return [postsView, {}];
}

const title = document.title;

const apiBase = resolveApiBase();
const nav = h("nav", { class: "nav", testid: "nav" });
const main = h("main", { id: "main", testid: "main" });
let pendingNotice: string | null = null;
const authorNames = new Map<number, Promise<string>>();

function sessionExpired(): void {
  const hadSession = session() !== null || storedToken() !== null;
  clearSession();
  renderNav();
  if (hadSession) {
    live.restart(); // signed out now: reopened without a ticket
    showBanner("Session expired: your login is no longer valid.", { label: "Log in again", href: "#/login", testid: "relogin" });
  } else {
    showBanner("You need to log in first.", { label: "Log in", href: "#/login", testid: "relogin" });
  }
}

const api = new Api(apiBase, () => session()?.token ?? null, sessionExpired);
const live = new Live(api, () => session() !== null);

const app: App = {
  api,
  live,
  navigate(hash, notice) {
    pendingNotice = notice ?? null;
    if (window.location.hash === hash) render();
    else window.location.hash = hash; // the hashchange event renders
  },
  takeNotice() {
    const notice = pendingNotice;
    pendingNotice = null;
    return notice;
  },
  sessionChanged() {
    renderNav();
    live.restart();
  },
  authorName(id) {
    let name = authorNames.get(id);
    if (!name) {
      name = app.api.user(id).then(
        (user) => user.username,
        () => `user #${id}`,
      );
      authorNames.set(id, name);
    }
    return name;
  },
};

function renderNav(): void {
  const me = session();
  replaceChildren(
    nav,
    h("a", { href: "#/", class: "brand", testid: "nav-posts" }, "postbase"),
    h("a", { href: "#/", testid: "nav-home" }, "Posts"),
    me && h("a", { href: "#/feed", testid: "nav-feed" }, "Feed"),
    h("span", { class: "spacer" }),
    ...(me
      ? [
          h("a", { href: "#/profile", testid: "nav-profile" }, "Profile"),
          h("span", { class: "who", testid: "nav-user" }, me.user.username),
          h("button", { type: "button", testid: "logout", on: { click: () => void logOut(app) } }, "Log out"),
        ]
      : [h("a", { href: "#/login", testid: "nav-login" }, "Log in"), h("a", { href: "#/signup", testid: "nav-signup" }, "Sign up")]),
  );
  markCurrent();
}

/** `aria-current="page"` on the navigation link of the screen shown (Posts, Feed, Profile, ...). */
function markCurrent(): void {
  const path = (window.location.hash || "#/").split("?", 1)[0];
  for (const link of nav.querySelectorAll<HTMLAnchorElement>("a:not(.brand)")) {
    if (link.getAttribute("href") === path) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function render(): void {
  clearBanner();
  const [view, params] = route(window.location.hash);
  document.title = title;
  main.replaceChildren();
  live.clear(); // the screen that listened is gone
  view(app, main, params);
  window.scrollTo(0, 0);
  main.dataset.route = window.location.hash || "#/";
  markCurrent();
}

async function start(): Promise<void> {
  const root = document.getElementById("app");
  if (!root) throw new Error("no #app element");
  root.append(
    h("header", {}, nav),
    bannerElement(),
    main,
    h("footer", {}, "API: ", h("code", { testid: "api-base" }, apiBase), " · ", live.status),
  );
  window.addEventListener("hashchange", render);
  // A token from earlier in this tab: find out whose it is (and whether it still works).
  const token = storedToken();
  let failure: unknown = null;
  if (token) {
    try {
      const user = await new Api(apiBase, () => token, () => undefined).profile();
      setSession({ token, user });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        clearSession();
        pendingNotice = "Session expired: log in again.";
        history.replaceState(null, "", "#/login"); // no hashchange: rendered just below
      } else {
        failure = err; // cannot tell whether the token is good: keep it for the next reload, say why
      }
    }
  }
  // The stream first, then the screen: a stream hears every change from the moment it opens, so
  // a screen loaded after that misses none, where one loaded before could miss a change made in
  // between. Not for long, though: an API that does not answer must not leave the page blank.
  live.restart();
  await Promise.race([live.ready, new Promise((resolve) => window.setTimeout(resolve, 1000))]);
  renderNav();
  render();
  if (failure) reportError(failure);
}

void start();
