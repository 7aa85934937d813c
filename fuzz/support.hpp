#pragma once
// What the fuzz targets share: an in-memory stream that hands out its bytes in small reads (so parsers see
// every split), and a reader of the input as a few control bytes followed by the payload.

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace igniter::fuzz {

/// A SyncReadStream over `bytes`: each read_some returns at most `piece` bytes, then eof at the end.
class PieceStream {
 public:
  PieceStream(std::string_view bytes, std::size_t piece)
      : rest_(bytes), piece_(std::max<std::size_t>(piece, 1)) {}

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    if (rest_.empty()) {
      ec = boost::asio::error::eof;
      return 0;
    }
    ec = {};
    auto n =
        boost::asio::buffer_copy(buffers, boost::asio::buffer(rest_.data(), std::min(piece_, rest_.size())));
    rest_.remove_prefix(n);
    return n;
  }

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    auto n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  std::size_t remaining() const noexcept { return rest_.size(); }

 private:
  std::string_view rest_;
  std::size_t piece_;
};

/// A SyncReadStream of `bytes` followed by their last (up to) 64 bytes again and again, `extra` bytes in
/// all, in reads of at most `piece` bytes: a small input that stands for a peer that never stops sending
/// (an endless line, header or chunk-size line). Memory must not grow with `extra`.
class EndlessStream {
 public:
  EndlessStream(std::string_view bytes, std::size_t extra, std::size_t piece)
      : bytes_(bytes), left_(bytes.empty() ? 0 : extra), piece_(std::max<std::size_t>(piece, 1)) {
    auto tail = bytes.substr(bytes.size() - std::min<std::size_t>(64, bytes.size()));
    while (!tail.empty() && unit_.size() < 64 * 1024) unit_ += tail;
  }

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    ec = {};
    if (!bytes_.empty()) {
      auto n = boost::asio::buffer_copy(buffers,
                                        boost::asio::buffer(bytes_.data(), std::min(piece_, bytes_.size())));
      bytes_.remove_prefix(n);
      return n;
    }
    if (left_ == 0) {
      ec = boost::asio::error::eof;
      return 0;
    }
    auto n = boost::asio::buffer_copy(
        buffers, boost::asio::buffer(unit_.data(), std::min({piece_, left_, unit_.size()})));
    left_ -= n;
    return n;
  }

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    auto n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  std::string_view bytes_;
  std::size_t left_;
  std::size_t piece_;
  std::string unit_;
};

/// The fuzzer's input: `take()` reads control bytes from the front (0 once empty), the rest is payload.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  std::uint8_t take() noexcept {
    if (rest_.empty()) return 0;
    auto byte = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return byte;
  }
  std::string_view rest() const noexcept { return rest_; }

 private:
  std::string_view rest_;
};

/// Reports a broken invariant the sanitizers cannot see (a buffer past its bound, a lost session) and
/// aborts, so libFuzzer records the input as a crash.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

}  // namespace igniter::fuzz
