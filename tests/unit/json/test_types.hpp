#pragma once
// Described types shared by the json module's tests.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/describe.hpp>

#include "igniter/json/json.hpp"

namespace igniter::json::test {

enum class Status { draft, published };
BOOST_DESCRIBE_ENUM(Status, draft, published)

struct Author {
  std::string name;
  std::vector<std::string> tags;
  bool operator==(const Author&) const = default;
};
BOOST_DESCRIBE_STRUCT(Author, (), (name, tags))

/// One member of every supported kind.
struct Everything {
  bool flag = false;
  int count = 0;
  std::int8_t tiny = 0;
  std::uint32_t unsigned_count = 0;
  std::int64_t big = 0;
  std::uint64_t huge = 0;
  double ratio = 0;
  float small_ratio = 0;
  std::string text;
  Status status = Status::draft;
  std::optional<int> maybe;
  std::vector<int> numbers;
  std::map<std::string, double> weights;
  std::unordered_map<std::string, std::string> labels;
  Author author;
  std::vector<Author> coauthors;
  value extra;
  object meta;
  array list;
  bool operator==(const Everything&) const = default;
};
BOOST_DESCRIBE_STRUCT(Everything, (),
                      (flag, count, tiny, unsigned_count, big, huge, ratio, small_ratio, text, status, maybe,
                       numbers, weights, labels, author, coauthors, extra, meta, list))

/// The brief's example: rules on several fields and a whole-object check.
struct CreatePost {
  std::string title;
  std::string content;
  std::vector<std::string> tags;
  int priority = 0;
  std::string slug;

  static void rules(Rules<CreatePost>& r) {
    r.field(&CreatePost::title).non_empty().max_length(200);
    r.field(&CreatePost::tags).max_items(5);
    r.field(&CreatePost::priority).min(0).max(10).optional();
    r.field(&CreatePost::slug).pattern("^[a-z0-9-]+$", "lowercase letters, digits and dashes");
    r.check([](const CreatePost& p) { return p.title != p.content; }, "title and content must differ",
            {"content"});
  }
};
BOOST_DESCRIBE_STRUCT(CreatePost, (), (title, content, tags, priority, slug))

}  // namespace igniter::json::test
