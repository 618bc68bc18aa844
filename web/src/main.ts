import "./style.css";
import { Api, ApiError } from "./api";
import type { App } from "./app";
import { resolveApiBase } from "./config";
import { h, replaceChildren } from "./dom";
import { clearSession, session, setSession, storedToken } from "./session";
import { bannerElement, clearBanner, reportError, showBanner } from "./ui";
import { type View, logOut, loginView, postsView, profileView, signupView } from "./views";

const routes: Record<string, View> = {
  "#/": postsView,
  "#/login": loginView,
  "#/signup": signupView,
  "#/profile": profileView,
};

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
    showBanner("Session expired: your login is no longer valid.", { label: "Log in again", href: "#/login", testid: "relogin" });
  } else {
    showBanner("You need to log in first.", { label: "Log in", href: "#/login", testid: "relogin" });
  }
}

const app: App = {
  api: new Api(apiBase, () => session()?.token ?? null, sessionExpired),
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
  sessionChanged: renderNav,
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
    h("span", { class: "spacer" }),
    ...(me
      ? [
          h("a", { href: "#/profile", testid: "nav-profile" }, "Profile"),
          h("span", { class: "who", testid: "nav-user" }, me.user.username),
          h("button", { type: "button", testid: "logout", on: { click: () => void logOut(app) } }, "Log out"),
        ]
      : [h("a", { href: "#/login", testid: "nav-login" }, "Log in"), h("a", { href: "#/signup", testid: "nav-signup" }, "Sign up")]),
  );
}

function render(): void {
  clearBanner();
  const view = routes[window.location.hash] ?? routes["#/"];
  main.replaceChildren();
  view(app, main);
  main.dataset.route = window.location.hash || "#/";
}

async function start(): Promise<void> {
  const root = document.getElementById("app");
  if (!root) throw new Error("no #app element");
  root.append(
    h("header", {}, nav),
    bannerElement(),
    main,
    h("footer", {}, "API: ", h("code", { testid: "api-base" }, apiBase)),
  );
  window.addEventListener("hashchange", render);
  // A token from earlier in this tab: find out whose it is (and whether it still works).
  const token = storedToken();
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
        // Cannot tell whether the token is good: keep it for the next reload, say why.
        renderNav();
        render();
        reportError(err);
        return;
      }
    }
  }
  renderNav();
  render();
}

void start();
