// The Igniter.js 0.3.40 peer of the benchmarks: the same endpoints as bench/servers/igniter_bench.cpp,
// served by Node's own HTTP server through the package's router.handler(Request) (the way its
// expressAdapter does it, without Express). Realtime is Igniter's in-process SSEProcessor.
//
//   PORT  port on 127.0.0.1 (3000)
import http from "node:http";
import { Readable } from "node:stream";
import { Igniter } from "@igniter-js/core";

// No store adapter is used by the in-process realtime; an empty one makes `igniter.realtime` exist.
const igniter = Igniter.context(() => ({})).store({}).create();

// Igniter calls `body.parse(json)`; the benchmark bodies need no validation, so any JSON passes.
const anyJson = { parse: (value) => value };

const posts = [];
const items = Array.from({ length: 10 }, (_, i) => ({ id: i + 1, name: `item ${i + 1}`, price: 10 + i, tags: ["a", "b"] }));

const bench = igniter.controller({
  name: "bench",
  path: "/bench",
  actions: {
    publish: igniter.mutation({
      method: "POST",
      path: "/publish",
      body: anyJson,
      handler: async ({ request, response, realtime }) => {
        await realtime.publish("bench", request.body);
        return response.success({ ok: true });
      },
    }),
    query: igniter.query({
      path: "/query",
      handler: async ({ response }) => response.success({ items, total: items.length }),
    }),
  },
});

const postsController = igniter.controller({
  name: "posts",
  path: "/posts",
  actions: {
    list: igniter.query({ path: "/", handler: async ({ response }) => response.success({ posts }) }),
    create: igniter.mutation({
      method: "POST",
      path: "/",
      body: anyJson,
      handler: async ({ request, response }) => {
        const post = { id: posts.length + 1, title: String(request.body?.title ?? ""), content: String(request.body?.content ?? "") };
        posts.push(post);
        if (posts.length > 20) posts.shift();  // keep posts.list small and constant
        return response.created(post).revalidate(["posts.list"]);
      },
    }),
  },
});

const router = igniter.router({ controllers: { bench, posts: postsController } });
// A channel must exist before a client may subscribe to it: publishing once (to no one) registers it.
await igniter.realtime.publish("bench", { hello: true });

const port = Number(process.env.PORT || 3000);
const server = http.createServer(async (req, res) => {
  try {
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const v of value) headers.append(key, v);
      else if (typeof value === "string") headers.set(key, value);
    }
    const hasBody = !["GET", "HEAD"].includes(req.method);
    const request = new Request(`http://127.0.0.1:${port}${req.url}`, {
      method: req.method,
      headers,
      body: hasBody ? Readable.toWeb(req) : undefined,
      duplex: "half",
    });
    const response = await router.handler(request);
    res.statusCode = response.status;
    response.headers.forEach((value, key) => res.setHeader(key, value));
    if (response.body) {
      res.flushHeaders();
      for await (const chunk of response.body) res.write(chunk);
    }
    res.end();
  } catch (error) {
    if (!res.headersSent) res.statusCode = 500;
    res.end();
  }
});
server.keepAliveTimeout = 60_000;
server.maxConnections = 30_000;
server.listen(port, "127.0.0.1", () => console.log(`igniter-js bench peer on 127.0.0.1:${port}`));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
