import type { User } from "./api";
import type { App } from "./app";
import { formatTime, h } from "./dom";
import { showUser } from "./people";
import { PostList } from "./posts";
import { session } from "./session";
import { Form, reportError } from "./ui";
import { type View, notice } from "./views";

// The session's own profile (#/profile): how others see them (picture, bio, counts), the account's
// private details, a form for the bio and picture, one for the email, and their posts.

/** The bio and picture form; the API judges both, and its problems appear beside the field. */
function profileForm(app: App, me: User, onSaved: (user: User) => void): Form {
  return new Form(
    "profile-form",
    [
      { name: "bio", label: "Bio", multiline: true, value: me.bio, hint: "Up to 1000 characters, shown on your page. Empty clears it." },
      {
        name: "image",
        label: "Picture URL",
        type: "url",
        value: me.image ?? "",
        autocomplete: "photo",
        hint: "The http or https address of a picture. Empty removes it.",
      },
    ],
    "Save profile",
    async ({ bio, image }, self) => {
      const user = await app.api.updateProfile(me.id, { bio, image: image.trim() });
      onSaved(user);
      self.showMessage("Profile saved.", true);
    },
  );
}

export const profileView: View = (app, main) => {
  const me = session();
  if (!me) {
    app.navigate("#/login", "Log in to see your profile.");
    return;
  }
  const card = h("section", { class: "user-card", testid: "profile-card" });
  const details = h("dl", { class: "profile", testid: "profile" });
  const fill = (user: User) => {
    showUser(app, card, user, { selfHint: false, heading: "h2" });
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
  const update = (user: User) => {
    me.user = { ...me.user, ...user };
    fill(me.user);
  };
  fill(me.user);
  const shownBio = me.user.bio;
  const shownImage = me.user.image ?? "";
  const profile = profileForm(app, me.user, update);
  const emailForm = new Form("email-form", [{ name: "email", label: "New email", type: "email", autocomplete: "email" }], "Change email", async ({ email }, self) => {
    update(await app.api.updateEmail(me.user.id, email.trim()));
    self.element.reset();
    self.showMessage("Email updated.", true);
  });
  const list = new PostList(app, { author: me.user.id });
  main.append(
    h("h1", {}, "Your profile"),
    notice(app) ?? "",
    card,
    h("p", { class: "hint" }, h("a", { href: `#/users/${me.user.id}`, testid: "public-page" }, "Your public page")),
    details,
    h("h2", {}, "Bio and picture"),
    profile.element,
    h("h2", {}, "Email"),
    emailForm.element,
    h("h2", {}, "Your posts"),
    list.element,
  );
  // Fresh details from the API (the session copy is from login time); the form takes them too,
  // unless something was typed into it meanwhile.
  void app.api
    .profile()
    .then((user) => {
      update(user);
      const bio = profile.input("bio");
      const image = profile.input("image");
      if (bio && bio.value === shownBio) bio.value = user.bio;
      if (image && image.value === shownImage) image.value = user.image ?? "";
    })
    .catch(reportError);
  void list.loadFirst();
};
