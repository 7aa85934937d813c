/** Test doubles of the connection's world: EventSource, fetch, timers, page wake-ups. */
import type { ConnectionEnv, EventSourceLike } from "../src/connection.js";

/** An EventSource the test drives: `emit` delivers a frame, `fail` reports an error. */
export class FakeEventSource implements EventSourceLike {
  readonly listeners = new Map<string, Array<(event: MessageEvent) => void>>();
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  private lastEventId = "";

  constructor(
    readonly url: string,
    readonly withCredentials: boolean,
  ) {}

  /** The query parameters the stream was opened with. */
  get params(): URLSearchParams {
    return new URL(this.url, "http://page.test").searchParams;
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    const list = this.listeners.get(type) ?? [];
    list.push(listener);
    this.listeners.set(type, list);
  }

  close(): void {
    this.closed = true;
  }

  /** Delivers one frame as a browser would: the last event id persists across frames without `id:`. */
  emit(type: string, data: unknown, id?: string): void {
    if (id !== undefined) this.lastEventId = id;
    const event = { data: JSON.stringify(data), lastEventId: this.lastEventId, type } as MessageEvent;
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  connected(frame: Record<string, unknown>, id?: string): void {
    this.emit("connected", { connected: true, timestamp: "2026-01-01T00:00:00.000Z", ...frame }, id);
  }

  fail(): void {
    this.onerror?.(new Event("error"));
  }
}

/** Timers on a clock the test advances. */
export class FakeClock {
  now = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  setTimeout = (callback: () => void, ms: number): number => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.now + ms, callback });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  /** Delays of the timers still pending, from now. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.now).sort((a, b) => a - b);
  }

  /** Runs every timer due within `ms`, in order, then lets promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.now = next[1].at;
      next[1].callback();
      await settle();
    }
    this.now = end;
    await settle();
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

/** A recorded POST to the subscriptions endpoint. */
export interface RecordedRequest {
  url: string;
  body: { connectionId: string; token: string; subscribe?: string[]; unsubscribe?: string[] };
  respond(status: number, body: unknown): void;
}

/** The whole fake world of a RealtimeConnection. */
export function fakeEnv(random = () => 0.5) {
  const clock = new FakeClock();
  const sources: FakeEventSource[] = [];
  const requests: RecordedRequest[] = [];
  let wake: (() => void) | null = null;
  const env: ConnectionEnv = {
    createEventSource: (url, withCredentials) => {
      const source = new FakeEventSource(url, withCredentials);
      sources.push(source);
      return source;
    },
    fetch: ((url: string, init: RequestInit) =>
      new Promise<Response>((resolve) => {
        requests.push({
          url,
          body: JSON.parse(String(init.body)),
          respond: (status, body) => resolve(new Response(JSON.stringify(body), { status })),
        });
      })) as typeof fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random,
    onWake: (callback) => {
      wake = callback;
      return () => {
        wake = null;
      };
    },
  };
  return {
    env,
    clock,
    sources,
    requests,
    /** The stream opened last. */
    get source(): FakeEventSource {
      return sources[sources.length - 1]!;
    },
    wake: () => wake?.(),
  };
}

/** BroadcastChannels of one browser: a message reaches every other open channel of its name, later. */
export class FakeBroadcast {
  private readonly open = new Set<FakeBroadcastChannel>();
  /** Every message posted, in order, with its channel's name. */
  readonly posted: Array<{ name: string; message: { type: string; [key: string]: unknown } }> = [];

  create = (name: string): FakeBroadcastChannel => {
    const channel = new FakeBroadcastChannel(this, name);
    this.open.add(channel);
    return channel;
  };

  /** @internal */
  post(from: FakeBroadcastChannel, message: unknown): void {
    if (!this.open.has(from)) return;
    const data = structuredClone(message) as { type: string };
    this.posted.push({ name: from.name, message: data });
    for (const to of this.open)
      if (to !== from && to.name === from.name)
        queueMicrotask(() => {
          if (this.open.has(to)) to.onmessage?.({ data: structuredClone(data) } as MessageEvent);
        });
  }

  /** @internal */
  close(channel: FakeBroadcastChannel): void {
    this.open.delete(channel);
  }

  /** Messages of `type` posted so far. */
  count(type: string): number {
    return this.posted.filter((p) => p.message.type === type).length;
  }
}

export class FakeBroadcastChannel {
  onmessage: ((event: MessageEvent) => void) | null = null;
  constructor(
    private readonly hub: FakeBroadcast,
    readonly name: string,
  ) {}
  postMessage(message: unknown): void {
    this.hub.post(this, message);
  }
  close(): void {
    this.hub.close(this);
  }
}

interface LockRequest {
  owner: object;
  callback: (lock: unknown) => unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  detach(): void;
}

/** Web Locks of one browser, exclusive mode: granted in request order, released when the callback settles. */
export class FakeLocks {
  private readonly holders = new Map<string, LockRequest>();
  private readonly queues = new Map<string, LockRequest[]>();

  /** The `navigator.locks` of one tab (`owner`). */
  forTab(owner: object) {
    return {
      request: (name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => unknown) =>
        this.request(owner, name, options, callback),
    };
  }

  /** The owner holding `name`, if any. */
  holder(name: string): object | undefined {
    return this.holders.get(name)?.owner;
  }

  /** The tab `owner` died: its locks are released and its waiting requests forgotten. */
  crash(owner: object): void {
    for (const [name, queue] of this.queues) this.queues.set(name, queue.filter((r) => r.owner !== owner));
    for (const [name, holder] of [...this.holders])
      if (holder.owner === owner) {
        this.holders.delete(name);
        this.grantNext(name);
      }
  }

  private request(owner: object, name: string, options: { signal?: AbortSignal }, callback: (lock: unknown) => unknown) {
    return new Promise<unknown>((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) return reject(new DOMException("aborted", "AbortError"));
      const onAbort = () => {
        const queue = this.queues.get(name) ?? [];
        const at = queue.indexOf(request);
        if (at < 0) return;
        queue.splice(at, 1);
        reject(new DOMException("aborted", "AbortError"));
      };
      const request: LockRequest = {
        owner,
        callback,
        resolve,
        reject,
        detach: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort);
      const queue = this.queues.get(name) ?? [];
      queue.push(request);
      this.queues.set(name, queue);
      this.grantNext(name);
    });
  }

  private grantNext(name: string): void {
    if (this.holders.has(name)) return;
    const request = this.queues.get(name)?.shift();
    if (!request) return;
    request.detach();
    this.holders.set(name, request);
    queueMicrotask(async () => {
      try {
        request.resolve(await request.callback({ name, mode: "exclusive" }));
      } catch (error) {
        request.reject(error);
      } finally {
        if (this.holders.get(name) === request) {
          this.holders.delete(name);
          this.grantNext(name);
        }
      }
    });
  }
}

/** Lets messages, lock grants and promise callbacks run until nothing is left. */
export async function drain(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}
