/** Reconnect delays: jittered exponential backoff that is capped and never gives up. */

/** Settings of the reconnect backoff. */
export interface BackoffOptions {
  /** First delay before jitter, in milliseconds (default 500). */
  initialMs?: number;
  /** Largest delay before jitter, in milliseconds (default 30 000). */
  maxMs?: number;
  /** Growth factor per failed attempt (default 2). */
  factor?: number;
}

/**
 * Delays for successive reconnect attempts: attempt n waits a random time in [d/2, d] where
 * d = min(maxMs, initialMs * factor^n), so clients that lost the same server spread out, and no
 * attempt count makes it stop. `reset()` after a connection really succeeded.
 */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt; counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * Math.pow(this.factor, this.attempt));
    if (this.attempt < 64) this.attempt += 1;
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }

  /** Starts again from the first delay. */
  reset(): void {
    this.attempt = 0;
  }
}
