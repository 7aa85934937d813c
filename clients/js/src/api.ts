/**
 * Typed action objects, as a generated module builds them: `api.posts.list.useQuery(...)`,
 * `api.posts.create.mutate({ body })`, `api.notifications.stream.useStream({...})`.
 */
import type { ActionDescriptor, IgniterClient } from "./client.js";
import type { ActionInput, InputArgs } from "./keys.js";
import { queryKey } from "./keys.js";
import {
  useMutation,
  useQuery,
  useStream,
  type MutationResult,
  type QueryResult,
  type RealtimeResult,
  type UseMutationOptions,
  type UseQueryOptions,
  type UseRealtimeOptions,
} from "./react.js";

export type { InputArgs } from "./keys.js";

/** A query action: fetch it, or use it as a hook that refetches on revalidation. */
export interface QueryAction<I extends ActionInput | undefined, O> {
  readonly key: string;
  readonly descriptor: ActionDescriptor;
  /** The key a revalidation must match to reach this instance (Igniter.js format). */
  queryKey(...args: InputArgs<I>): string;
  /** Fetches once. */
  query(...args: InputArgs<I>): Promise<O>;
  useQuery(...args: [...InputArgs<I>, options?: UseQueryOptions<O>]): QueryResult<O>;
}

/** A mutation action: call it, or use it as a hook with status. */
export interface MutationAction<I extends ActionInput | undefined, O> {
  readonly key: string;
  readonly descriptor: ActionDescriptor;
  mutate(...args: InputArgs<I>): Promise<O>;
  useMutation(options?: UseMutationOptions<O>): MutationResult<I, O>;
}

/** A stream action: a channel named by its key. `M` is the type of its messages. */
export interface StreamAction<I extends ActionInput | undefined, M> {
  readonly key: string;
  readonly descriptor: ActionDescriptor;
  useStream(options?: UseRealtimeOptions<M>): RealtimeResult;
  /** Fetches it as a plain query (its handler's answer). */
  query(...args: InputArgs<I>): Promise<unknown>;
}

function splitArgs<I, O>(args: unknown[]): [I | undefined, O | undefined] {
  return [args[0] as I | undefined, args[1] as O | undefined];
}

/** A typed query action of `client`. */
export function queryAction<I extends ActionInput | undefined, O>(
  client: IgniterClient,
  descriptor: ActionDescriptor,
): QueryAction<I, O> {
  return {
    key: descriptor.key,
    descriptor,
    queryKey: (...args) => queryKey(descriptor.key, args[0] as ActionInput | undefined),
    query: (...args) => client.call<O>(descriptor, args[0] as ActionInput | undefined),
    useQuery: (...args) => {
      const [input, options] = splitArgs<ActionInput, UseQueryOptions<O>>(args);
      return useQuery<O>(client, descriptor, input, options);
    },
  };
}

/** A typed mutation action of `client`. */
export function mutationAction<I extends ActionInput | undefined, O>(
  client: IgniterClient,
  descriptor: ActionDescriptor,
): MutationAction<I, O> {
  return {
    key: descriptor.key,
    descriptor,
    mutate: (...args) => client.call<O>(descriptor, args[0] as ActionInput | undefined),
    useMutation: (options) => useMutation<I, O>(client, descriptor, options),
  };
}

/** A typed stream action of `client`. */
export function streamAction<I extends ActionInput | undefined, M>(
  client: IgniterClient,
  descriptor: ActionDescriptor,
): StreamAction<I, M> {
  return {
    key: descriptor.key,
    descriptor,
    useStream: (options) => useStream<M>(descriptor, options),
    query: (...args) => client.call(descriptor, args[0] as ActionInput | undefined),
  };
}
