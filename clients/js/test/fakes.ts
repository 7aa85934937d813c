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
