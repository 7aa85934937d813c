/**
 * Presence: who has a stream open on a channel, as the server's `GET <ssePath>/presence?channel=` answers
 * it (served when the app tracks the channel with `PresenceOptions::serve_http`; docs/presence.md).
 */
import type { ActionDescriptor, IgniterClient } from "./client.js";
import { queryKey } from "./keys.js";

/** Who is on a channel, over every process of the app. */
export interface Presence {
  /** Open streams on the channel. */
  count: number;
  /** Of those, the streams without a member (counted, never listed). */
  anonymous: number;
  /** Distinct members with a stream open, sorted; each listed once. */
  members: string[];
  /** More members than the server lists: some are omitted. */
  truncated: boolean;
}

/** The framework's presence query (`__realtime.presence`) under the SSE endpoint's path. */
export function presenceAction(ssePath = "/sse/events"): ActionDescriptor {
  return { key: "__realtime.presence", type: "query", method: "GET", path: `${ssePath}/presence` };
}

/**
 * The key the presence of `channel` registers under; the server revalidates it when the channel's members
 * change, so a `usePresence` refetches by itself.
 */
export function presenceKey(channel: string): string {
  return queryKey("__realtime.presence", { query: { channel } });
}

/** Reads who is on `channel` now. Rejects with an IgniterError: 404 untracked channel, 403 refused by the guard. */
export function fetchPresence(client: IgniterClient, channel: string, ssePath?: string): Promise<Presence> {
  return client.call<Presence>(presenceAction(ssePath), { query: { channel } });
}
