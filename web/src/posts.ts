import type { Post } from "./api";
import type { App } from "./app";
import { parseTags, showPost } from "./card";
import { h } from "./dom";
import { Form, reportError } from "./ui";

const PAGE_SIZE = 20;

/** Which posts a list shows; the filters combine, as they do in the API. */
export interface PostFilter {
  author?: number;
  tag?: string;
}

/** A list of posts, newest first, that grows by one page on each "Load more" (cursor pagination). */
export class PostList {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly more: HTMLButtonElement;
  private readonly status: HTMLElement;
  private nextCursor: string | null = null;

  constructor(
    private readonly app: App,
    private readonly filter: PostFilter = {},
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
      const page = await this.app.api.posts({ ...this.filter, cursor: this.nextCursor, limit: PAGE_SIZE });
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
    this.status.textContent = empty ? (this.filter.tag ? `No posts tagged ${this.filter.tag}.` : "No posts yet.") : "";
    this.status.hidden = !empty;
  }

  /** Shows a post just written at the top, without reloading the list. */
  prepend(post: Post): void {
    this.list.prepend(this.item(post));
    this.updateStatus();
  }

  private item(post: Post): HTMLLIElement {
    const li = h("li", { class: "post", testid: "post" });
    showPost(this.app, li, post, {
      onDeleted: (card) => {
        card.remove();
        this.updateStatus();
      },
    });
    return li;
  }
}

/** The form for a new post; `onCreated` gets the post the API stored. */
export function newPostForm(app: App, onCreated: (post: Post) => void): Form {
  const form = new Form(
    "new-post-form",
    [
      { name: "title", label: "Title" },
      { name: "body", label: "Body", multiline: true },
      { name: "tags", label: "Tags (optional)", hint: "Up to 10, separated by commas or spaces: letters, digits, _ or -" },
    ],
    "Publish",
    async ({ title, body, tags }, self) => {
      const post = await app.api.createPost(title, body, parseTags(tags));
      self.element.reset();
      onCreated(post);
    },
  );
  return form;
}
