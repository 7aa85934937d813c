// The posts demo's page: the seed's PostsList and NotificationsBell, a profile editor and a login,
// on React and @igniter-cpp/client (clients/js). Every call is typed by src/api.gen.ts, which the
// generator writes from the server's own schema (`npm run gen`).
import { StrictMode, useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { createRoot } from "react-dom/client";
import { createClient, IgniterError, IgniterProvider, useRealtimeState } from "@igniter-cpp/client";
import { basePath, createApi, type Responses } from "./api.gen";
import { OnlineList } from "./OnlineList";

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
 * Every post from `from` (a page's nextCursor) down to the post `floor`, 100 a request. Its nextCursor is
 * where "Load more" goes on: `floor` while older posts remain, null when there are none.
 */
async function postsDownTo(from: number | null, floor: number): Promise<PostPage> {
  const posts: Post[] = [];
  let cursor = from;
  while (cursor !== null && cursor > floor) {
    const page = await api.posts.list.query({ query: { before: cursor, limit: 100 } });
    const kept = page.posts.filter((post) => post.id >= floor);
    posts.push(...kept);
    if (kept.length < page.posts.length) return { posts, nextCursor: floor };
    cursor = page.nextCursor;
  }
  return { posts, nextCursor: cursor };
}

/**
 * The posts, a page at a time. The newest page is a query that a revalidation of `posts.list` refetches;
 * once "Load more" went further, the posts after it are fetched again down to the oldest one the reader
 * loaded (`floor`), so a post written meanwhile appears at the top and none already shown is skipped,
 * repeated or pushed out. Loading more and following the newest page run one after the other.
 */
function usePostsFeed() {
  const head = api.posts.list.useQuery();
  const [older, setOlder] = useState<PostPage | null>(null);  // the posts after the newest page
  const [loadingMore, setLoadingMore] = useState(false);
  const [olderError, setOlderError] = useState<unknown>(undefined);
  const feed = useRef({
    head: undefined as PostPage | undefined,
    older: null as PostPage | null,
    floor: null as number | null,  // the id of the oldest post loaded after the newest page
    queue: Promise.resolve(),
    refetchQueued: false,
  }).current;
  feed.head = head.data;

  const run = useCallback(
    (step: () => Promise<PostPage | null>) => {
      feed.queue = feed.queue.then(async () => {
        try {
          const next = await step();
          if (next === null) return;
          feed.older = next;
          setOlder(next);
          setOlderError(undefined);
        } catch (error) {
          setOlderError(error);
        }
      });
      return feed.queue;
    },
    [feed],
  );

  // The newest page changed (a revalidation): what was loaded after it follows.
  useEffect(() => {
    if (!head.data || feed.floor === null || feed.refetchQueued) return;
    feed.refetchQueued = true;
    void run(async () => {
      feed.refetchQueued = false;
      const floor = feed.floor;
      return feed.head && floor !== null ? postsDownTo(feed.head.nextCursor, floor) : null;
    });
  }, [head.data, feed, run]);

  const loadMore = useCallback(async () => {
    setLoadingMore(true);
    await run(async () => {
      const from = feed.older ? feed.older.nextCursor : (feed.head?.nextCursor ?? null);
      if (from === null) return null;
      const page = await api.posts.list.query({ query: { before: from } });
      if (page.posts.length > 0) feed.floor = page.posts[page.posts.length - 1].id;
      return { posts: [...(feed.older?.posts ?? []), ...page.posts], nextCursor: page.nextCursor };
    });
    setLoadingMore(false);
  }, [feed, run]);

  // Between a refetch of the newest page and of the rest, a post may be in both: show it once.
  const seen = new Set(head.data?.posts.map((post) => post.id));
  const posts = head.data && [...head.data.posts, ...(older?.posts ?? []).filter((post) => !seen.has(post.id))];
  const cursor = older ? older.nextCursor : (head.data?.nextCursor ?? null);
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

/** The notifications of `notifications.stream` (signed in only): the newest 50, the unread count, the panel. */
function useNotifications(enabled: boolean) {
  const [items, setItems] = useState<Notification[]>([]);
  const [unread, setUnread] = useState(0);
  const [open, setOpen] = useState(false);
  const [live, setLive] = useState(false);
  const openRef = useRef(open);
  openRef.current = open;
  const stream = api.notifications.stream.useStream({
    enabled,
    onConnect: () => setLive(true),
    onMessage: (note) => {
      if (note?.kind !== "notification") return;
      setItems((list) => [note, ...list].slice(0, 50));
      if (!openRef.current) setUnread((n) => n + 1);
    },
    onError: () => setLive(false),
  });
  const toggle = useCallback(() => {
    setOpen((was) => !was);
    setUnread(0);
  }, []);
  return { items, unread, open: enabled && open, toggle, live: live && stream.isConnected };
}
type Notifications = ReturnType<typeof useNotifications>;

/** The bell, drawn (an emoji bell is an empty box where no emoji font is installed). */
function BellIcon() {
  return (
    <svg className="icon" width="20" height="20" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
      <path d="M10 3a5 5 0 0 0-5 5v3l-2 3h14l-2-3V8a5 5 0 0 0-5-5Z" />
      <path d="M8 17a2 2 0 0 0 4 0" />
    </svg>
  );
}

/**
 * The seed's NotificationsBell: a button with the unread count. Its panel is a card of the page's layout
 * (`NotificationsPanel`), so it covers nothing.
 */
function NotificationsBell({ notes }: { notes: Notifications }) {
  const label = notes.unread ? `Notifications, ${notes.unread} unread` : "Notifications";
  return (
    <div className="bell" id="bell">
      <button className="plain icon-button" id="bell-button" title="Notifications" aria-label={label}
              aria-expanded={notes.open} aria-controls="bell-panel" onClick={notes.toggle}>
        <BellIcon />
      </button>
      <span className="count" id="bell-count" aria-hidden="true" hidden={notes.unread === 0}>{notes.unread}</span>
    </div>
  );
}

function NotificationsPanel({ notes }: { notes: Notifications }) {
  return (
    <section className="panel" id="bell-panel" aria-label="Notifications">
      <h2>Notifications</h2>
      <ul id="notifications">
        {notes.items.length === 0 && <li className="muted">Nothing yet.</li>}
        {notes.items.map((note) => (
          <li key={note.sentAt + note.text}>
            <div>{note.text}</div>
            <span className="muted">
              {note.from} → {note.to ? "you" : "everyone"} · {new Date(note.sentAt).toLocaleTimeString()}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Whether the page is live: signed in, the notifications channel; logged out, the stream itself. */
function LiveDot({ notes, signedIn }: { notes: Notifications; signedIn: boolean }) {
  const state = useRealtimeState();
  const live = signedIn ? notes.live : state === "open";
  return (
    <span className="live">
      <span className={live ? "dot live" : "dot"} id="live-dot" title={live ? "live" : "offline"} />
      <span id="live-text" className="who">{live ? "live" : "offline"}</span>
    </span>
  );
}

function Page({ user, onLogin, onLogout }: { user: User | null; onLogin(user: User): void; onLogout(): void }) {
  const logout = api.auth.logout.useMutation({ onSettled: onLogout });
  const notes = useNotifications(user !== null);
  return (
    <>
      <header>
        <h1>Posts · igniter-cpp realtime demo</h1>
        <span className="who" id="who">{user ? `@${user.username}` : ""}</span>
        <LiveDot notes={notes} signedIn={user !== null} />
        {user && <NotificationsBell notes={notes} />}
        {user && (
          <button className="plain" id="logout" onClick={() => logout.mutate().catch(() => {})}>
            Log out
          </button>
        )}
      </header>
      <main>
        {notes.open && <NotificationsPanel notes={notes} />}
        <div className="feed">
          {user ? <CreatePost /> : <Login onLogin={onLogin} />}
          <PostsList user={user} />
        </div>
        <div className="side">
          <OnlineList me={user?.id} />
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
 * Whether this browser signed in, and as whom (a user id), kept in localStorage by both pages. The session is an
 * HTTP-only cookie the page cannot read: without this note the page would ask `users.getProfile` and be told 401.
 * With it, a logged-out page calls nothing that needs a session; a note that outlived its session (expired,
 * ended elsewhere) costs one 401, after which it is gone.
 */
const SIGNED_IN = "posts-demo.signed-in";
function signedInAs(): string | null {
  try {
    return localStorage.getItem(SIGNED_IN);
  } catch {
    return null;  // storage disabled: the page shows the login form until someone logs in
  }
}
function rememberSignIn(user: User | null) {
  try {
    if (user) localStorage.setItem(SIGNED_IN, String(user.id));
    else localStorage.removeItem(SIGNED_IN);
  } catch {
    // storage disabled: nothing to remember
  }
}

/**
 * Asks the server who is signed in when this browser signed in (see SIGNED_IN), again when another tab logs in
 * or out. The provider is remounted when the user changes: scopes are granted when the stream connects.
 */
function App() {
  const [session, setSession] = useState<{ checked: boolean; user: User | null }>(() => ({
    checked: signedInAs() === null,
    user: null,
  }));
  useEffect(() => {
    let current = 0;
    const check = () => {
      const run = ++current;
      if (signedInAs() === null) {
        setSession({ checked: true, user: null });
        return;
      }
      api.users.getProfile
        .query()
        .then((data) => run === current && setSession({ checked: true, user: data.user }))
        .catch((error) => {
          if (error instanceof IgniterError && error.status === 401) rememberSignIn(null);
          if (run === current) setSession({ checked: true, user: null });
        });
    };
    check();
    const onStorage = (event: StorageEvent) => {
      if (event.key === SIGNED_IN || event.key === null) check();
    };
    window.addEventListener("storage", onStorage);
    return () => {
      current = -1;
      window.removeEventListener("storage", onStorage);
    };
  }, []);
  const onLogin = useCallback((user: User) => {
    rememberSignIn(user);
    setSession({ checked: true, user });
  }, []);
  const onLogout = useCallback(() => {
    rememberSignIn(null);
    setSession({ checked: true, user: null });
  }, []);
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
