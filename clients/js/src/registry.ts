/** The active queries of a provider, by key, and which of them a revalidation reaches. */
import { matchesRevalidation } from "./keys.js";

/** Refetch callbacks of the mounted query instances, by query key. */
export class QueryRegistry {
  private readonly byKey = new Map<string, Set<() => void>>();

  /** Registers `refetch` under `key`; the returned function unregisters it. */
  register(key: string, refetch: () => void): () => void {
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = new Set()));
    set.add(refetch);
    return () => {
      set!.delete(refetch);
      if (set!.size === 0 && this.byKey.get(key) === set) this.byKey.delete(key);
    };
  }

  /** The registered keys. */
  keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** Refetches every instance whose key starts with one of `queryKeys`; returns the keys reached. */
  revalidate(queryKeys: readonly string[]): string[] {
    const reached = [...this.byKey.keys()].filter((key) => matchesRevalidation(key, queryKeys));
    for (const key of reached) for (const refetch of [...(this.byKey.get(key) ?? [])]) refetch();
    return reached;
  }

  /** Refetches every active instance (after a gap the server could not replay). */
  refetchAll(): string[] {
    return this.revalidate([""]);
  }
}
