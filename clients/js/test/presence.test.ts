import { describe, expect, it } from "vitest";
import { actionUrl, type ActionDescriptor, type ActionInput, type IgniterClient } from "../src/client.js";
import { fetchPresence, presenceAction, presenceKey } from "../src/presence.js";

describe("presence (core)", () => {
  it("reads GET <ssePath>/presence?channel= and answers the server's shape", async () => {
    const urls: string[] = [];
    const client: IgniterClient = {
      baseURL: "/api/v1",
      async call<T>(action: ActionDescriptor, input?: ActionInput) {
        urls.push(actionUrl("/api/v1", action, input));
        return { count: 3, anonymous: 1, members: ["1", "2"], truncated: false } as T;
      },
      createRealtime: () => {
        throw new Error("not used");
      },
    };
    const presence = await fetchPresence(client, "room:{}");
    expect(urls).toEqual(["/api/v1/sse/events/presence?channel=room%3A%7B%7D"]);
    expect(presence.members).toEqual(["1", "2"]);
    expect(presenceAction("/rt").path).toBe("/rt/presence");
  });

  it("registers under the key the server revalidates (realtime::query_key of __realtime.presence)", () => {
    expect(presenceKey("room")).toBe('__realtime.presence:{"body":{},"params":{},"query":{"channel":"room"}}');
  });
});
