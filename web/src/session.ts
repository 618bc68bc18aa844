import type { User } from "./api";

// The bearer token lives in sessionStorage, not localStorage and not only in memory:
// - it survives a reload of the tab (memory would log the person out on every F5);
// - it dies with the tab, so a token is not left lying around after the browser closes;
// - it is not shared with other tabs, so each tab is its own session and logging out in one
//   does not surprise another.
// The XSS exposure is the same as keeping it in a JavaScript variable: in a SPA any injected
// script can read either, so the defence is not rendering untrusted HTML (post bodies are set
// with textContent, never innerHTML). An HttpOnly cookie would hide the token from scripts,
// but the API is bearer-token based and cross-origin, which is what this client demonstrates.
const TOKEN_KEY = "postbase.token";

export interface Session {
  token: string;
  user: User;
}

let current: Session | null = null;

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled: the session then lasts as long as the page
  }
}

export function session(): Session | null {
  return current;
}

export function setSession(next: Session): void {
  current = next;
  try {
    sessionStorage.setItem(TOKEN_KEY, next.token);
  } catch {
    // storage disabled: keep the session in memory only
  }
}

export function clearSession(): void {
  current = null;
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing stored
  }
}
