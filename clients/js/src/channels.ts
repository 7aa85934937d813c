/**
 * Bookkeeping of the channels one stream should carry: what the page wants (reference counted, one
 * count per hook), what the open stream has, which channel the server refused, and the live change
 * that brings the stream to what the page wants (PROTOCOL.md §5). No I/O here: the connection asks
 * for the next change, sends it, and reports the answer.
 */

/** A change of an open stream's channels, as the subscriptions endpoint takes it. */
export interface ChannelChange {
  subscribe: string[];
  unsubscribe: string[];
}

/** A channel the server would not open on this stream, with its reason. */
export interface RefusedChannel {
  channel: string;
  reason: string;
}

/** The server's answer to a change (the `data` of the subscriptions endpoint). */
export interface ChannelChangeResult {
  subscribed?: string[];
  refused?: RefusedChannel[];
  unsubscribed?: string[];
}

/** What the page wants versus what the open stream has. */
export class ChannelSet {
  private readonly wanted = new Map<string, number>();
  private readonly open = new Set<string>();
  private readonly refused = new Map<string, string>();
  private inFlight: ChannelChange | null = null;

  /** `pinned` channels are always wanted (the revalidation channel). */
  constructor(pinned: readonly string[] = []) {
    for (const channel of pinned) this.wanted.set(channel, Infinity);
  }

  /** One more user of `channel`; true when the page did not want it before. */
  add(channel: string): boolean {
    const count = this.wanted.get(channel) ?? 0;
    this.wanted.set(channel, count + 1);
    return count === 0;
  }

  /** One user less of `channel`; true when no user is left. */
  remove(channel: string): boolean {
    const count = this.wanted.get(channel);
    if (count === undefined) return false;
    if (count > 1) {
      this.wanted.set(channel, count - 1);
      return false;
    }
    this.wanted.delete(channel);
    this.refused.delete(channel); // asked again from scratch if a user comes back
    return true;
  }

  /** Every channel the page wants, in the order first asked for: what a new stream should open with. */
  wantedChannels(): string[] {
    return [...this.wanted.keys()];
  }

  /** Whether the page wants `channel`. */
  wants(channel: string): boolean {
    return this.wanted.has(channel);
  }

  /** Whether the open stream carries `channel`. */
  isOpen(channel: string): boolean {
    return this.open.has(channel);
  }

  /** Why the server refused `channel` on this stream, if it did. */
  refusal(channel: string): string | undefined {
    return this.refused.get(channel);
  }

  /** A new stream opened with `channels` and refused `refused` (its `connected` frame). */
  opened(channels: readonly string[], refused: readonly RefusedChannel[] = []): void {
    this.open.clear();
    this.refused.clear();
    this.inFlight = null;
    for (const channel of channels) this.open.add(channel);
    for (const r of refused) this.refused.set(r.channel, r.reason);
  }

  /** The stream is gone: nothing is open until the next `opened`. Refusals are asked again then. */
  closed(): void {
    this.open.clear();
    this.refused.clear();
    this.inFlight = null;
  }

  /**
   * The change that would bring the open stream to what the page wants, or null when none is
   * needed or one is already being sent (one change at a time keeps the order of changes simple).
   * Refused channels are not asked again on the same stream.
   */
  nextChange(): ChannelChange | null {
    if (this.inFlight) return null;
    const subscribe = [...this.wanted.keys()].filter((c) => !this.open.has(c) && !this.refused.has(c));
    const unsubscribe = [...this.open].filter((c) => !this.wanted.has(c));
    if (subscribe.length === 0 && unsubscribe.length === 0) return null;
    this.inFlight = { subscribe, unsubscribe };
    return this.inFlight;
  }

  /** The change being sent, if any. */
  pending(): ChannelChange | null {
    return this.inFlight;
  }

  /** The server applied the change in flight and answered `result`. */
  applied(result: ChannelChangeResult): void {
    const change = this.inFlight;
    this.inFlight = null;
    for (const channel of result.subscribed ?? change?.subscribe ?? []) {
      this.open.add(channel);
      this.refused.delete(channel);
    }
    for (const r of result.refused ?? []) this.refused.set(r.channel, r.reason);
    for (const channel of result.unsubscribed ?? change?.unsubscribe ?? []) this.open.delete(channel);
  }

  /** The change in flight failed; it will be computed again by the next `nextChange`. */
  failed(): void {
    this.inFlight = null;
  }
}
