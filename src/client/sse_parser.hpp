#pragma once
// The `text/event-stream` parser (WHATWG HTML, "Server-sent events", interpreting an event stream): bytes
// in, in pieces of any size, frames out. No sockets; unit-tested byte by byte.

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace igniter::client::detail {

/// One dispatched frame: fields up to a blank line that held at least one `data:` line.
struct SseFrame {
  std::optional<std::string> id;  ///< This frame's own `id:` value, when it had one.
  std::string event;              ///< `event:` ("" when absent: a "message").
  std::string data;               ///< `data:` lines joined with '\n'.
  std::optional<long> retry;      ///< `retry:` milliseconds, when the frame had a valid one.
};

/// Parses one stream. Lines end in LF, CRLF or CR (also split across feeds); a leading BOM is skipped;
/// comments (`:` lines) and unknown fields are ignored; a frame without data dispatches nothing but its
/// `id:` still moves last_event_id(), as in a browser. Not thread-safe; one per connection.
class SseParser {
 public:
  /// `max_frame_bytes` bounds one frame (its pending line and data; its event type and id are lines
  /// of it) so a hostile stream cannot grow memory without end. An `id:` longer than `max_id_bytes` is
  /// ignored, like one with NUL: the id goes back to the server as a header.
  explicit SseParser(std::size_t max_frame_bytes = 16 << 20, std::string last_event_id = {},
                     std::size_t max_id_bytes = 1024)
      : max_frame_bytes_(max_frame_bytes),
        max_id_bytes_(max_id_bytes),
        last_event_id_(std::move(last_event_id)) {}

  /// Parses `bytes`, calling `on_frame(const SseFrame&)` for each frame completed by them. Returns false
  /// once a frame is over the bound (the stream is then unusable: drop it). `on_frame` may return false
  /// to stop at once (later bytes of this feed are not parsed).
  template <class OnFrame>
  bool feed(std::string_view bytes, OnFrame&& on_frame) {
    if (failed_) return false;
    while (!bytes.empty()) {
      if (bom_pending_) {
        // The stream may start with one UTF-8 BOM, which is not part of the first line.
        static constexpr std::string_view kBom = "\xEF\xBB\xBF";
        auto n = std::min(bytes.size(), kBom.size() - bom_matched_);
        if (bytes.substr(0, n) == kBom.substr(bom_matched_, n)) {
          bom_matched_ += n;
          bytes.remove_prefix(n);
          if (bom_matched_ < kBom.size()) return true;
          bom_pending_ = false;
          continue;
        }
        bom_pending_ = false;
        line_.append(kBom.substr(0, bom_matched_));
      }
      if (after_cr_) {
        after_cr_ = false;
        if (bytes.front() == '\n') {
          bytes.remove_prefix(1);
          continue;
        }
      }
      auto eol = bytes.find_first_of("\r\n");
      if (eol == std::string_view::npos) {
        // Checked before appending: one feed, however large, never holds more than the bound.
        if (over_bound(bytes.size())) return fail();
        line_.append(bytes);
        return true;
      }
      if (over_bound(eol)) return fail();
      line_.append(bytes.substr(0, eol));
      after_cr_ = bytes[eol] == '\r';
      bytes.remove_prefix(eol + 1);
      if (line_.empty()) {
        if (auto frame = dispatch()) {
          if constexpr (std::is_same_v<decltype(on_frame(*frame)), bool>) {
            if (!on_frame(*frame)) return true;
          } else {
            on_frame(*frame);
          }
        }
      } else {
        field(line_);
        line_.clear();
      }
    }
    return true;
  }

  /// The id a reconnect sends as Last-Event-ID: the last `id:` of a completed frame.
  const std::string& last_event_id() const noexcept { return last_event_id_; }

 private:
  // Would `more` bytes of the current line take the frame past its bound?
  bool over_bound(std::size_t more) const noexcept {
    return line_.size() + data_.size() + event_.size() + more > max_frame_bytes_;
  }

  bool fail() {
    failed_ = true;
    line_.clear();
    data_.clear();
    return false;
  }

  void field(std::string_view line) {
    if (line.front() == ':') return;  // a comment: keepalives
    auto colon = line.find(':');
    auto name = line.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
      value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (name == "data") {
      data_.append(value);
      data_ += '\n';
      has_data_ = true;
    } else if (name == "event") {
      event_.assign(value);
    } else if (name == "id") {
      if (value.find('\0') == std::string_view::npos && value.size() <= max_id_bytes_)
        id_ = std::string(value);
    } else if (name == "retry") {
      // Digits only, as the spec says; a value past what a long holds is held at the largest.
      if (!value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos) {
        long ms = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
        retry_ = ec == std::errc::result_out_of_range ? std::numeric_limits<long>::max() : ms;
      }
    }
  }

  std::optional<SseFrame> dispatch() {
    if (id_) last_event_id_ = *id_;
    std::optional<SseFrame> out;
    if (has_data_) {
      data_.pop_back();  // the '\n' after the last data line
      out.emplace(SseFrame{std::move(id_), std::move(event_), std::move(data_), retry_});
    }
    id_.reset();
    event_.clear();
    data_.clear();
    retry_.reset();
    has_data_ = false;
    return out;
  }

  std::size_t max_frame_bytes_;
  std::size_t max_id_bytes_;
  std::string last_event_id_;
  std::string line_;  // the line being read
  std::string event_;
  std::string data_;
  std::optional<std::string> id_;
  std::optional<long> retry_;
  bool has_data_ = false;
  bool after_cr_ = false;  // the last line ended in CR: an LF right after it belongs to it
  bool bom_pending_ = true;
  std::size_t bom_matched_ = 0;
  bool failed_ = false;
};

}  // namespace igniter::client::detail
