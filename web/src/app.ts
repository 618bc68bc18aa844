import type { Api } from "./api";
import type { Live } from "./live";

/** What every screen needs from the shell around it. */
export interface App {
  api: Api;
  /** The tab's event stream: a screen listens to it for live changes to what it shows. */
  live: Live;
  /** Go to a screen (`#/login`, ...), optionally with a one-time notice for it to show. */
  navigate(hash: string, notice?: string): void;
  /** Take the notice left for the current screen, if any. */
  takeNotice(): string | null;
  /** Called after logging in or out, to redraw the navigation and reopen the event stream. */
  sessionChanged(): void;
  /** The username for an author id, fetched once per id and cached. */
  authorName(id: number): Promise<string>;
}
