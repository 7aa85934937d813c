import { describe, expect, it } from "vitest";
import { ChannelRefusedError, RealtimeConnection } from "../src/connection.js";
import { SharedRealtimeTransport, type SharedEnv } from "../src/shared.js";
import { FakeBroadcast, FakeLocks, drain, fakeEnv, type FakeEventSource } from "./fakes.js";

/**
 * Several tabs of one browser in one process: one fake BroadcastChannel hub, one fake lock manager, and
 * one fake "server" (`world`) that records every EventSource any tab opens and every live change.
 */
function browser(options: { locks?: boolean } = {}) {
  const world = fakeEnv();
  const broadcast = new FakeBroadcast();
  const locks = new FakeLocks();
  let seed = 0;

  function openTab(name = "http://app.test/api/v1", scopes: string[] = []) {
    const owner = {};
    const channels: Array<{ close(): void }> = [];
    const connections: RealtimeConnection[] = [];
    let hide: (() => void) | null = null;
    let wake: (() => void) | null = null;
    const tabSeed = ++seed;
    const env: Partial<SharedEnv> = {
      createChannel: (channelName) => {
        const channel = broadcast.create(channelName);
        channels.push(channel);
        return channel;
      },
      locks: options.locks === false ? null : locks.forTab(owner),
      setTimeout: world.clock.setTimeout,
      clearTimeout: world.clock.clearTimeout,
      now: () => world.clock.now,
      random: () => tabSeed / 100,
      onPageHide: (callback) => {
        hide = callback;
        return () => (hide = null);
      },
      onPageShow: () => () => {},
      onWake: (callback) => {
        wake = callback;
        return () => (wake = null);
      },
    };
    const transport = new SharedRealtimeTransport(
      {
        name,
        getScopes: () => scopes,
        connect: ({ lastEventId }) => {
          const connection = new RealtimeConnection(
            { url: "/api/v1/sse/events", lastEventId, changeDelayMs: 10, backoff: { initialMs: 1000, maxMs: 16_000 } },
            { ...world.env, onWake: () => () => {} },
          );
          connections.push(connection);
          return connection;
        },
      },
      env,
    );
    const log: string[] = [];
    transport.onRevalidate((keys) => log.push(`revalidate ${keys.join(",")}`));
    transport.onResync(() => log.push("resync"));
    return {
      transport,
      log,
      connections,
      /** Subscribes a listener that logs into `log` as `<channel> <what>`. */
      listen(channel: string) {
        return transport.subscribe(channel, {
          onConnect: () => log.push(`${channel} connect`),
          onMessage: (data) => log.push(`${channel} message ${JSON.stringify(data)}`),
          onError: (error) => log.push(`${channel} ${error.name}`),
          onResync: () => log.push(`${channel} resync`),
        });
      },
      /** The page goes away normally (pagehide). */
      close: () => hide?.(),
      /** The page comes back online or visible. */
      wake: () => wake?.(),
      /** The tab dies without a word: its locks are released, its channel and stream simply vanish. */
      crash() {
        locks.crash(owner);
        for (const channel of channels) channel.close();
        for (const connection of connections) connection.stop();
      },
    };
  }

  /** Streams the server holds now. */
  const openStreams = (): FakeEventSource[] => world.sources.filter((s) => !s.closed);
  return { world, broadcast, locks, openTab, openStreams };
}

const connected = (source: FakeEventSource, channels: string[], id = "e-0") =>
  source.connected({ channels: ["revalidation", ...channels], connectionId: `c${channels.length}`, token: "t", lastEventId: id }, id);

describe("SharedRealtimeTransport", () => {
  it("elects one leader, whose single stream carries every tab's channels", async () => {
    const { world, openTab, openStreams } = browser();
    const a = openTab();
    const b = openTab();
    const c = openTab();
    a.listen("chat");
    a.transport.start();
    await drain();
    expect(a.transport.isLeader).toBe(true);
    expect(openStreams()).toHaveLength(1);
    expect(world.source.params.get("channels")).toBe("revalidation,chat");
    connected(world.source, ["chat"]);

    b.listen("news");
    c.listen("chat");
    c.listen("alerts");
    b.transport.start();
    c.transport.start();
    await drain();
    await world.clock.advance(10);
    expect([b, c].map((t) => t.transport.isLeader)).toEqual([false, false]);
    expect(openStreams()).toHaveLength(1);
    // The followers' channels went to the leader's stream as one live change, the shared one not again.
    expect(world.requests).toHaveLength(1);
    expect(world.requests[0]!.body.subscribe!.sort()).toEqual(["alerts", "news"]);
    expect(world.requests[0]!.body.unsubscribe).toEqual([]);
  });

  it("tells a follower's subscribers connected only once the leader's stream carries the channel", async () => {
    const { world, openTab } = browser();
    const a = openTab();
    const b = openTab();
    a.listen("chat");
    a.transport.start();
    await drain();
    b.listen("chat");
    b.listen("news");
    b.transport.start();
    await drain();
    expect(b.log).toEqual([]); // the stream is not open yet
    expect(b.transport.state).toBe("connecting");

    connected(world.source, ["chat"]);
    await drain();
    expect(a.log).toEqual(["chat connect"]);
    expect(b.log).toEqual(["chat connect"]); // not news: not on the stream yet
    expect(b.transport.state).toBe("open");
    expect(b.transport.channelState("news")).toBe("connecting");

    await world.clock.advance(10);
    world.requests[0]!.respond(200, { data: { subscribed: ["news"], refused: [], unsubscribed: [] }, error: null });
    await drain();
    expect(b.log).toEqual(["chat connect", "news connect"]);
    expect(a.log).toEqual(["chat connect"]); // a does not want news, and chat was connected already
  });

  it("gives a tab that joins an open stream the state of the channels it carries at once", async () => {
    const { world, openTab } = browser();
    const a = openTab();
    a.listen("chat");
    a.transport.start();
    await drain();
    connected(world.source, ["chat"]);
    const b = openTab();
    b.listen("chat");
    b.transport.start();
    await drain();
    expect(b.transport.state).toBe("open");
    expect(b.log).toEqual(["chat connect"]);
    expect(world.requests).toHaveLength(0); // nothing to change on the stream
    // A second subscriber of the same tab is connected at once, as on a connection of its own.
    let second = false;
    b.transport.subscribe("chat", { onConnect: () => (second = true) });
    expect(second).toBe(true);
  });

  it("relays a refusal to the subscribers of that channel only", async () => {
    const { world, openTab } = browser();
    const a = openTab();
    const b = openTab();
    a.listen("chat");
    a.transport.start();
    await drain();
    connected(world.source, ["chat"]);
    b.listen("admin");
    b.listen("chat");
    b.transport.start();
    await drain();
    await world.clock.advance(10);
    world.requests[0]!.respond(200, { data: { subscribed: [], refused: [{ channel: "admin", reason: "Forbidden" }] }, error: null });
    await drain();
    expect(b.log).toEqual(["chat connect", "admin ChannelRefusedError"]);
    expect(b.transport.channelState("admin")).toBe("refused");
    expect(a.log).toEqual(["chat connect"]);
    let refusal: Error | undefined;
    b.transport.subscribe("admin", { onError: (e) => (refusal = e) });
    expect(refusal).toBeInstanceOf(ChannelRefusedError);
    expect((refusal as ChannelRefusedError).reason).toBe("Forbidden");
  });

  it("relays each event once, to the tabs that want its channel, and revalidations to every tab", async () => {
    const { world, broadcast, openTab } = browser();
    const a = openTab();
    const b = openTab();
    const c = openTab();
    a.listen("chat");
    b.listen("news");
    c.listen("chat");
    for (const tab of [a, b, c]) tab.transport.start();
    await drain();
    connected(world.source, ["chat", "news"]);
    await drain();
    const before = broadcast.count("event");
    world.source.emit("message", { channel: "chat", data: { text: "hi" } }, "e-1");
    world.source.emit("revalidate", { channel: "revalidation", data: { queryKeys: ["posts.list"] } }, "e-2");
    await drain();
    expect(broadcast.count("event") - before).toBe(1);
    expect(broadcast.count("revalidate")).toBe(1);
    for (const tab of [a, c]) expect(tab.log.slice(1)).toEqual(['chat message {"text":"hi"}', "revalidate posts.list"]);
    expect(b.log.slice(1)).toEqual(["revalidate posts.list"]);
    expect(c.transport.lastEventId).toBe("e-2");
  });

  it("hands over when the leader's page goes away: the next tab resumes after the last relayed id, without duplicates", async () => {
    const { world, openTab, openStreams } = browser();
    const a = openTab();
    const b = openTab();
    const c = openTab();
    a.listen("chat");
    b.listen("chat");
    c.listen("news");
    for (const tab of [a, b, c]) tab.transport.start();
    await drain();
    connected(world.source, ["chat", "news"], "e-0");
    world.source.emit("message", { channel: "chat", data: 1 }, "e-1");
    world.source.emit("message", { channel: "news", data: 2 }, "e-2");
    await drain();
    const first = world.source;

    a.close();
    await drain();
    expect(first.closed).toBe(true);
    expect(b.transport.isLeader).toBe(true); // first in the lock's queue
    expect(openStreams()).toHaveLength(1);
    const second = world.source;
    expect(second.params.get("lastEventId")).toBe("e-2");
    expect(second.params.get("channels")!.split(",").sort()).toEqual(["chat", "news", "revalidation"]);
    expect(b.log).toEqual(["chat connect", "chat message 1", "chat ConnectionLostError"]);
    expect(c.log).toEqual(["news connect", "news message 2", "news ConnectionLostError"]);
    expect(c.transport.state).toBe("connecting");

    // The server replays from the new leader's position; an event a tab already has is not given twice.
    connected(second, ["chat", "news"], "e-2");
    second.emit("message", { channel: "news", data: 2 }, "e-2");
    second.emit("message", { channel: "news", data: 3 }, "e-3");
    second.emit("message", { channel: "chat", data: 4 }, "e-4");
    await drain();
    expect(c.log.slice(3)).toEqual(["news connect", "news message 3"]);
    expect(b.log.slice(3)).toEqual(["chat connect", "chat message 4"]);
    expect(c.transport.state).toBe("open");
  });

  it("takes over from a leader that dies without a word (its lock is released)", async () => {
    const { world, openTab, openStreams } = browser();
    const a = openTab();
    const b = openTab();
    a.listen("chat");
    b.listen("chat");
    a.transport.start();
    b.transport.start();
    await drain();
    connected(world.source, ["chat"], "e-5");
    world.source.emit("message", { channel: "chat", data: "x" }, "e-6");
    await drain();

    a.crash();
    await drain();
    expect(b.transport.isLeader).toBe(true);
    expect(openStreams()).toHaveLength(1);
    expect(world.source.params.get("lastEventId")).toBe("e-6");
    expect(world.source.params.get("channels")).toBe("revalidation,chat");
    connected(world.source, ["chat"], "e-6");
    world.source.emit("message", { channel: "chat", data: "y" }, "e-7");
    await drain();
    expect(b.log).toEqual(['chat connect', 'chat message "x"', "chat ConnectionLostError", "chat connect", 'chat message "y"']);
  });

  it("drops the channels of a follower that dies without a word", async () => {
    const { world, openTab } = browser();
    const a = openTab();
    const b = openTab();
    a.transport.start();
    await drain();
    connected(world.source, []);
    b.listen("news");
    b.transport.start();
    await drain();
    await world.clock.advance(10);
    world.requests[0]!.respond(200, { data: { subscribed: ["news"] }, error: null });
    await drain();
    b.crash();
    await drain();
    await world.clock.advance(10);
    expect(world.requests).toHaveLength(2);
    expect(world.requests[1]!.body.unsubscribe).toEqual(["news"]);
  });

  it("removes a channel from the stream only when the last tab that wants it lets go", async () => {
    const { world, openTab } = browser();
    const a = openTab();
    const b = openTab();
    const offA = a.listen("chat");
    const offB = b.listen("chat");
    a.transport.start();
    b.transport.start();
    await drain();
    connected(world.source, ["chat"]);
    await drain();
    offA(); // the leader's own interest goes, the follower's stays
    await drain();
    await world.clock.advance(10);
    expect(world.requests).toHaveLength(0);
    offB();
    await drain();
    await world.clock.advance(10);
    expect(world.requests).toHaveLength(1);
    expect(world.requests[0]!.body).toMatchObject({ subscribe: [], unsubscribe: ["chat"] });
  });

  it("removes the channels of a follower that stops", async () => {
    const { world, openTab } = browser();
    const a = openTab();
    const b = openTab();
    a.transport.start();
    b.listen("news");
    b.transport.start();
    await drain();
    connected(world.source, ["news"]);
    b.transport.stop();
    await drain();
    await world.clock.advance(10);
    expect(world.requests[0]!.body.unsubscribe).toEqual(["news"]);
    expect(b.transport.state).toBe("closed");
  });

  it("relays a gap the server could not replay once, and not the full revalidation that follows it", async () => {
    const { world, openTab } = browser();
    const a = openTab();
    const b = openTab();
    b.listen("chat");
    a.transport.start();
    b.transport.start();
    await drain();
    world.source.connected({ channels: ["revalidation", "chat"], connectionId: "1", token: "t", resync: true }, "e-9");
    world.source.emit("revalidate", { channel: "revalidation", data: { queryKeys: [""] } }, "e-9");
    await drain();
    expect(a.log).toEqual(["resync"]);
    expect(b.log).toEqual(["chat connect", "resync", "chat resync"]);
  });

  it("tells the leader's stream when a follower's page comes back", async () => {
    const { world, openTab } = browser();
    const a = openTab();
    const b = openTab();
    a.transport.start();
    b.transport.start();
    await drain();
    world.source.fail();
    await drain();
    expect(b.transport.state).toBe("reconnecting");
    expect(world.sources).toHaveLength(1);
    b.wake();
    await drain();
    expect(world.sources).toHaveLength(2); // the 1 s wait was cut short
  });

  it("shares only between tabs of the same app and the same scopes", async () => {
    const { openTab, openStreams } = browser();
    const tabs = [
      openTab("http://app.test/api/v1", ["user:1"]),
      openTab("http://app.test/api/v1", ["user:1"]),
      openTab("http://app.test/api/v1", ["user:2"]),
      openTab("http://app.test/other/api", ["user:1"]),
    ];
    for (const tab of tabs) tab.transport.start();
    await drain();
    expect(tabs.map((t) => t.transport.isLeader)).toEqual([true, false, true, true]);
    expect(openStreams()).toHaveLength(3);
  });

  it("elects the oldest tab with heartbeats when there are no Web Locks, and replaces a silent leader", async () => {
    const { world, openTab, openStreams } = browser({ locks: false });
    const a = openTab();
    const b = openTab();
    a.listen("chat");
    b.listen("chat");
    a.transport.start();
    await drain();
    await world.clock.advance(1);
    b.transport.start();
    await drain();
    expect(openStreams()).toHaveLength(0); // nobody claims before one heartbeat period
    await world.clock.advance(1000);
    await drain();
    expect(a.transport.isLeader).toBe(true);
    await world.clock.advance(1000);
    await drain();
    expect(b.transport.isLeader).toBe(false);
    expect(openStreams()).toHaveLength(1);
    connected(world.source, ["chat"], "e-1");
    world.source.emit("message", { channel: "chat", data: "x" }, "e-2");
    await drain();
    expect(b.log).toEqual(["chat connect", 'chat message "x"']);

    a.crash();
    for (let i = 0; i < 6 && !b.transport.isLeader; i += 1) {
      await world.clock.advance(1000);
      await drain();
    }
    expect(b.transport.isLeader).toBe(true);
    expect(openStreams()).toHaveLength(1);
    expect(world.source.params.get("lastEventId")).toBe("e-2");
    expect(b.log.at(-1)).toBe("chat ConnectionLostError");
  });

  it("hands over at once with heartbeats when the leader says goodbye", async () => {
    const { world, openTab, openStreams } = browser({ locks: false });
    const a = openTab();
    const b = openTab();
    a.transport.start();
    await world.clock.advance(1);
    b.transport.start();
    await drain();
    await world.clock.advance(1000);
    await drain();
    expect(a.transport.isLeader).toBe(true);
    a.close();
    await drain();
    expect(b.transport.isLeader).toBe(true);
    expect(openStreams()).toHaveLength(1);
  });

  it("stops and starts again (React StrictMode), leading again when alone", async () => {
    const { world, openTab, openStreams } = browser();
    const a = openTab();
    a.listen("chat");
    a.transport.start();
    a.transport.stop();
    a.transport.start();
    await drain();
    expect(a.transport.isLeader).toBe(true);
    expect(openStreams()).toHaveLength(1);
    connected(world.source, ["chat"]);
    await drain();
    expect(a.log).toEqual(["chat connect"]);
  });

  it("changes the stream for the leader's own channels as for anyone's", async () => {
    const { world, openTab } = browser();
    const a = openTab();
    a.transport.start();
    await drain();
    connected(world.source, []);
    const off = a.listen("mine");
    await world.clock.advance(10);
    expect(world.requests[0]!.body.subscribe).toEqual(["mine"]);
    world.requests[0]!.respond(200, { data: { subscribed: ["mine"] }, error: null });
    await drain();
    expect(a.log).toEqual(["mine connect"]);
    off();
    await world.clock.advance(10);
    expect(world.requests[1]!.body.unsubscribe).toEqual(["mine"]);
  });
});
