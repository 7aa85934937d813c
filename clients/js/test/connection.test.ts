import { describe, expect, it } from "vitest";
import { ChannelRefusedError, ConnectionLostError, RealtimeConnection } from "../src/connection.js";
import { fakeEnv, settle } from "./fakes.js";

function setup(options: { scopes?: string[]; random?: () => number } = {}) {
  const world = fakeEnv(options.random);
  const connection = new RealtimeConnection(
    {
      url: "/api/v1/sse/events",
      getScopes: () => options.scopes ?? [],
      backoff: { initialMs: 1000, maxMs: 16_000 },
      changeDelayMs: 10,
    },
    world.env,
  );
  return { world, connection };
}

function recorder() {
  const log: string[] = [];
  return {
    log,
    listener: {
      onConnect: () => log.push("connect"),
      onMessage: (data: unknown) => log.push(`message ${JSON.stringify(data)}`),
      onError: (error: Error) => log.push(`error ${error.name}`),
      onResync: () => log.push("resync"),
    },
  };
}

describe("RealtimeConnection", () => {
  it("opens one stream with the revalidation channel, the hooks' channels and the page's scopes", async () => {
    const { world, connection } = setup({ scopes: ["user:1", "role:admin"] });
    connection.subscribe("notifications.stream", {});
    connection.start();
    await settle();
    expect(world.sources).toHaveLength(1);
    expect(world.source.url.startsWith("/api/v1/sse/events?")).toBe(true);
    expect(world.source.params.get("channels")).toBe("revalidation,notifications.stream");
    expect(world.source.params.get("scopes")).toBe("user:1,role:admin");
    expect(world.source.params.has("lastEventId")).toBe(false);
  });

  it("calls onConnect only once the server's connected frame carries the channel", async () => {
    const { world, connection } = setup();
    const { log, listener } = recorder();
    connection.subscribe("notifications.stream", listener);
    connection.start();
    await settle();
    expect(log).toEqual([]);
    expect(connection.channelState("notifications.stream")).toBe("connecting");
    world.source.connected({ channels: ["revalidation", "notifications.stream"], connectionId: "7", token: "t" });
    expect(log).toEqual(["connect"]);
    expect(connection.state).toBe("open");
  });

  it("adds and removes channels on the open stream through the subscriptions endpoint, without reopening", async () => {
    const { world, connection } = setup();
    connection.start();
    await settle();
    world.source.connected({ channels: ["revalidation"], connectionId: "7", token: "secret" }, "e-1");
    const { log, listener } = recorder();
    const off = connection.subscribe("chat.room", listener);
    const off2 = connection.subscribe("other", {});
    await world.clock.advance(10);
    expect(world.requests).toHaveLength(1);
    expect(world.requests[0]!.url).toBe("/api/v1/sse/events/subscriptions");
    expect(world.requests[0]!.body).toEqual({
      connectionId: "7",
      token: "secret",
      subscribe: ["chat.room", "other"],
      unsubscribe: [],
    });
    expect(log).toEqual([]); // not before the server confirmed
    world.requests[0]!.respond(200, { data: { subscribed: ["chat.room", "other"], refused: [], unsubscribed: [] }, error: null });
    await settle();
    expect(log).toEqual(["connect"]);
    off();
    off2();
    await world.clock.advance(10);
    expect(world.requests[1]!.body.unsubscribe).toEqual(["chat.room", "other"]);
    world.requests[1]!.respond(200, { data: { subscribed: [], refused: [], unsubscribed: ["chat.room", "other"] }, error: null });
    await settle();
    expect(world.sources).toHaveLength(1);
    expect(world.source.closed).toBe(false);
  });

  it("sends changes made while one is in flight as the next change", async () => {
    const { world, connection } = setup();
    connection.start();
    await settle();
    world.source.connected({ channels: ["revalidation"], connectionId: "7", token: "t" });
    connection.subscribe("a", {});
    await world.clock.advance(10);
    connection.subscribe("b", {});
    await world.clock.advance(10);
    expect(world.requests).toHaveLength(1);
    world.requests[0]!.respond(200, { data: { subscribed: ["a"] }, error: null });
    await settle();
    await world.clock.advance(10);
    expect(world.requests).toHaveLength(2);
    expect(world.requests[1]!.body.subscribe).toEqual(["b"]);
  });

  it("reports a channel refused at connect or on a live change to that channel's subscribers only", async () => {
    const { world, connection } = setup();
    const secret = recorder();
    const open = recorder();
    connection.subscribe("admin.stream", secret.listener);
    connection.subscribe("public", open.listener);
    connection.start();
    await settle();
    world.source.connected({
      channels: ["revalidation", "public"],
      refused: [{ channel: "admin.stream", reason: "Forbidden" }],
      connectionId: "1",
      token: "t",
    });
    expect(secret.log).toEqual(["error ChannelRefusedError"]);
    expect(open.log).toEqual(["connect"]);
    expect(connection.channelState("admin.stream")).toBe("refused");
    await world.clock.advance(10);
    expect(world.requests).toHaveLength(0); // not asked again on the same stream

    const late = recorder();
    let refusal: Error | undefined;
    connection.subscribe("other.secret", { ...late.listener, onError: (e) => (refusal = e) });
    await world.clock.advance(10);
    world.requests[0]!.respond(200, { data: { subscribed: [], refused: [{ channel: "other.secret", reason: "No" }] }, error: null });
    await settle();
    expect(refusal).toBeInstanceOf(ChannelRefusedError);
    expect((refusal as ChannelRefusedError).reason).toBe("No");
  });

  it("delivers messages to the subscribers of their channel, payload first", async () => {
    const { world, connection } = setup();
    const a = recorder();
    const b = recorder();
    connection.subscribe("a", a.listener);
    connection.subscribe("b", b.listener);
    connection.start();
    await settle();
    world.source.connected({ channels: ["revalidation", "a", "b"], connectionId: "1", token: "t" });
    world.source.emit("message", { channel: "a", data: { text: "hi" }, timestamp: "x" }, "e-2");
    world.source.emit("message", { channel: "a", data: 0, timestamp: "x" }, "e-3");
    expect(a.log).toEqual(["connect", 'message {"text":"hi"}', "message 0"]);
    expect(b.log).toEqual(["connect"]);
  });

  it("resumes after a drop from the last event id seen, with the channels wanted now", async () => {
    const { world, connection } = setup();
    const { log, listener } = recorder();
    connection.start();
    await settle();
    world.source.connected({ channels: ["revalidation"], connectionId: "1", token: "t", lastEventId: "e-0" }, "e-0");
    connection.subscribe("a", listener);
    await world.clock.advance(10);
    world.requests[0]!.respond(200, { data: { subscribed: ["a"] }, error: null });
    await settle();
    world.source.emit("message", { channel: "a", data: 1 }, "e-5");
    world.source.emit("revalidate", { channel: "revalidation", data: { queryKeys: ["x"] } }, "e-6");
    world.source.fail();
    expect(world.sources[0]!.closed).toBe(true);
    expect(connection.state).toBe("reconnecting");
    expect(log).toEqual(["connect", "message 1", "error ConnectionLostError"]);
    await world.clock.advance(1000);
    expect(world.sources).toHaveLength(2);
    expect(world.source.params.get("lastEventId")).toBe("e-6");
    expect(world.source.params.get("channels")).toBe("revalidation,a");
    world.source.connected({ channels: ["revalidation", "a"], connectionId: "2", token: "u", lastEventId: "e-6" }, "e-6");
    expect(log.at(-1)).toBe("connect");
  });

  it("ignores frames of a stream it already left", async () => {
    const { world, connection } = setup();
    const { log, listener } = recorder();
    connection.subscribe("a", listener);
    connection.start();
    await settle();
    const old = world.source;
    old.connected({ channels: ["revalidation", "a"], connectionId: "1", token: "t" });
    old.fail();
    old.emit("message", { channel: "a", data: "late" }, "e-9");
    expect(log).toEqual(["connect", "error ConnectionLostError"]);
    expect(connection.lastEventId).toBeNull();
  });

  it("waits longer after each failed attempt, capped, never giving up, and from the start after a success", async () => {
    const { world, connection } = setup({ random: () => 1 });
    connection.start();
    await settle();
    const delays: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      world.source.fail();
      delays.push(world.clock.pending()[0]!);
      await world.clock.advance(delays.at(-1)!);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 16_000, 16_000, 16_000]);
    expect(world.sources).toHaveLength(9);
    world.source.connected({ channels: ["revalidation"], connectionId: "1", token: "t" });
    world.source.fail();
    expect(world.clock.pending()).toEqual([1000]);
  });

  it("reconnects at once when the page comes back online or visible", async () => {
    const { world, connection } = setup({ random: () => 1 });
    connection.start();
    await settle();
    for (let i = 0; i < 4; i += 1) {
      world.source.fail();
      await world.clock.advance(world.clock.pending()[0]!);
    }
    world.source.fail();
    expect(world.clock.pending()).toEqual([16_000]);
    world.wake();
    await settle();
    expect(world.sources).toHaveLength(6);
    expect(world.clock.pending()).toEqual([]);
  });

  it("on a gap refetches everything once and skips the server's revalidate-all that follows", async () => {
    const { world, connection } = setup();
    const events: string[] = [];
    const { log, listener } = recorder();
    connection.subscribe("a", listener);
    connection.onResync(() => events.push("resync"));
    connection.onRevalidate((keys) => events.push(`revalidate ${JSON.stringify(keys)}`));
    connection.start();
    await settle();
    world.source.connected({ channels: ["revalidation", "a"], connectionId: "1", token: "t", resync: true, lastEventId: "e-40" }, "e-40");
    world.source.emit("revalidate", { channel: "revalidation", data: { queryKeys: [""] } }, "e-40");
    world.source.emit("revalidate", { channel: "revalidation", data: { queryKeys: ["posts.list"] } }, "e-41");
    world.source.emit("revalidate", { channel: "revalidation", data: { queryKeys: [""] } }, "e-42");
    expect(events).toEqual(["resync", 'revalidate ["posts.list"]', 'revalidate [""]']);
    expect(log).toEqual(["connect", "resync"]);
    expect(connection.lastEventId).toBe("e-42");
  });

  it("reopens with resume when a live change fails", async () => {
    const { world, connection } = setup();
    connection.start();
    await settle();
    world.source.connected({ channels: ["revalidation"], connectionId: "1", token: "t" }, "e-3");
    connection.subscribe("a", {});
    await world.clock.advance(10);
    world.requests[0]!.respond(404, { data: null, error: { code: "ERR_NOT_FOUND", message: "No open stream" } });
    await settle();
    expect(world.sources[0]!.closed).toBe(true);
    await world.clock.advance(world.clock.pending()[0]!);
    expect(world.source.params.get("channels")).toBe("revalidation,a");
    expect(world.source.params.get("lastEventId")).toBe("e-3");
  });

  it("drops an answer to a change sent on a stream that was replaced meanwhile", async () => {
    const { world, connection } = setup();
    const { log, listener } = recorder();
    connection.start();
    await settle();
    world.source.connected({ channels: ["revalidation"], connectionId: "1", token: "t" });
    connection.subscribe("a", listener);
    await world.clock.advance(10);
    world.source.fail();
    await world.clock.advance(world.clock.pending()[0]!);
    world.source.connected({ channels: ["revalidation"], connectionId: "2", token: "u" });
    world.requests[0]!.respond(200, { data: { subscribed: ["a"] }, error: null });
    await settle();
    expect(connection.channelState("a")).toBe("connecting");
    await world.clock.advance(10);
    expect(world.requests[1]!.body).toMatchObject({ connectionId: "2", token: "u", subscribe: ["a"] });
    expect(log).toEqual([]);
  });

  it("stops for good: no reconnect after stop", async () => {
    const { world, connection } = setup();
    connection.start();
    await settle();
    world.source.fail();
    connection.stop();
    await world.clock.advance(60_000);
    expect(world.sources).toHaveLength(1);
    expect(connection.state).toBe("closed");
    expect(new ConnectionLostError().name).toBe("ConnectionLostError");
  });

  it("opens again when started after a stop, as StrictMode's effect, cleanup, effect does", async () => {
    const { world, connection } = setup();
    connection.subscribe("a", {});
    connection.start();
    connection.stop();
    connection.start();
    await settle();
    expect(world.sources).toHaveLength(1);
    expect(world.source.params.get("channels")).toBe("revalidation,a");
    expect(connection.state).toBe("connecting");
  });
});
