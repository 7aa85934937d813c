#pragma once
// Admission of a stream and of the channels it asks for: the per-address stream limit, the checks on a
// channel's name and the per-stream channel limit (socket-free, unit-tested), and Hub::open / Hub::admit
// (hub_admission.cpp) which run the app's procedures, guard and stream handlers on a worker thread.

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "igniter/json/json.hpp"
#include "igniter/realtime/options.hpp"
#include "realtime/frame.hpp"

namespace igniter::server {

class AddressLimits;

/// One open stream's share of RealtimeOptions::max_streams_per_address; released when destroyed.
class AddressSlot {
 public:
  AddressSlot() = default;
  AddressSlot(AddressSlot&& other) noexcept
      : limits_(std::exchange(other.limits_, nullptr)), address_(std::move(other.address_)) {}
  AddressSlot& operator=(AddressSlot&& other) noexcept;
  ~AddressSlot();
  explicit operator bool() const noexcept { return limits_ != nullptr; }

 private:
  friend class AddressLimits;  // the only maker of slots
  AddressSlot(AddressLimits* limits, std::string address) : limits_(limits), address_(std::move(address)) {}

  AddressLimits* limits_ = nullptr;
  std::string address_;
};

/// Counts open streams per client address against a limit. Any thread (own mutex); outlives its slots.
class AddressLimits {
 public:
  /// At most `per_address` streams per address; 0 is no limit (acquire then never counts).
  explicit AddressLimits(std::size_t per_address) : per_address_(per_address) {}

  /// Whether a limit applies at all.
  bool limited() const noexcept { return per_address_ > 0; }
  /// A slot for one more stream from `address`; empty when the address holds the limit already.
  AddressSlot acquire(std::string address);
  /// Streams open from `address` (for tests and diagnostics).
  std::size_t open_from(const std::string& address) const;

 private:
  friend class AddressSlot;
  void release(const std::string& address);

  std::size_t per_address_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> streams_;  // only addresses with an open stream
};

/// What admission decided about the channels a connection asked for.
struct Admission {
  std::vector<std::string> channels;                         // admitted, as asked (`x` or its alias `x:{}`)
  std::vector<realtime::RefusedChannel> refused;             // with reasons
  std::vector<std::pair<std::string, json::value>> initial;  // stream channels' first data, in order
};

/// The verdict on one requested channel before any app code runs.
struct ChannelScreen {
  enum Kind {
    refuse,     ///< Refused: `reason` says why (bad name, too long, the stream's channel limit).
    duplicate,  ///< Asked twice in one request: ignored.
    held,       ///< The stream holds it already (a live change): admitted without running anything.
    check,      ///< To check with the app (guard, stream handler), under its canonical name `channel`.
  } kind;
  std::string channel;  // canonical name (without `:{}`)
  std::string reason;   // when refused
};

/// Screens `name` (as the client spelled it) for a stream that holds `held` and was admitted `admitted`
/// so far in this request. `x` and its alias `x:{}` are two subscriptions of the same channel (the
/// Igniter.js client dispatches by the envelope's channel, so each spelling gets events under its name).
ChannelScreen screen_channel(std::string_view name, const std::vector<std::string>& admitted,
                             const std::vector<std::string>& held, const realtime::RealtimeOptions& options);

}  // namespace igniter::server
