import { ApiError, NetworkError, SessionExpired } from "./api";
import { h, replaceChildren } from "./dom";

// --- the banner: page-level messages (network trouble, expired session, load failures) ---

const banner = h("div", { id: "banner", class: "banner", role: "alert", testid: "banner", hidden: true });

export function bannerElement(): HTMLElement {
  return banner;
}

export function showBanner(message: string, action?: { label: string; href: string; testid: string }): void {
  replaceChildren(
    banner,
    h("span", { testid: "banner-message" }, message),
    action && h("a", { href: action.href, class: "banner-action", testid: action.testid }, action.label),
  );
  banner.hidden = false;
}

export function clearBanner(): void {
  banner.hidden = true;
  banner.replaceChildren();
}

// --- forms whose errors appear next to their fields ---

export interface FieldSpec {
  name: string;
  label: string;
  type?: "text" | "password" | "email" | "url";
  multiline?: boolean;
  autocomplete?: string;
  value?: string;
  hint?: string;
}

interface FieldParts {
  input: HTMLInputElement | HTMLTextAreaElement;
  error: HTMLElement;
}

let formCounter = 0;

export class Form {
  readonly element: HTMLFormElement;
  private readonly fields = new Map<string, FieldParts>();
  private readonly formError: HTMLElement;
  private readonly submit: HTMLButtonElement;

  constructor(
    testid: string,
    specs: FieldSpec[],
    submitLabel: string,
    onSubmit: (values: Record<string, string>, form: Form) => Promise<void>,
    extra: HTMLElement[] = [],
  ) {
    const id = `f${++formCounter}`;
    this.formError = h("p", { class: "form-error", testid: "form-error", role: "alert", hidden: true });
    this.submit = h("button", { type: "submit", testid: "submit" }, submitLabel);
    // noValidate: the API is the one judge of what is valid, and its messages are shown as-is.
    this.element = h("form", { testid, novalidate: true, class: "form" }, this.formError);
    for (const spec of specs) {
      const inputId = `${id}-${spec.name}`;
      const errorId = `${inputId}-error`;
      const common = { id: inputId, name: spec.name, testid: spec.name, autocomplete: spec.autocomplete, "aria-describedby": errorId };
      const input = spec.multiline
        ? h("textarea", { ...common, rows: 4 })
        : h("input", { ...common, type: spec.type ?? "text" });
      input.value = spec.value ?? "";
      const error = h("p", { id: errorId, class: "field-error", testid: `field-error-${spec.name}`, hidden: true });
      this.element.append(
        h(
          "div",
          { class: "field" },
          h("label", { for: inputId }, spec.label),
          input,
          spec.hint && h("small", { class: "hint" }, spec.hint),
          error,
        ),
      );
      this.fields.set(spec.name, { input, error });
    }
    this.element.append(h("div", { class: "actions" }, this.submit, ...extra));
    this.element.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.run(onSubmit);
    });
  }

  private async run(onSubmit: (values: Record<string, string>, form: Form) => Promise<void>): Promise<void> {
    this.clearErrors();
    this.submit.disabled = true;
    try {
      await onSubmit(this.values(), this);
    } catch (err) {
      this.showError(err);
    } finally {
      this.submit.disabled = false;
    }
  }

  values(): Record<string, string> {
    const values: Record<string, string> = {};
    for (const [name, { input }] of this.fields) values[name] = input.value;
    return values;
  }

  input(name: string): HTMLInputElement | HTMLTextAreaElement | undefined {
    return this.fields.get(name)?.input;
  }

  clearErrors(): void {
    this.formError.hidden = true;
    this.formError.textContent = "";
    for (const { input, error } of this.fields.values()) {
      error.hidden = true;
      error.textContent = "";
      input.removeAttribute("aria-invalid");
    }
  }

  /** A message for the whole form: a problem, or with `ok` a confirmation. */
  showMessage(message: string, ok = false): void {
    this.formError.textContent = message;
    this.formError.classList.toggle("ok", ok);
    this.formError.hidden = false;
  }

  private showFieldError(name: string, problem: string): boolean {
    const parts = this.fields.get(name);
    if (!parts) return false;
    parts.error.textContent = problem;
    parts.error.hidden = false;
    parts.input.setAttribute("aria-invalid", "true");
    return true;
  }

  /** Puts each problem where the person will look for it; see `describeError` for the wording. */
  showError(err: unknown): void {
    if (err instanceof SessionExpired) return; // the banner already says so, with a way back in
    if (err instanceof ApiError) {
      const unplaced: string[] = [];
      for (const [name, problem] of Object.entries(err.fields)) {
        if (!this.showFieldError(name, problem)) unplaced.push(`${name}: ${problem}`);
      }
      if (Object.keys(err.fields).length === 0) {
        // Errors like "Username required" or "Username already taken" name their field without
        // a `fields` object; show them beside that field when they do.
        const named = [...this.fields.keys()].find((name) => err.message.toLowerCase().startsWith(name));
        if (named && this.showFieldError(named, err.message)) return;
        this.showMessage(describeError(err));
      } else if (unplaced.length > 0) {
        this.showMessage(`${err.message}: ${unplaced.join("; ")}`);
      }
      return;
    }
    this.showMessage(describeError(err));
  }
}

/** The words a person sees for an error that has no better place. */
export function describeError(err: unknown): string {
  if (err instanceof NetworkError) return err.message;
  if (err instanceof SessionExpired) return "Session expired: log in again to continue.";
  if (err instanceof ApiError) {
    if (err.status === 412) return "This post was changed elsewhere since you opened it. Cancel and edit again to see the latest version.";
    if (err.status === 403) return `${err.message} (you can only change your own posts)`;
    return err.message;
  }
  console.error(err);
  return `Something went wrong: ${err instanceof Error ? err.message : String(err)}`;
}

/** For errors outside any form: the banner, unless the session banner is already up. */
export function reportError(err: unknown): void {
  if (err instanceof SessionExpired) return;
  showBanner(describeError(err));
}
