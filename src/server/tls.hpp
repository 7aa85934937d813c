#pragma once
// The server's TLS context: built from AppOptions::tls (certificate chain and key files) with modern
// defaults, and built again on reload while connections keep the one they started with.

#include <array>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "igniter/server/app.hpp"

namespace igniter::server {

/// A context built from files, or why it could not be (a message naming the file and OpenSSL's reason).
struct TlsContextLoad {
  std::shared_ptr<boost::asio::ssl::context> context;  ///< Null on failure.
  std::string error;                                   ///< Empty on success.
};

/// The keys that encrypt TLS session tickets (stateless resumption): one app's contexts share them, so a
/// certificate reload does not cost every client a full handshake. A key encrypts new tickets for one
/// session lifetime, then only decrypts for one more; then it is forgotten (forward secrecy for the
/// sessions it protected). Keys come from OpenSSL's CSPRNG and never leave the process. Thread-safe.
class TicketKeys {
 public:
  struct Key {
    std::array<unsigned char, 16> name;
    std::array<unsigned char, 32> aes;
    std::array<unsigned char, 32> hmac;
    std::chrono::steady_clock::time_point made;
  };

  /// The key for a new ticket, made or rotated as `lifetime` asks; none if the random generator failed.
  std::optional<Key> encrypting(std::chrono::seconds lifetime,
                                std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  /// The key named `name` (16 bytes) if it is still kept; `renew` when it no longer encrypts new tickets.
  std::optional<Key> decrypting(const unsigned char* name, std::chrono::seconds lifetime, bool& renew,
                                std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

 private:
  void rotate(std::chrono::steady_clock::time_point now, std::chrono::seconds lifetime);  // mutex_ held

  std::mutex mutex_;
  std::optional<Key> current_;
  std::optional<Key> previous_;
};

/// Builds a server context: TLS 1.2 and 1.3 only, ALPN `http/1.1`, the server's cipher order, no
/// compression, no renegotiation; session resumption by tickets encrypted with `keys` (a fresh set when
/// null) for TlsOptions::session_lifetime, no server-side session cache. Reads the files now; any thread.
TlsContextLoad make_server_tls_context(const TlsOptions& options, std::shared_ptr<TicketKeys> keys = {});

}  // namespace igniter::server
