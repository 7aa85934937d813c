import { describe, expect, it } from "vitest";
import { Backoff } from "../src/backoff.js";

describe("Backoff", () => {
  it("doubles up to the cap, with the delay between half and all of each step", () => {
    const low = new Backoff({ initialMs: 500, maxMs: 8000 }, () => 0);
    const high = new Backoff({ initialMs: 500, maxMs: 8000 }, () => 1);
    const lows = Array.from({ length: 7 }, () => low.next());
    const highs = Array.from({ length: 7 }, () => high.next());
    expect(highs).toEqual([500, 1000, 2000, 4000, 8000, 8000, 8000]);
    expect(lows).toEqual([250, 500, 1000, 2000, 4000, 4000, 4000]);
  });

  it("never gives up: the thousandth attempt still has a finite, capped delay", () => {
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 }, () => 0.5);
    let delay = 0;
    for (let i = 0; i < 1000; i += 1) delay = backoff.next();
    expect(delay).toBe(22_500);
  });

  it("spreads clients that failed together", () => {
    const a = new Backoff({}, () => 0.1).next();
    const b = new Backoff({}, () => 0.9).next();
    expect(a).not.toBe(b);
  });

  it("starts again from the first delay after a reset", () => {
    const backoff = new Backoff({ initialMs: 100 }, () => 1);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
