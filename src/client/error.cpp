#include "igniter/client/error.hpp"

#include <string>

namespace igniter::client {
namespace {

class ClientCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "igniter.client"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
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
    return "unknown client error";
  }
};

}  // namespace

const std::error_category& client_category() noexcept {
  static const ClientCategory category;
  return category;
}

}  // namespace igniter::client
