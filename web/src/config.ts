// Where the API lives. The same built files can point anywhere, so the base URL is looked up at
// run time, first match wins:
//   1. `?api=<url>` in the page URL (handy for tests and for trying another server);
//   2. `window.POSTBASE_API`, set by the unbundled `config.js` a deployment may replace;
//   3. `VITE_API_BASE` from the environment at build or dev time;
//   4. http://127.0.0.1:8080, where `postbase` listens by default.
// The page footer always shows the base in use, so a link with a surprising `?api=` is visible
// before anyone types a password into it.

declare global {
  interface Window {
    POSTBASE_API?: string;
  }
}

const DEFAULT_API_BASE = "http://127.0.0.1:8080";

function clean(value: string | null | undefined): string | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  return trimmed.replace(/\/+$/, "");
}

export function resolveApiBase(): string {
  const fromQuery = clean(new URLSearchParams(window.location.search).get("api"));
  return (
    fromQuery ??
    clean(window.POSTBASE_API) ??
    clean(import.meta.env.VITE_API_BASE as string | undefined) ??
    DEFAULT_API_BASE
  );
}
