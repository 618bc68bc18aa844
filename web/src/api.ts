// A small typed client for the postbase REST API. Every failure becomes one of three errors, so
// the views can say in words what went wrong:
//   NetworkError:   fetch itself threw (server down, wrong URL, or the browser blocked the
//                   response because of CORS; the page cannot tell these apart, by design);
//   SessionExpired: a request that carried a token got 401, so the token is no longer good;
//   ApiError:       any other non-2xx answer, with the API's sentence and per-field problems.

export interface User {
  id: number;
  username: string;
  created_at: string;
  email?: string | null;
  /** "" when none was given. */
  bio: string;
  /** An absolute http(s) URL of a picture, or null. */
  image: string | null;
  follower_count: number;
  following_count: number;
  post_count: number;
  /** Present only when the request carried a valid token: whether that user follows this one. */
  following?: boolean;
}

export interface Post {
  id: number;
  title: string;
  body: string;
  author_id: number;
  tags: string[];
  like_count: number;
  comment_count: number;
  /** Present only when the request carried a valid token: whether that user likes the post. */
  liked?: boolean;
  created_at: string;
  updated_at: string;
}

export interface Comment {
  id: number;
  post_id: number;
  author_id: number;
  body: string;
  created_at: string;
  updated_at: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface TokenGrant {
  token: string;
  expires_at: string;
  user: User;
}

/** The error body of the contract: `{"error": "...", "code"?: "...", "fields"?: {...}}`. */
interface ErrorBody {
  error?: unknown;
  code?: unknown;
  fields?: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  /** Per-field problems, keyed by the request's field names (`username`, `title`, ...). */
  readonly fields: Record<string, string>;

  constructor(status: number, message: string, code?: string, fields: Record<string, string> = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export class SessionExpired extends ApiError {
  constructor(message: string) {
    super(401, message, "session_expired");
    this.name = "SessionExpired";
  }
}

export class NetworkError extends Error {
  readonly apiBase: string;

  constructor(apiBase: string) {
    super(`Cannot reach the API at ${apiBase} (network error or blocked by CORS)`);
    this.name = "NetworkError";
    this.apiBase = apiBase;
  }
}

interface RequestOptions {
  body?: unknown;
  /** Send the session token; a 401 then means the session is over, not bad credentials. */
  auth?: boolean;
  /** Send the session token if there is one (it only changes what is shown, like `liked`). */
  viewer?: boolean;
  headers?: Record<string, string>;
}

interface Reply<T> {
  data: T;
  headers: Headers;
}

/** `?a=1&b=x` of the parameters that have a value (none: ""); empty strings and 0 are left out. */
function queryString(params: Record<string, string | number | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "" && value !== 0) query.set(name, String(value));
  }
  const qs = query.toString();
  return qs ? `?${qs}` : "";
}

export class Api {
  readonly base: string;
  private readonly token: () => string | null;
  private readonly onSessionExpired: () => void;

  constructor(base: string, token: () => string | null, onSessionExpired: () => void) {
    this.base = base;
    this.token = token;
    this.onSessionExpired = onSessionExpired;
  }

  private async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    let token: string | null = null;
    if (options.auth) {
      token = this.token();
      if (!token) {
        this.onSessionExpired();
        throw new SessionExpired("You are not logged in");
      }
      headers.Authorization = `Bearer ${token}`;
    } else if (options.viewer) {
      // A stale token is treated as no token by the API, so this never means "session over".
      const viewerToken = this.token();
      if (viewerToken) headers.Authorization = `Bearer ${viewerToken}`;
    }
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }

    let response: Response;
    try {
      response = await fetch(this.base + path, { method, headers, body, mode: "cors", cache: "no-store" });
    } catch (err) {
      // fetch rejects with a TypeError for network failures and CORS refusals alike.
      if (err instanceof TypeError) throw new NetworkError(this.base);
      throw err;
    }

    if (response.ok) {
      const text = response.status === 204 ? "" : await response.text();
      return { data: (text ? JSON.parse(text) : undefined) as T, headers: response.headers };
    }
    throw await this.failure(response, token !== null);
  }

  private async failure(response: Response, sentToken: boolean): Promise<ApiError> {
    let parsed: ErrorBody = {};
    try {
      parsed = (await response.json()) as ErrorBody;
    } catch {
      // not JSON (a proxy's error page, say): fall back to the status line below
    }
    const message =
      typeof parsed.error === "string" && parsed.error
        ? parsed.error
        : `The API answered ${response.status} ${response.statusText}`.trim();
    if (response.status === 401 && sentToken) {
      this.onSessionExpired();
      return new SessionExpired(message);
    }
    const fields: Record<string, string> = {};
    if (parsed.fields && typeof parsed.fields === "object") {
      for (const [name, problem] of Object.entries(parsed.fields as Record<string, unknown>)) {
        if (typeof problem === "string") fields[name] = problem;
        else if (Array.isArray(problem)) fields[name] = problem.map(String).join("; ");
      }
    }
    const code = typeof parsed.code === "string" ? parsed.code : undefined;
    return new ApiError(response.status, message, code, fields);
  }

  // --- accounts and sessions ---

  async signUp(username: string, password: string, email?: string): Promise<User> {
    const body: Record<string, string> = { username, password };
    if (email) body.email = email;
    return (await this.request<User>("POST", "/api/users", { body })).data;
  }

  async logIn(username: string, password: string): Promise<TokenGrant> {
    return (await this.request<TokenGrant>("POST", "/api/tokens", { body: { username, password } })).data;
  }

  async logOut(): Promise<void> {
    await this.request<void>("DELETE", "/api/tokens/current", { auth: true });
  }

  async profile(): Promise<User> {
    return (await this.request<User>("GET", "/api/profile", { auth: true })).data;
  }

  /** A user; with a session, `following` says whether the session's user follows them. */
  async user(id: number): Promise<User> {
    return (await this.request<User>("GET", `/api/users/${id}`, { viewer: true })).data;
  }

  async updateEmail(id: number, email: string): Promise<User> {
    return (await this.request<User>("PATCH", `/api/users/${id}`, { auth: true, body: { email } })).data;
  }

  /** Change one's bio and picture; `""` clears either. */
  async updateProfile(id: number, changes: { bio?: string; image?: string }): Promise<User> {
    return (await this.request<User>("PATCH", `/api/users/${id}`, { auth: true, body: changes })).data;
  }

  // --- follows ---

  /** Follow (or with `false`, unfollow) a user; the answer is the user with `following` and the new counts. */
  async setFollow(id: number, follow: boolean): Promise<User> {
    return (await this.request<User>(follow ? "PUT" : "DELETE", `/api/users/${id}/follow`, { auth: true })).data;
  }

  /** A page of the session's feed: posts by the people it follows, newest first. */
  async feed(options: { cursor?: string | null; limit?: number } = {}): Promise<Page<Post>> {
    const { data } = await this.request<{ posts: Post[]; next_cursor: string | null }>(
      "GET",
      `/api/feed${queryString({ limit: options.limit, cursor: options.cursor })}`,
      { auth: true },
    );
    return { items: data.posts, nextCursor: data.next_cursor ?? null };
  }

  // --- posts ---

  /**
   * A page of posts, newest first; the filters combine. `q` is a full-text search (all its words,
   * the last one as a prefix). With a session, each post says whether it is liked.
   */
  async posts(
    options: { cursor?: string | null; author?: number; tag?: string; q?: string; limit?: number } = {},
  ): Promise<Page<Post>> {
    const { limit, author, tag, q, cursor } = options;
    const { data } = await this.request<{ posts: Post[]; next_cursor: string | null }>(
      "GET",
      `/api/posts${queryString({ limit, author, tag, q, cursor })}`,
      { viewer: true },
    );
    return { items: data.posts, nextCursor: data.next_cursor ?? null };
  }

  /**
   * The post and its ETag (null when the server does not expose the header to this origin).
   * Without `viewer` it is fetched as anyone sees it, so the ETag is the one `If-Match` expects;
   * with `viewer`, it says whether the session's user likes it.
   */
  async post(id: number, viewer = false): Promise<{ post: Post; etag: string | null }> {
    const { data, headers } = await this.request<Post>("GET", `/api/posts/${id}`, { viewer });
    return { post: data, etag: headers.get("ETag") };
  }

  async createPost(title: string, body: string, tags: string[]): Promise<Post> {
    return (await this.request<Post>("POST", "/api/posts", { auth: true, body: { title, body, tags } })).data;
  }

  /** Replace a post; with an ETag, a change made meanwhile elsewhere is refused (412), not overwritten. */
  async updatePost(id: number, title: string, body: string, tags: string[], etag: string | null): Promise<Post> {
    const headers: Record<string, string> = etag ? { "If-Match": etag } : {};
    const body_ = { title, body, tags }; // PUT without tags would clear them
    return (await this.request<Post>("PUT", `/api/posts/${id}`, { auth: true, body: body_, headers })).data;
  }

  async deletePost(id: number): Promise<void> {
    await this.request<void>("DELETE", `/api/posts/${id}`, { auth: true });
  }

  // --- likes ---

  /** Like (or with `false`, unlike) a post; the answer is the post with `liked` and the new count. */
  async setLike(id: number, like: boolean): Promise<Post> {
    return (await this.request<Post>(like ? "PUT" : "DELETE", `/api/posts/${id}/like`, { auth: true })).data;
  }

  // --- comments ---

  /** A page of a post's comments, oldest first. */
  async comments(postId: number, options: { cursor?: string | null; limit?: number } = {}): Promise<Page<Comment>> {
    const { data } = await this.request<{ comments: Comment[]; next_cursor: string | null }>(
      "GET",
      `/api/posts/${postId}/comments${queryString({ limit: options.limit, cursor: options.cursor })}`,
    );
    return { items: data.comments, nextCursor: data.next_cursor ?? null };
  }

  async addComment(postId: number, body: string): Promise<Comment> {
    return (await this.request<Comment>("POST", `/api/posts/${postId}/comments`, { auth: true, body: { body } })).data;
  }

  async deleteComment(id: number): Promise<void> {
    await this.request<void>("DELETE", `/api/comments/${id}`, { auth: true });
  }

  // --- live updates ---

  /** A ticket that opens the session's event stream once (EventSource cannot send a token). */
  async eventTicket(): Promise<string> {
    return (await this.request<{ ticket: string }>("POST", "/api/events/tickets", { auth: true })).data.ticket;
  }
}
