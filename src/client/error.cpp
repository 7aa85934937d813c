#include "igniter/client/error.hpp"

#include "base/error_category.hpp"

namespace igniter::client {
namespace {

const char* describe(errc value) noexcept {
  switch (value) {
    case errc::error_response:
      return "the server answered with an error";
    case errc::invalid_answer:
      return "the answer is not what was expected";
    case errc::timeout:
      return "timed out";
    case errc::connection_closed:
      return "the server closed the connection";
    case errc::answer_too_large:
      return "the answer is too large";
    case errc::invalid_request:
      return "the request cannot be sent";
    case errc::frame_too_large:
      return "an event stream frame is too large";
    case errc::closed:
      return "the subscription is closed";
    case errc::internal_error:
      return "the client failed inside";
    case errc::tls_failed:
      return "the TLS handshake failed";
  }
  return nullptr;
}

}  // namespace

const std::error_category& client_category() noexcept {
  static const base::EnumCategory<errc> category("igniter.client", describe, "unknown client error");
  return category;
}

}  // namespace igniter::client
