/**
 * What `RealtimeConnection` and `SharedRealtimeTransport` share: one registry of their callbacks —
 * each channel's listeners, and the revalidation, resync and state callbacks — with the stream's state,
 * and how they are called. Every notification iterates a copy, so a callback may subscribe or
 * unsubscribe while it runs.
 */
import type { ChannelListener, ConnectionState, MessageEnvelope } from "./connection.js";

/** The callbacks half of a `RealtimeTransport`, for the transports to extend. */
export abstract class CallbackRegistry {
  private readonly listeners = new Map<string, Set<ChannelListener>>();
  private readonly revalidateCallbacks = new Set<(keys: string[]) => void>();
  private readonly resyncCallbacks = new Set<() => void>();
  private readonly stateCallbacks = new Set<(state: ConnectionState) => void>();
  protected current: ConnectionState = "idle";

  get state(): ConnectionState {
    return this.current;
  }

  onRevalidate(callback: (queryKeys: string[]) => void): () => void {
    this.revalidateCallbacks.add(callback);
    return () => this.revalidateCallbacks.delete(callback);
  }

  onResync(callback: () => void): () => void {
    this.resyncCallbacks.add(callback);
    return () => this.resyncCallbacks.delete(callback);
  }

  onStateChange(callback: (state: ConnectionState) => void): () => void {
    this.stateCallbacks.add(callback);
    return () => this.stateCallbacks.delete(callback);
  }

  protected setState(state: ConnectionState): void {
    if (state === this.current) return;
    this.current = state;
    for (const callback of [...this.stateCallbacks]) callback(state);
  }

  /**
   * Adds `listener` to `channel`. The returned function removes it (once; later calls do nothing) and
   * then calls `removed`, telling whether that was the channel's last listener.
   */
  protected listen(channel: string, listener: ChannelListener, removed: (last: boolean) => void): () => void {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      set!.delete(listener);
      const last = set!.size === 0 && this.listeners.get(channel) === set;
      if (last) this.listeners.delete(channel);
      removed(last);
    };
  }

  /** The channels with at least one listener. */
  protected listenedChannels(): string[] {
    return [...this.listeners.keys()];
  }

  protected isListened(channel: string): boolean {
    return this.listeners.has(channel);
  }

  /** Calls `call` with each listener of `channel`. */
  protected eachListener(channel: string, call: (listener: ChannelListener) => void): void {
    for (const listener of [...(this.listeners.get(channel) ?? [])]) call(listener);
  }

  /** Calls `call` with each channel (as the map is then) and its listeners. */
  protected eachChannel(call: (channel: string, listeners: ChannelListener[]) => void): void {
    for (const [channel, set] of this.listeners) call(channel, [...set]);
  }

  /** A message of its channel to that channel's listeners. */
  protected deliver(envelope: MessageEnvelope): void {
    this.eachListener(envelope.channel, (listener) => listener.onMessage?.(envelope.data, envelope));
  }

  /** `error` to the listeners of each of `channels`. */
  protected fail(channels: Iterable<string>, error: Error): void {
    for (const channel of channels) this.eachListener(channel, (listener) => listener.onError?.(error));
  }

  protected revalidated(queryKeys: string[]): void {
    for (const callback of [...this.revalidateCallbacks]) callback(queryKeys);
  }

  /** A gap was not replayed: the resync callbacks, then every listener's `onResync`. */
  protected resynced(): void {
    for (const callback of [...this.resyncCallbacks]) callback();
    this.eachChannel((_, listeners) => listeners.forEach((listener) => listener.onResync?.()));
  }
}
