/**
 * Query keys in Igniter.js's format, and how a revalidation matches them.
 *
 * A query instance is registered under `<action key>:{"body":{...},"params":{...},"query":{...}}`
 * with object keys sorted at every depth and all three parts always present. A revalidation names
 * keys; every registered key that starts with one of them refetches (`posts.list` refetches every
 * `posts.list` instance, `""` refetches everything).
 */

/** The input of an action call: any of a JSON body, path parameters and query-string values. */
export interface ActionInput {
  body?: unknown;
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
}

/** The arguments of a call taking `I`: optional when `I` admits `undefined` (no required input). */
export type InputArgs<I> = undefined extends I ? [input?: I] : [input: I];

/** JSON text of `value` with the keys of every object sorted; `undefined` members are left out. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const text = JSON.stringify(value);
    return text === undefined ? "null" : text;
  }
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? "null" : stableStringify(item))).join(",")}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(",")}}`;
}

/** The key a query instance registers under, e.g. `posts.getById:{"body":{},"params":{"id":"1"},"query":{}}`. */
export function queryKey(actionKey: string, input?: ActionInput): string {
  return `${actionKey}:${stableStringify({
    body: input?.body ?? {},
    params: input?.params ?? {},
    query: input?.query ?? {},
  })}`;
}

/** Whether a revalidation of `queryKeys` reaches the query registered under `key` (prefix match). */
export function matchesRevalidation(key: string, queryKeys: readonly string[]): boolean {
  return queryKeys.some((prefix) => key.startsWith(prefix));
}
