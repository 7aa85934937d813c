#include "igniter/store/error.hpp"

#include "base/error_category.hpp"

namespace igniter::store {

namespace {

const char* describe(errc value) noexcept {
  switch (value) {
    case errc::unavailable:
      return "store unavailable: not connected to Redis";
    case errc::timeout:
      return "store did not answer in time (the command may or may not have run)";
    case errc::busy:
      return "too many store commands in flight";
    case errc::invalid_url:
      return "invalid or unsupported store URL";
    case errc::auth_failed:
      return "Redis rejected the credentials";
    case errc::wrong_type:
      return "stored value has the wrong type for this operation";
    case errc::out_of_range:
      return "increment would overflow a 64-bit integer";
    case errc::invalid_value:
      return "stored value is not JSON";
    case errc::invalid_argument:
      return "invalid argument to a store operation";
    case errc::protocol:
      return "unexpected reply from Redis";
    case errc::command_failed:
      return "Redis answered with an error";
    case errc::would_deadlock:
      return "blocking store call made on the store's own I/O thread";
    case errc::reply_too_large:
      return "Redis reply larger than max_reply_bytes";
  }
  return nullptr;
}

}  // namespace

const std::error_category& store_category() noexcept {
  static const base::EnumCategory<errc> category("igniter.store", describe, "unknown store error");
  return category;
}

}  // namespace igniter::store
