/** @igniter-cpp/client: TypeScript client and React bindings for igniter-cpp apps. */
export * from "./core.js";
export {
  IgniterProvider,
  useQuery,
  useMutation,
  useRealtime,
  useStream,
  useRealtimeState,
  usePresence,
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
