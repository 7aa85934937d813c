// The starter: a guestbook whose page updates live in every open browser.
//   GET  /api/v1/entries             the entries (query entries.list)
//   POST /api/v1/entries             adds one (mutation entries.add): every page refetches the list
//   GET  /api/v1/sse/events          the stream: revalidations and the entries.activity messages
//   GET  /                           the page (public/)
// PORT (3000) and PUBLIC_DIR (this folder's public/) change it.
#include <igniter/igniter.hpp>

#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

struct Entry {
  std::string name;
  std::string text;
  static void rules(igniter::json::Rules<Entry>& r) {
    r.field(&Entry::name).non_empty().max_length(40);
    r.field(&Entry::text).non_empty().max_length(280);
  }
};
BOOST_DESCRIBE_STRUCT(Entry, (), (name, text))

/// The entries, oldest first, the last kMaxEntries only. Handlers run on several threads at once, so
/// every access holds the mutex.
class Guestbook {
 public:
  std::vector<Entry> list() const {
    std::lock_guard lock(mutex_);
    return {entries_.begin(), entries_.end()};
  }
  void add(Entry entry) {
    std::lock_guard lock(mutex_);
    entries_.push_back(std::move(entry));
    if (entries_.size() > kMaxEntries) entries_.pop_front();
  }

 private:
  static constexpr std::size_t kMaxEntries = 100;
  mutable std::mutex mutex_;
  std::deque<Entry> entries_;
};

int main() {
  Guestbook guestbook;

  auto entries =
      igniter::controller("entries", "/entries")
          .query("list", "/",
                 [&](igniter::Ctx& c) {
                   return c.response.success(igniter::json::fields<"entries">(guestbook.list()));
                 })
          .mutation("add", igniter::POST, "/",
                    [&](igniter::Ctx& c, const Entry& entry) {  // validated by Entry::rules already
                      guestbook.add(entry);
                      // Best effort: the entry is saved even if the hub refuses the message (overloaded).
                      (void)c.realtime().try_publish(
                          "entries.activity",
                          igniter::json::object{{"text", entry.name + " signed the guestbook"}});
                      return c.response.created(entry).revalidate({"entries.list"});  // every page refetches
                    })
          .stream("activity", "/activity", [](igniter::Ctx& c) {  // runs when a page subscribes
            return c.response.success(igniter::json::object{{"text", "Connected to the guestbook"}});
          });

  igniter::App app;
  app.controller(entries);
  const char* public_dir = std::getenv("PUBLIC_DIR");
  app.static_files("/", public_dir ? public_dir : STARTER_PUBLIC_DIR);
  const char* port = std::getenv("PORT");
  app.listen(port ? static_cast<std::uint16_t>(std::atoi(port)) : 3000, "127.0.0.1");  // until Ctrl-C
}
