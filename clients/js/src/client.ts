/** `createClient`: typed HTTP calls to an igniter-cpp app, and the realtime stream's settings. */
import type { ActionInput } from "./keys.js";
import { RealtimeConnection, type ConnectionEnv, type ConnectionOptions } from "./connection.js";
import type { BackoffOptions } from "./backoff.js";

/** What a generated module knows of an action: its key, method and path (with `:param`s). */
export interface ActionDescriptor {
  key: string;
  type: "query" | "mutation" | "stream";
  method: string;
  path: string;
}

/** Settings of `createClient`. */
export interface ClientOptions {
  /** Where the app's actions live, base path included: `/api/v1` (the default) or `https://host/api/v1`. */
  baseURL?: string;
  /** Path of the SSE endpoint under `baseURL` (default `/sse/events`). */
  ssePath?: string;
  /** Headers sent with every call (e.g. an Authorization header), or a function returning them. */
  headers?: Record<string, string> | (() => Record<string, string>);
  /** `credentials` of every call and of the stream (`include` sends cookies cross-origin). */
  credentials?: RequestCredentials;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Reconnect delays of the realtime stream. */
  backoff?: BackoffOptions;
}

/** The error of a call the server answered with `{"data":null,"error":{...}}` or a non-JSON failure. */
export class IgniterError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "IgniterError";
  }
}

/** The client of one app: calls its actions and makes its realtime connections. */
export interface IgniterClient {
  readonly baseURL: string;
  /** Calls `action` with `input`; resolves to the envelope's `data`, rejects with an IgniterError. */
  call<T = unknown>(action: ActionDescriptor, input?: ActionInput, signal?: AbortSignal): Promise<T>;
  /** A new realtime connection to this app's SSE endpoint (the provider makes one). */
  createRealtime(options?: Omit<ConnectionOptions, "url">, env?: Partial<ConnectionEnv>): RealtimeConnection;
}

/** The URL of `action` for `input`: `:name` segments filled from `params`, `query` as a query string. */
export function actionUrl(baseURL: string, action: ActionDescriptor, input?: ActionInput): string {
  const params = input?.params ?? {};
  const path = action.path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === null) throw new TypeError(`${action.key}: missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(input?.query ?? {})) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const item of value) query.append(name, String(item));
    else query.set(name, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  const search = query.toString();
  return `${baseURL.replace(/\/+$/, "")}${path}${search ? `?${search}` : ""}`;
}

/** A client for the app at `options.baseURL`. */
export function createClient(options: ClientOptions = {}): IgniterClient {
  const baseURL = (options.baseURL ?? "/api/v1").replace(/\/+$/, "");
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  return {
    baseURL,
    async call<T>(action: ActionDescriptor, input?: ActionInput, signal?: AbortSignal): Promise<T> {
      const headers: Record<string, string> = {
        accept: "application/json",
        ...(typeof options.headers === "function" ? options.headers() : options.headers),
      };
      const hasBody = action.method !== "GET" && action.method !== "HEAD" && input?.body !== undefined;
      if (hasBody) headers["content-type"] = "application/json";
      const response = await doFetch(actionUrl(baseURL, action, input), {
        method: action.method,
        headers,
        body: hasBody ? JSON.stringify(input!.body) : undefined,
        credentials: options.credentials,
        signal,
      });
      if (response.status === 204) return null as T;
      const text = await response.text();
      let envelope: { data?: unknown; error?: { code?: string; message?: string; data?: unknown } | null };
      try {
        envelope = text ? JSON.parse(text) : { data: null, error: null };
      } catch {
        throw new IgniterError(response.status, "ERR_NOT_JSON", `${action.key}: ${response.status} ${text.slice(0, 200)}`);
      }
      if (envelope.error || !response.ok) {
        const error = envelope.error ?? {};
        throw new IgniterError(
          response.status,
          error.code ?? "ERR_HTTP",
          error.message ?? `${action.key} failed with ${response.status}`,
          error.data,
        );
      }
      return envelope.data as T;
    },
    createRealtime(realtime = {}, env = {}) {
      return new RealtimeConnection(
        {
          backoff: options.backoff,
          withCredentials: options.credentials === "include",
          ...realtime,
          url: `${baseURL}${options.ssePath ?? "/sse/events"}`,
        },
        env,
      );
    },
  };
}
