#pragma once
// The non-template half of decoding: the path stack, issue construction and scalar readers.
// Definitions live in src/json/context.cpp so that every decoded type shares them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "igniter/json/issue.hpp"
#include "igniter/json/value.hpp"

namespace igniter::json::detail {

/// State of one decode call: where we are and what went wrong so far.
class Context {
 public:
  /// `text` turns on query-string coercion of strings to the target type.
  explicit Context(bool text) noexcept : text_(text) {}

  bool text() const noexcept { return text_; }

  // Keys point at described member names (static) or into the input (alive for the whole call),
  // so the path stack never allocates strings; only reported issues own their path.
  void push(std::string_view key) { path_.emplace_back(key); }
  void push(std::size_t index) { path_.emplace_back(index); }
  void pop() noexcept { path_.pop_back(); }

  /// Most issues one decode lists. Each costs its path and strings, and becomes an object of the 400
  /// answer: without a bound, a 1 MiB array of wrong-typed items made a ~78 MB answer. Past it, arrays and
  /// maps stop being read (full()), and one last issue says that decoding stopped.
  static constexpr std::size_t kMaxIssues = 100;

  /// Records `issue` at the current path (kept while fewer than kMaxIssues are).
  void report(Issue issue);
  /// Records `issue` at the current path followed by `suffix`.
  void report(Issue issue, const Path& suffix);

  /// Issues reported so far, kept or not (decoding compares it before and after a member).
  std::size_t issue_count() const noexcept { return reported_; }
  /// kMaxIssues were reported: nothing more is kept, and loops over items stop (then call cut()).
  bool full() const noexcept { return reported_ >= kMaxIssues; }
  /// Items were left undecoded because full(): there may be more issues than those listed.
  void cut() noexcept { cut_ = true; }
  /// The issues kept, and one more saying decoding stopped when issues or items were left out.
  std::vector<Issue> take_issues();

 private:
  bool text_;
  std::size_t reported_ = 0;
  bool cut_ = false;
  std::vector<std::variant<std::string_view, std::size_t>> path_;
  std::vector<Issue> issues_;
};

/// zod's name for the kind of `v` ("string", "number", "object", ...).
std::string received_name(const value& v);

/// "'a' | 'b'": how zod spells the accepted names of an enum.
std::string quoted_alternatives(std::span<const std::string_view> names);

Issue invalid_type_issue(std::string expected, std::string received);
Issue required_issue(std::string expected);
Issue custom_issue(std::string message);

// Readers report an issue at the current path and return an empty result when `v` does not fit.
// In text mode they also accept a string spelling of the value.
std::optional<bool> read_bool(const value& v, Context& ctx);
std::optional<std::int64_t> read_signed(const value& v, Context& ctx, std::int64_t min, std::int64_t max);
std::optional<std::uint64_t> read_unsigned(const value& v, Context& ctx, std::uint64_t max);
std::optional<double> read_floating(const value& v, Context& ctx, double max_magnitude);
const boost::json::string* read_string(const value& v, Context& ctx);
std::optional<std::size_t> read_enum(const value& v, Context& ctx, std::span<const std::string_view> names);
const object* read_object(const value& v, Context& ctx);
const array* read_array(const value& v, Context& ctx);

}  // namespace igniter::json::detail
