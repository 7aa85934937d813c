import { describe, expect, it } from "vitest";
import { actionUrl, createClient, IgniterError, type ActionDescriptor } from "../src/client.js";

const getById: ActionDescriptor = { key: "posts.getById", type: "query", method: "GET", path: "/posts/:id" };
const create: ActionDescriptor = { key: "posts.create", type: "mutation", method: "POST", path: "/posts" };

function recordingFetch(status: number, body: string) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(status === 204 ? null : body, { status });
  }) as typeof globalThis.fetch;
  return { calls, fetch };
}

describe("actionUrl", () => {
  it("fills path parameters and writes the query string, encoded", () => {
    expect(actionUrl("/api/v1/", getById, { params: { id: "a/b" }, query: { q: "x y", n: 2, skip: undefined } })).toBe(
      "/api/v1/posts/a%2Fb?q=x+y&n=2",
    );
  });

  it("refuses a call without a path parameter the path needs", () => {
    expect(() => actionUrl("", getById, {})).toThrow(/missing path parameter id/);
  });
});

describe("createClient().call", () => {
  it("sends the body as JSON and resolves to the envelope's data", async () => {
    const { calls, fetch } = recordingFetch(201, '{"data":{"id":1},"error":null}');
    const client = createClient({ baseURL: "http://127.0.0.1:3000/api/v1", fetch, headers: { authorization: "Bearer x" } });
    await expect(client.call(create, { body: { title: "t" } })).resolves.toEqual({ id: 1 });
    expect(calls[0]!.url).toBe("http://127.0.0.1:3000/api/v1/posts");
    expect(calls[0]!.init.method).toBe("POST");
    expect(calls[0]!.init.body).toBe('{"title":"t"}');
    expect(calls[0]!.init.headers).toMatchObject({ "content-type": "application/json", authorization: "Bearer x" });
  });

  it("rejects with the server's error code, message and status", async () => {
    const { fetch } = recordingFetch(
      400,
      '{"data":null,"error":{"message":"title: too short","code":"ERR_BAD_REQUEST","data":{"field":"title"}}}',
    );
    const error = await createClient({ fetch }).call(create, { body: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(IgniterError);
    expect(error).toMatchObject({ status: 400, code: "ERR_BAD_REQUEST", message: "title: too short", data: { field: "title" } });
  });

  it("rejects a non-JSON failure with its status", async () => {
    const { fetch } = recordingFetch(502, "Bad Gateway");
    await expect(createClient({ fetch }).call(getById, { params: { id: 1 } })).rejects.toMatchObject({ status: 502 });
  });

  it("resolves a 204 to null", async () => {
    const { fetch } = recordingFetch(204, "");
    await expect(createClient({ fetch }).call(create, {})).resolves.toBeNull();
  });

  it("points its realtime connection at the app's SSE endpoint", () => {
    const client = createClient({ baseURL: "/api/v1" });
    const sources: string[] = [];
    const connection = client.createRealtime({}, {
      createEventSource: (url) => {
        sources.push(url);
        return { addEventListener() {}, onerror: null, close() {} };
      },
      onWake: () => () => {},
    });
    connection.start();
    return Promise.resolve().then(async () => {
      await new Promise((r) => setTimeout(r, 0));
      expect(sources[0]).toBe("/api/v1/sse/events?channels=revalidation&scopes=");
      connection.stop();
    });
  });
});
