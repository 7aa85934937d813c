import { describe, expect, it } from "vitest";
import { matchesRevalidation, queryKey, stableStringify } from "../src/keys.js";
import { QueryRegistry } from "../src/registry.js";

describe("queryKey", () => {
  it("writes the key exactly as Igniter.js does, all three parts present", () => {
    expect(queryKey("posts.list")).toBe('posts.list:{"body":{},"params":{},"query":{}}');
    expect(queryKey("posts.getById", { params: { id: "1" } })).toBe(
      'posts.getById:{"body":{},"params":{"id":"1"},"query":{}}',
    );
  });

  it("sorts object keys at every depth, so equal inputs give equal keys", () => {
    const a = queryKey("posts.list", { query: { z: 1, a: { y: 2, b: [{ d: 1, c: 2 }] } } });
    const b = queryKey("posts.list", { query: { a: { b: [{ c: 2, d: 1 }], y: 2 }, z: 1 } });
    expect(a).toBe(b);
    expect(a).toBe('posts.list:{"body":{},"params":{},"query":{"a":{"b":[{"c":2,"d":1}],"y":2},"z":1}}');
  });

  it("leaves out undefined members as JSON.stringify does", () => {
    expect(stableStringify({ a: undefined, b: null })).toBe('{"b":null}');
  });
});

describe("revalidation matching", () => {
  it("reaches every instance of an action by its bare key", () => {
    expect(matchesRevalidation(queryKey("posts.list", { query: { page: 2 } }), ["posts.list"])).toBe(true);
    expect(matchesRevalidation(queryKey("posts.getById", { params: { id: "1" } }), ["posts.list"])).toBe(false);
  });

  it("reaches one instance by its full key and no other", () => {
    const target = queryKey("posts.getById", { params: { id: "1" } });
    expect(matchesRevalidation(queryKey("posts.getById", { params: { id: "1" } }), [target])).toBe(true);
    expect(matchesRevalidation(queryKey("posts.getById", { params: { id: "2" } }), [target])).toBe(false);
  });

  it("reaches everything with the empty key", () => {
    expect(matchesRevalidation(queryKey("users.getProfile"), [""])).toBe(true);
  });

  it("refetches only the registered instances a revalidation reaches", () => {
    const registry = new QueryRegistry();
    const calls: string[] = [];
    registry.register(queryKey("posts.list"), () => calls.push("list"));
    registry.register(queryKey("posts.getById", { params: { id: "1" } }), () => calls.push("post1"));
    const off = registry.register(queryKey("posts.getById", { params: { id: "2" } }), () => calls.push("post2"));
    registry.revalidate([queryKey("posts.getById", { params: { id: "1" } }), "posts.list"]);
    expect(calls.sort()).toEqual(["list", "post1"]);
    off();
    calls.length = 0;
    registry.refetchAll();
    expect(calls.sort()).toEqual(["list", "post1"]);
  });
});
