// The posts demo page: plain JavaScript, no build step. It talks to the API under /api/v1 and keeps one
// EventSource on /api/v1/sse/events: revalidate events refetch the queries whose keys they prefix-match
// (as the Igniter client does), messages on notifications.stream fill the bell.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { me: null, unread: 0, notifications: [] };

// ---- API ----

class ApiError extends Error {
  constructor(status, error) {
    super(error && error.message ? error.message : `HTTP ${status}`);
    this.status = status;
    this.details = error && error.details;
  }
}

async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch('/api/v1' + path, init);
  const envelope = response.status === 204 ? { data: null } : await response.json();
  if (!response.ok) throw new ApiError(response.status, envelope.error);
  return envelope.data;
}

function describeError(error) {
  if (error.details && error.details.length) {
    return error.details.map((d) => `${(d.path || []).join('.') || d.in}: ${d.message}`).join('; ');
  }
  return error.message;
}

// ---- Queries, registered under the keys the Igniter client uses ----

const queries = new Map();  // key -> refetch function

function queryKey(action, params = {}) {
  const sorted = (o) => Object.keys(o).sort().reduce((out, k) => ((out[k] = o[k]), out), {});
  return `${action}:${JSON.stringify({ body: {}, params: sorted(params), query: {} })}`;
}

function register(action, refetch) {
  queries.set(queryKey(action), refetch);
  return refetch();
}

function revalidate(keys) {
  for (const [key, refetch] of queries) {
    if (keys.some((k) => key.startsWith(k))) refetch();
  }
}

// ---- Rendering ----

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

// The posts, a page at a time: the newest page, then what "Load more" added, down to the oldest post the
// reader loaded (`floor`). A revalidation fetches them again down to that post, so a post written
// meanwhile appears at the top and none already shown is skipped, repeated or pushed out. Fetches run one
// after the other (`queue`).
const feed = { posts: [], nextCursor: null, floor: null, queue: Promise.resolve(), refetchQueued: false };

function listPosts(before, limit) {
  const query = new URLSearchParams();
  if (before != null) query.set('before', before);
  if (limit != null) query.set('limit', limit);
  return api('GET', `/posts?${query}`);
}

function enqueue(step) {
  feed.queue = feed.queue.then(step).catch((e) => {
    $('posts').replaceChildren(el('li', { className: 'error', textContent: describeError(e) }));
  });
  return feed.queue;
}

function loadPosts() {
  if (feed.refetchQueued) return feed.queue;
  feed.refetchQueued = true;
  return enqueue(async () => {
    feed.refetchQueued = false;
    let page = await listPosts();
    const posts = [...page.posts];
    let cursor = page.nextCursor;
    // Down to the floor, 100 a request; past it, "Load more" goes on from the floor.
    while (feed.floor !== null && cursor !== null && cursor > feed.floor) {
      page = await listPosts(cursor, 100);
      const kept = page.posts.filter((post) => post.id >= feed.floor);
      posts.push(...kept);
      if (kept.length < page.posts.length) {
        cursor = feed.floor;
        break;
      }
      cursor = page.nextCursor;
    }
    feed.posts = posts;
    feed.nextCursor = cursor;
    renderPosts();
  });
}

async function loadMore() {
  $('load-more').disabled = true;
  await enqueue(async () => {
    if (feed.nextCursor === null) return;
    const page = await listPosts(feed.nextCursor);
    if (page.posts.length) feed.floor = page.posts[page.posts.length - 1].id;
    feed.posts.push(...page.posts);
    feed.nextCursor = page.nextCursor;
    renderPosts();
  });
  $('load-more').disabled = false;
}

function renderPosts() {
  const list = $('posts');
  list.replaceChildren();
  if (!feed.posts.length) list.append(el('li', { className: 'muted', textContent: 'No posts yet.' }));
  for (const post of feed.posts) {
    const title = el('h3', {}, el('span', { className: 'post-title', textContent: post.title }));
    if (state.me && state.me.id === post.author.id) {
      const remove = el('button', { className: 'small', textContent: 'Delete' });
      remove.onclick = () => api('DELETE', `/posts/${post.id}`).catch((e) => alert(describeError(e)));
      title.append(remove);
    }
    const when = new Date(post.createdAt).toLocaleString();
    const item = el('li', {}, title, el('p', { textContent: post.content }),
      el('span', { className: 'muted', textContent: `${post.author.name} (@${post.author.username}) · ${when}` }));
    item.dataset.postId = String(post.id);
    list.append(item);
  }
  $('load-more').hidden = feed.nextCursor === null;
}

// Whether this browser signed in, and as whom (a user id), kept in localStorage by both pages. The session
// is an HTTP-only cookie the page cannot read: without this note the page would ask for the profile and be
// told 401. With it, a logged-out page calls nothing that needs a session; a note that outlived its
// session (expired, ended elsewhere) costs one 401, after which it is gone.
const SIGNED_IN = 'posts-demo.signed-in';

function signedInAs() {
  try { return localStorage.getItem(SIGNED_IN); } catch { return null; }
}

function rememberSignIn(user) {
  try {
    if (user) localStorage.setItem(SIGNED_IN, String(user.id));
    else localStorage.removeItem(SIGNED_IN);
  } catch { /* storage disabled: nothing to remember */ }
}

async function loadProfile() {
  if (signedInAs() === null) {
    setMe(null);
    return;
  }
  try {
    const { user } = await api('GET', '/users/profile');
    setMe(user);
  } catch (e) {
    if (e.status === 401) rememberSignIn(null);
    else console.error(e);
    setMe(null);
  }
}

function setMe(user) {
  const changed = (state.me && state.me.id) !== (user && user.id);
  state.me = user;
  const signedIn = Boolean(user);
  for (const id of ['create-section', 'profile-section', 'notify-section', 'bell', 'logout']) $(id).hidden = !signedIn;
  $('login-section').hidden = signedIn;
  $('who').textContent = signedIn ? `${user.name} (@${user.username}, ${user.role})` : '';
  if (!signedIn) showPanel(false);
  if (signedIn) {
    $('profile-info').textContent = `@${user.username} · user:${user.id} · role:${user.role}`;
    if (document.activeElement !== $('profile-form').elements.name) $('profile-form').elements.name.value = user.name;
  }
  if (changed) {
    // Scopes and the notifications channel come from the session: a new session needs a new stream.
    state.notifications = [];
    state.unread = 0;
    renderBell();
    connect();
    loadPosts();  // delete buttons depend on who is signed in
  }
}

function renderBell() {
  const count = $('bell-count');
  count.textContent = String(state.unread);
  count.hidden = state.unread === 0;
  $('bell-button').setAttribute('aria-label', state.unread ? `Notifications, ${state.unread} unread` : 'Notifications');
  const list = $('notifications');
  list.replaceChildren();
  if (!state.notifications.length) list.append(el('li', { className: 'muted', textContent: 'Nothing yet.' }));
  for (const n of state.notifications) {
    const meta = `${n.from}${n.to ? ' → ' + n.to : ' → everyone'} · ${new Date(n.sentAt).toLocaleTimeString()}`;
    list.append(el('li', {}, el('div', { textContent: n.text }), el('span', { className: 'muted', textContent: meta })));
  }
}

function setLive(live) {
  $('live-dot').classList.toggle('live', live);
  $('live-dot').title = live ? 'live' : 'offline';
  $('live-text').textContent = live ? 'live' : 'offline';
}

// ---- Realtime ----

let source = null;
let retryTimer = null;
let retryDelay = 1000;

function connect() {
  if (source) source.close();
  clearTimeout(retryTimer);
  const channels = ['revalidation'];
  if (state.me) channels.push('notifications.stream');
  source = new EventSource(`/api/v1/sse/events?channels=${encodeURIComponent(channels.join(','))}&scopes=`);
  source.onopen = () => { setLive(true); retryDelay = 1000; };
  source.onerror = () => {
    setLive(false);
    // The browser retries by itself (with Last-Event-ID) unless the stream was refused outright.
    if (source.readyState === EventSource.CLOSED) {
      retryTimer = setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 16000);
    }
  };
  source.addEventListener('connected', (e) => {
    const info = JSON.parse(e.data);
    if (info.resync) revalidate(['']);
  });
  source.addEventListener('revalidate', (e) => {
    const envelope = JSON.parse(e.data);
    revalidate((envelope.data && envelope.data.queryKeys) || []);
  });
  source.addEventListener('message', (e) => {
    const envelope = JSON.parse(e.data);
    const data = envelope.data;
    if (envelope.channel !== 'notifications.stream' || !data || data.kind !== 'notification') return;
    state.notifications.unshift(data);
    state.notifications.length = Math.min(state.notifications.length, 50);
    if ($('bell-panel').hidden) state.unread += 1;
    renderBell();
  });
}

// ---- Forms ----

function onSubmit(formId, errorId, handler) {
  $(formId).addEventListener('submit', async (event) => {
    event.preventDefault();
    $(errorId).textContent = '';
    try {
      await handler(event.target);
    } catch (e) {
      $(errorId).textContent = describeError(e);
    }
  });
}

onSubmit('login-form', 'login-error', async (form) => {
  const { user } = await api('POST', '/auth/login', { username: form.elements.username.value.trim() });
  form.reset();
  rememberSignIn(user);
  setMe(user);
});

onSubmit('create-form', 'create-error', async (form) => {
  await api('POST', '/posts', { title: form.elements.title.value, content: form.elements.content.value });
  form.reset();  // the list refetches when the revalidation arrives, here and in every other tab
});

onSubmit('profile-form', 'profile-error', async (form) => {
  await api('PATCH', '/users/profile', { name: form.elements.name.value });
  form.elements.name.blur();
});

onSubmit('notify-form', 'notify-error', async (form) => {
  const body = { text: form.elements.text.value };
  if (form.elements.to.value.trim()) body.to = form.elements.to.value.trim();
  await api('POST', '/notifications', body);
  form.elements.text.value = '';
});

$('logout').onclick = async () => {
  await api('POST', '/auth/logout').catch(() => {});
  rememberSignIn(null);
  setMe(null);
};

$('load-more').onclick = () => loadMore();

// The panel is a card of the layout (at the top of the side column), so it covers nothing.
function showPanel(open) {
  $('bell-panel').hidden = !open;
  $('bell-button').setAttribute('aria-expanded', String(open));
}

$('bell-button').onclick = () => {
  showPanel($('bell-panel').hidden);
  if (!$('bell-panel').hidden) { state.unread = 0; renderBell(); }
};

// Another tab logged in or out: follow it.
window.addEventListener('storage', (event) => {
  if (event.key === SIGNED_IN || event.key === null) loadProfile();
});

// ---- Online now: who has a page open (presence). The server revalidates `presence.online` when someone
// arrives or leaves, so the list refetches by itself. ----

async function loadOnline() {
  try {
    const { users, anonymous } = await api('GET', '/presence/online');
    $('online').replaceChildren(...users.map((user) => {
      const item = el('li', {}, user.username);
      item.dataset.user = user.username;
      if (state.me && state.me.id === user.id) item.append(el('span', { className: 'muted' }, ' (you)'));
      return item;
    }));
    if (!users.length) $('online').append(el('li', { className: 'muted' }, 'Nobody signed in.'));
    $('online-anonymous').textContent = anonymous ? `and ${anonymous} signed-out ${anonymous === 1 ? 'page' : 'pages'}` : '';
  } catch (e) {
    console.error(e);
  }
}

// ---- Start ----

register('presence.online', loadOnline);
register('posts.list', loadPosts);
register('users.getProfile', loadProfile).then(() => { if (!source) connect(); });
