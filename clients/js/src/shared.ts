/**
 * One realtime stream per browser, not per tab: a `RealtimeTransport` that the tabs of one origin share.
 *
 * The tabs that use one app (its base URL) and ask for the same scopes form a group, with a
 * BroadcastChannel and Web Locks named after both. One tab of the group leads: it owns the only
 * `RealtimeConnection`, which carries the union of every tab's channels (a channel stays while any tab
 * wants it), and relays what it receives — events, revalidations, resyncs, the stream's state, each
 * channel's state (connected, refused) — over the BroadcastChannel. Every tab, the leader included,
 * turns those into the callbacks a connection of its own would give: `onConnect` once the stream really
 * carries the channel, `ChannelRefusedError`, `ConnectionLostError` when the stream (or the leader) is
 * gone, `onResync` after a gap.
 *
 * - Election: the leader holds the lock `<group>:leader` (`navigator.locks.request`). Followers queue
 *   for it, so one of them gets it as soon as the leader is gone, whether it said goodbye (`pagehide`,
 *   `stop()`) or died (the browser releases a dead tab's locks). Each tab also holds `<group>:tab:<id>`
 *   for its lifetime; the leader waits on those to drop the channels of a tab that died silently.
 *   Without Web Locks, tabs send heartbeats and the oldest live tab leads.
 * - Every tab broadcasts its own set of channels whenever it changes, and answers a newcomer's hello
 *   with it, so every tab knows the union and a new leader opens its stream with it at once.
 * - Hand-over: the new leader's stream resumes after the last event id that tab received, so the server
 *   replays what the old leader had not relayed; every tab drops event ids it already delivered (the
 *   last 1024), so nothing arrives twice. This relies on every event carrying an id, as ours do.
 *
 * Everything outside (BroadcastChannel, locks, timers, page events) comes from a `SharedEnv`, and the
 * leader's connection from `options.connect`, so tests run several tabs in one process with fakes.
 */
import { CallbackRegistry } from "./callbacks.js";
import {
  ChannelRefusedError,
  ConnectionLostError,
  browserEnv,
  type ChannelListener,
  type ChannelState,
  type ConnectionState,
  type MessageEnvelope,
  type RealtimeTransport,
} from "./connection.js";

/** What the shared transport needs of a BroadcastChannel. */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
}

/** What the shared transport needs of `navigator.locks`. */
export interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => unknown): Promise<unknown>;
}

/** What the shared transport needs of the page's world; every member has a browser default. */
export interface SharedEnv {
  createChannel(name: string): BroadcastChannelLike;
  /** Web Locks; null elects the leader with heartbeats instead. */
  locks: LockManagerLike | null;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
  random(): number;
  /** Calls `callback` when the page goes away (`pagehide`); returns an unsubscribe. */
  onPageHide(callback: () => void): () => void;
  /** Calls `callback` when the page comes back from the back/forward cache; returns an unsubscribe. */
  onPageShow(callback: () => void): () => void;
  /** Calls `callback` when reconnecting now is worth it (online, page visible); returns an unsubscribe. */
  onWake(callback: () => void): () => void;
}

/** The leader's stream: a `RealtimeConnection`, or anything with its resume position and wake-up. */
export interface LeaderConnection extends RealtimeTransport {
  /** The id of the last event received (read while the connection delivers an event: that event's id). */
  readonly lastEventId: string | null;
  /** Cuts a pending reconnect wait short. */
  wake(): void;
}

/** Settings of a SharedRealtimeTransport. */
export interface SharedTransportOptions {
  /** Names the app: tabs share a stream only with the same name (and scopes). See `sharedStreamName`. */
  name: string;
  /** Makes the leader's stream, resuming after `lastEventId` (a `RealtimeConnection` of the client). */
  connect(options: { lastEventId: string | null }): LeaderConnection;
  /** Scopes the page asks for: tabs asking for other scopes form another group. Called at each start. */
  getScopes?: () => readonly string[] | Promise<readonly string[]>;
  /** Heartbeat period when there are no Web Locks (default 1000 ms). */
  heartbeatMs?: number;
  /** A tab silent this long is gone, when there are no Web Locks (default 5000 ms). */
  heartbeatTimeoutMs?: number;
}

/** Whether this page can share a stream between tabs the default way (BroadcastChannel and Web Locks). */
export function canShareTabs(): boolean {
  return typeof BroadcastChannel === "function" && typeof navigator !== "undefined" && !!navigator.locks;
}

/** The sharing name of an app: its base URL made absolute, so two apps on one origin never mix. */
export function sharedStreamName(baseURL: string): string {
  const page = typeof location !== "undefined" ? location.href : "http://localhost/";
  return new URL(baseURL, page).href.replace(/\/+$/, "");
}

/** The browser's BroadcastChannel, Web Locks, timers and page events. */
export function browserSharedEnv(): SharedEnv {
  const onPage = (type: "pagehide" | "pageshow", callback: () => void) => {
    if (typeof window === "undefined") return () => {};
    // Only a page restored from the back/forward cache needs to join again.
    const handler = (event: Event) => {
      if (type === "pagehide" || (event as PageTransitionEvent).persisted) callback();
    };
    window.addEventListener(type, handler);
    return () => window.removeEventListener(type, handler);
  };
  return {
    createChannel: (name) => new BroadcastChannel(name),
    locks: typeof navigator !== "undefined" && navigator.locks ? navigator.locks : null,
    setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
    clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
    now: () => Date.now(),
    random: Math.random,
    onPageHide: (callback) => onPage("pagehide", callback),
    onPageShow: (callback) => onPage("pageshow", callback),
    onWake: browserEnv().onWake,
  };
}

/** Messages between the tabs of a group. `tab` is the sender. */
type TabMessage =
  | { type: "hello" | "tab"; tab: string; born: number; channels: string[] } // the sender's channels
  | { type: "bye"; tab: string }
  | { type: "beat"; tab: string; born: number }
  | { type: "wake"; tab: string };
/** Messages of the leader; a tab applies them only from the leader it follows. */
type LeaderMessage =
  | { type: "leader"; tab: string }
  | { type: "state"; tab: string; state: ConnectionState; last: string | null }
  | { type: "channel"; tab: string; channel: string; state: "connected" | "refused"; reason?: string }
  | { type: "event"; tab: string; id: string | null; envelope: MessageEnvelope }
  | { type: "revalidate"; tab: string; id: string | null; keys: string[] }
  | { type: "resync"; tab: string };
type Message = TabMessage | LeaderMessage;
type Unsent<M> = M extends unknown ? Omit<M, "tab"> : never;

/** What an election tells the transport. */
interface ElectionEvents {
  elected(): void;
  /** Another tab leads now (heartbeats only: a lock is held until released). */
  deposed(): void;
  /** A tab is gone without saying goodbye. */
  gone(tab: string): void;
}

interface Election {
  /** Starts competing; `ready` is called once other tabs may learn of this one. */
  start(ready: () => void): void;
  stop(): void;
  /** A message from another tab (heartbeats count them as signs of life). */
  heard(message: Message): void;
  /** While leading: report when `tab` goes away. */
  watch(tab: string): void;
  unwatch(tab: string): void;
  /** Leadership ended on this side (the leader stopped relaying). */
  abdicated(): void;
}

/** Leader election with Web Locks: the lock's holder leads; a waiting tab gets it when the holder is gone. */
class LockElection implements Election {
  private readonly pending = new AbortController();
  private readonly held: Array<() => void> = [];
  private readonly watches = new Map<string, AbortController>();
  private stopped = false;

  constructor(
    private readonly locks: LockManagerLike,
    private readonly group: string,
    private readonly tab: string,
    private readonly events: ElectionEvents,
  ) {}

  start(ready: () => void): void {
    this.hold(`${this.group}:tab:${this.tab}`, () => {
      ready();
      this.hold(`${this.group}:leader`, () => this.events.elected());
    });
  }

  stop(): void {
    this.stopped = true;
    this.pending.abort();
    this.abdicated();
    for (const release of this.held.splice(0)) release();
  }

  heard(): void {}

  watch(tab: string): void {
    if (this.stopped || this.watches.has(tab)) return;
    const abort = new AbortController();
    this.watches.set(tab, abort);
    // Granted when the tab released its lock: it stopped, or it died without a word.
    this.locks
      .request(`${this.group}:tab:${tab}`, { signal: abort.signal }, () => {
        if (this.watches.get(tab) !== abort) return;
        this.watches.delete(tab);
        this.events.gone(tab);
      })
      .catch(() => {});
  }

  unwatch(tab: string): void {
    this.watches.get(tab)?.abort();
    this.watches.delete(tab);
  }

  abdicated(): void {
    for (const abort of this.watches.values()) abort.abort();
    this.watches.clear();
  }

  /** Holds `name` from when it is granted until stop(); calls `granted` then. */
  private hold(name: string, granted: () => void): void {
    this.locks
      .request(name, { signal: this.pending.signal }, () => {
        if (this.stopped) return;
        granted();
        return new Promise<void>((resolve) => this.held.push(resolve));
      })
      .catch(() => {}); // aborted by stop()
  }
}

/** Leader election without Web Locks: every tab beats; the oldest tab heard from recently leads. */
class HeartbeatElection implements Election {
  private readonly alive = new Map<string, { born: number; seen: number }>();
  private timer: unknown = null;
  private leading = false;
  private settled = false;

  constructor(
    private readonly env: SharedEnv,
    private readonly tab: string,
    private readonly born: number,
    private readonly beatMs: number,
    private readonly timeoutMs: number,
    private readonly post: (message: Unsent<TabMessage>) => void,
    private readonly events: ElectionEvents,
  ) {}

  start(ready: () => void): void {
    ready();
    // One period to hear the tabs that answer the hello before anyone claims to lead.
    this.timer = this.env.setTimeout(() => this.tick(), this.beatMs);
  }

  stop(): void {
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = null;
    this.leading = false;
  }

  heard(message: Message): void {
    const now = this.env.now();
    if (message.type === "bye") {
      this.alive.delete(message.tab);
    } else if ("born" in message) {
      this.alive.set(message.tab, { born: message.born, seen: now });
    } else {
      const entry = this.alive.get(message.tab);
      if (entry) entry.seen = now;
    }
    // A leader that hears of an older tab (both started at once) steps down at once.
    if (this.settled && (message.type === "bye" || this.leading)) this.evaluate();
  }

  watch(): void {}
  unwatch(): void {}

  abdicated(): void {
    this.leading = false;
  }

  private tick(): void {
    this.settled = true;
    this.post({ type: "beat", born: this.born });
    const limit = this.env.now() - this.timeoutMs;
    for (const [tab, entry] of [...this.alive])
      if (entry.seen < limit) {
        this.alive.delete(tab);
        this.events.gone(tab);
      }
    this.evaluate();
    if (this.timer !== null) this.timer = this.env.setTimeout(() => this.tick(), this.beatMs);
  }

  private evaluate(): void {
    let oldest = { tab: this.tab, born: this.born };
    for (const [tab, { born }] of this.alive)
      if (born < oldest.born || (born === oldest.born && tab < oldest.tab)) oldest = { tab, born };
    if (oldest.tab === this.tab && !this.leading) {
      this.leading = true;
      this.events.elected();
    } else if (oldest.tab !== this.tab && this.leading) {
      this.leading = false;
      this.events.deposed();
    }
  }
}

/** The leader's side: one connection carrying the union of channels, relaying all it receives. */
class Relay {
  private readonly subscribed = new Map<string, () => void>();
  private readonly refusals = new Map<string, string>();
  private offs: Array<() => void> = [];

  constructor(
    private readonly connection: LeaderConnection,
    private readonly emit: (message: Unsent<LeaderMessage>) => void,
  ) {}

  start(union: ReadonlySet<string>): void {
    const connection = this.connection;
    this.offs = [
      connection.onStateChange((state) => this.emit({ type: "state", state, last: connection.lastEventId })),
      connection.onRevalidate((keys) => this.emit({ type: "revalidate", id: connection.lastEventId, keys })),
      connection.onResync(() => this.emit({ type: "resync" })),
    ];
    this.sync(union, []);
    connection.start();
  }

  /** Stops relaying; followers learn it from the goodbye or the next leader, not from a "closed" state. */
  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
    this.connection.stop();
    this.subscribed.clear();
  }

  wake(): void {
    this.connection.wake();
  }

  /** Tells a newcomer who leads and how the stream is. */
  introduce(): void {
    this.emit({ type: "leader" });
    this.emit({ type: "state", state: this.connection.state, last: this.connection.lastEventId });
  }

  /** Brings the stream to `union`; tells the state of `announce` (channels a tab just added) if known. */
  sync(union: ReadonlySet<string>, announce: Iterable<string>): void {
    for (const [channel, off] of [...this.subscribed])
      if (!union.has(channel)) {
        this.subscribed.delete(channel);
        this.refusals.delete(channel);
        off();
      }
    const added = new Set<string>();
    for (const channel of union)
      if (!this.subscribed.has(channel)) {
        added.add(channel); // subscribe() reports a state it knows already through the listener
        this.subscribed.set(channel, this.connection.subscribe(channel, this.listener(channel)));
      }
    for (const channel of announce) {
      if (added.has(channel) || !this.subscribed.has(channel)) continue;
      const state = this.connection.channelState(channel);
      if (state === "connected") this.emit({ type: "channel", channel, state });
      else if (state === "refused")
        this.emit({ type: "channel", channel, state, reason: this.refusals.get(channel) ?? "" });
    }
  }

  private listener(channel: string): ChannelListener {
    return {
      onConnect: () => {
        this.refusals.delete(channel);
        this.emit({ type: "channel", channel, state: "connected" });
      },
      onError: (error) => {
        // A drop reaches the tabs as the stream's state.
        if (!(error instanceof ChannelRefusedError)) return;
        this.refusals.set(channel, error.reason);
        this.emit({ type: "channel", channel, state: "refused", reason: error.reason });
      },
      // The connection sets its last event id before it delivers: this event's id.
      onMessage: (_data, envelope) => this.emit({ type: "event", id: this.connection.lastEventId, envelope }),
    };
  }
}

/** Event ids delivered lately (insertion order), to drop the ones a hand-over replays. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}

  /** True the first time `id` is seen. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string);
    return true;
  }
}

/** A realtime transport shared by the tabs of one browser. See the file comment. */
export class SharedRealtimeTransport extends CallbackRegistry implements RealtimeTransport {
  private readonly env: SharedEnv;
  private readonly channelStates = new Map<string, { state: ChannelState; reason?: string }>();
  private readonly delivered = new RecentIds(1024);
  /** Every other tab of the group and its channels. */
  private readonly tabs = new Map<string, Set<string>>();
  private lastId: string | null = null;
  private running = false;
  private generation = 0;
  private offPage: Array<() => void> = [];
  private tab = "";
  private born = 0;
  private port: BroadcastChannelLike | null = null;
  private election: Election | null = null;
  private relay: Relay | null = null;
  private leaderId: string | null = null;

  constructor(
    private readonly options: SharedTransportOptions,
    env: Partial<SharedEnv> = {},
  ) {
    super();
    this.env = { ...browserSharedEnv(), ...env };
  }

  /** Whether this tab holds the stream now. */
  get isLeader(): boolean {
    return this.relay !== null;
  }

  /** This tab's id in its group ("" before it joined). */
  get tabId(): string {
    return this.tab;
  }

  /** The id of the last event this tab received: where its stream resumes if it takes over. */
  get lastEventId(): string | null {
    return this.lastId;
  }

  channelState(channel: string): ChannelState {
    return this.channelStates.get(channel)?.state ?? "connecting";
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.setState("connecting");
    this.offPage = [
      this.env.onPageHide(() => {
        this.leave();
        this.lost();
      }),
      this.env.onPageShow(() => {
        if (this.port === null) void this.join();
      }),
      this.env.onWake(() => {
        if (this.relay) this.relay.wake();
        else this.post({ type: "wake" });
      }),
    ];
    void this.join();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const off of this.offPage) off();
    this.offPage = [];
    this.leave();
    this.channelStates.clear();
    this.setState("closed");
  }

  subscribe(channel: string, listener: ChannelListener): () => void {
    const first = !this.isListened(channel);
    const remove = this.listen(channel, listener, (last) => {
      if (!last) return;
      this.channelStates.delete(channel);
      this.changed([]);
    });
    const known = this.channelStates.get(channel);
    if (known?.state === "connected") listener.onConnect?.();
    else if (known?.state === "refused") listener.onError?.(new ChannelRefusedError(channel, known.reason ?? ""));
    if (first) this.changed([channel]);
    return remove;
  }

  private async join(): Promise<void> {
    const generation = ++this.generation;
    let scopes: readonly string[] = [];
    try {
      scopes = (await this.options.getScopes?.()) ?? [];
    } catch {
      scopes = [];
    }
    if (generation !== this.generation || !this.running) return;
    const group = `igniter-realtime ${this.options.name} ${[...scopes].sort().join(",")}`;
    this.tab = `${this.env.now().toString(36)}-${Math.floor(this.env.random() * 2 ** 40).toString(36)}`;
    this.born = this.env.now();
    const port = this.env.createChannel(group);
    port.onmessage = (event) => {
      if (this.port === port) this.receive(event.data as Message);
    };
    this.port = port;
    const events: ElectionEvents = {
      elected: () => this.lead(),
      deposed: () => this.abdicate(),
      gone: (tab) => this.forget(tab),
    };
    this.election = this.env.locks
      ? new LockElection(this.env.locks, group, this.tab, events)
      : new HeartbeatElection(
          this.env,
          this.tab,
          this.born,
          this.options.heartbeatMs ?? 1000,
          this.options.heartbeatTimeoutMs ?? 5000,
          (message) => this.post(message),
          events,
        );
    this.election.start(() => this.post({ type: "hello", born: this.born, channels: this.ownChannels() }));
  }

  /** Leaves the group: the stream (if this tab held it) closes, and the next leader takes over. */
  private leave(): void {
    this.generation += 1;
    this.relay?.stop();
    this.relay = null;
    if (this.port) {
      this.post({ type: "bye" });
      this.port.close();
      this.port = null;
    }
    this.election?.stop();
    this.election = null;
    this.tabs.clear();
    this.leaderId = null;
  }

  private post(message: Unsent<Message>): void {
    this.port?.postMessage({ ...message, tab: this.tab });
  }

  /** Sends a leader message to the other tabs and applies it here. */
  private emit(message: Unsent<LeaderMessage>): void {
    const full = { ...message, tab: this.tab } as LeaderMessage;
    this.port?.postMessage(full);
    this.apply(full);
  }

  private ownChannels(): string[] {
    return this.listenedChannels();
  }

  private union(): Set<string> {
    const union = new Set(this.listenedChannels());
    for (const channels of this.tabs.values()) for (const channel of channels) union.add(channel);
    return union;
  }

  /** This tab's channels changed (`added` are new). */
  private changed(added: string[]): void {
    if (!this.port) return;
    this.post({ type: "tab", born: this.born, channels: this.ownChannels() });
    this.relay?.sync(this.union(), added);
  }

  private receive(message: Message): void {
    if (!message || typeof message !== "object" || typeof message.tab !== "string" || message.tab === this.tab) return;
    this.election?.heard(message);
    switch (message.type) {
      case "hello":
      case "tab": {
        const before = this.tabs.get(message.tab);
        this.tabs.set(message.tab, new Set(message.channels));
        // A newcomer learns every tab's channels: it may lead one day.
        if (message.type === "hello") this.post({ type: "tab", born: this.born, channels: this.ownChannels() });
        if (!this.relay) return;
        if (!before) this.election?.watch(message.tab);
        if (message.type === "hello") this.relay.introduce();
        this.relay.sync(
          this.union(),
          message.channels.filter((c) => !before?.has(c)),
        );
        return;
      }
      case "bye":
        this.forget(message.tab);
        return;
      case "beat":
        return;
      case "wake":
        this.relay?.wake();
        return;
      case "leader":
        this.follow(message.tab);
        return;
      default:
        if (message.tab === this.leaderId) this.apply(message);
    }
  }

  /** `tab` is gone: its channels leave the union; if it led, the stream is lost until the next leader. */
  private forget(tab: string): void {
    const had = this.tabs.delete(tab);
    this.election?.unwatch(tab);
    if (tab === this.leaderId) {
      this.leaderId = null;
      this.lost();
    }
    if (had && this.relay) this.relay.sync(this.union(), []);
  }

  /** Another tab leads now. */
  private follow(leader: string): void {
    if (leader === this.leaderId || this.relay) return; // we lead: the election settles it (heartbeats)
    if (this.leaderId) this.tabs.delete(this.leaderId); // gone; if not, its channels come again
    this.leaderId = leader;
    this.lost();
    this.post({ type: "tab", born: this.born, channels: this.ownChannels() });
  }

  /** This tab leads now: it opens the stream with every tab's channels, after the last id it received. */
  private lead(): void {
    if (!this.port || this.relay) return;
    if (this.leaderId) this.tabs.delete(this.leaderId);
    this.leaderId = this.tab;
    this.lost();
    this.post({ type: "leader" });
    const relay = new Relay(this.options.connect({ lastEventId: this.lastId }), (message) => this.emit(message));
    this.relay = relay;
    for (const tab of this.tabs.keys()) this.election?.watch(tab);
    relay.start(this.union());
  }

  /** Another tab is older (heartbeats only): stop relaying, and ask to be introduced. */
  private abdicate(): void {
    this.relay?.stop();
    this.relay = null;
    this.election?.abdicated();
    this.leaderId = null;
    this.lost();
    this.post({ type: "hello", born: this.born, channels: this.ownChannels() });
  }

  /**
   * The stream this tab relied on is not open (any more): channels wait for it again, and the
   * subscribers that had been told "connected" get a ConnectionLostError, as after a drop.
   */
  private lost(state?: ConnectionState): void {
    const dropped = [...this.channelStates].filter(([, s]) => s.state === "connected").map(([c]) => c);
    this.channelStates.clear();
    this.setState(state ?? (this.current === "open" ? "reconnecting" : this.current));
    this.fail(dropped, new ConnectionLostError());
  }

  /** True the first time an event id is seen here (or when the event has none); it becomes the resume point. */
  private fresh(id: string | null): boolean {
    if (!id) return true;
    if (!this.delivered.add(id)) return false;
    this.lastId = id;
    return true;
  }

  /** What the leader relayed, as this tab's own connection would have given it. */
  private apply(message: LeaderMessage): void {
    switch (message.type) {
      case "state":
        if (message.last) this.lastId = message.last;
        if (message.state === "open") this.setState("open");
        else this.lost(message.state === "closed" ? "reconnecting" : message.state);
        return;
      case "channel": {
        if (!this.isListened(message.channel) || this.channelState(message.channel) === message.state) return;
        this.channelStates.set(message.channel, { state: message.state, reason: message.reason });
        if (message.state === "refused")
          this.fail([message.channel], new ChannelRefusedError(message.channel, message.reason ?? ""));
        else this.eachListener(message.channel, (listener) => listener.onConnect?.());
        return;
      }
      case "event": {
        if (!this.fresh(message.id)) return;
        this.deliver(message.envelope);
        return;
      }
      case "revalidate":
        if (!this.fresh(message.id)) return;
        this.revalidated(message.keys);
        return;
      case "resync":
        this.resynced();
        return;
      case "leader":
        return;
    }
  }
}
