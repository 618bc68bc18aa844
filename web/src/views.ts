import { type Post, SessionExpired } from "./api";
import type { App } from "./app";
import { h } from "./dom";
import { PostList, newPostForm } from "./posts";
import { clearSession, session, setSession } from "./session";
import { searchBox } from "./search";
import { Form } from "./ui";

/**
 * A screen: draws itself into `main` and may load data afterwards. `params` holds the route's
 * parts (`id` of `#/posts/{id}`) and its query (`tag` of `#/?tag=rust`).
 */
export type View = (app: App, main: HTMLElement, params: Record<string, string>) => void;

export function notice(app: App): HTMLElement | null {
  const text = app.takeNotice();
  return text ? h("p", { class: "notice", testid: "notice", role: "status" }, text) : null;
}

/** The posts view's hash for a tag filter and a search: `#/?tag=rust&q=words`. */
function postsHash(tag: string | undefined, q: string): string {
  const query = new URLSearchParams();
  if (tag) query.set("tag", tag);
  if (q) query.set("q", q);
  const qs = query.toString();
  return qs ? `#/?${qs}` : "#/";
}

export const postsView: View = (app, main, params) => {
  const tag = params.tag?.trim().toLowerCase() || undefined;
  let q = params.q?.trim() ?? "";
  const list = new PostList(app, { tag, q: q || undefined });
  const me = session();
  const search = searchBox(q, (text) => {
    q = text;
    // Kept in the address (for a reload or a link) without a hashchange, which would redraw the view.
    history.replaceState(null, "", postsHash(tag, q));
    main.dataset.route = postsHash(tag, q);
    void list.setFilter({ tag, q: q || undefined });
  });
  const onCreated = (post: Post) => {
    if (q) void list.loadFirst(); // does the search find it? ask the API
    else if (!tag || post.tags.includes(tag)) list.prepend(post);
  };
  main.append(
    h("h1", {}, tag ? "Posts tagged " : "Posts", tag && h("span", { class: "tag", testid: "tag-filter" }, tag)),
    tag
      ? h(
          "p",
          { class: "filter", testid: "filter" },
          `Only posts tagged ${tag} are shown. `,
          h("a", { href: "#/", testid: "clear-filter" }, "Show all posts"),
        )
      : "",
    notice(app) ?? "",
    me
      ? h("details", { class: "compose", open: true }, h("summary", {}, "Write a post"), newPostForm(app, onCreated).element)
      : h("p", { class: "hint" }, h("a", { href: "#/login" }, "Log in"), " or ", h("a", { href: "#/signup" }, "sign up"), " to write posts."),
    search,
    list.element,
  );
  void list.loadFirst();
};

/** The session's feed (#/feed): posts by the people it follows, newest first. */
export const feedView: View = (app, main) => {
  if (!session()) {
    app.navigate("#/login", "Log in to see your feed.");
    return;
  }
  const list = new PostList(app, { feed: true });
  main.append(
    h("h1", {}, "Your feed"),
    notice(app) ?? "",
    h("p", { class: "hint", testid: "feed-hint" }, "Posts by the people you follow, newest first. Follow someone from their page (click their name on a post)."),
    list.element,
  );
  void list.loadFirst();
};

export const loginView: View = (app, main) => {
  const form = new Form(
    "login-form",
    [
      { name: "username", label: "Username", autocomplete: "username", value: pendingUsername },
      { name: "password", label: "Password", type: "password", autocomplete: "current-password" },
    ],
    "Log in",
    async ({ username, password }) => {
      const grant = await app.api.logIn(username, password);
      setSession({ token: grant.token, user: grant.user });
      app.sessionChanged();
      app.navigate("#/");
    },
  );
  pendingUsername = "";
  main.append(
    h("h1", {}, "Log in"),
    notice(app) ?? "",
    form.element,
    h("p", { class: "hint" }, "No account yet? ", h("a", { href: "#/signup", testid: "to-signup" }, "Sign up")),
  );
  (form.values().username ? form.input("password") : form.input("username"))?.focus();
};

/** The username just signed up, to fill in on the login screen. */
let pendingUsername = "";

export const signupView: View = (app, main) => {
  const form = new Form(
    "signup-form",
    [
      { name: "username", label: "Username", autocomplete: "username", hint: "3 to 32 letters, digits, _ or -" },
      { name: "email", label: "Email (optional)", type: "email", autocomplete: "email" },
      { name: "password", label: "Password", type: "password", autocomplete: "new-password", hint: "At least 8 characters" },
    ],
    "Sign up",
    async ({ username, password, email }) => {
      const user = await app.api.signUp(username, password, email.trim() || undefined);
      pendingUsername = user.username;
      app.navigate("#/login", `Account ${user.username} created. Log in to start writing.`);
    },
  );
  main.append(
    h("h1", {}, "Sign up"),
    notice(app) ?? "",
    form.element,
    h("p", { class: "hint" }, "Already have an account? ", h("a", { href: "#/login", testid: "to-login" }, "Log in")),
  );
  form.input("username")?.focus();
};

/** Ends the session on the server (the token is revoked) and here, whatever the server said. */
export async function logOut(app: App): Promise<void> {
  let message = "You are logged out.";
  try {
    await app.api.logOut();
  } catch (err) {
    if (!(err instanceof SessionExpired)) {
      message = `Logged out in this tab, but the API could not revoke the token: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  clearSession();
  app.sessionChanged();
  app.navigate("#/login", message);
}
