// "Online now": the signed-in users with a page open, and how many pages are open signed out. The server
// revalidates `presence.online` when someone arrives or leaves (presence, docs/presence.md), so this
// query refetches by itself.
import { createClient } from "@igniter-cpp/client";
import { basePath, createApi } from "./api.gen";

const api = createApi(createClient({ baseURL: basePath }));

/** The online list; `me` (the signed-in user's id) is marked "(you)". */
export function OnlineList({ me }: { me?: number }) {
  const online = api.presence.online.useQuery();
  const users = online.data?.users ?? [];
  const anonymous = online.data?.anonymous ?? 0;
  return (
    <section className="online" id="online-section">
      <h2>Online now</h2>
      <ul>
        {users.map((user) => (
          <li key={user.id} data-user={user.username}>
            {user.username}
            {user.id === me && <span className="muted"> (you)</span>}
          </li>
        ))}
        {users.length === 0 && <li className="muted">Nobody signed in.</li>}
      </ul>
      {anonymous > 0 && (
        <p className="muted anonymous" id="online-anonymous">
          and {anonymous} signed-out {anonymous === 1 ? "page" : "pages"}
        </p>
      )}
    </section>
  );
}
