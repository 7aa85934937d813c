// @vitest-environment jsdom
import { act, createElement, type ReactNode } from "react";
import { createRoot, type Root } from "react-dom/client";
import { afterEach, describe, expect, it } from "vitest";
import type { ActionDescriptor, IgniterClient } from "../src/client.js";
import { RealtimeConnection } from "../src/connection.js";
import { queryKey } from "../src/keys.js";
import { IgniterProvider, useMutation, useQuery, useStream } from "../src/react.js";
import { fakeEnv, settle } from "./fakes.js";

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const list: ActionDescriptor = { key: "posts.list", type: "query", method: "GET", path: "/posts" };
const getById: ActionDescriptor = { key: "posts.getById", type: "query", method: "GET", path: "/posts/:id" };
const create: ActionDescriptor = { key: "posts.create", type: "mutation", method: "POST", path: "/posts" };
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
});

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
});
