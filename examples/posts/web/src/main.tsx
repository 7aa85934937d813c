// The posts demo's page: the seed's PostsList and NotificationsBell, a profile editor and a login,
// on React and @igniter-cpp/client (clients/js). Every call is typed by src/api.gen.ts, which the
// generator writes from the server's own schema (`npm run gen`).
import { StrictMode, useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import { createClient, IgniterError, IgniterProvider, useRealtimeState } from "@igniter-cpp/client";
import { basePath, createApi, type Responses } from "./api.gen";

/** A user, as the server answers it (answers are typed from the server's schema). */
export type User = Responses["users.getProfile"]["user"];
/** A post, and a page of them (`nextCursor` is the `before` of the next page, null on the last). */
export type PostPage = Responses["posts.list"];
export type Post = PostPage["posts"][number];

/**
 * A message of `notifications.stream`: the schema types answers, not what a stream publishes, so the page
 * names it.
 */
export interface Notification {
  kind: "notification";
  text: string;
  from: string;
  to: string | null;
  sentAt: string;
}

const client = createClient({ baseURL: basePath });
const api = createApi<{ "notifications.stream": Notification }>(client);

function message(error: unknown): string {
  if (error instanceof IgniterError) return error.message || `HTTP ${error.status}`;
  return error instanceof Error ? error.message : String(error);
}

function Login({ onLogin }: { onLogin(user: User): void }) {
  const login = api.auth.login.useMutation({ onSuccess: (data) => onLogin(data.user) });
  const [username, setUsername] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate({ body: { username: username.trim() } }).catch(() => {});
  };
  return (
    <section id="login-section">
      <h2>Log in</h2>
      <form id="login-form" onSubmit={submit}>
        <input name="username" placeholder="username (e.g. alice)" autoComplete="username" required
               value={username} onChange={(e) => setUsername(e.target.value)} />
        <button disabled={login.isLoading}>Log in</button>
        <span className="muted">Demo authentication: no passwords. A user is created on first login.</span>
        <span className="error">{login.isError ? message(login.error) : ""}</span>
      </form>
    </section>
  );
}

function CreatePost() {
  const create = api.posts.create.useMutation();
  const [title, setTitle] = useState("");
  const [content, setContent] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create
      .mutate({ body: { title, content } })
      .then(() => {
        setTitle("");
        setContent("");
      })
      .catch(() => {});
  };
  return (
    <section id="create-section">
      <h2>New post</h2>
      <form id="create-form" onSubmit={submit}>
        <input name="title" placeholder="Title" maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />
        <textarea name="content" placeholder="What's new?" value={content} onChange={(e) => setContent(e.target.value)} />
        <button disabled={create.isLoading}>Publish</button>
        <span className="error">{create.isError ? message(create.error) : ""}</span>
      </form>
    </section>
  );
}

/**
 * The posts, a page at a time. The newest page is a query that a revalidation of `posts.list` refetches;
 * the pages "Load more" added are then fetched again in order, each from the fresh `nextCursor` of the
 * one before (as TanStack Query refetches an infinite query), so a post written or deleted meanwhile is
 * neither shown twice nor skipped, and a new post appears at the top.
 */
function usePostsFeed() {
  const head = api.posts.list.useQuery();
  const [older, setOlder] = useState<PostPage | null>(null);  // the pages after the newest, joined
  const [loadingMore, setLoadingMore] = useState(false);
  const [olderError, setOlderError] = useState<unknown>(undefined);
  // How many pages after the newest the reader asked for; the latest fetch wins (`seq`).
  const wanted = useRef({ pages: 0, seq: 0, refetching: false });

  const fetchOlder = useCallback(async (from: number | null) => {
    const ref = wanted.current;
    const seq = ++ref.seq;
    ref.refetching = true;
    setLoadingMore(true);
    try {
      const joined: PostPage = { posts: [], nextCursor: from };
      for (let i = 0; i < ref.pages && joined.nextCursor !== null; i += 1) {
        const page = await api.posts.list.query({ query: { before: joined.nextCursor } });
        joined.posts.push(...page.posts);
        joined.nextCursor = page.nextCursor;
      }
      if (seq !== ref.seq) return;
      setOlder(joined);
      setOlderError(undefined);
    } catch (error) {
      if (seq === ref.seq) setOlderError(error);
    } finally {
      if (seq === ref.seq) {
        ref.refetching = false;
        setLoadingMore(false);
      }
    }
  }, []);

  // The newest page changed (first load or revalidation): the pages after it follow it.
  const headData = head.data;
  useEffect(() => {
    if (headData && wanted.current.pages > 0) void fetchOlder(headData.nextCursor);
  }, [headData, fetchOlder]);

  const cursor = older ? older.nextCursor : headData?.nextCursor ?? null;
  const loadMore = useCallback(async () => {
    const ref = wanted.current;
    ref.pages += 1;
    // A refetch of the pages under way would end one page short: start it again with one more.
    if (ref.refetching || !older) return fetchOlder(headData?.nextCursor ?? null);
    const seq = ++ref.seq;
    setLoadingMore(true);
    try {
      const page = await api.posts.list.query({ query: { before: cursor } });
      if (seq !== ref.seq) return;
      setOlder({ posts: [...older.posts, ...page.posts], nextCursor: page.nextCursor });
      setOlderError(undefined);
    } catch (error) {
      if (seq === ref.seq) setOlderError(error);
    } finally {
      if (seq === ref.seq) setLoadingMore(false);
    }
  }, [older, cursor, headData, fetchOlder]);

  // While the newest page has been refetched and the rest not yet, a post may be on both: show it once.
  const seen = new Set(headData?.posts.map((post) => post.id));
  const posts = headData ? [...headData.posts, ...(older?.posts ?? []).filter((post) => !seen.has(post.id))] : undefined;
  return { head, posts, hasMore: cursor !== null, loadMore, loadingMore, olderError };
}

/** The seed's PostsList: refetches by itself whenever a mutation revalidates `posts.list`. */
function PostsList({ user }: { user: User | null }) {
  const { head, posts, hasMore, loadMore, loadingMore, olderError } = usePostsFeed();
  const remove = api.posts.remove.useMutation();
  return (
    <section>
      <h2>Posts</h2>
      <ul className="posts" id="posts">
        {head.isLoading && <li className="muted">Loading…</li>}
        {head.isError && <li className="error">{message(head.error)}</li>}
        {posts?.length === 0 && <li className="muted">No posts yet.</li>}
        {posts?.map((post) => (
          <li key={post.id} data-post-id={post.id}>
            <h3>
              <span className="post-title">{post.title}</span>
              {user?.id === post.author.id && (
                <button className="small" onClick={() => remove.mutate({ params: { id: post.id } }).catch(() => {})}>
                  Delete
                </button>
              )}
            </h3>
            {post.content && <p>{post.content}</p>}
            <span className="muted">
              by <span className="post-author">{post.author.name}</span> (@{post.author.username}) ·{" "}
              {new Date(post.createdAt).toLocaleString()}
            </span>
          </li>
        ))}
      </ul>
      {olderError !== undefined && <p className="error">{message(olderError)}</p>}
      {hasMore && (
        <button id="load-more" disabled={loadingMore} onClick={() => void loadMore()}>
          {loadingMore ? "Loading…" : "Load more"}
        </button>
      )}
    </section>
  );
}

/** Revalidated for this user's scope only: another user's page does not refetch. */
function ProfileEditor() {
  const profile = api.users.getProfile.useQuery();
  const update = api.users.updateProfile.useMutation();
  const [name, setName] = useState("");
  const user = profile.data?.user;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update
      .mutate({ body: { name } })
      .then(() => setName(""))
      .catch(() => {});
  };
  return (
    <section id="profile-section">
      <h2>Profile</h2>
      <p className="muted" id="profile-info">
        {user ? (
          <>
            <span id="profile-name">{user.name}</span> (@{user.username}, {user.role})
          </>
        ) : (
          "Loading…"
        )}
      </p>
      <form id="profile-form" onSubmit={submit}>
        <input name="name" placeholder="Display name" maxLength={80} value={name} onChange={(e) => setName(e.target.value)} />
        <button disabled={update.isLoading}>Save</button>
        <span className="error">{update.isError ? message(update.error) : ""}</span>
      </form>
    </section>
  );
}

function SendNotification() {
  const send = api.notifications.send.useMutation();
  const [text, setText] = useState("");
  const [to, setTo] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    send
      .mutate({ body: { text, to: to.trim() || null } })
      .then(() => setText(""))
      .catch(() => {});
  };
  return (
    <section id="notify-section">
      <h2>Send a notification</h2>
      <form id="notify-form" onSubmit={submit}>
        <input name="text" placeholder="Message" maxLength={500} value={text} onChange={(e) => setText(e.target.value)} />
        <input name="to" placeholder="To username (empty: everyone)" value={to} onChange={(e) => setTo(e.target.value)} />
        <button disabled={send.isLoading}>Send</button>
        <span className="error">{send.isError ? message(send.error) : ""}</span>
      </form>
    </section>
  );
}

/** The seed's NotificationsBell: a live/offline dot, a count, and the messages of the stream. */
function NotificationsBell() {
  const [items, setItems] = useState<Notification[]>([]);
  const [unread, setUnread] = useState(0);
  const [open, setOpen] = useState(false);
  const [live, setLive] = useState(false);
  const stream = api.notifications.stream.useStream({
    onConnect: () => setLive(true),
    onMessage: (note) => {
      if (note?.kind !== "notification") return;
      setItems((list) => [note, ...list].slice(0, 50));
      setUnread((n) => n + 1);
    },
    onError: () => setLive(false),
  });
  const isLive = live && stream.isConnected;
  return (
    <>
      <span>
        <span className={isLive ? "dot live" : "dot"} id="live-dot" title={isLive ? "live" : "offline"} />
        <span id="live-text" className="who">{isLive ? "live" : "offline"}</span>
      </span>
      <div className="bell" id="bell">
        <button className="plain" id="bell-button" title="Notifications"
                onClick={() => { setOpen(!open); setUnread(0); }}>
          &#128276;
        </button>
        <span className="count" id="bell-count" hidden={unread === 0}>{unread}</span>
        {open && (
          <div className="panel" id="bell-panel">
            <strong>Notifications</strong>
            <ul id="notifications">
              {items.length === 0 && <li className="muted">Nothing yet.</li>}
              {items.map((note) => (
                <li key={note.sentAt + note.text}>
                  <strong>{note.from}</strong>{note.to ? " (to you)" : ""}: {note.text}
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </>
  );
}

/** Logged out: the stream carries revalidations only; show its state. */
function ConnectionDot() {
  const state = useRealtimeState();
  const live = state === "open";
  return (
    <span>
      <span className={live ? "dot live" : "dot"} id="live-dot" title={live ? "live" : "offline"} />
      <span id="live-text" className="who">{live ? "live" : "offline"}</span>
    </span>
  );
}

function Page({ user, onLogin, onLogout }: { user: User | null; onLogin(user: User): void; onLogout(): void }) {
  const logout = api.auth.logout.useMutation({ onSettled: onLogout });
  return (
    <>
      <header>
        <h1>Posts · igniter-cpp realtime demo</h1>
        <span className="who" id="who">{user ? `@${user.username}` : ""}</span>
        {user ? <NotificationsBell /> : <ConnectionDot />}
        {user && (
          <button className="plain" id="logout" onClick={() => logout.mutate().catch(() => {})}>
            Log out
          </button>
        )}
      </header>
      <main>
        <div>
          {user ? <CreatePost /> : <Login onLogin={onLogin} />}
          <PostsList user={user} />
        </div>
        <div>
          {user && <ProfileEditor />}
          {user && <SendNotification />}
          <section>
            <h2>How it works</h2>
            <p className="muted">
              React and <code>@igniter-cpp/client</code>: one EventSource on <code>/api/v1/sse/events</code>,
              shared by every tab of the browser. Mutations revalidate query keys; every open tab whose queries match refetches by itself. Profile
              updates are scoped to <code>user:&lt;id&gt;</code>; notifications can target one user.
            </p>
          </section>
        </div>
      </main>
    </>
  );
}

/**
 * The session lives in an HTTP-only cookie, so the page asks the server who it is. The provider is
 * remounted when the user changes: scopes are granted when the stream connects.
 */
function App() {
  const [session, setSession] = useState<{ checked: boolean; user: User | null }>({ checked: false, user: null });
  useEffect(() => {
    api.users.getProfile
      .query()
      .then((data) => setSession({ checked: true, user: data.user }))
      .catch(() => setSession({ checked: true, user: null }));
  }, []);
  const onLogin = useCallback((user: User) => setSession({ checked: true, user }), []);
  const onLogout = useCallback(() => setSession({ checked: true, user: null }), []);
  if (!session.checked) return <p className="muted">Loading…</p>;
  const user = session.user;
  return (
    <IgniterProvider key={user ? `user:${user.id}` : "anonymous"} client={client}
                     getScopesIds={() => (user ? [`user:${user.id}`, `role:${user.role}`] : [])}>
      <Page user={user} onLogin={onLogin} onLogout={onLogout} />
    </IgniterProvider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
