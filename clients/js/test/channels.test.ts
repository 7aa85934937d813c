import { describe, expect, it } from "vitest";
import { ChannelSet } from "../src/channels.js";

describe("ChannelSet", () => {
  it("opens a new stream with every wanted channel, pinned ones first", () => {
    const set = new ChannelSet(["revalidation"]);
    set.add("notifications.stream");
    expect(set.wantedChannels()).toEqual(["revalidation", "notifications.stream"]);
  });

  it("asks for nothing when the stream already has what the page wants", () => {
    const set = new ChannelSet(["revalidation"]);
    set.add("a");
    set.opened(["revalidation", "a"]);
    expect(set.nextChange()).toBeNull();
  });

  it("keeps a channel while any hook uses it", () => {
    const set = new ChannelSet();
    expect(set.add("a")).toBe(true);
    expect(set.add("a")).toBe(false);
    set.opened(["a"]);
    expect(set.remove("a")).toBe(false);
    expect(set.nextChange()).toBeNull();
    expect(set.remove("a")).toBe(true);
    expect(set.nextChange()).toEqual({ subscribe: [], unsubscribe: ["a"] });
  });

  it("sends nothing for a channel removed and added back before the change went out", () => {
    const set = new ChannelSet();
    set.add("a");
    set.opened(["a"]);
    set.remove("a");
    set.add("a");
    expect(set.nextChange()).toBeNull();
  });

  it("sends one change at a time and computes the next from the answer", () => {
    const set = new ChannelSet(["revalidation"]);
    set.opened(["revalidation"]);
    set.add("a");
    expect(set.nextChange()).toEqual({ subscribe: ["a"], unsubscribe: [] });
    set.add("b");
    expect(set.nextChange()).toBeNull(); // one in flight
    set.applied({ subscribed: ["a"], refused: [], unsubscribed: [] });
    expect(set.isOpen("a")).toBe(true);
    expect(set.nextChange()).toEqual({ subscribe: ["b"], unsubscribe: [] });
  });

  it("does not ask again on the same stream for a refused channel, but does on the next one", () => {
    const set = new ChannelSet();
    set.opened([]);
    set.add("secret");
    set.nextChange();
    set.applied({ subscribed: [], refused: [{ channel: "secret", reason: "Forbidden" }] });
    expect(set.refusal("secret")).toBe("Forbidden");
    expect(set.nextChange()).toBeNull();
    set.closed();
    expect(set.wantedChannels()).toEqual(["secret"]);
    expect(set.refusal("secret")).toBeUndefined();
  });

  it("computes a failed change again", () => {
    const set = new ChannelSet();
    set.opened([]);
    set.add("a");
    set.nextChange();
    set.failed();
    expect(set.nextChange()).toEqual({ subscribe: ["a"], unsubscribe: [] });
  });
});
