#pragma once
// The server's TLS context: built from AppOptions::tls (certificate chain and key files) with modern
// defaults, and built again on reload while connections keep the one they started with.

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "igniter/server/app.hpp"

namespace igniter::server {

/// A context built from files, or why it could not be (a message naming the file and OpenSSL's reason).
struct TlsContextLoad {
  std::shared_ptr<boost::asio::ssl::context> context;  ///< Null on failure.
  std::string error;                                   ///< Empty on success.
};

/// Builds a server context: TLS 1.2 and 1.3 only, ALPN `http/1.1`, the server's cipher order, no
/// compression, no renegotiation. Reads the files now; any thread.
TlsContextLoad make_server_tls_context(const TlsOptions& options);

}  // namespace igniter::server
