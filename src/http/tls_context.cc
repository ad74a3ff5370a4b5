#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <memory>

namespace intake::http {
namespace {

namespace ssl = boost::asio::ssl;

constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kSessionContext[] = "intake";

// OpenSSL's reason for the last failure (library and reason text, never file content).
std::string openssl_reason() {
  std::string reason;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!reason.empty()) reason += "; ";
    reason += text;
  }
  return reason.empty() ? "unknown OpenSSL error" : reason;
}

Error tls_error(const std::string& what) {
  return Error{ErrorCode::kInvalidConfig, "server.tls: " + what + ": " + openssl_reason()};
}

int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
                unsigned int offered_length, void* /*arg*/) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_length, kHttp11, sizeof kHttp11, offered, offered_length) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// client_auth: optional — a certificate that fails verification is as good as none: the
// handshake goes on and verified_peer() reports no identity.
int accept_unverified(int /*preverify_ok*/, X509_STORE_CTX* /*store*/) { return 1; }

std::chrono::system_clock::time_point not_after(X509* certificate) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

std::string certificate_sha256(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certificate, EVP_sha256(), digest, &length) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

Result<std::shared_ptr<const TlsContext>> make_tls_context(const TlsOptions& options) {
  ERR_clear_error();
  auto context = std::make_shared<TlsContext>();
  context->ssl = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* handle = context->ssl->native_handle();
  SSL_CTX_set_min_proto_version(handle, TLS1_2_VERSION);
  SSL_CTX_set_options(handle, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                  SSL_OP_NO_TICKET | SSL_OP_SINGLE_ECDH_USE);
  if (SSL_CTX_set_cipher_list(handle, kTls12Ciphers) != 1) return tls_error("cannot set the cipher list");
  SSL_CTX_set_session_id_context(handle, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_alpn_select_cb(handle, select_alpn, nullptr);

  if (SSL_CTX_use_certificate_chain_file(handle, options.cert_file.c_str()) != 1) {
    return tls_error("cannot load cert_file '" + options.cert_file + "'");
  }
  if (SSL_CTX_use_PrivateKey_file(handle, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL compares the key with the certificate as it loads it.
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      return tls_error("key_file '" + options.key_file + "' is not the key of cert_file '" + options.cert_file + "'");
    }
    return tls_error("cannot load key_file '" + options.key_file + "'");
  }
  if (SSL_CTX_check_private_key(handle) != 1) {
    return tls_error("key_file '" + options.key_file + "' is not the key of cert_file '" + options.cert_file + "'");
  }
  X509* served = SSL_CTX_get0_certificate(handle);
  context->cert_sha256 = certificate_sha256(served);
  context->not_after = not_after(served);

  if (options.client_auth != TlsOptions::ClientAuth::kNone) {
    if (SSL_CTX_load_verify_locations(handle, options.client_ca_file.c_str(), nullptr) != 1) {
      return tls_error("cannot load client_ca_file '" + options.client_ca_file + "'");
    }
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(handle, names);
    }
    if (options.client_auth == TlsOptions::ClientAuth::kRequired) {
      SSL_CTX_set_verify(handle, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    } else {
      SSL_CTX_set_verify(handle, SSL_VERIFY_PEER, accept_unverified);
    }
  }
  ERR_clear_error();
  return std::shared_ptr<const TlsContext>(std::move(context));
}

std::shared_ptr<const PeerIdentity> verified_peer(SSL* ssl) {
  X509* certificate = SSL_get0_peer_certificate(ssl);
  if (certificate == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return nullptr;
  auto identity = std::make_shared<PeerIdentity>();
  identity->sha256 = certificate_sha256(certificate);
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      const ASN1_IA5STRING* text = nullptr;
      if (name->type == GEN_DNS) text = name->d.dNSName;
      if (name->type == GEN_URI) text = name->d.uniformResourceIdentifier;
      if (text == nullptr) continue;
      identity->sans.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                                  static_cast<std::size_t>(ASN1_STRING_length(text)));
    }
    GENERAL_NAMES_free(names);
  }
  return identity;
}

}  // namespace intake::http
