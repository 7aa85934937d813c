#include "server/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>

namespace igniter::server {

namespace ssl = boost::asio::ssl;

namespace {

// ALPN: the server speaks HTTP/1.1 only. A client that offers protocols but not http/1.1 gets none
// selected (the connection goes on; RFC 7301 lets the server ignore the extension rather than fail).
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                unsigned int in_length, void*) {
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kHttp11, sizeof kHttp11, in, in_length) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

std::string reason(const boost::system::error_code& ec) {
  std::string text = ec.message();
  // OpenSSL leaves more detail on its error queue for some failures; clear it so it does not leak into
  // a later connection's error.
  ERR_clear_error();
  return text;
}

}  // namespace

TlsContextLoad make_server_tls_context(const TlsOptions& options) {
  TlsContextLoad out;
  if (options.certificate_chain_file.empty() || options.private_key_file.empty()) {
    out.error = "TLS needs both tls.certificate_chain_file and tls.private_key_file";
    return out;
  }
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                           ssl::context::single_dh_use,
                       ec);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  // OpenSSL 3 refuses client-initiated renegotiation unless allowed; this refuses it in every form.
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  // TLS 1.2: forward-secret AEAD suites only (Mozilla's "intermediate" list); TLS 1.3 keeps its defaults.
  SSL_CTX_set_cipher_list(native,
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  // Idle TLS connections (SSE streams between events) hold no read/write buffers.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);

  context->use_certificate_chain_file(options.certificate_chain_file.string(), ec);
  if (ec) {
    out.error = "cannot use TLS certificate chain file '" + options.certificate_chain_file.string() +
                "': " + reason(ec);
    return out;
  }
  context->use_private_key_file(options.private_key_file.string(), ssl::context::pem, ec);
  if (ec) {
    out.error = "cannot use TLS private key file '" + options.private_key_file.string() + "': " + reason(ec);
    return out;
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    out.error = "TLS private key file '" + options.private_key_file.string() +
                "' does not match the certificate in '" + options.certificate_chain_file.string() + "'";
    return out;
  }
  out.context = std::move(context);
  return out;
}

}  // namespace igniter::server
