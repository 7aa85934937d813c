/** @igniter-cpp/client: TypeScript client and React bindings for igniter-cpp apps. */
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
export {
  SharedRealtimeTransport,
  browserSharedEnv,
  canShareTabs,
  sharedStreamName,
} from "./shared.js";
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
export {
  IgniterProvider,
  useQuery,
  useMutation,
  useRealtime,
  useStream,
  useRealtimeState,
} from "./react.js";
export type {
  IgniterProviderProps,
  MutationResult,
  QueryResult,
  RealtimeResult,
  UseMutationOptions,
  UseQueryOptions,
  UseRealtimeOptions,
} from "./react.js";
export { queryAction, mutationAction, streamAction } from "./api.js";
export type { MutationAction, QueryAction, StreamAction } from "./api.js";
