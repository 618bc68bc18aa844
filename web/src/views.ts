import { SessionExpired } from "./api";
import type { App } from "./app";
import { formatTime, h } from "./dom";
import { PostList, newPostForm } from "./posts";
import { clearSession, session, setSession } from "./session";
import { Form, reportError } from "./ui";

/**
 * A screen: draws itself into `main` and may load data afterwards. `params` holds the route's
 * parts (`id` of `#/posts/{id}`) and its query (`tag` of `#/?tag=rust`).
 */
export type View = (app: App, main: HTMLElement, params: Record<string, string>) => void;

function notice(app: App): HTMLElement | null {
  const text = app.takeNotice();
  return text ? h("p", { class: "notice", testid: "notice", role: "status" }, text) : null;
}

export const postsView: View = (app, main, params) => {
  const tag = params.tag?.trim().toLowerCase() || undefined;
  const list = new PostList(app, { tag });
  const me = session();
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
      ? h("details", { class: "compose", open: true }, h("summary", {}, "Write a post"), newPostForm(app, (post) => (!tag || post.tags.includes(tag)) && list.prepend(post)).element)
      : h("p", { class: "hint" }, h("a", { href: "#/login" }, "Log in"), " or ", h("a", { href: "#/signup" }, "sign up"), " to write posts."),
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

export const profileView: View = (app, main) => {
  const me = session();
  if (!me) {
    app.navigate("#/login", "Log in to see your profile.");
    return;
  }
  const details = h("dl", { class: "profile", testid: "profile" });
  const fill = (user: typeof me.user) => {
    details.replaceChildren(
      h("dt", {}, "Username"),
      h("dd", { testid: "profile-username" }, user.username),
      h("dt", {}, "Email"),
      h("dd", { testid: "profile-email" }, user.email || "none"),
      h("dt", {}, "Member since"),
      h("dd", {}, h("time", { datetime: user.created_at }, formatTime(user.created_at))),
      h("dt", {}, "User id"),
      h("dd", {}, String(user.id)),
    );
  };
  fill(me.user);
  const emailForm = new Form("email-form", [{ name: "email", label: "New email", type: "email", autocomplete: "email" }], "Change email", async ({ email }, self) => {
    const user = await app.api.updateEmail(me.user.id, email.trim());
    me.user = { ...me.user, ...user };
    fill(me.user);
    self.element.reset();
    self.showMessage("Email updated.", true);
  });
  const list = new PostList(app, { author: me.user.id });
  main.append(
    h("h1", {}, "Your profile"),
    notice(app) ?? "",
    details,
    h("p", { class: "hint" }, h("a", { href: `#/users/${me.user.id}`, testid: "public-page" }, "Your public page")),
    emailForm.element,
    h("h2", {}, "Your posts"),
    list.element,
  );
  // Fresh details from the API (the session copy is from login time).
  void app.api
    .profile()
    .then((user) => {
      me.user = user;
      fill(user);
    })
    .catch(reportError);
  void list.loadFirst();
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
