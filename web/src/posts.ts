import type { Post } from "./api";
import type { App } from "./app";
import { formatTime, h, replaceChildren } from "./dom";
import { session } from "./session";
import { Form, describeError, reportError } from "./ui";

const PAGE_SIZE = 20;

/** A list of posts, newest first, that grows by one page on each "Load more" (cursor pagination). */
export class PostList {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly more: HTMLButtonElement;
  private readonly status: HTMLElement;
  private nextCursor: string | null = null;

  constructor(
    private readonly app: App,
    private readonly author?: number,
  ) {
    this.list = h("ol", { class: "posts", testid: "post-list" });
    this.status = h("p", { class: "status", testid: "list-status" }, "Loading posts…");
    this.more = h("button", { type: "button", class: "more", testid: "load-more", hidden: true, on: { click: () => void this.loadMore() } }, "Load more");
    this.element = h("section", { class: "post-list" }, this.list, this.status, this.more);
  }

  async loadFirst(): Promise<void> {
    this.list.replaceChildren();
    this.nextCursor = null;
    await this.fetchPage();
  }

  private async loadMore(): Promise<void> {
    this.more.disabled = true;
    try {
      await this.fetchPage();
    } finally {
      this.more.disabled = false;
    }
  }

  private async fetchPage(): Promise<void> {
    this.status.textContent = "Loading posts…";
    this.status.hidden = false;
    try {
      const page = await this.app.api.posts({ cursor: this.nextCursor, author: this.author, limit: PAGE_SIZE });
      for (const post of page.items) this.list.append(this.item(post));
      this.nextCursor = page.nextCursor;
      this.more.hidden = this.nextCursor === null;
      this.updateStatus();
    } catch (err) {
      this.status.textContent = "Could not load posts.";
      reportError(err);
    }
  }

  private updateStatus(): void {
    const empty = this.list.childElementCount === 0;
    this.status.textContent = empty ? "No posts yet." : "";
    this.status.hidden = !empty;
  }

  /** Shows a post just written at the top, without reloading the list. */
  prepend(post: Post): void {
    this.list.prepend(this.item(post));
    this.updateStatus();
  }

  private item(post: Post): HTMLLIElement {
    const li = h("li", { class: "post", testid: "post", "data-post-id": post.id });
    this.show(li, post);
    return li;
  }

  private show(li: HTMLLIElement, post: Post): void {
    const author = h("span", { class: "author", testid: "post-author" }, `user #${post.author_id}`);
    void this.app.authorName(post.author_id).then((name) => (author.textContent = name));
    const edited = post.updated_at !== post.created_at;
    const mine = session()?.user.id === post.author_id;
    replaceChildren(
      li,
      h("h2", { testid: "post-title" }, post.title),
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
      // Only the author gets the buttons; the API enforces the same rule (403) regardless.
      mine &&
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", testid: "edit-post", on: { click: () => void this.edit(li, post) } }, "Edit"),
          h("button", { type: "button", class: "danger", testid: "delete-post", on: { click: () => this.confirmDelete(li, post) } }, "Delete"),
        ),
    );
  }

  private async edit(li: HTMLLIElement, shown: Post): Promise<void> {
    // Start from the stored version and its ETag, so saving cannot silently overwrite a change
    // made elsewhere in the meantime (the API answers 412 instead).
    let post = shown;
    let etag: string | null = null;
    try {
      ({ post, etag } = await this.app.api.post(shown.id));
    } catch (err) {
      reportError(err);
      return;
    }
    const cancel = h("button", { type: "button", testid: "cancel-edit", on: { click: () => this.show(li, post) } }, "Cancel");
    const form = new Form(
      "edit-post-form",
      [
        { name: "title", label: "Title", value: post.title },
        { name: "body", label: "Body", multiline: true, value: post.body },
      ],
      "Save",
      async ({ title, body }) => {
        const saved = await this.app.api.updatePost(post.id, title, body, etag);
        this.show(li, saved);
      },
      [cancel],
    );
    replaceChildren(li, form.element);
    form.input("title")?.focus();
  }

  private confirmDelete(li: HTMLLIElement, post: Post): void {
    const actions = li.querySelector(".actions");
    if (!actions) return;
    const error = h("p", { class: "form-error", testid: "delete-error", role: "alert", hidden: true });
    const yes = h("button", { type: "button", class: "danger", testid: "confirm-delete" }, "Yes, delete");
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        await this.app.api.deletePost(post.id);
        li.remove();
        this.updateStatus();
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
      h("button", { type: "button", testid: "cancel-delete", on: { click: () => this.show(li, post) } }, "Cancel"),
      error,
    );
  }
}

/** The form for a new post; `onCreated` gets the post the API stored. */
export function newPostForm(app: App, onCreated: (post: Post) => void): Form {
  const form = new Form(
    "new-post-form",
    [
      { name: "title", label: "Title" },
      { name: "body", label: "Body", multiline: true },
    ],
    "Publish",
    async ({ title, body }, self) => {
      const post = await app.api.createPost(title, body);
      self.element.reset();
      onCreated(post);
    },
  );
  return form;
}
