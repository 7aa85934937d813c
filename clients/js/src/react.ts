/**
 * React bindings with the seed's API: `IgniterProvider`, `useQuery`, `useMutation`, `useStream`,
 * `useRealtime`. One realtime transport per provider, shared by every hook under it; by default the
 * transport is itself shared by the browser's tabs (one stream per browser, shared.ts).
 */
import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from "react";
import type { ActionDescriptor, IgniterClient } from "./client.js";
import type { ChannelListener, ChannelState, ConnectionState, MessageEnvelope, RealtimeTransport } from "./connection.js";
import { queryKey, type ActionInput, type InputArgs } from "./keys.js";
import { presenceAction, type Presence } from "./presence.js";
import { QueryRegistry } from "./registry.js";
import { canShareTabs, SharedRealtimeTransport, sharedStreamName } from "./shared.js";

interface IgniterContextValue {
  client: IgniterClient;
  registry: QueryRegistry;
  realtime: RealtimeTransport | null;
}

const IgniterContext = createContext<IgniterContextValue | null>(null);

/** Props of `IgniterProvider`. */
export interface IgniterProviderProps {
  client: IgniterClient;
  /** Scopes the page asks for (the server decides what it grants). Called at each (re)connect. */
  getScopesIds?: () => readonly string[] | Promise<readonly string[]>;
  /** Open the realtime stream (default true). */
  enableRealtime?: boolean;
  /**
   * One stream for all the tabs of this browser (a `SharedRealtimeTransport`), or one per tab (a
   * `RealtimeConnection`). Default: shared when the page has BroadcastChannel and Web Locks.
   */
  sharing?: boolean;
  /** A transport to use instead of making one (tests, a transport of your own). */
  transport?: RealtimeTransport;
  children?: ReactNode;
}

/** The transport a provider makes: shared by the browser's tabs, or its own. */
function makeTransport(
  client: IgniterClient,
  sharing: boolean,
  getScopes: () => readonly string[] | Promise<readonly string[]>,
): RealtimeTransport {
  if (!sharing) return client.createRealtime({ getScopes });
  return new SharedRealtimeTransport({
    name: sharedStreamName(client.baseURL),
    getScopes,
    connect: ({ lastEventId }) => client.createRealtime({ getScopes, lastEventId }),
  });
}

/** Shares one realtime transport and the registry of active queries with every hook below it. */
export function IgniterProvider(props: IgniterProviderProps) {
  const scopesRef = useRef(props.getScopesIds);
  scopesRef.current = props.getScopesIds;
  const [value] = useState<IgniterContextValue>(() => {
    const registry = new QueryRegistry();
    const realtime =
      props.transport ??
      (props.enableRealtime === false
        ? null
        : makeTransport(props.client, props.sharing ?? canShareTabs(), () => scopesRef.current?.() ?? []));
    return { client: props.client, registry, realtime };
  });
  useEffect(() => {
    const realtime = value.realtime;
    if (!realtime) return;
    const offRevalidate = realtime.onRevalidate((keys) => value.registry.revalidate(keys));
    const offResync = realtime.onResync(() => value.registry.refetchAll());
    // Child effects ran first, so the stream opens with the channels of the first render.
    realtime.start();
    return () => {
      offRevalidate();
      offResync();
      if (!props.transport) realtime.stop();
    };
  }, [value]);
  return createElement(IgniterContext.Provider, { value }, props.children);
}

/** The provider's context, or null outside any provider. */
function useIgniter(): IgniterContextValue | null {
  return useContext(IgniterContext);
}

/** The state of the provider's realtime stream. */
export function useRealtimeState(): ConnectionState {
  const realtime = useIgniter()?.realtime ?? null;
  const [state, setState] = useState<ConnectionState>(realtime?.state ?? "idle");
  useEffect(() => {
    if (!realtime) return;
    setState(realtime.state);
    return realtime.onStateChange(setState);
  }, [realtime]);
  return state;
}

/** Options of `useQuery`. */
export interface UseQueryOptions<T> {
  /** Fetch at all (default true). */
  enabled?: boolean;
  /** Data shown before the first answer. */
  initialData?: T;
  onSuccess?(data: T): void;
  onError?(error: unknown): void;
}

/** What `useQuery` returns. */
export interface QueryResult<T> {
  data: T | undefined;
  error: unknown;
  /** No data yet and a fetch is running. */
  isLoading: boolean;
  /** A fetch is running (first or refetch). */
  isFetching: boolean;
  isSuccess: boolean;
  isError: boolean;
  status: "loading" | "success" | "error";
  /** Fetches again now. */
  refetch(): Promise<void>;
}

/**
 * Fetches `action` with `input`, and again whenever a revalidation reaches its key (`<key>:{...}`
 * as Igniter.js builds it) or the server announces a gap. Stale answers are dropped.
 */
export function useQuery<T = unknown>(
  client: IgniterClient,
  action: ActionDescriptor,
  input?: ActionInput,
  options: UseQueryOptions<T> = {},
): QueryResult<T> {
  const context = useIgniter();
  const key = queryKey(action.key, input);
  const enabled = options.enabled ?? true;
  const [state, setState] = useState<{ data: T | undefined; error: unknown; fetching: boolean; settled: boolean }>(
    () => ({ data: options.initialData, error: undefined, fetching: enabled, settled: false }),
  );
  const latest = useRef({ input, options, seq: 0, mounted: true });
  latest.current.input = input;
  latest.current.options = options;

  const refetch = useCallback(async () => {
    const ref = latest.current;
    const seq = ++ref.seq;
    setState((s) => ({ ...s, fetching: true }));
    try {
      const data = await client.call<T>(action, ref.input);
      if (!ref.mounted || seq !== ref.seq) return;
      setState({ data, error: undefined, fetching: false, settled: true });
      ref.options.onSuccess?.(data);
    } catch (error) {
      if (!ref.mounted || seq !== ref.seq) return;
      setState((s) => ({ ...s, error, fetching: false, settled: true }));
      ref.options.onError?.(error);
    }
    // `key` stands for `input`: a new key is a new query.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, action.key, action.method, action.path, key]);

  useEffect(() => {
    latest.current.mounted = true;
    if (!enabled) return;
    void refetch();
    const off = context?.registry.register(key, () => void refetch());
    return () => {
      off?.();
    };
  }, [key, enabled, refetch, context]);

  useEffect(
    () => () => {
      latest.current.mounted = false;
    },
    [],
  );

  const isError = state.settled && state.error !== undefined;
  const isSuccess = state.settled && !isError;
  return {
    data: state.data,
    error: state.error,
    isLoading: state.fetching && !state.settled,
    isFetching: state.fetching,
    isSuccess,
    isError,
    status: isError ? "error" : isSuccess ? "success" : "loading",
    refetch,
  };
}

/** Options of `useMutation`. */
export interface UseMutationOptions<T> {
  onSuccess?(data: T): void;
  onError?(error: unknown): void;
  onSettled?(): void;
}

/** What `useMutation` returns. */
export interface MutationResult<I, T> {
  /** Calls the action; resolves to its data (also kept in `data`), rejects with its error. */
  mutate(...args: InputArgs<I>): Promise<T>;
  mutateAsync(...args: InputArgs<I>): Promise<T>;
  data: T | undefined;
  error: unknown;
  isLoading: boolean;
  isSuccess: boolean;
  isError: boolean;
  status: "idle" | "loading" | "success" | "error";
  reset(): void;
}

/** Calls a mutation on demand; the queries it revalidates refetch through the realtime stream. */
export function useMutation<I extends ActionInput | undefined, T = unknown>(
  client: IgniterClient,
  action: ActionDescriptor,
  options: UseMutationOptions<T> = {},
): MutationResult<I, T> {
  const [state, setState] = useState<{ status: MutationResult<I, T>["status"]; data?: T; error?: unknown }>({
    status: "idle",
  });
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const mutate = useCallback(
    async (...args: InputArgs<I>) => {
      setState({ status: "loading" });
      try {
        const data = await client.call<T>(action, args[0] as ActionInput | undefined);
        setState({ status: "success", data });
        optionsRef.current.onSuccess?.(data);
        return data;
      } catch (error) {
        setState({ status: "error", error });
        optionsRef.current.onError?.(error);
        throw error;
      } finally {
        optionsRef.current.onSettled?.();
      }
    },
    [client, action.key, action.method, action.path],
  );
  return {
    mutate,
    mutateAsync: mutate,
    data: state.data,
    error: state.error,
    isLoading: state.status === "loading",
    isSuccess: state.status === "success",
    isError: state.status === "error",
    status: state.status,
    reset: useCallback(() => setState({ status: "idle" }), []),
  };
}

/** Options of `useRealtime` and `useStream`. */
export interface UseRealtimeOptions<T> {
  /** Subscribe at all (default true). */
  enabled?: boolean;
  /** Each message published on the channel (its payload). */
  onMessage?(data: T, envelope: MessageEnvelope<T>): void;
  /** The stream really carries the channel (the server confirmed it); again after each reconnect. */
  onConnect?(): void;
  /** The channel was refused, or the stream dropped (it reconnects by itself). */
  onError?(error: Error): void;
  /** Messages may have been lost in a gap the server could not replay. */
  onResync?(): void;
}

/** What `useRealtime` and `useStream` return. */
export interface RealtimeResult {
  /** `connecting` until the server confirms the channel, `refused` if it will not carry it. */
  state: ChannelState | "disabled";
  isConnected: boolean;
  /** The last error (refusal or drop), cleared on connect. */
  error: Error | undefined;
}

/** Subscribes to `channel` on the provider's stream for as long as the component is mounted. */
export function useRealtime<T = unknown>(channel: string, options: UseRealtimeOptions<T> = {}): RealtimeResult {
  const realtime = useIgniter()?.realtime ?? null;
  const enabled = (options.enabled ?? true) && realtime !== null;
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const [state, setState] = useState<{ state: RealtimeResult["state"]; error?: Error }>({
    state: enabled ? "connecting" : "disabled",
  });
  useEffect(() => {
    if (!enabled || !realtime) {
      setState({ state: "disabled" });
      return;
    }
    setState({ state: realtime.channelState(channel) === "connected" ? "connected" : "connecting" });
    const listener: ChannelListener = {
      onMessage: (data, envelope) => optionsRef.current.onMessage?.(data as T, envelope as MessageEnvelope<T>),
      onConnect: () => {
        setState({ state: "connected" });
        optionsRef.current.onConnect?.();
      },
      onError: (error) => {
        setState({ state: error.name === "ChannelRefusedError" ? "refused" : "connecting", error });
        optionsRef.current.onError?.(error);
      },
      onResync: () => optionsRef.current.onResync?.(),
    };
    return realtime.subscribe(channel, listener);
  }, [realtime, channel, enabled]);
  return { state: state.state, isConnected: state.state === "connected", error: state.error };
}

/** `useRealtime` on the channel of a stream action (its key, e.g. `notifications.stream`). */
export function useStream<T = unknown>(action: ActionDescriptor, options: UseRealtimeOptions<T> = {}): RealtimeResult {
  return useRealtime<T>(action.key, options);
}

/**
 * Who is on `channel` (members, anonymous streams, count), from the server's presence endpoint; refetched
 * whenever the server revalidates it (a member arriving or leaving) or announces a gap. Needs an
 * `IgniterProvider`; `ssePath` when the client's is not `/sse/events`.
 */
export function usePresence(
  channel: string,
  options: UseQueryOptions<Presence> & { ssePath?: string } = {},
): QueryResult<Presence> {
  const context = useIgniter();
  if (!context) throw new Error("usePresence: no IgniterProvider above this component");
  const action = useMemo(() => presenceAction(options.ssePath), [options.ssePath]);
  return useQuery<Presence>(context.client, action, { query: { channel } }, options);
}
