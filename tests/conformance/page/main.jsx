// The conformance page: the real Igniter.js 0.3.40 client, unchanged, against igniter-cpp.
// What it received is recorded on window.__conformance for the test to read; `?unknown=1` also
// subscribes to a channel the server has never heard of.
import { createRoot } from 'react-dom/client';
import { IgniterProvider, createIgniterClient, useRealtime } from '@igniter-js/core/client';

// The client only needs each action's method and path; this mirrors tests/conformance/server/main.cpp.
const router = {
  controllers: {
    posts: {
      path: '/posts',
      actions: {
        list: { method: 'GET', path: '/' },
        getById: { method: 'GET', path: '/:id' },
        create: { method: 'POST', path: '/' },
        touch: { method: 'POST', path: '/:id/touch' },
      },
    },
    users: {
      path: '/users',
      actions: {
        getProfile: { method: 'GET', path: '/profile' },
        touch: { method: 'POST', path: '/:name/touch' },
      },
    },
    notifications: {
      path: '/notifications',
      actions: {
        stream: { method: 'GET', path: '/stream' },
        send: { method: 'POST', path: '/' },
      },
    },
  },
};

const api = createIgniterClient({ baseURL: window.location.origin, basePATH: '/api/v1', router });
const flags = new URLSearchParams(window.location.search);
const record = (window.__conformance = {
  messages: [],   // useRealtime('notifications.stream')
  perAction: [],  // api.notifications.stream.useRealtime() (channel `notifications.stream:{}`)
  unknown: [],    // useRealtime('no.such.channel')
  createPost: (title) => api.posts.create.mutate({ body: { title } }),
});

const quiet = { refetchOnWindowFocus: false, refetchOnReconnect: false };

function PostList() {
  const { data, status } = api.posts.list.useQuery(quiet);
  return <p id="posts" data-status={status}>{data ? data.posts.length : ''}</p>;
}

function Post({ id }) {
  const { data, status } = api.posts.getById.useQuery({ ...quiet, params: { id } });
  return <p id={`post-${id}`} data-status={status}>{data ? data.id : ''}</p>;
}

function Profile() {
  const { data, status } = api.users.getProfile.useQuery(quiet);
  return <p id="profile" data-status={status}>{data ? data.name : ''}</p>;
}

function Notifications() {
  useRealtime('notifications.stream', { onMessage: (message) => record.messages.push(message) });
  api.notifications.stream.useRealtime({ onMessage: (message) => record.perAction.push(message) });
  return null;
}

function Unknown() {
  useRealtime('no.such.channel', { onMessage: (message) => record.unknown.push(message) });
  return null;
}

function App() {
  return (
    <IgniterProvider>
      <PostList />
      <Post id="1" />
      <Post id="2" />
      <Profile />
      <Notifications />
      {flags.has('unknown') && <Unknown />}
    </IgniterProvider>
  );
}

createRoot(document.getElementById('root')).render(<App />);
