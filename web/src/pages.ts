import { ApiError } from "./api";
import type { App } from "./app";
import { likeChange, showPost, shownPost, updateCard } from "./card";
import { CommentSection } from "./comments";
import { h } from "./dom";
import { showUser } from "./people";
import { PostList } from "./posts";
import { reportError } from "./ui";
import type { View } from "./views";

// The pages reached through links in a post: its own page (#/posts/{id}) and its author's
// (#/users/{id}).

function notFound(main: HTMLElement, what: string): void {
  main.replaceChildren(
    h("h1", {}, `${what} not found`),
    h("p", { class: "status", testid: "not-found" }, `There is no such ${what.toLowerCase()}. `, h("a", { href: "#/" }, "Back to the posts")),
  );
}

const backLink = (): HTMLElement => h("p", { class: "back" }, h("a", { href: "#/", testid: "back-to-posts" }, "← All posts"));

/**
 * Keeps a post's page current (live.ts): edits and likes of the post (its comments listen for
 * themselves), its deletion by someone else, and a reset (missed events: fetch it all again).
 */
function followPost(app: App, main: HTMLElement, article: HTMLElement, comments: CommentSection): void {
  const id = Number(article.dataset.postId);
  app.live.listen(article, (event) => {
    if (event.name === "post.updated" && event.data.id === id) updateCard(app, article, event.data);
    if (event.name === "post.liked" && event.data.post_id === id) updateCard(app, article, likeChange(event.data));
    if (event.name === "post.deleted" && event.data.id === id) {
      main.replaceChildren(backLink(), h("p", { class: "status", testid: "post-gone" }, "This post has just been deleted."));
    }
    if (event.name === "reset") {
      void app.api
        .post(id, true)
        .then(({ post }) => updateCard(app, article, post))
        .catch(reportError);
      void comments.loadFirst();
    }
  });
}

/** A post's permalink: the post, its comments (oldest first) and, with a session, a comment form. */
export const postView: View = (app, main, params) => {
  const id = Number(params.id);
  const article = h("article", { class: "post single", testid: "post" });
  const status = h("p", { class: "status", testid: "post-status" }, "Loading the post…");
  main.append(backLink(), status, article);
  void (async () => {
    try {
      // With the session's token, so that the like button shows whether it is liked.
      const { post } = await app.api.post(id, true);
      status.remove();
      document.title = `${post.title} · postbase`;
      showPost(app, article, post, { onDeleted: () => app.navigate("#/", "The post is deleted.") });
      const comments = new CommentSection(app, post.id, post.author_id, (delta) => {
        const count = shownPost(article)?.comment_count ?? 0; // an edit saved here draws a new copy
        updateCard(app, article, { comment_count: Math.max(0, count + delta) });
      });
      followPost(app, main, article, comments);
      main.append(comments.element);
      await comments.loadFirst();
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) notFound(main, "Post");
      else {
        status.textContent = "Could not load the post.";
        reportError(err);
      }
    }
  })();
};

/** An author's page: their picture, name, counts and bio, a follow button, and their posts. */
export const userView: View = (app, main, params) => {
  const id = Number(params.id);
  const card = h("section", { class: "user-card", testid: "user-card" }, h("h1", {}, h("span", { testid: "user-username" }, `user #${id}`)));
  const list = new PostList(app, { author: id });
  main.append(card, h("h2", {}, "Posts"), list.element);
  void app.api
    .user(id)
    .then((user) => {
      document.title = `${user.username} · postbase`;
      showUser(app, card, user);
      return list.loadFirst();
    })
    .catch((err) => {
      if (err instanceof ApiError && err.status === 404) notFound(main, "User");
      else reportError(err);
    });
};
