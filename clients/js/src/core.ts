/**
 * @igniter-cpp/client/core: everything of the client that does not need React — calls, the realtime
 * connection (shared by tabs or not), channels, query keys. The package's main entry adds the React
 * bindings; import this one where React is not installed (react is an optional peer dependency).
 */
export { createClient, actionUrl, IgniterError } from "./client.js";
export type { ActionDescriptor, ClientOptions, IgniterClient } from "./client.js";
export {
  RealtimeConnection,
  ChannelRefusedError,
  ConnectionLostError,
  REVALIDATION_CHANNEL,
  browserEnv,
} from "./connection.js";
export type {
  ChannelListener,
  ChannelState,
  ConnectionEnv,
  ConnectionOptions,
  ConnectionState,
  EventSourceLike,
  MessageEnvelope,
  RealtimeTransport,
} from "./connection.js";
export { SharedRealtimeTransport, browserSharedEnv, canShareTabs, sharedStreamName } from "./shared.js";
export type {
  BroadcastChannelLike,
  LeaderConnection,
  LockManagerLike,
  SharedEnv,
  SharedTransportOptions,
} from "./shared.js";
export { ChannelSet } from "./channels.js";
export type { ChannelChange, ChannelChangeResult, RefusedChannel } from "./channels.js";
export { Backoff } from "./backoff.js";
export type { BackoffOptions } from "./backoff.js";
export { queryKey, matchesRevalidation, stableStringify } from "./keys.js";
export type { ActionInput, InputArgs } from "./keys.js";
export { QueryRegistry } from "./registry.js";
export { fetchPresence, presenceAction, presenceKey } from "./presence.js";
export type { Presence } from "./presence.js";
