import { h } from "./dom";

// The search box over the posts list: full-text search as you type (`GET /api/posts?q=`). Typing
// waits for a pause before asking the API, so a word typed quickly is one request, not one per
// key; Enter searches at once; emptying the box (or "Clear") brings the whole list back at once.

/** How long typing must pause before the search runs. */
export const SEARCH_DELAY_MS = 300;

/** The API's limit on a search's length (it also refuses more than 10 words, and says so). */
const MAX_LENGTH = 200;

/** A search box starting with `initial`; `onSearch` hears each new search ("" for none). */
export function searchBox(initial: string, onSearch: (q: string) => void): HTMLFormElement {
  const input = h("input", {
    type: "search",
    id: "post-search",
    name: "q",
    testid: "search",
    placeholder: "Search posts: words in the title or body",
    autocomplete: "off",
    maxlength: MAX_LENGTH,
    "aria-describedby": "post-search-hint",
  });
  input.value = initial;
  const clear = h("button", { type: "button", class: "clear-search", testid: "clear-search", hidden: !initial }, "Clear");
  const form = h(
    "form",
    { class: "search", role: "search", testid: "search-form", novalidate: true },
    h("label", { for: "post-search" }, "Search"),
    input,
    clear,
    h("small", { id: "post-search-hint", class: "hint" }, "All the words must appear; the last may be the start of a word."),
  );

  let searched = initial.trim();
  let timer: number | undefined;
  const run = () => {
    window.clearTimeout(timer);
    timer = undefined;
    const q = input.value.trim();
    clear.hidden = input.value === "";
    if (q === searched) return;
    searched = q;
    onSearch(q);
  };

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    clear.hidden = input.value === "";
    if (input.value.trim() === "") run(); // cleared: the whole list again, without waiting
    else timer = window.setTimeout(run, SEARCH_DELAY_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && input.value !== "") {
      input.value = "";
      run();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  clear.addEventListener("click", () => {
    input.value = "";
    run();
    input.focus();
  });
  return form;
}
