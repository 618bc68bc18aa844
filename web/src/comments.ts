import type { Comment } from "./api";
import type { App } from "./app";
import { userHref } from "./card";
import { formatTime, h, replaceChildren } from "./dom";
import type { LiveEvent } from "./live";
import { session } from "./session";
import { Form, describeError, reportError } from "./ui";

const PAGE_SIZE = 20;

/**
 * A post's comments, oldest first, growing by a page on each "Load more comments"; with a session,
 * a form to add one. A comment's author (and the post's) may delete it; the API decides (403).
 * Comments written, edited and deleted elsewhere show up live (live.ts). `onCountChange` hears
 * +1 / -1 as comments are added and deleted, each once, whether heard live or answered first.
 */
export class CommentSection {
  readonly element: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly more: HTMLButtonElement;
  private readonly status: HTMLElement;
  /** Every comment drawn, by id; kept current by live edits, so a redraw shows the latest. */
  private readonly shown = new Map<number, Comment>();
  /** Comments deleted, here or elsewhere: counted once, whichever way the news came first. */
  private readonly gone = new Set<number>();
  private nextCursor: string | null = null;

  constructor(
    private readonly app: App,
    private readonly postId: number,
    private readonly postAuthorId: number,
    private readonly onCountChange: (delta: number) => void,
  ) {
    this.list = h("ol", { class: "comments", testid: "comment-list" });
    this.status = h("p", { class: "status", testid: "comments-status" }, "Loading comments…");
    this.more = h(
      "button",
      { type: "button", class: "more", testid: "load-more-comments", hidden: true, on: { click: () => void this.loadMore() } },
      "Load more comments",
    );
    this.element = h(
      "section",
      { class: "comment-section", testid: "comments" },
      h("h2", {}, "Comments"),
      this.list,
      this.status,
      this.more,
      this.compose(),
    );
    app.live.listen(this.element, (event) => this.hear(event));
  }

  private compose(): HTMLElement {
    if (!session()) {
      return h("p", { class: "hint", testid: "comment-login-hint" }, h("a", { href: "#/login" }, "Log in"), " to comment.");
    }
    const form = new Form("comment-form", [{ name: "body", label: "Add a comment", multiline: true }], "Comment", async ({ body }, self) => {
      const comment = await this.app.api.addComment(this.postId, body);
      self.element.reset();
      this.added(comment);
    });
    return form.element;
  }

  /**
   * A new comment, written here or heard of live. Oldest first: it goes last, once the pages
   * before it are all here; until then it waits for its page (shown now anyway, and not again
   * when that page comes). Nothing if it is shown already (the event came before the answer).
   */
  private added(comment: Comment): void {
    const li = this.add(comment);
    if (!li) return;
    li.dataset.added = "";
    this.onCountChange(1);
  }

  private deleted(id: number): void {
    if (this.gone.has(id)) return;
    this.gone.add(id);
    this.item(id)?.remove();
    this.updateStatus();
    this.onCountChange(-1);
  }

  private item(id: number): HTMLLIElement | null {
    return this.list.querySelector<HTMLLIElement>(`:scope > li[data-comment-id="${id}"]`);
  }

  private hear(event: LiveEvent): void {
    if (event.name === "comment.created" && event.data.post_id === this.postId) this.added(event.data);
    if (event.name === "comment.deleted" && event.data.post_id === this.postId) this.deleted(event.data.id);
    if (event.name === "comment.updated" && event.data.post_id === this.postId) {
      const known = this.shown.get(event.data.id);
      if (!known) return; // on a page not loaded yet: it comes edited
      Object.assign(known, event.data);
      const li = this.item(known.id);
      if (li && !li.querySelector(".confirm")) this.show(li, known);
    }
  }

  async loadFirst(): Promise<void> {
    this.list.replaceChildren();
    this.shown.clear();
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
    this.status.textContent = "Loading comments…";
    this.status.hidden = false;
    try {
      const page = await this.app.api.comments(this.postId, { cursor: this.nextCursor, limit: PAGE_SIZE });
      // Comments added here meanwhile stay last, after the older ones of this page.
      const added = [...this.list.querySelectorAll<HTMLElement>("[data-added]")];
      for (const comment of page.items) this.add(comment);
      for (const li of added) this.list.append(li);
      this.nextCursor = page.nextCursor;
      this.more.hidden = this.nextCursor === null;
      this.updateStatus();
    } catch (err) {
      this.status.textContent = "Could not load comments.";
      reportError(err);
    }
  }

  private add(comment: Comment): HTMLLIElement | null {
    if (this.shown.has(comment.id) || this.gone.has(comment.id)) return null;
    this.shown.set(comment.id, comment);
    const li = h("li", { class: "comment", testid: "comment", "data-comment-id": comment.id });
    this.show(li, comment);
    this.list.append(li);
    this.updateStatus();
    return li;
  }

  private updateStatus(): void {
    const empty = this.list.childElementCount === 0;
    this.status.textContent = empty ? "No comments yet." : "";
    this.status.hidden = !empty;
  }

  private show(li: HTMLLIElement, comment: Comment): void {
    const author = h("a", { href: userHref(comment.author_id), class: "author", testid: "comment-author" }, `user #${comment.author_id}`);
    void this.app.authorName(comment.author_id).then((name) => (author.textContent = name));
    const me = session()?.user.id;
    const mayDelete = me !== undefined && (me === comment.author_id || me === this.postAuthorId);
    replaceChildren(
      li,
      h("p", { class: "meta" }, author, " · ", h("time", { datetime: comment.created_at }, formatTime(comment.created_at))),
      h("p", { class: "body", testid: "comment-body" }, comment.body),
      mayDelete &&
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", class: "danger", testid: "delete-comment", on: { click: () => this.confirmDelete(li, comment) } }, "Delete"),
        ),
    );
  }

  private confirmDelete(li: HTMLLIElement, comment: Comment): void {
    const actions = li.querySelector(".actions");
    if (!actions) return;
    const error = h("p", { class: "form-error", testid: "delete-error", role: "alert", hidden: true });
    const yes = h("button", { type: "button", class: "danger", testid: "confirm-delete-comment" }, "Yes, delete");
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        await this.app.api.deleteComment(comment.id);
        this.deleted(comment.id);
      } catch (err) {
        yes.disabled = false;
        error.textContent = describeError(err);
        error.hidden = false;
      }
    });
    replaceChildren(
      actions,
      h("span", { class: "confirm" }, "Delete this comment?"),
      yes,
      h("button", { type: "button", testid: "cancel-delete-comment", on: { click: () => this.show(li, comment) } }, "Cancel"),
      error,
    );
  }
}
