import type { Post } from "./api";
import type { App } from "./app";
import { formatTime, h, replaceChildren } from "./dom";
import type { LikeChange } from "./live";
import { session } from "./session";
import { Form, describeError, reportError } from "./ui";

// One post as a card: title (a link to its page), author (a link to theirs), tags (links that
// filter the list), like button and comment count; and, for its author, inline edit and delete.
// Used by the lists and by the post's own page.

/** The hash of a post's own page, of an author's page, and of the list filtered by a tag. */
export const postHref = (id: number): string => `#/posts/${id}`;
export const userHref = (id: number): string => `#/users/${id}`;
export const tagHref = (tag: string): string => `#/?tag=${encodeURIComponent(tag)}`;

/** "rust, Web  cli" → ["rust", "Web", "cli"]: the API lower-cases, checks and drops duplicates. */
export function parseTags(text: string): string[] {
  return text.split(/[\s,]+/).filter((tag) => tag !== "");
}

export function commentCountText(count: number): string {
  return count === 1 ? "1 comment" : `${count} comments`;
}

export interface CardOptions {
  /** Called once the post is deleted (after the card is told so); default: remove the card. */
  onDeleted?: (card: HTMLElement) => void;
}

/**
 * What each card shows, for the changes heard live (live.ts) later. `post` is one object for the
 * card's life: the like button, the edit form and the delete prompt read the latest from it.
 */
interface Drawn {
  post: Post;
  options: CardOptions;
  drawLike: () => void;
}

const drawn = new WeakMap<HTMLElement, Drawn>();

/** The post a card shows, with the changes heard since it was drawn. */
export function shownPost(card: HTMLElement): Post | undefined {
  return drawn.get(card)?.post;
}

const COUNTS = new Set(["like_count", "liked", "comment_count"]);

/**
 * Applies a change heard live to a card: counts change in place; a new version of the post
 * redraws the card, except while it is being edited or asks to confirm a delete, so as not to
 * take the form from under the person's hands (it shows the new version when drawn again).
 * `liked` stays as it is unless the change has one: it is per person (see `likeChange`).
 */
export function updateCard(app: App, card: HTMLElement, change: Partial<Post>): void {
  const state = drawn.get(card);
  if (!state) return;
  Object.assign(state.post, change);
  if (Object.keys(change).every((key) => COUNTS.has(key))) {
    state.drawLike();
    const comments = card.querySelector("[data-testid=comment-count]");
    if (comments) comments.textContent = commentCountText(state.post.comment_count);
  } else if (!card.querySelector("form, .confirm")) {
    showPost(app, card, state.post, state.options);
  }
}

/** A like or unlike as a change to a card: the count; and whether liked, if it was this person's. */
export function likeChange(change: LikeChange): Partial<Post> {
  const mine = session()?.user.id === change.user_id;
  return mine ? { like_count: change.like_count, liked: change.liked } : { like_count: change.like_count };
}

/** Draws `post` into `card` (an `li` in a list, an `article` on the post's page). */
export function showPost(app: App, card: HTMLElement, post: Post, options: CardOptions = {}): void {
  const author = h("a", { href: userHref(post.author_id), class: "author", testid: "post-author" }, `user #${post.author_id}`);
  void app.authorName(post.author_id).then((name) => (author.textContent = name));
  const edited = post.updated_at !== post.created_at;
  const mine = session()?.user.id === post.author_id;
  const like = likeButton(app, post);
  drawn.set(card, { post, options, drawLike: like.draw });
  card.dataset.postId = String(post.id);
  replaceChildren(
    card,
    h("h2", {}, h("a", { href: postHref(post.id), class: "permalink", testid: "post-title" }, post.title)),
    h(
      "p",
      { class: "meta" },
      "by ",
      author,
      " · ",
      h("time", { datetime: post.created_at }, formatTime(post.created_at)),
      edited && h("span", { class: "edited", title: `edited ${formatTime(post.updated_at)}` }, " · edited"),
    ),
    post.body && h("p", { class: "body", testid: "post-body" }, post.body),
    post.tags.length > 0 &&
      h(
        "ul",
        { class: "tags", testid: "post-tags", "aria-label": "Tags" },
        ...post.tags.map((tag) => h("li", {}, h("a", { href: tagHref(tag), class: "tag", testid: "tag" }, tag))),
      ),
    h(
      "div",
      { class: "social" },
      like.button,
      h("a", { href: postHref(post.id), class: "comment-count", testid: "comment-count" }, commentCountText(post.comment_count)),
    ),
    // Only the author gets the buttons; the API enforces the same rule (403) regardless.
    mine &&
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", testid: "edit-post", on: { click: () => void edit(app, card, post, options) } }, "Edit"),
        h("button", { type: "button", class: "danger", testid: "delete-post", on: { click: () => confirmDelete(app, card, post, options) } }, "Delete"),
      ),
  );
}

/**
 * ♥ and the count, drawn from `post` (which live changes update); pressed when the session's user
 * likes the post. Logged out, a click says to log in.
 */
function likeButton(app: App, post: Post): { button: HTMLButtonElement; draw: () => void } {
  const count = h("span", { class: "like-count", testid: "like-count" }, post.like_count);
  const label = h("span", { class: "like-label" });
  const button = h("button", { type: "button", class: "like", testid: "like-button" }, label, " ", count);
  const draw = () => {
    const liked = post.liked === true;
    button.setAttribute("aria-pressed", String(liked));
    button.classList.toggle("liked", liked);
    label.textContent = liked ? "♥ Liked" : "♡ Like";
    button.title = session() ? (liked ? "Unlike" : "Like") : "Log in to like posts";
    count.textContent = String(post.like_count);
  };
  draw();
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const updated = await app.api.setLike(post.id, post.liked !== true);
      post.like_count = updated.like_count;
      post.liked = updated.liked === true;
      draw();
    } catch (err) {
      reportError(err);
    } finally {
      button.disabled = false;
    }
  });
  return { button, draw };
}

async function edit(app: App, card: HTMLElement, shown: Post, options: CardOptions): Promise<void> {
  // Start from the stored version and its ETag, so saving cannot silently overwrite a change
  // made elsewhere in the meantime (the API answers 412 instead).
  let post = shown;
  let etag: string | null = null;
  try {
    ({ post, etag } = await app.api.post(shown.id));
  } catch (err) {
    reportError(err);
    return;
  }
  // Into the card's own copy, which live changes keep current; the anonymous copy has no `liked`.
  Object.assign(shown, post);
  const cancel = h("button", { type: "button", testid: "cancel-edit", on: { click: () => showPost(app, card, shown, options) } }, "Cancel");
  const form = new Form(
    "edit-post-form",
    [
      { name: "title", label: "Title", value: post.title },
      { name: "body", label: "Body", multiline: true, value: post.body },
      { name: "tags", label: "Tags", value: post.tags.join(", "), hint: "Up to 10, separated by commas or spaces" },
    ],
    "Save",
    async ({ title, body, tags }) => {
      const saved = await app.api.updatePost(post.id, title, body, parseTags(tags), etag);
      showPost(app, card, { ...saved, liked: shown.liked }, options);
    },
    [cancel],
  );
  replaceChildren(card, form.element);
  form.input("title")?.focus();
}

function confirmDelete(app: App, card: HTMLElement, post: Post, options: CardOptions): void {
  const actions = card.querySelector(".actions");
  if (!actions) return;
  const error = h("p", { class: "form-error", testid: "delete-error", role: "alert", hidden: true });
  const yes = h("button", { type: "button", class: "danger", testid: "confirm-delete" }, "Yes, delete");
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    try {
      await app.api.deletePost(post.id);
      if (options.onDeleted) options.onDeleted(card);
      else card.remove();
    } catch (err) {
      yes.disabled = false;
      error.textContent = describeError(err);
      error.hidden = false;
    }
  });
  replaceChildren(
    actions,
    h("span", { class: "confirm" }, "Delete this post for good?"),
    yes,
    h("button", { type: "button", testid: "cancel-delete", on: { click: () => showPost(app, card, post, options) } }, "Cancel"),
    error,
  );
}
