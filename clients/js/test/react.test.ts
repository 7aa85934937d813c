// @vitest-environment jsdom
import { act, createElement, type ReactNode } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ActionDescriptor, IgniterClient } from "../src/client.js";
import { RealtimeConnection } from "../src/connection.js";
import { queryKey } from "../src/keys.js";
import { presenceKey } from "../src/presence.js";
import { IgniterProvider, useMutation, useQuery, usePresence, useStream } from "../src/react.js";
import { FakeBroadcast, FakeLocks, drain, fakeEnv, settle } from "./fakes.js";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const list: ActionDescriptor = { key: "posts.list", type: "query", method: "GET", path: "/posts" };
const getById: ActionDescriptor = { key: "posts.getById", type: "query", method: "GET", path: "/posts/:id" };
const create: ActionDescriptor = { key: "posts.create", type: "mutation", method: "POST", path: "/posts" };
const logout: ActionDescriptor = { key: "auth.logout", type: "mutation", method: "POST", path: "/auth/logout" };
const stream: ActionDescriptor = { key: "notifications.stream", type: "stream", method: "GET", path: "/notifications/stream" };

/** A client whose calls answer from a counter per action, recording each call. */
function countingClient() {
  const calls: string[] = [];
  const client: IgniterClient = {
    baseURL: "/api/v1",
    async call<T>(action: ActionDescriptor, input?: { params?: Record<string, unknown> }) {
      calls.push(queryKey(action.key, input));
      return { n: calls.length } as T;
    },
    createRealtime: () => {
      throw new Error("the test gives its own transport");
    },
  };
  return { client, calls };
}

let root: Root | null = null;
afterEach(() => {
  act(() => root?.unmount());
  root = null;
  vi.unstubAllGlobals();
  delete (navigator as { locks?: unknown }).locks;
});

/** A client whose realtime connections open fake EventSources in `world`; records their options. */
function realtimeClient(world: ReturnType<typeof fakeEnv>) {
  const made: Array<{ lastEventId?: string | null }> = [];
  const client: IgniterClient = {
    baseURL: "/api/v1",
    call: async <T,>() => ({}) as T,
    createRealtime: (options = {}) => {
      made.push(options);
      return new RealtimeConnection({ ...options, url: "/api/v1/sse/events" }, world.env);
    },
  };
  return { client, made };
}

/** Gives the page a BroadcastChannel and Web Locks (fakes shared by every provider on it, as by tabs). */
function shareableBrowser() {
  const broadcast = new FakeBroadcast();
  const locks = new FakeLocks();
  vi.stubGlobal(
    "BroadcastChannel",
    class {
      constructor(name: string) {
        return broadcast.create(name);
      }
    },
  );
  Object.defineProperty(navigator, "locks", { value: locks.forTab({}), configurable: true });
}

async function render(node: ReactNode) {
  const container = document.createElement("div");
  root = createRoot(container);
  await act(async () => {
    root!.render(node);
    await settle();
  });
  return container;
}

describe("React bindings", () => {
  it("useQuery loads, then refetches on a revalidation that reaches its key, and only then", async () => {
    const world = fakeEnv();
    const transport = new RealtimeConnection({ url: "/api/v1/sse/events" }, world.env);
    const { client, calls } = countingClient();
    const seen: Array<{ loading: boolean; n?: number }> = [];
    function Posts() {
      const q = useQuery<{ n: number }>(client, list);
      seen.push({ loading: q.isLoading, n: q.data?.n });
      useQuery(client, getById, { params: { id: "1" } });
      useQuery(client, getById, { params: { id: "2" } });
      return null;
    }
    await render(createElement(IgniterProvider, { client, transport }, createElement(Posts)));
    expect(seen[0]).toEqual({ loading: true, n: undefined });
    expect(seen.at(-1)).toEqual({ loading: false, n: expect.any(Number) });
    expect(calls).toHaveLength(3);
    await act(async () => {
      world.source.connected({ channels: ["revalidation"], connectionId: "1", token: "t" });
      world.source.emit("revalidate", {
        channel: "revalidation",
        data: { queryKeys: ["posts.list", queryKey("posts.getById", { params: { id: "2" } })] },
      }, "e-1");
      await settle();
    });
    expect(calls.slice(3).sort()).toEqual([queryKey("posts.getById", { params: { id: "2" } }), queryKey("posts.list")]);
    await act(async () => {
      world.source.connected({ channels: ["revalidation"], connectionId: "2", token: "t", resync: true });
      await settle();
    });
    expect(calls).toHaveLength(8); // a gap refetches every active query
  });

  it("usePresence reads a channel's presence and refetches when the server revalidates its key", async () => {
    const world = fakeEnv();
    const transport = new RealtimeConnection({ url: "/api/v1/sse/events" }, world.env);
    const { client, calls } = countingClient();
    const seen: Array<number | undefined> = [];
    function Online() {
      seen.push((usePresence("room").data as unknown as { n: number } | undefined)?.n);
      return null;
    }
    await render(createElement(IgniterProvider, { client, transport }, createElement(Online)));
    expect(calls).toEqual([presenceKey("room")]);
    await act(async () => {
      world.source.connected({ channels: ["revalidation"], connectionId: "1", token: "t" });
      world.source.emit("revalidate", { channel: "revalidation", data: { queryKeys: [presenceKey("other")] } }, "e-1");
      world.source.emit("revalidate", { channel: "revalidation", data: { queryKeys: [presenceKey("room")] } }, "e-2");
      await settle();
    });
    expect(calls).toEqual([presenceKey("room"), presenceKey("room")]);
    expect(seen.at(-1)).toBe(2);
  });

  it("useStream calls onConnect when the server confirms the channel, then delivers messages", async () => {
    const world = fakeEnv();
    const transport = new RealtimeConnection({ url: "/api/v1/sse/events" }, world.env);
    const { client } = countingClient();
    const log: string[] = [];
    const states: string[] = [];
    function Bell() {
      const s = useStream<{ text: string }>(stream, {
        onConnect: () => log.push("connect"),
        onMessage: (m) => log.push(m.text),
        onError: (e) => log.push(e.name),
      });
      states.push(s.state);
      return null;
    }
    await render(createElement(IgniterProvider, { client, transport }, createElement(Bell)));
    expect(world.source.params.get("channels")).toBe("revalidation,notifications.stream");
    expect(log).toEqual([]);
    await act(async () => {
      world.source.connected({ channels: ["revalidation", "notifications.stream"], connectionId: "1", token: "t" });
      world.source.emit("message", { channel: "notifications.stream", data: { text: "ready" } }, "e-1");
      await settle();
    });
    expect(log).toEqual(["connect", "ready"]);
    expect(states.at(-1)).toBe("connected");
    await act(async () => {
      world.source.fail();
      await settle();
    });
    expect(log.at(-1)).toBe("ConnectionLostError");
    expect(states.at(-1)).toBe("connecting");
  });

  it("useMutation reports its status and data", async () => {
    const { client, calls } = countingClient();
    let mutation: ReturnType<typeof useMutation<{ body: { title: string } }, { n: number }>> | null = null;
    function Form() {
      mutation = useMutation<{ body: { title: string } }, { n: number }>(client, create);
      return null;
    }
    await render(createElement(IgniterProvider, { client, enableRealtime: false }, createElement(Form)));
    expect(mutation!.status).toBe("idle");
    await act(async () => {
      await mutation!.mutate({ body: { title: "t" } });
    });
    expect(calls).toEqual([queryKey("posts.create", { body: { title: "t" } })]);
    expect(mutation!.status).toBe("success");
    expect(mutation!.data).toEqual({ n: 1 });
  });

  it("shares one stream between the providers of several tabs by default, where the page can", async () => {
    shareableBrowser();
    const world = fakeEnv();
    const { client, made } = realtimeClient(world);
    const log: string[] = [];
    function Bell({ tab }: { tab: string }) {
      useStream(stream, { onConnect: () => log.push(`${tab} connect`), onMessage: (m) => log.push(`${tab} ${m}`) });
      return null;
    }
    // Two providers stand for two tabs: each has BroadcastChannel objects of its own.
    await render(
      createElement(
        "div",
        null,
        createElement(IgniterProvider, { client }, createElement(Bell, { tab: "a" })),
        createElement(IgniterProvider, { client }, createElement(Bell, { tab: "b" })),
      ),
    );
    await act(drain);
    expect(made).toHaveLength(1);
    expect(world.sources).toHaveLength(1);
    await act(async () => {
      world.source.connected({ channels: ["revalidation", "notifications.stream"], connectionId: "1", token: "t" });
      world.source.emit("message", { channel: "notifications.stream", data: "hi" }, "e-1");
      await drain();
    });
    expect(log.sort()).toEqual(["a connect", "a hi", "b connect", "b hi"]);
  });

  it("gives each provider its own stream with sharing={false}, or where the page cannot share", async () => {
    const world = fakeEnv();
    const { client, made } = realtimeClient(world);
    const tree = (sharing?: boolean) =>
      createElement(
        "div",
        null,
        createElement(IgniterProvider, { client, sharing }, createElement("span")),
        createElement(IgniterProvider, { client, sharing }, createElement("span")),
      );
    await render(tree()); // jsdom has no Web Locks
    expect(made).toHaveLength(2);
    act(() => root?.unmount());
    shareableBrowser();
    await render(tree(false));
    await act(drain);
    expect(made).toHaveLength(4);
    expect(world.sources.filter((s) => !s.closed)).toHaveLength(2);
  });

  it("useMutation's mutate takes no argument for an action without input", async () => {
    const { client, calls } = countingClient();
    let mutation: ReturnType<typeof useMutation<undefined, { n: number }>> | null = null;
    function Logout() {
      mutation = useMutation<undefined, { n: number }>(client, logout);
      return null;
    }
    await render(createElement(IgniterProvider, { client, enableRealtime: false }, createElement(Logout)));
    await act(async () => {
      await mutation!.mutate();
    });
    expect(calls).toEqual([queryKey("auth.logout")]);
  });
});
