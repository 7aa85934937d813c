/**
 * One realtime stream (an EventSource) shared by every hook under a provider.
 *
 * - Channels are added and removed on the open stream through the subscriptions endpoint
 *   (PROTOCOL.md §5), never by reopening it.
 * - Any drop closes the EventSource and opens a new one after a jittered, capped exponential backoff
 *   that never gives up; the wait is cut short when the page comes back online or visible. The new
 *   stream asks for the current channels and resumes after the last event id seen (`?lastEventId=`,
 *   since an EventSource cannot set headers), so the server replays what was missed.
 * - When the server cannot replay (`resync: true` in `connected`), every active query refetches once;
 *   the `revalidate [""]` the server sends for Igniter.js clients right after is then skipped.
 *
 * Everything outside (EventSource, fetch, timers, randomness, page events) comes from a
 * `ConnectionEnv`, so tests drive it with fakes. The `RealtimeTransport` interface is what the React
 * bindings use; `SharedRealtimeTransport` (shared.ts) implements it for one stream per browser, with
 * one of these in the leading tab.
 */
import { Backoff, type BackoffOptions } from "./backoff.js";
import { CallbackRegistry } from "./callbacks.js";
import { ChannelSet, type ChannelChangeResult, type RefusedChannel } from "./channels.js";

/** The channel of revalidation events; every stream carries it. */
export const REVALIDATION_CHANNEL = "revalidation";

/** What the connection needs of an EventSource. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  onerror: ((event: Event) => void) | null;
  close(): void;
}

/** What the connection needs of the page's world; every member has a browser default. */
export interface ConnectionEnv {
  createEventSource(url: string, withCredentials: boolean): EventSourceLike;
  fetch: typeof fetch;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
  /** Calls `callback` when reconnecting now is worth it (online, page visible); returns an unsubscribe. */
  onWake(callback: () => void): () => void;
}

/** The state of the stream as a whole. */
export type ConnectionState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** The state of one channel for its subscribers. */
export type ChannelState = "connecting" | "connected" | "refused";

/** The envelope of a custom message: `{"scopes"?,"channel","data","timestamp"}`. */
export interface MessageEnvelope<T = unknown> {
  channel: string;
  data: T;
  scopes?: string[];
  timestamp?: string;
}

/** Error given to a channel's subscribers when the server refused the channel. */
export class ChannelRefusedError extends Error {
  constructor(
    readonly channel: string,
    readonly reason: string,
  ) {
    super(`channel ${channel} refused: ${reason}`);
    this.name = "ChannelRefusedError";
  }
}

/** Error given to a channel's subscribers when the stream dropped (it reconnects by itself). */
export class ConnectionLostError extends Error {
  constructor() {
    super("realtime connection lost; reconnecting");
    this.name = "ConnectionLostError";
  }
}

/** A subscriber of one channel. */
export interface ChannelListener {
  /** A message published on the channel (its payload). */
  onMessage?(data: unknown, envelope: MessageEnvelope): void;
  /** The stream carries the channel now (after the server confirmed it; again after each reconnect). */
  onConnect?(): void;
  /** The channel was refused, or the stream dropped. */
  onError?(error: Error): void;
  /** Events of the channel may have been lost (the server could not replay a gap). */
  onResync?(): void;
}

/** What the React bindings need of a realtime connection. */
export interface RealtimeTransport {
  /** Opens the stream (idempotent). */
  start(): void;
  /** Closes the stream for good. */
  stop(): void;
  /** Adds a subscriber to `channel`; the returned function removes it. */
  subscribe(channel: string, listener: ChannelListener): () => void;
  /** Calls `callback` with the query keys of each revalidation; returns an unsubscribe. */
  onRevalidate(callback: (queryKeys: string[]) => void): () => void;
  /** Calls `callback` when everything must refetch (a gap was not replayed); returns an unsubscribe. */
  onResync(callback: () => void): () => void;
  /** Calls `callback` on each change of the stream's state; returns an unsubscribe. */
  onStateChange(callback: (state: ConnectionState) => void): () => void;
  readonly state: ConnectionState;
  channelState(channel: string): ChannelState;
}

/** Settings of a RealtimeConnection. */
export interface ConnectionOptions {
  /** URL of the SSE endpoint, e.g. `/api/v1/sse/events`. Its `/subscriptions` takes live changes. */
  url: string;
  /** Scopes the page asks for (the server decides what it grants); called at each (re)open. */
  getScopes?: () => readonly string[] | Promise<readonly string[]>;
  /** Send cookies on cross-origin requests. */
  withCredentials?: boolean;
  /** Reconnect delays. */
  backoff?: BackoffOptions;
  /** How long channel changes are gathered before one request sends them (default 10 ms). */
  changeDelayMs?: number;
  /** Where the first stream resumes (a tab taking over a shared stream passes the last id it relayed). */
  lastEventId?: string | null;
}

/** The `data` of the `connected` frame, with our extensions (PROTOCOL.md §5). */
interface ConnectedFrame {
  connected: boolean;
  channels?: string[];
  connectionId?: string;
  token?: string;
  scopes?: string[];
  refused?: RefusedChannel[];
  lastEventId?: string;
  resync?: boolean;
}

/** The browser's EventSource, fetch, timers and page events. */
export function browserEnv(): ConnectionEnv {
  return {
    createEventSource: (url, withCredentials) => new EventSource(url, { withCredentials }),
    fetch: (...args) => globalThis.fetch(...args),
    setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
    clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
    random: Math.random,
    onWake: (callback) => {
      if (typeof window === "undefined" || typeof document === "undefined") return () => {};
      const visible = () => {
        if (document.visibilityState === "visible") callback();
      };
      window.addEventListener("online", callback);
      document.addEventListener("visibilitychange", visible);
      return () => {
        window.removeEventListener("online", callback);
        document.removeEventListener("visibilitychange", visible);
      };
    },
  };
}

function parseJson(text: unknown): unknown {
  if (typeof text !== "string") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One SSE stream with live channel changes, resume and reconnect. See the file comment. */
export class RealtimeConnection extends CallbackRegistry implements RealtimeTransport {
  private readonly env: ConnectionEnv;
  private readonly channels = new ChannelSet([REVALIDATION_CHANNEL]);
  private readonly backoff: Backoff;
  private source: EventSourceLike | null = null;
  private reconnectTimer: unknown = null;
  private changeTimer: unknown = null;
  private stopWake: (() => void) | null = null;
  private connectionId: string | null = null;
  private token: string | null = null;
  private skipFullRevalidate = false;
  private generation = 0;
  private lastId: string | null = null;

  constructor(
    private readonly options: ConnectionOptions,
    env: Partial<ConnectionEnv> = {},
  ) {
    super();
    this.env = { ...browserEnv(), ...env };
    this.lastId = options.lastEventId || null;
    this.backoff = new Backoff(options.backoff, this.env.random);
  }

  /** The id of the last event received: where the next stream resumes. */
  get lastEventId(): string | null {
    return this.lastId;
  }

  /** The channels a new stream would ask for now. */
  wantedChannels(): string[] {
    return this.channels.wantedChannels();
  }

  channelState(channel: string): ChannelState {
    if (this.channels.refusal(channel) !== undefined) return "refused";
    return this.current === "open" && this.channels.isOpen(channel) ? "connected" : "connecting";
  }

  start(): void {
    // A stopped connection starts again (React StrictMode runs effects, their cleanup, then again).
    if (this.current !== "idle" && this.current !== "closed") return;
    this.stopWake = this.env.onWake(() => this.wake());
    void this.open();
  }

  stop(): void {
    this.generation += 1;
    this.stopWake?.();
    this.stopWake = null;
    this.clearTimers();
    this.source?.close();
    this.source = null;
    this.channels.closed();
    this.setState("closed");
  }

  subscribe(channel: string, listener: ChannelListener): () => void {
    const remove = this.listen(channel, listener, () => {
      if (this.channels.remove(channel)) this.scheduleChange();
    });
    if (this.channels.add(channel)) this.scheduleChange();
    // A channel the stream carries already (another hook's, or one removed and re-added before the
    // change went out) is connected for this listener at once.
    const state = this.channelState(channel);
    if (state === "connected") listener.onConnect?.();
    else if (state === "refused") listener.onError?.(new ChannelRefusedError(channel, this.channels.refusal(channel)!));
    return remove;
  }

  /** The page came back (online, visible): a pending reconnect happens now instead of after its wait. */
  wake(): void {
    if (this.current !== "reconnecting" || this.reconnectTimer === null) return;
    this.env.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    void this.open();
  }

  private clearTimers(): void {
    if (this.reconnectTimer !== null) this.env.clearTimeout(this.reconnectTimer);
    if (this.changeTimer !== null) this.env.clearTimeout(this.changeTimer);
    this.reconnectTimer = this.changeTimer = null;
  }

  private streamUrl(scopes: readonly string[]): string {
    const query = new URLSearchParams();
    query.set("channels", this.channels.wantedChannels().join(","));
    query.set("scopes", scopes.join(","));
    if (this.lastId) query.set("lastEventId", this.lastId);
    return `${this.options.url}${this.options.url.includes("?") ? "&" : "?"}${query.toString()}`;
  }

  private async open(): Promise<void> {
    const generation = ++this.generation;
    this.setState(this.current === "idle" || this.current === "closed" ? "connecting" : this.current);
    let scopes: readonly string[] = [];
    try {
      scopes = (await this.options.getScopes?.()) ?? [];
    } catch {
      scopes = []; // the server grants what it grants; an empty request asks for all of it
    }
    if (generation !== this.generation) return;
    const source = this.env.createEventSource(this.streamUrl(scopes), this.options.withCredentials ?? false);
    this.source = source;
    const mine = (handler: (event: MessageEvent) => void) => (event: MessageEvent) => {
      if (this.source === source) handler(event);
    };
    source.addEventListener("connected", mine((e) => this.handleConnected(e)));
    source.addEventListener("revalidate", mine((e) => this.handleRevalidate(e)));
    source.addEventListener("message", mine((e) => this.handleMessage(e)));
    source.onerror = () => {
      if (this.source === source) this.drop();
    };
  }

  private remember(event: MessageEvent): void {
    if (event.lastEventId) this.lastId = event.lastEventId;
  }

  private handleConnected(event: MessageEvent): void {
    const frame = parseJson(event.data) as ConnectedFrame | undefined;
    if (!frame || typeof frame !== "object") return;
    this.remember(event);
    if (frame.lastEventId) this.lastId = frame.lastEventId;
    this.connectionId = frame.connectionId ?? null;
    this.token = frame.token ?? null;
    this.channels.opened(frame.channels ?? [], frame.refused ?? []);
    this.backoff.reset();
    this.setState("open");
    this.eachChannel((channel, listeners) => {
      const state = this.channelState(channel);
      for (const listener of listeners) {
        if (state === "connected") listener.onConnect?.();
        else if (state === "refused")
          listener.onError?.(new ChannelRefusedError(channel, this.channels.refusal(channel)!));
      }
    });
    if (frame.resync) {
      this.skipFullRevalidate = true;
      this.resynced();
    }
    // Channels wanted since this stream was requested go through the live change endpoint.
    this.scheduleChange();
  }

  private handleRevalidate(event: MessageEvent): void {
    this.remember(event);
    const envelope = parseJson(event.data) as MessageEnvelope<{ queryKeys?: unknown }> | undefined;
    const keys = envelope?.data?.queryKeys;
    if (!Array.isArray(keys)) return;
    const queryKeys = keys.filter((k): k is string => typeof k === "string");
    if (this.skipFullRevalidate && queryKeys.length === 1 && queryKeys[0] === "") {
      this.skipFullRevalidate = false; // the resync of `connected` already refetched everything
      return;
    }
    this.revalidated(queryKeys);
  }

  private handleMessage(event: MessageEvent): void {
    this.remember(event);
    const envelope = parseJson(event.data) as MessageEnvelope | undefined;
    if (!envelope || typeof envelope !== "object" || typeof envelope.channel !== "string") return;
    this.deliver(envelope);
  }

  private drop(): void {
    this.source?.close();
    this.source = null;
    this.connectionId = this.token = null;
    this.skipFullRevalidate = false;
    // Only subscribers that were told they are connected are told they no longer are.
    const lost = this.current === "open" ? this.listenedChannels().filter((c) => this.channels.isOpen(c)) : [];
    this.channels.closed();
    this.setState("reconnecting");
    this.fail(lost, new ConnectionLostError());
    if (this.changeTimer !== null) this.env.clearTimeout(this.changeTimer);
    this.changeTimer = null;
    this.reconnectTimer = this.env.setTimeout(() => {
      this.reconnectTimer = null;
      void this.open();
    }, this.backoff.next());
  }

  private scheduleChange(): void {
    if (this.current !== "open" || this.changeTimer !== null) return;
    this.changeTimer = this.env.setTimeout(() => {
      this.changeTimer = null;
      void this.sendChange();
    }, this.options.changeDelayMs ?? 10);
  }

  private async sendChange(): Promise<void> {
    if (this.current !== "open" || !this.connectionId || !this.token) return;
    const change = this.channels.nextChange();
    if (!change) return;
    const connectionId = this.connectionId;
    let result: ChannelChangeResult | null = null;
    try {
      const response = await this.env.fetch(`${this.options.url}/subscriptions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        credentials: this.options.withCredentials ? "include" : "same-origin",
        body: JSON.stringify({ connectionId, token: this.token, ...change }),
      });
      const body = (await response.json().catch(() => null)) as { data?: ChannelChangeResult } | null;
      if (response.ok && body?.data) result = body.data;
    } catch {
      result = null;
    }
    // A stream that dropped meanwhile reopens with the wanted channels; this answer is stale.
    if (connectionId !== this.connectionId) return;
    if (!result) {
      // The stream is gone (404), the token no longer matches, or the server failed: reopening asks
      // for every wanted channel, and resuming from the last event id loses nothing.
      this.channels.failed();
      if (this.current === "open") this.drop();
      return;
    }
    this.channels.applied(result);
    for (const channel of result.subscribed ?? []) this.eachListener(channel, (listener) => listener.onConnect?.());
    for (const r of result.refused ?? [])
      this.eachListener(r.channel, (listener) => listener.onError?.(new ChannelRefusedError(r.channel, r.reason)));
    this.scheduleChange(); // changes made while this one was in flight
  }
}
