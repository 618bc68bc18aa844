import { ApiError, type Page, type Post } from "./api";
import type { App } from "./app";
import { likeChange, parseTags, showPost, shownPost, updateCard } from "./card";
import { h } from "./dom";
import type { LiveEvent } from "./live";
import { Form, reportError } from "./ui";

const PAGE_SIZE = 20;

/** Which posts a list shows; the filters combine, as they do in the API. */
export interface PostFilter {
  author?: number;
  tag?: string;
  /** A full-text search: posts with all these words (the last as a prefix). */
  q?: string;
  /** The session's feed (`GET /api/feed`) instead of all posts; the other filters do not apply. */
  feed?: boolean;
}

/**
 * A list of posts, newest first, that grows by one page on each "Load more" (cursor pagination),
 * and changes as it hears of changes (live.ts): new posts at the top, edits, deletions, counts.
 */
export class PostList {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly more: HTMLButtonElement;
  private readonly status: HTMLElement;
  private nextCursor: string | null = null;
  /** Bumped on each (re)load, so that a page answered after the filter changed is dropped. */
  private generation = 0;

  constructor(
    private readonly app: App,
    private filter: PostFilter = {},
  ) {
    this.list = h("ol", { class: "posts", testid: "post-list" });
    this.status = h("p", { class: "status", testid: "list-status" }, "Loading posts…");
    this.more = h("button", { type: "button", class: "more", testid: "load-more", hidden: true, on: { click: () => void this.loadMore() } }, "Load more");
    this.element = h("section", { class: "post-list" }, this.list, this.status, this.more);
    app.live.listen(this.element, (event) => this.hear(event));
  }

  async loadFirst(): Promise<void> {
    this.generation++;
    this.list.replaceChildren();
    this.nextCursor = null;
    this.more.hidden = true;
    await this.fetchPage();
  }

  /** Show other posts (a new search, say): the list starts again from the first page. */
  async setFilter(filter: PostFilter): Promise<void> {
    this.filter = filter;
    await this.loadFirst();
  }

  private async loadMore(): Promise<void> {
    this.more.disabled = true;
    try {
      await this.fetchPage();
    } finally {
      this.more.disabled = false;
    }
  }

  private page(cursor: string | null): Promise<Page<Post>> {
    const { feed, ...filter } = this.filter;
    if (feed) return this.app.api.feed({ cursor, limit: PAGE_SIZE });
    return this.app.api.posts({ ...filter, cursor, limit: PAGE_SIZE });
  }

  private async fetchPage(): Promise<void> {
    const generation = this.generation;
    this.status.textContent = "Loading posts…";
    this.status.hidden = false;
    this.element.setAttribute("aria-busy", "true");
    try {
      const page = await this.page(this.nextCursor);
      if (generation !== this.generation) return; // the list was reloaded meanwhile
      // A post heard of live while the page was on its way may be in it too.
      for (const post of page.items) if (!this.card(post.id)) this.list.append(this.item(post));
      this.nextCursor = page.nextCursor;
      this.more.hidden = this.nextCursor === null;
      this.updateStatus();
    } catch (err) {
      if (generation !== this.generation) return;
      if (err instanceof ApiError && err.fields.q) {
        // A search the API refuses (too long, too many words): say so where the results go.
        this.status.textContent = `Cannot search for that: the search ${err.fields.q}.`;
        return;
      }
      this.status.textContent = "Could not load posts.";
      reportError(err);
    } finally {
      if (generation === this.generation) this.element.removeAttribute("aria-busy");
    }
  }

  private updateStatus(): void {
    const empty = this.list.childElementCount === 0;
    this.status.textContent = empty ? this.emptyText() : "";
    this.status.hidden = !empty;
  }

  private emptyText(): string {
    const { feed, tag, q } = this.filter;
    if (feed) return "Your feed is empty: follow people from their pages to see their posts here.";
    if (q) return tag ? `No posts tagged ${tag} match “${q.trim()}”.` : `No posts match “${q.trim()}”.`;
    return tag ? `No posts tagged ${tag}.` : "No posts yet.";
  }

  /** Shows a post just written at the top, without reloading the list; if shown already, updates it. */
  prepend(post: Post): void {
    const shown = this.card(post.id);
    if (shown) updateCard(this.app, shown, post);
    else this.list.prepend(this.item(post));
    this.updateStatus();
  }

  private card(id: number): HTMLElement | null {
    return this.list.querySelector<HTMLElement>(`:scope > li[data-post-id="${id}"]`);
  }

  private remove(card: HTMLElement): void {
    card.remove();
    this.updateStatus();
  }

  /**
   * Whether a post heard of live goes at the top. Only where the event alone tells: a search
   * would need the API to say whether the post matches, so there only the posts shown change.
   */
  private takesNew(event: LiveEvent & { data: Post }): boolean {
    const { feed, author, tag, q } = this.filter;
    if (feed) return event.name === "feed";
    if (event.name !== "post.created" || q) return false;
    return (author === undefined || author === event.data.author_id) && (!tag || event.data.tags.includes(tag));
  }

  private hear(event: LiveEvent): void {
    switch (event.name) {
      case "post.created":
      case "feed":
        if (this.card(event.data.id) || this.takesNew(event)) this.prepend(event.data);
        break;
      case "post.updated": {
        const card = this.card(event.data.id);
        if (!card) break;
        if (this.filter.tag && !event.data.tags.includes(this.filter.tag)) this.remove(card);
        else updateCard(this.app, card, event.data);
        break;
      }
      case "post.deleted": {
        const card = this.card(event.data.id);
        if (card) this.remove(card);
        break;
      }
      case "post.liked": {
        const card = this.card(event.data.post_id);
        if (card) updateCard(this.app, card, likeChange(event.data));
        break;
      }
      case "comment.created":
      case "comment.deleted": {
        const card = this.card(event.data.post_id);
        const shown = card && shownPost(card);
        if (!card || !shown) break;
        const delta = event.name === "comment.created" ? 1 : -1;
        updateCard(this.app, card, { comment_count: Math.max(0, shown.comment_count + delta) });
        break;
      }
      case "reset":
        void this.loadFirst();
        break;
    }
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
