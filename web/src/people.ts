import type { User } from "./api";
import type { App } from "./app";
import { formatTime, h, replaceChildren } from "./dom";
import { session } from "./session";
import { reportError } from "./ui";

// A user as the top of their page: picture, name, since when, follower / following / post counts,
// bio and a follow button (for someone else, with a session). Everything they wrote goes in as
// text; the picture is an <img src> only for an http(s) URL.

/** The picture's address if it is an absolute http or https URL, else null (never `javascript:` or `data:`). */
export function imageSrc(raw: string | null | undefined): string | null {
  if (!raw) return null;
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** The user's picture, or a plain circle with their initial when there is none (or it is not http(s)). */
export function avatar(user: Pick<User, "username" | "image">): HTMLElement {
  const src = imageSrc(user.image);
  if (src) {
    return h("img", {
      src,
      alt: `${user.username}'s picture`,
      class: "avatar",
      testid: "user-image",
      width: 96,
      height: 96,
      referrerpolicy: "no-referrer",
      decoding: "async",
    });
  }
  return h("span", { class: "avatar none", testid: "user-no-image", "aria-hidden": "true" }, user.username.slice(0, 1).toUpperCase());
}

const plural = (count: number, one: string, many: string): string => (count === 1 ? one : many);

function counts(user: User): HTMLElement {
  const count = (testid: string, value: number) => h("strong", { testid }, value);
  return h(
    "p",
    { class: "counts", testid: "user-counts" },
    count("follower-count", user.follower_count),
    ` ${plural(user.follower_count, "follower", "followers")} · `,
    count("following-count", user.following_count),
    " following · ",
    count("post-count", user.post_count),
    ` ${plural(user.post_count, "post", "posts")}`,
  );
}

export interface UserCardOptions {
  /** On one's own card: a line leading to the profile (default true). */
  selfHint?: boolean;
  /** The heading for the name: h1 on the user's page (default), h2 inside another page. */
  heading?: "h1" | "h2";
  /** Called with the user as the API answered a follow or unfollow. */
  onChange?: (user: User) => void;
}

/** Draws `user` into `card`; a follow or unfollow redraws it with the counts the API answers. */
export function showUser(app: App, card: HTMLElement, user: User, options: UserCardOptions = {}): void {
  const mine = session()?.user.id === user.id;
  card.dataset.userId = String(user.id);
  replaceChildren(
    card,
    avatar(user),
    h(
      "div",
      { class: "user-info" },
      h(options.heading ?? "h1", { class: "name" }, h("span", { testid: "user-username" }, user.username)),
      h("p", { class: "meta", testid: "user-since" }, "Member since ", h("time", { datetime: user.created_at }, formatTime(user.created_at))),
      counts(user),
      user.bio && h("p", { class: "bio", testid: "user-bio" }, user.bio),
      mine
        ? options.selfHint !== false &&
            h(
              "p",
              { class: "hint", testid: "self-hint" },
              "This is you: ",
              h("a", { href: "#/profile", testid: "edit-profile" }, "your profile"),
              " is where you change your bio, picture and email.",
            )
        : followButton(app, card, user, options),
    ),
  );
}

/** Follow / Unfollow; pressed when the session's user follows them. Logged out, a click says to log in. */
function followButton(app: App, card: HTMLElement, user: User, options: UserCardOptions): HTMLButtonElement {
  const following = user.following === true;
  const button = h(
    "button",
    {
      type: "button",
      class: following ? "follow following" : "follow",
      testid: "follow-button",
      "aria-pressed": String(following),
      title: session() ? (following ? `Stop following ${user.username}` : `See ${user.username}'s posts in your feed`) : "Log in to follow people",
    },
    following ? "Unfollow" : "Follow",
  );
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const updated = await app.api.setFollow(user.id, !following);
      const next = { ...user, ...updated };
      app.live.restart(); // a stream's feed is of the people followed when it opened
      showUser(app, card, next, options);
      card.querySelector<HTMLElement>("[data-testid=follow-button]")?.focus();
      options.onChange?.(next);
    } catch (err) {
      button.disabled = false;
      reportError(err);
    }
  });
  return button;
}
