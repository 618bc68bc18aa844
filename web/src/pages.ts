import { ApiError } from "./api";
import { commentCountText, showPost } from "./card";
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

/** A post's permalink: the post, its comments (oldest first) and, with a session, a comment form. */
export const postView: View = (app, main, params) => {
  const id = Number(params.id);
  const article = h("article", { class: "post single", testid: "post" });
  const status = h("p", { class: "status", testid: "post-status" }, "Loading the post…");
  main.append(h("p", { class: "back" }, h("a", { href: "#/", testid: "back-to-posts" }, "← All posts")), status, article);
  void (async () => {
    try {
      // With the session's token, so that the like button shows whether it is liked.
      const { post } = await app.api.post(id, true);
      status.remove();
      document.title = `${post.title} · postbase`;
      showPost(app, article, post, { onDeleted: () => app.navigate("#/", "The post is deleted.") });
      const comments = new CommentSection(app, post.id, post.author_id, (delta) => {
        post.comment_count = Math.max(0, post.comment_count + delta);
        const count = article.querySelector("[data-testid=comment-count]");
        if (count) count.textContent = commentCountText(post.comment_count);
      });
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
