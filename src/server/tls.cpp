#include "server/tls.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
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

struct TicketSettings {
  std::shared_ptr<TicketKeys> keys;
  std::chrono::seconds lifetime;
};

// Where a context keeps its TicketSettings (on the heap, freed with the context).
int ticket_keys_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr,
                                                    [](void*, void* keys, CRYPTO_EX_DATA*, int, long, void*) {
                                                      delete static_cast<TicketSettings*>(keys);
                                                    });
  return index;
}

// OpenSSL's ticket callback: encrypt (enc = 1) with the current key, or find the key a ticket names.
// Returns 1 (use it), 2 (use it and issue a fresh ticket: its key is retiring), 0 (unknown: full
// handshake), -1 (failure).
int ticket_callback(SSL* ssl, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                    EVP_MAC_CTX* mac, int enc) {
  auto* settings =
      static_cast<TicketSettings*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ticket_keys_index()));
  if (settings == nullptr) return -1;
  std::optional<TicketKeys::Key> key;
  int verdict = 1;
  if (enc) {
    key = settings->keys->encrypting(settings->lifetime);
    if (!key) return -1;
    std::memcpy(name, key->name.data(), key->name.size());
    if (RAND_bytes(iv, EVP_CIPHER_iv_length(EVP_aes_256_cbc())) != 1) return -1;
  } else {
    bool renew = false;
    key = settings->keys->decrypting(name, settings->lifetime, renew);
    if (!key) return 0;
    verdict = renew ? 2 : 1;
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key->hmac.data(), key->hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  int ok = enc ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv)
               : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv);
  return ok == 1 ? verdict : -1;
}

}  // namespace

void TicketKeys::rotate(std::chrono::steady_clock::time_point now, std::chrono::seconds lifetime) {
  if (previous_ && now - previous_->made >= 2 * lifetime) previous_.reset();
  if (current_ && now - current_->made < lifetime) return;
  if (current_ && now - current_->made < 2 * lifetime) previous_ = current_;
  Key key{};
  key.made = now;
  // Without randomness there is no safe key: keep none (new tickets fail, handshakes go on in full).
  if (RAND_bytes(key.name.data(), key.name.size()) != 1 || RAND_bytes(key.aes.data(), key.aes.size()) != 1 ||
      RAND_bytes(key.hmac.data(), key.hmac.size()) != 1) {
    current_.reset();
    return;
  }
  current_ = key;
}

std::optional<TicketKeys::Key> TicketKeys::encrypting(std::chrono::seconds lifetime,
                                                      std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  rotate(now, lifetime);
  return current_;
}

std::optional<TicketKeys::Key> TicketKeys::decrypting(const unsigned char* name,
                                                      std::chrono::seconds lifetime, bool& renew,
                                                      std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  rotate(now, lifetime);
  if (current_ && std::memcmp(name, current_->name.data(), current_->name.size()) == 0) return current_;
  renew = true;
  if (previous_ && std::memcmp(name, previous_->name.data(), previous_->name.size()) == 0) return previous_;
  return std::nullopt;
}

TlsContextLoad make_server_tls_context(const TlsOptions& options, std::shared_ptr<TicketKeys> keys) {
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
  // Resumption by session tickets only: a reconnecting client (an EventSource after a drop or a restart
  // of the proxy) skips the key exchange and the signature. Nothing is kept per session on the server.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  if (options.session_lifetime.count() > 0) {
    SSL_CTX_set_timeout(native, static_cast<long>(options.session_lifetime.count()));
    auto* settings =
        new TicketSettings{keys ? std::move(keys) : std::make_shared<TicketKeys>(), options.session_lifetime};
    SSL_CTX_set_ex_data(native, ticket_keys_index(), settings);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(native, ticket_callback);
  } else {
    SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(native, 0);
  }

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
