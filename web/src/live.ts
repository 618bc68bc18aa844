import { type Api, type Comment, type Post, SessionExpired } from "./api";
import { h } from "./dom";

// Live updates: one Server-Sent Events stream (`GET /api/events`) per tab, whose events the screen
// on show applies to what it shows (posts.ts, comments.ts, pages.ts). The browser's EventSource
// reconnects by itself, but with the same URL, and a signed-in stream's URL holds a ticket that
// works once (EventSource cannot send `Authorization`, and a token must never be in a URL). So on
// any error the stream is closed here and opened again with a new ticket and `since` set to the
// last event id seen, after a pause that grows while the failures go on.

/** A like or an unlike by `user_id`, with the post's new count. */
export interface LikeChange {
  post_id: number;
  user_id: number;
  liked: boolean;
  like_count: number;
}

export type LiveEvent =
  | { name: "post.created" | "post.updated" | "feed"; data: Post }
  | { name: "post.deleted"; data: { id: number; author_id: number } }
  | { name: "comment.created" | "comment.updated"; data: Comment }
  | { name: "comment.deleted"; data: { id: number; post_id: number } }
  | { name: "post.liked"; data: LikeChange }
  /** Events may have been missed (the position asked for is gone): refetch what is shown. */
  | { name: "reset"; data: { last_event_id: number; reason: string } };

export type Listener = (event: LiveEvent) => void;

const NAMES: LiveEvent["name"][] = [
  "post.created",
  "post.updated",
  "post.deleted",
  "feed",
  "comment.created",
  "comment.updated",
  "comment.deleted",
  "post.liked",
  "reset",
];

/** The pause before the next attempt after `failures` in a row: 1 s, 2 s, 4 s, 8 s, then 10 s. */
function backoff(failures: number): number {
  return Math.min(10_000, 1000 * 2 ** (failures - 1));
}

type State = "connecting" | "open" | "retrying";

const STATE_TEXT: Record<State, string> = {
  connecting: "Live updates: connecting…",
  open: "Live updates on",
  retrying: "Live updates: reconnecting…",
};

export class Live {
  /** For the footer: whether updates arrive; `data-last-event-id` is the position reached. */
  readonly status: HTMLElement;
  /** Settles once the first stream opens or fails; see `start` in main.ts for why it matters. */
  readonly ready: Promise<void>;
  private settleReady: () => void = () => undefined;
  private source: EventSource | null = null;
  /** The id of the last event received: where a new stream resumes. */
  private lastId: string | null = null;
  private failures = 0;
  private retryTimer: number | undefined;
  /** Bumped by each restart, so that a ticket answered for an older attempt opens nothing. */
  private generation = 0;
  private listeners: { owner: Element; listener: Listener }[] = [];

  constructor(
    private readonly api: Api,
    private readonly signedIn: () => boolean,
  ) {
    this.status = h("span", { class: "live", testid: "live-status" });
    this.ready = new Promise((resolve) => (this.settleReady = resolve));
    this.show("connecting");
  }

  /**
   * Hears every event while `owner` is on the page, until `clear`, which the shell calls when the
   * screen changes. The owner matters for a screen that starts listening once its data is in: by
   * then the person may have gone to another screen, which it must leave alone.
   */
  listen(owner: Element, listener: Listener): void {
    this.listeners.push({ owner, listener });
  }

  clear(): void {
    this.listeners = [];
  }

  /**
   * Opens the stream again for the session as it now is (logged in or out; following someone
   * else, since a stream's feed is of the people followed when it opened), from where it was.
   */
  restart(): void {
    this.generation++;
    window.clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
    this.failures = 0;
    void this.connect(false);
  }

  private async connect(afterFailure: boolean): Promise<void> {
    const generation = this.generation;
    const signedIn = this.signedIn();
    const resumed = this.lastId !== null;
    const params = new URLSearchParams({ topics: signedIn ? "posts,comments,likes,feed" : "posts,comments,likes" });
    if (this.lastId !== null) params.set("since", this.lastId);
    this.show(afterFailure ? "retrying" : "connecting");
    if (signedIn) {
      try {
        params.set("ticket", await this.api.eventTicket());
      } catch (err) {
        // A dead session: the shell has been told (api.ts) and restarts the stream signed out.
        if (generation === this.generation && !(err instanceof SessionExpired)) this.failed();
        return;
      }
      if (generation !== this.generation) return;
    }
    let source: EventSource;
    try {
      source = new EventSource(`${this.api.base}/api/events?${params}`);
    } catch {
      this.failed(); // a base URL EventSource will not take: the banner of the first request says why
      return;
    }
    this.source = source;
    source.addEventListener("open", () => {
      this.failures = 0;
      this.show("open");
      this.settleReady();
      // Back without a position to resume from: whatever happened meanwhile was not heard.
      if (afterFailure && !resumed) this.dispatch({ name: "reset", data: { last_event_id: 0, reason: "reconnected" } });
    });
    source.addEventListener("error", () => {
      if (this.source !== source) return;
      // Closed here rather than left to the browser's own retry, whose URL has a spent ticket.
      source.close();
      this.source = null;
      this.failed();
    });
    for (const name of NAMES) {
      source.addEventListener(name, (event) => this.receive(name, event as MessageEvent<string>));
    }
  }

  private failed(): void {
    this.failures++;
    this.show("retrying");
    this.settleReady();
    const generation = this.generation;
    this.retryTimer = window.setTimeout(() => {
      if (generation === this.generation) void this.connect(true);
    }, backoff(this.failures));
  }

  private receive(name: LiveEvent["name"], event: MessageEvent<string>): void {
    if (event.lastEventId) {
      this.lastId = event.lastEventId;
      this.status.dataset.lastEventId = event.lastEventId;
    }
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return; // not the API's JSON: nothing to show
    }
    this.dispatch({ name, data } as LiveEvent);
  }

  private dispatch(event: LiveEvent): void {
    for (const { owner, listener } of [...this.listeners]) {
      if (!owner.isConnected) continue;
      try {
        listener(event);
      } catch (err) {
        console.error("live update failed", event.name, err); // one screen's bug must not stop the others
      }
    }
  }

  private show(state: State): void {
    this.status.dataset.state = state;
    this.status.textContent = STATE_TEXT[state];
  }
}
