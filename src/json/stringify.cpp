#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>

#include "igniter/json/value.hpp"

namespace igniter::json {

namespace {

// Writes JSON text into a per-thread scratch buffer that keeps its capacity between calls (up to 1 MiB),
// then hands it out in one copy: no growing string, no zero-filling.
class Writer {
 public:
  Writer() : used_(0) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() {
    if (scratch_.capacity > kKeep) scratch_ = {};
  }

  std::string_view text() const noexcept { return {scratch_.data.get(), used_}; }

  void put(char c) {
    *room(1) = c;
    ++used_;
  }
  void put(std::string_view text) {
    std::memcpy(room(text.size()), text.data(), text.size());
    used_ += text.size();
  }
  template <class Number>
  void number(Number value) {
    char* at = room(32);
    auto [end, ec] = std::to_chars(at, at + 32, value);
    if (ec == std::errc{}) used_ += static_cast<std::size_t>(end - at);
  }
  void string(std::string_view text);
  void value(const json::value& v);
  void array(const json::array& items);
  void object(const json::object& members);

 private:
  struct Scratch {
    std::unique_ptr<char[]> data;
    std::size_t capacity = 0;
  };
  static constexpr std::size_t kKeep = std::size_t{1} << 20;

  char* room(std::size_t bytes) {
    if (used_ + bytes > scratch_.capacity) grow(used_ + bytes);
    return scratch_.data.get() + used_;
  }
  void grow(std::size_t needed) {
    auto capacity = std::max({needed, scratch_.capacity * 2, std::size_t{4096}});
    auto data = std::make_unique_for_overwrite<char[]>(capacity);
    if (used_ != 0) std::memcpy(data.get(), scratch_.data.get(), used_);
    scratch_ = {std::move(data), capacity};
  }

  static thread_local Scratch scratch_;
  std::size_t used_;
};

thread_local Writer::Scratch Writer::scratch_;

constexpr char kHex[] = "0123456789abcdef";

// Bytes JSON requires escaped in a string: '"', '\\' and control characters.
constexpr auto kEscape = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  table['"'] = table['\\'] = true;
  return table;
}();

// True when none of the eight bytes needs escaping (no byte below 0x20, no '"', no '\\').
constexpr bool all_plain(std::uint64_t bytes) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101, kHighs = 0x8080808080808080;
  auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  auto below_space = (bytes - kOnes * 0x20) & ~bytes & kHighs;
  return (below_space | has_zero(bytes ^ (kOnes * '"')) | has_zero(bytes ^ (kOnes * '\\'))) == 0;
}

void Writer::string(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  // The common case, nothing to escape, is one pass that scans and copies, eight bytes at a time.
  char* at = room(text.size() + 2);
  *at++ = '"';
  std::size_t clean = 0;
  for (std::uint64_t chunk; clean + 8 <= text.size(); clean += 8) {
    std::memcpy(&chunk, bytes + clean, 8);
    if (!all_plain(chunk)) break;
    std::memcpy(at + clean, &chunk, 8);
  }
  for (; clean < text.size() && !kEscape[bytes[clean]]; ++clean) at[clean] = text[clean];
  used_ += clean + 1;
  for (std::size_t i = clean, run = clean; i <= text.size(); ++i) {
    if (i < text.size() && !kEscape[bytes[i]]) continue;
    put(text.substr(run, i - run));
    run = i + 1;
    if (i == text.size()) break;
    switch (bytes[i]) {
      case '"':
        put("\\\"");
        break;
      case '\\':
        put("\\\\");
        break;
      case '\b':
        put("\\b");
        break;
      case '\f':
        put("\\f");
        break;
      case '\n':
        put("\\n");
        break;
      case '\r':
        put("\\r");
        break;
      case '\t':
        put("\\t");
        break;
      default: {
        const char escaped[] = {'\\', 'u', '0', '0', kHex[bytes[i] >> 4], kHex[bytes[i] & 0xf]};
        put(std::string_view(escaped, sizeof escaped));
      }
    }
  }
  put('"');
}

void Writer::value(const json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      put("null");
      break;
    case boost::json::kind::bool_:
      put(v.get_bool() ? "true" : "false");
      break;
    case boost::json::kind::int64:
      number(v.get_int64());
      break;
    case boost::json::kind::uint64:
      number(v.get_uint64());
      break;
    case boost::json::kind::double_:
      // As JavaScript writes numbers: shortest round-trip form (1.5, 0.1, 3), null for NaN and infinities.
      if (std::isfinite(v.get_double()))
        number(v.get_double());
      else
        put("null");
      break;
    case boost::json::kind::string:
      string(v.get_string());
      break;
    case boost::json::kind::array:
      array(v.get_array());
      break;
    case boost::json::kind::object:
      object(v.get_object());
      break;
  }
}

void Writer::array(const json::array& items) {
  put('[');
  bool first = true;
  for (const auto& item : items) {
    if (!first) put(',');
    first = false;
    value(item);
  }
  put(']');
}

void Writer::object(const json::object& members) {
  put('{');
  bool first = true;
  for (const auto& member : members) {
    if (!first) put(',');
    first = false;
    string(member.key());
    put(':');
    value(member.value());
  }
  put('}');
}

// One overload per JSON shape the public functions take.
void write(Writer& writer, std::string_view text) {
  writer.string(text);
}
void write(Writer& writer, const value& v) {
  writer.value(v);
}
void write(Writer& writer, const object& members) {
  writer.object(members);
}
void write(Writer& writer, const array& items) {
  writer.array(items);
}

template <class T>
void append(std::string& out, const T& v) {
  Writer writer;
  write(writer, v);
  out += writer.text();
}

template <class T>
std::string text_of(const T& v) {
  Writer writer;
  write(writer, v);
  return std::string(writer.text());
}

}  // namespace

void append_string(std::string& out, std::string_view text) {
  append(out, text);
}
void stringify_to(std::string& out, const value& v) {
  append(out, v);
}
void stringify_to(std::string& out, const object& members) {
  append(out, members);
}
void stringify_to(std::string& out, const array& items) {
  append(out, items);
}
std::string stringify(const value& v) {
  return text_of(v);
}
std::string stringify(const object& members) {
  return text_of(members);
}
std::string stringify(const array& items) {
  return text_of(items);
}

}  // namespace igniter::json
