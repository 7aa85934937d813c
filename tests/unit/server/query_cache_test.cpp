#include "server/query_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "igniter/realtime/query_key.hpp"
#include "igniter/store/memory_store.hpp"

namespace igniter::server {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

constexpr std::uint64_t kEpoch = 7;

realtime::Event revalidation(std::uint64_t seq, std::vector<std::string> keys,
                             std::vector<std::string> scopes = {}) {
  json::array array;
  for (auto& key : keys) array.emplace_back(key);
  return {.id = {kEpoch, seq},
          .channel = std::string(realtime::kRevalidationChannel),
          .type = std::string(realtime::kRevalidateType),
          .scopes = std::move(scopes),
          .data = json::object{{"queryKeys", std::move(array)}}};
}

realtime::Event message(std::uint64_t seq) {
  return {.id = {kEpoch, seq}, .channel = "chat", .data = json::object{{"text", "hi"}}};
}

CacheKey key_of(std::string_view action, json::object query = {}, std::vector<std::string> scopes = {},
                Vary vary = Vary::scopes, json::object params = {}) {
  return CacheKey::make(action, params, query, vary, std::move(scopes));
}

// A handler that counts its runs and answers with the value of `version` when it ran.
struct Handler {
  std::atomic<int> runs{0};
  std::atomic<int> version{1};
  // Runs inside the handler (a revalidation racing it), told which run this is; set before serving.
  std::function<void(int run)> during;

  Response operator()() {
    int run = ++runs;
    int read = version.load();  // the rows it read, before whatever happens while it answers
    if (during) during(run);
    return Response::json(200, json::object{{"data", read}, {"error", nullptr}});
  }
};

std::string serve(QueryCache& cache, const CacheKey& key, Handler& handler,
                  std::chrono::milliseconds ttl = 30s) {
  return cache.serve(key, ttl, [&] { return handler(); }).body();
}

std::string answer(int version) {
  return R"({"data":)" + std::to_string(version) + R"(,"error":null})";
}

struct QueryCacheTest : ::testing::Test {
  TimePoint now{};
  QueryCache cache{{}, nullptr, false, [this] { return now; }};
  Handler handler;

  void SetUp() override { cache.start_at({kEpoch, 0}); }
};

TEST_F(QueryCacheTest, KeptAnswerIsServedWithoutRunningTheHandler) {
  auto key = key_of("posts.list", {}, {}, Vary::public_);
  EXPECT_EQ(serve(cache, key, handler), answer(1));
  handler.version = 2;
  EXPECT_EQ(serve(cache, key, handler), answer(1));
  EXPECT_EQ(handler.runs, 1);
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);
}

TEST_F(QueryCacheTest, AnswerIsRunAgainOnceItsTtlPassed) {
  auto key = key_of("posts.list", {}, {}, Vary::public_);
  serve(cache, key, handler, 30s);
  now += 29s;
  serve(cache, key, handler, 30s);
  EXPECT_EQ(handler.runs, 1);
  now += 1s;
  handler.version = 2;
  EXPECT_EQ(serve(cache, key, handler, 30s), answer(2));
  EXPECT_EQ(handler.runs, 2);
}

TEST_F(QueryCacheTest, RequestersWithOtherScopesNeverShareACopy) {
  serve(cache, key_of("posts.list", {}, {"user:1"}), handler);
  handler.version = 2;
  EXPECT_EQ(serve(cache, key_of("posts.list", {}, {"user:2"}), handler), answer(2));
  EXPECT_EQ(serve(cache, key_of("posts.list", {}, {}), handler), answer(2));
  EXPECT_EQ(handler.runs, 3);
  // Same scopes in another order and repeated: the same requester.
  EXPECT_EQ(serve(cache, key_of("posts.list", {}, {"b", "a"}), handler), answer(2));
  handler.version = 3;
  EXPECT_EQ(serve(cache, key_of("posts.list", {}, {"a", "b", "a"}), handler), answer(2));
}

TEST_F(QueryCacheTest, OtherQueryStringsAreOtherCopies) {
  serve(cache, key_of("posts.list", {{"page", "1"}}, {}, Vary::public_), handler);
  handler.version = 2;
  EXPECT_EQ(serve(cache, key_of("posts.list", {{"page", "2"}}, {}, Vary::public_), handler), answer(2));
  EXPECT_EQ(serve(cache, key_of("posts.list", {{"page", "1"}}, {}, Vary::public_), handler), answer(1));
}

TEST_F(QueryCacheTest, RevalidationOfTheActionOrAPrefixDropsEveryInstance) {
  for (std::string key : {"posts.list", "posts", ""}) {
    auto one = key_of("posts.list", {{"page", "1"}}, {}, Vary::public_);
    auto two = key_of("posts.list", {{"page", "2"}}, {}, Vary::public_);
    serve(cache, one, handler);
    serve(cache, two, handler);
    int before = handler.runs;
    cache.observe(revalidation(handler.runs, {key}));
    serve(cache, one, handler);
    serve(cache, two, handler);
    EXPECT_EQ(handler.runs, before + 2) << "revalidating \"" << key << "\"";
  }
}

TEST_F(QueryCacheTest, RevalidationOfAnotherActionKeepsTheCopy) {
  auto key = key_of("posts.list", {}, {}, Vary::public_);
  serve(cache, key, handler);
  cache.observe(revalidation(1, {"posts.listAll", "posts.getById", "users"}));
  cache.observe(message(2));
  serve(cache, key, handler);
  EXPECT_EQ(handler.runs, 1);
}

TEST_F(QueryCacheTest, InstanceKeyDropsOnlyThatInstanceWhateverTheTypesOfItsValues) {
  auto one = key_of("posts.list", {{"page", "1"}}, {}, Vary::public_);
  auto two = key_of("posts.list", {{"page", "2"}}, {}, Vary::public_);
  serve(cache, one, handler);
  serve(cache, two, handler);
  // The server writes the page as a number, the URL carried it as a string: the same instance.
  cache.observe(revalidation(
      1, {realtime::query_key("posts.list", json::object(), json::object(), json::object{{"page", 2}})}));
  serve(cache, one, handler);
  EXPECT_EQ(handler.runs, 2);
  serve(cache, two, handler);
  EXPECT_EQ(handler.runs, 3);
}

TEST_F(QueryCacheTest, PathParametersMatchTheInstanceKeyClientsUse) {
  auto post1 = key_of("posts.getById", {}, {}, Vary::public_, {{"id", "1"}});
  auto post2 = key_of("posts.getById", {}, {}, Vary::public_, {{"id", "2"}});
  serve(cache, post1, handler);
  serve(cache, post2, handler);
  cache.observe(
      revalidation(1, {realtime::query_key("posts.getById", json::object(), json::object{{"id", 1}})}));
  serve(cache, post2, handler);
  EXPECT_EQ(handler.runs, 2);
  serve(cache, post1, handler);
  EXPECT_EQ(handler.runs, 3);
}

TEST_F(QueryCacheTest, UnparsableInstanceKeyDropsEveryInstanceOfItsAction) {
  auto key = key_of("posts.list", {{"page", "1"}}, {}, Vary::public_);
  serve(cache, key, handler);
  cache.observe(revalidation(1, {R"(posts.list:{"body":{},"params":{},"query":{"page")"}));
  serve(cache, key, handler);
  EXPECT_EQ(handler.runs, 2);
}

TEST_F(QueryCacheTest, ScopedRevalidationDropsCopiesOfRequestersHoldingAScopeAndPublicOnes) {
  auto alice = key_of("posts.mine", {}, {"user:alice"});
  auto bob = key_of("posts.mine", {}, {"user:bob"});
  auto everyone = key_of("posts.list", {}, {}, Vary::public_);
  serve(cache, alice, handler);
  serve(cache, bob, handler);
  serve(cache, everyone, handler);
  cache.observe(revalidation(1, {"posts"}, {"user:alice"}));
  serve(cache, bob, handler);
  EXPECT_EQ(handler.runs, 3);
  serve(cache, alice, handler);
  EXPECT_EQ(handler.runs, 4);
  serve(cache, everyone, handler);  // alice reads the public list too: it refetches it
  EXPECT_EQ(handler.runs, 5);
}

TEST(QueryCache, ScopedRevalidationDropsEveryCopyWhenClientsChooseTheirScopes) {
  QueryCache cache({}, nullptr, /*scoped_drop_all=*/true);
  cache.start_at({kEpoch, 0});
  Handler handler;
  auto bob = key_of("posts.mine", {}, {"user:bob"});
  serve(cache, bob, handler);
  cache.observe(revalidation(1, {"posts"}, {"user:alice"}));
  serve(cache, bob, handler);
  EXPECT_EQ(handler.runs, 2);
}

TEST_F(QueryCacheTest, RunStartedBeforeARevalidationIsNotKept) {
  auto key = key_of("posts.list", {}, {}, Vary::public_);
  // The mutation commits and revalidates while the list handler is still running with older rows.
  handler.during = [&](int run) {
    if (run != 1) return;
    handler.version = 2;
    cache.observe(revalidation(1, {"posts.list"}));
  };
  serve(cache, key, handler);
  EXPECT_EQ(serve(cache, key, handler), answer(2));
  EXPECT_EQ(handler.runs, 2);
}

TEST_F(QueryCacheTest, ConcurrentMissesRunTheHandlerOnce) {
  auto key = key_of("posts.list", {}, {}, Vary::public_);
  std::atomic<bool> release{false};
  handler.during = [&](int) {
    while (!release) std::this_thread::yield();
  };
  std::vector<std::string> answers(6);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { answers[0] = serve(cache, key, handler); });
  while (handler.runs == 0) std::this_thread::yield();
  for (int i = 1; i < 6; ++i) threads.emplace_back([&, i] { answers[i] = serve(cache, key, handler); });
  while (cache.waiting() < 5) std::this_thread::yield();
  release = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(handler.runs, 1);
  for (const auto& body : answers) EXPECT_EQ(body, answer(1));
  EXPECT_EQ(cache.stats().hits, 5u);
}

TEST_F(QueryCacheTest, RequestAfterARevalidationNeverJoinsARunThatStartedBeforeIt) {
  auto key = key_of("posts.list", {}, {}, Vary::public_);
  std::atomic<bool> started{false}, release{false};
  handler.during = [&](int run) {
    if (run != 1) return;  // only the first run waits, having read version 1
    started = true;
    while (!release) std::this_thread::yield();
  };
  std::string old_answer;
  std::thread first([&] { old_answer = serve(cache, key, handler); });
  while (!started) std::this_thread::yield();
  handler.version = 2;
  cache.observe(revalidation(1, {"posts.list"}));
  // A client that saw the revalidation refetches while the older run is still going.
  EXPECT_EQ(serve(cache, key, handler), answer(2));
  release = true;
  first.join();
  EXPECT_EQ(old_answer, answer(1));
  EXPECT_EQ(serve(cache, key, handler), answer(2));  // the older run's answer was not kept over it
  EXPECT_EQ(handler.runs, 2);
}

TEST_F(QueryCacheTest, FailedRunIsNotSharedAndNotKept) {
  auto key = key_of("posts.list", {}, {}, Vary::public_);
  EXPECT_THROW(cache.serve(key, 30s, []() -> Response { throw std::runtime_error("db down"); }),
               std::runtime_error);
  EXPECT_EQ(serve(cache, key, handler), answer(1));
  EXPECT_EQ(handler.runs, 1);
}

TEST_F(QueryCacheTest, ErrorsAndAnswersWithCookiesAreNotKept) {
  auto key = key_of("posts.list", {}, {}, Vary::public_);
  int runs = 0;
  auto not_found = [&] {
    ++runs;
    return ResponseBuilder{}.not_found("no posts");
  };
  cache.serve(key, 30s, not_found);
  cache.serve(key, 30s, not_found);
  EXPECT_EQ(runs, 2);
  auto with_cookie = [&] {
    ++runs;
    return Response::json(200, json::object{{"data", 1}}).cookie("session", "abc");
  };
  cache.serve(key, 30s, with_cookie);
  cache.serve(key, 30s, with_cookie);
  EXPECT_EQ(runs, 4);
}

TEST(QueryCache, OldestCopyGoesPastMaxEntries) {
  QueryCache cache({.max_entries = 2}, nullptr, false);
  cache.start_at({kEpoch, 0});
  Handler handler;
  auto page = [](int n) { return key_of("posts.list", {{"page", std::to_string(n)}}, {}, Vary::public_); };
  serve(cache, page(1), handler);
  serve(cache, page(2), handler);
  serve(cache, page(3), handler);
  EXPECT_EQ(cache.stats().entries, 2u);
  serve(cache, page(3), handler);
  serve(cache, page(2), handler);
  EXPECT_EQ(handler.runs, 3);
  serve(cache, page(1), handler);
  EXPECT_EQ(handler.runs, 4);
}

TEST(QueryCache, BytesStayUnderMaxBytes) {
  QueryCache cache({.max_bytes = 4096}, nullptr, false);
  cache.start_at({kEpoch, 0});
  std::string big(1500, 'x');
  for (int n = 0; n < 20; ++n)
    cache.serve(key_of("posts.list", {{"page", std::to_string(n)}}, {}, Vary::public_), 30s,
                [&] { return Response(200, big, "text/plain"); });
  EXPECT_LE(cache.stats().entries, 2u);
  EXPECT_GE(cache.stats().entries, 1u);
}

TEST(QueryCache, AnswerOverMaxEntryBytesIsServedButNotKept) {
  QueryCache cache({.max_entry_bytes = 10}, nullptr, false);
  cache.start_at({kEpoch, 0});
  Handler handler;
  auto key = key_of("posts.list", {}, {}, Vary::public_);
  serve(cache, key, handler);
  EXPECT_EQ(serve(cache, key, handler), answer(1));
  EXPECT_EQ(handler.runs, 2);
}

TEST(QueryCache, KeyOverMaxKeyBytesIsServedUncached) {
  QueryCache cache({.max_key_bytes = 64}, nullptr, false);
  cache.start_at({kEpoch, 0});
  Handler handler;
  auto key = key_of("posts.list", {{"q", std::string(100, 'a')}}, {}, Vary::public_);
  serve(cache, key, handler);
  serve(cache, key, handler);
  EXPECT_EQ(handler.runs, 2);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST_F(QueryCacheTest, FlushDropsEveryCopy) {
  auto key = key_of("posts.list", {}, {}, Vary::public_);
  serve(cache, key, handler);
  cache.flush();
  serve(cache, key, handler);
  EXPECT_EQ(handler.runs, 2);
}

TEST(InstanceKey, ScalarsAreWrittenAsAUrlCarriesThem) {
  EXPECT_EQ(normalized_instance_key(R"(posts.list:{"body":{},"params":{},"query":{"page":2,"all":true}})",
                                    "posts.list"),
            R"(posts.list:{"body":{},"params":{},"query":{"all":"true","page":"2"}})");
  EXPECT_EQ(normalized_instance_key(R"(posts.list:{"query":{"tag":["a","b"]}})", "posts.list"),
            R"(posts.list:{"body":{},"params":{},"query":{"tag":["a","b"]}})");
  EXPECT_FALSE(normalized_instance_key(R"(posts.list:{"query":{"f":{"a":1}}})", "posts.list"));
  EXPECT_FALSE(normalized_instance_key(R"(posts.list:{"body":{"a":1}})", "posts.list"));
  EXPECT_FALSE(normalized_instance_key("posts.list:", "posts.list"));
  EXPECT_FALSE(normalized_instance_key("posts.listAll:{}", "posts.list"));
}

// Shared store (as with Redis): two caches over one store stand for two processes.
struct SharedQueryCacheTest : ::testing::Test {
  std::shared_ptr<store::MemoryStore> store = std::make_shared<store::MemoryStore>();
  QueryCache a{{}, store, false};
  QueryCache b{{}, store, false};
  Handler handler;
  CacheKey key = key_of("posts.list", {}, {}, Vary::public_);

  void SetUp() override {
    a.start_at({kEpoch, 0});
    b.start_at({kEpoch, 0});
  }
  void both(const realtime::Event& event) {
    a.observe(event);
    b.observe(event);
  }
};

TEST_F(SharedQueryCacheTest, CopyMadeByOneProcessServesTheOther) {
  both(message(1));
  serve(a, key, handler);
  handler.version = 2;
  EXPECT_EQ(serve(b, key, handler), answer(1));
  EXPECT_EQ(handler.runs, 1);
}

TEST_F(SharedQueryCacheTest, RevalidationReadByAProcessDropsTheCopyForIt) {
  serve(a, key, handler);
  handler.version = 2;
  b.observe(revalidation(1, {"posts.list"}));  // b read it; a has not yet
  EXPECT_EQ(serve(b, key, handler), answer(2));
  EXPECT_EQ(handler.runs, 2);
}

TEST_F(SharedQueryCacheTest, CopyFromAProcessAheadIsNotServed) {
  a.observe(message(1));  // a has read an event b has not: a revalidation b has not seen may precede it
  serve(a, key, handler);
  serve(b, key, handler);
  EXPECT_EQ(handler.runs, 2);
}

TEST_F(SharedQueryCacheTest, CopyWrittenAfterARevalidationByARunStartedBeforeItIsNotServed) {
  // a's run starts; the revalidation is read by b first, then by a only after a wrote its copy.
  handler.during = [&](int run) {
    if (run == 1) b.observe(revalidation(1, {"posts.list"}));
  };
  serve(a, key, handler);
  a.observe(revalidation(1, {"posts.list"}));
  handler.version = 2;
  EXPECT_EQ(serve(b, key, handler), answer(2));
  EXPECT_EQ(serve(a, key, handler), answer(2));  // b's newer copy, made after the revalidation
  EXPECT_EQ(handler.runs, 2);
}

TEST_F(SharedQueryCacheTest, CopiesOlderThanTheRevalidationsRememberedCountAsStale) {
  QueryCache forgetful({.max_revalidations_kept = 1}, store, false);
  forgetful.start_at({kEpoch, 0});
  serve(a, key, handler);
  forgetful.observe(revalidation(1, {"users"}));
  forgetful.observe(revalidation(2, {"users"}));  // the first is forgotten: copies from before it are stale
  a.observe(revalidation(1, {"users"}));
  a.observe(revalidation(2, {"users"}));
  serve(forgetful, key, handler);
  EXPECT_EQ(handler.runs, 2);
}

// The stream's head as Redis would report it with each read (QueryCache::redis_reader): b reads copies
// with a head the test sets, standing for a revalidation already in the stream that b has not read yet.
struct StreamHeadTest : SharedQueryCacheTest {
  std::atomic<std::uint64_t> head{0};
  void use_head(QueryCache& cache) {
    cache.read_with([this](const std::string& name) -> Result<QueryCache::SharedRead> {
      auto got = store->get(name);
      if (!got) return got.error();
      return QueryCache::SharedRead{.copy = std::move(*got), .head = head.load()};
    });
  }
};

TEST_F(StreamHeadTest, RequestWaitsUntilThisProcessHasReadAsFarAsTheStreamWasAndThenSkipsTheCopy) {
  QueryCache patient({.max_reader_wait = 60s}, store, false);
  patient.start_at({kEpoch, 0});
  use_head(patient);
  serve(a, key, handler);  // a copy from before the revalidation
  handler.version = 2;
  head = 1;  // the revalidation is in the stream (a client of another process heard of it)
  std::string got;
  std::atomic<bool> answered{false};
  std::thread request([&] {
    got = serve(patient, key, handler);
    answered = true;
  });
  while (patient.waiting() == 0 && !answered) std::this_thread::yield();  // waiting for its reader
  EXPECT_FALSE(answered) << "answered without waiting for this process's reader: " << got;
  patient.observe(revalidation(1, {"posts.list"}));
  patient.read_to({kEpoch, 1});
  request.join();
  EXPECT_EQ(got, answer(2));
  EXPECT_EQ(handler.runs, 2);
  EXPECT_EQ(patient.stats().lagging, 0u);
}

TEST_F(StreamHeadTest, ReadingSkippedEntriesCountsAsHavingReadThem) {
  use_head(b);
  serve(a, key, handler);
  head = 3;  // entries b's reader skipped (not events), then nothing else
  b.read_to({kEpoch, 3});
  handler.version = 2;
  EXPECT_EQ(serve(b, key, handler), answer(1));  // no revalidation in between: the copy is served
  EXPECT_EQ(handler.runs, 1);
}

TEST_F(StreamHeadTest, ReaderStillBehindAfterTheWaitMeansTheHandlerRunsAndItIsCounted) {
  QueryCache hasty({.max_reader_wait = 0ms}, store, false);
  hasty.start_at({kEpoch, 0});
  use_head(hasty);
  serve(a, key, handler);
  handler.version = 2;
  head = 1;
  EXPECT_EQ(serve(hasty, key, handler), answer(2));
  EXPECT_EQ(handler.runs, 2);
  EXPECT_EQ(hasty.stats().lagging, 1u);
  EXPECT_EQ(hasty.stats().misses, 1u);
}

// A store that fails every call, as Redis does while unreachable.
struct DownStore final : store::Store {
  Result<std::optional<json::value>> get(std::string_view) override { return store::errc::unavailable; }
  Result<void> set(std::string_view, const json::value&, std::optional<std::chrono::milliseconds>) override {
    return store::errc::unavailable;
  }
  Result<bool> remove(std::string_view) override { return store::errc::unavailable; }
  Result<bool> has(std::string_view) override { return store::errc::unavailable; }
  Result<std::int64_t> increment(std::string_view, std::int64_t) override { return store::errc::unavailable; }
  Result<bool> expire(std::string_view, std::chrono::milliseconds) override {
    return store::errc::unavailable;
  }
  Result<void> publish(std::string_view, const json::value&) override { return store::errc::unavailable; }
  Result<store::Subscription> subscribe(std::string_view, store::MessageHandler) override {
    return store::errc::unavailable;
  }
};

TEST(QueryCache, StoreDownMeansTheHandlerAnswersAndTheFailureIsCounted) {
  QueryCache cache({}, std::make_shared<DownStore>(), false);
  cache.start_at({kEpoch, 0});
  Handler handler;
  auto key = key_of("posts.list", {}, {}, Vary::public_);
  EXPECT_EQ(serve(cache, key, handler), answer(1));
  EXPECT_EQ(serve(cache, key, handler), answer(1));
  EXPECT_EQ(handler.runs, 2);
  EXPECT_EQ(cache.stats().errors, 2u);  // a failed read per request (nothing is written without it)
}

TEST(QueryCache, MalformedSharedEntryIsRunAgain) {
  auto store = std::make_shared<store::MemoryStore>();
  QueryCache cache({}, store, false);
  cache.start_at({kEpoch, 0});
  Handler handler;
  auto key = key_of("posts.list", {}, {}, Vary::public_);
  ASSERT_TRUE(store->set("igniter:qcache:" + key.id(), json::object{{"b", 1}}));
  EXPECT_EQ(serve(cache, key, handler), answer(1));
  EXPECT_EQ(cache.stats().errors, 1u);
}

}  // namespace
}  // namespace igniter::server
