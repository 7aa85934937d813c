#!/usr/bin/env python3
"""Writes the seed corpora (fuzz/corpus/<target>/): real requests and answers, the Igniter.js captures,
and the hostile inputs of issue 11. Run it again after changing it; libFuzzer finds the rest."""
import hashlib, json, os, pathlib

here = pathlib.Path(__file__).resolve().parent
captures = pathlib.Path(os.environ.get("CAPTURES", "/work/shared/protocol/captures"))


def write(target, name, data, regression=False):
    """regression: an input that crashed; it goes to fuzz/regressions/<target>/ (replayed by ctest)."""
    d = (here.parent / "regressions" / target) if regression else (here / target)
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("latin-1")
    (d / name).write_bytes(data)


def chunked(body, size=40):
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%x\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n\r\n"


# --- http_session: one control byte (bit 7: repeat the last 64 bytes for 1-8 MiB), then the client's bytes.
item = json.dumps({"title": "Hello world", "tags": ["a", "b"], "priority": 3,
                   "author": {"name": "Ada", "email": "ada@example.com"}})
H = "Host: localhost\r\n"
http = {
    "get": f"GET /api/items?page=2&tag=a&tag=b HTTP/1.1\r\n{H}\r\n",
    "get_param": f"GET /api/items/42 HTTP/1.1\r\n{H}Connection: close\r\n\r\n",
    "post_json": f"POST /api/items HTTP/1.1\r\n{H}Content-Type: application/json\r\nContent-Length: {len(item)}\r\n\r\n{item}",
    "post_chunked": f"POST /api/items HTTP/1.1\r\n{H}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + chunked(item.encode()).decode(),
    "pipelined": f"GET /api/items HTTP/1.1\r\n{H}\r\nGET /api/items/1 HTTP/1.1\r\n{H}\r\nGET /nope HTTP/1.1\r\n{H}\r\n",
    "expect": f"POST /api/items HTTP/1.1\r\n{H}Expect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: {len(item)}\r\n\r\n{item}",
    "small_limit": f"PUT /api/items/small HTTP/1.1\r\n{H}Content-Type: application/json\r\nContent-Length: {len(item)}\r\n\r\n{item}",
    "head": f"HEAD /api/items HTTP/1.1\r\n{H}\r\n",
    "schema": f"GET /__igniter/schema HTTP/1.1\r\n{H}\r\n",
    "sse": f"GET /api/sse/events?channels=revalidation,items.list:{{}}&scopes=user:1 HTTP/1.1\r\n{H}Last-Event-ID: k3x9a2mq-1\r\n\r\n",
    "subscriptions": f"POST /api/sse/events/subscriptions HTTP/1.1\r\n{H}Content-Type: application/json\r\nContent-Length: 62\r\n\r\n"
                     + '{"connectionId":"c1","token":"t","subscribe":["a"],"unsubscribe":[]}'[:62],
    "unknown_method": f"BREW /api/items HTTP/1.1\r\n{H}\r\n",
    # issue 11, items 4, 7, 11
    "xchunked": f"POST /api/items HTTP/1.1\r\n{H}Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /api/items HTTP/1.1\r\n{H}\r\n",
    "chunked_identity": f"POST /api/items HTTP/1.1\r\n{H}Transfer-Encoding: chunked, identity\r\n\r\nGET /api/items HTTP/1.1\r\n{H}\r\n",
    "gzip_chunked": f"POST /api/items HTTP/1.1\r\n{H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "cl_and_te": f"POST /api/items HTTP/1.1\r\n{H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "no_host": "GET /api/items HTTP/1.1\r\n\r\n",
    "two_hosts": f"GET /api/items HTTP/1.1\r\n{H}{H}\r\n",
    "bad_path_bytes": f"GET /api/%ff%fe\xff HTTP/1.1\r\n{H}\r\n",
}
for name, text in http.items():
    write("http_session", name, b"\x00" + text.encode("latin-1"))
# Endless: a chunk-size line of extensions, a header line, a body, each repeated for 8 MiB.
write("http_session", "endless_chunk_ext",
      b"\x87" + f"POST /api/items HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n2;a=b".encode() + b";a=b" * 16, True)
# Found by the fuzzer: the chunk-size line need not be valid, Beast looks at it only once it has its CRLF.
write("http_session", "endless_invalid_chunk_line",
      b"\x87" + f"POST /api/items HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n".encode() + b"zz\n\x00" * 16, True)
write("http_session", "endless_header", b"\x87" + f"GET / HTTP/1.1\r\n{H}X-A: ".encode() + b"a" * 64)
write("http_session", "endless_body", b"\x87" + f"POST /api/items HTTP/1.1\r\n{H}Content-Length: 100000000\r\n\r\n".encode() + b"{" * 64)

# --- sse_params: the request target, then '\n' and a Last-Event-ID value.
for i, text in enumerate([
    "/api/v1/sse/events?channels=revalidation,notifications.stream&scopes=\n",
    "/api/v1/sse/events?channels=revalidation&scopes=user:42,tenant:7\nk3x9a2mq-42",
    "/api/v1/sse/events\nabc",
    "/api/v1/sse/events?channels=posts.list:{},posts.list&lastEventId=0-0",
    "/api/v1/sse/events?channels=%2C%2C,a%20b,%ff&scopes=,,user:1,\n-1",
    "/sse?channels={}&channels=x:{}:{}\nzzzzzzzzzzzzz-18446744073709551615",
    "/sse?lastEventId=5b115201-b283-406c-ba6c-6b3d2880b2c1",
]):
    write("sse_params", f"seed{i}", text)

# --- json_decode: a Person and some near misses.
person = {"name": "Ada", "email": "ada@example.com", "handle": "ada_l", "age": 36, "score": 0.5,
          "balance": -12, "level": 3, "active": True, "role": "admin", "state": "draft",
          "address": {"city": "London", "zip": "12345"}, "previous": [{"city": "Paris"}],
          "tags": ["math"], "grid": [[1, 2], [3]], "counters": {"a": 1}, "notes": ["x", None],
          "extra": {"any": [1, "two", None]}}
write("json_decode", "valid", json.dumps(person))
write("json_decode", "minimal", json.dumps({"name": "a", "email": "a@b.io", "handle": "b", "age": 1, "tags": ["t"]}))
bad = dict(person, age=1000, email="nope", handle="Ada!", role="root", tags=[], level=300,
           address={"city": ""}, previous=[{}, {}, {}, {}], score=1e400 if False else 2)
write("json_decode", "invalid", json.dumps(bad))
write("json_decode", "deep", "[" * 70 + "]" * 70)
write("json_decode", "long_handle", json.dumps(dict(person, handle="a" * 20000)), True)
write("json_decode", "unicode", json.dumps(dict(person, name="\u00e9\ud83d\ude00\u0000")))

# --- subscription_change
write("subscription_change", "valid", json.dumps({"connectionId": "c1", "token": "t0k", "subscribe": ["posts.list", "posts.getById:{}"], "unsubscribe": ["x"]}))
write("subscription_change", "too_many", json.dumps({"connectionId": "c", "token": "t", "subscribe": [f"c{i}" for i in range(101)]}))
write("subscription_change", "bad_types", json.dumps({"connectionId": 1, "token": None, "subscribe": "a", "unsubscribe": [1, {}]}))
write("subscription_change", "long_name", json.dumps({"connectionId": "c", "token": "t", "subscribe": ["a" * 201, "b,c", "d e"]}))

# --- query_key
for i, v in enumerate([{"id": "1"}, [{"b": 1, "a": [1.5, -0.0, 1e21, 1e-7]}, {"id": "2"}, {"q": "x"}],
                       [None, None, None], "\u0000\u001f\"\\\u2028", 9007199254740993, -9007199254740993,
                       18446744073709551615, 5e-324, 1.7976931348623157e308, 123456789012345680000, 0.1]):
    write("query_key", f"seed{i}", json.dumps(v))


# --- redis_reply: one control byte (feed size - 1), then RESP.
def bulk(s):
    s = s.encode() if isinstance(s, str) else s
    return b"$%d\r\n%s\r\n" % (len(s), s)


def arr(*items):
    return b"*%d\r\n" % len(items) + b"".join(items)


ev = json.dumps({"c": "posts.list", "t": "revalidate", "s": ["user:1"], "d": {"queryKeys": ["posts.list"]}, "ts": 1700000000000})
entry = arr(bulk("1700000000000-0"), arr(bulk("e"), bulk(ev)))
redis = {
    "xrange": arr(entry, arr(bulk("1700000000001-5"), arr(bulk("e"), bulk("{}")))),
    "xread": arr(arr(bulk("igniter:realtime:events"), arr(entry))),
    "xread_nil": b"*-1\r\n",
    "message": arr(bulk("message"), bulk("igniter:chan"), bulk('{"x":1}')),
    "status_error_int": b"+OK\r\n-WRONGTYPE Operation against a key\r\n:42\r\n$-1\r\n",
    "epoch": bulk("k3x9a2mq"),
    # issue 11, item 12
    "id_without_dash": arr(arr(bulk("17000000000000"), arr(bulk("e"), bulk(ev)))),
    "entry_shapes": arr(arr(b":1\r\n", b":2\r\n"), arr(bulk("1-1"), bulk("e")), arr(arr(), arr())),
    "huge_bulk": b"$1000000000\r\n" + b"x" * 64,
    "huge_array": b"*2000000000\r\n:1\r\n",
    "deep": b"*1\r\n" * 200 + b":1\r\n",
    # XINFO STREAM (Redis 7): a flat array of name/value pairs
    "xinfo_stream": arr(bulk("length"), b":3\r\n", bulk("last-generated-id"), bulk("1700000000000-5"),
                        bulk("max-deleted-entry-id"), bulk("1700000000000-2"), bulk("entries-added"), b":6\r\n"),
}
for name, data in redis.items():
    write("redis_reply", name, b"\x07" + data, name in ("id_without_dash", "huge_array"))


# --- client_response: one control byte (bit 7: repeat the last 64 bytes; bits 3-6: read size), then answers.
def answer(status, body, extra="", reason="OK"):
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n{body}")


ok = json.dumps({"data": {"id": 1, "title": "x"}, "error": None})
err = json.dumps({"data": None, "error": {"message": "Invalid input", "code": "VALIDATION_ERROR",
                                         "details": [{"code": "too_small", "path": ["title"], "message": "x", "minimum": 1}]}})
client = {
    "ok": answer(200, ok, "Set-Cookie: sid=abc; Path=/; Max-Age=3600; HttpOnly\r\n"),
    "error": answer(400, err, reason="Bad Request"),
    "keepalive_two": answer(200, ok) + answer(201, ok, "Set-Cookie: sid=; Max-Age=0\r\n"),
    "chunked": "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(ok.encode()).decode(),
    "close_delimited": "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + ok,
    "no_content": "HTTP/1.1 204 No Content\r\n\r\n",
    # issue 11, item 13
    "early_hints": "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + answer(200, ok),
    "continue": "HTTP/1.1 100 Continue\r\n\r\n" + answer(200, ok),
    "max_age_overflow": answer(200, ok, "Set-Cookie: a=b; Max-Age=99999999999999999999999\r\n"),
    "not_envelope": answer(200, "[1,2,3]"),
}
for name, text in client.items():
    write("client_response", name, b"\x48" + text.encode("latin-1"))
    write("client_call", name, b"\x00" + text.encode("latin-1"))
big_cookies = b"".join(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nSet-Cookie: c%d=%s\r\n\r\n" % (i, b"v" * 40000) for i in range(2))
write("client_call", "big_cookies", b"\x00" + big_cookies, True)
write("client_call", "endless_chunk_ext", b"\x81" + b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b" + b";a=b" * 16, True)
write("client_response", "big_cookies", b"\x48" + b"".join(
    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nSet-Cookie: c%d=%s\r\n\r\n" % (i, b"v" * 30000) for i in range(4)), True)
write("client_response", "endless_chunk_ext",
      b"\x87" + b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b" + b";a=b" * 16, True)

# --- client_sse: the same control byte, then the server's head and stream (the captures).
for cap in sorted(captures.glob("*.sse")):
    body = cap.read_bytes()
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    write("client_sse", f"capture_{cap.stem}_chunked", b"\x48" + head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body, 97))
    write("client_sse", f"capture_{cap.stem}_close", b"\x20" + head + b"Connection: close\r\n\r\n" + body)
write("client_sse", "refused", b"\x48" + answer(401, err, reason="Unauthorized").encode())
write("client_sse", "crlf_bom_retry", b"\x08" + b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
      + b"\xef\xbb\xbfretry: 1000\r\nid: k3x9a2mq-7\r\nevent: connected\r\ndata: {\"connectionId\":\"c1\",\"token\":\"t\",\"channels\":[\"a\"]}\r\n\r\n:keepalive\r\rdata: x\rdata: y\r\r")
write("client_sse", "endless_line", b"\x87" + b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: " + b"a" * 64)
write("client_sse", "endless_chunk_ext", b"\x87" + b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b" + b";a=b" * 16, True)
