#pragma once
/// The store's error codes: what a failed store call returns in its Result.

#include <system_error>

namespace igniter::store {

/// Why a store call failed. Compare a Result's error() against these (`r.error() == errc::unavailable`).
enum class errc {
  unavailable = 1,   ///< not connected to Redis (down, reconnecting, or closing); fails fast
  timeout,           ///< sent, but no reply within StoreOptions::timeout (or the connection died first):
                     ///< the command may or may not have run. A command never sent fails with unavailable.
  busy,              ///< StoreOptions::max_pending commands already in flight; retry later
  invalid_url,       ///< the store URL is malformed or names an unsupported scheme
  auth_failed,       ///< Redis rejected the credentials from the URL
  wrong_type,        ///< the value does not suit the operation (increment of a non-integer, get_as<T>)
  out_of_range,      ///< increment would overflow a signed 64-bit integer
  invalid_value,     ///< a stored value is not JSON (written by something other than a store)
  invalid_argument,  ///< a bad argument, such as a TTL that is not positive
  protocol,          ///< Redis sent something the store does not understand
  command_failed,    ///< Redis answered a command with an error reply
  would_deadlock,    ///< a blocking call on the store's own I/O thread (in a handler): use the async form
  reply_too_large,   ///< a Redis reply exceeded StoreOptions::max_reply_bytes; the connection was reopened
};

/// The category of igniter::store::errc; its name() is "igniter.store".
const std::error_category& store_category() noexcept;

/// Makes `std::error_code(e)` work, so a Result can be built from an errc.
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), store_category()};
}

}  // namespace igniter::store

template <>
struct std::is_error_code_enum<igniter::store::errc> : std::true_type {};
