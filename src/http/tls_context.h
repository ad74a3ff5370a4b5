// TlsContext: one immutable server-side TLS setup (certificate, key, client CAs) built from
// server.tls. A context never changes once built; a reload builds a new one and new
// connections take it (http/tls_reloader.h), while open connections keep the one they began
// with (OpenSSL counts the references an SSL holds on its SSL_CTX).
//
// What every context enforces: TLS 1.2 or newer; on 1.2 only ECDHE with AES-GCM or
// CHACHA20-POLY1305, the server's preference first (1.3 keeps OpenSSL's suites); no
// renegotiation, no compression, no session tickets (resumption uses the context's own session
// cache, which dies with it, so no long-lived ticket key can decrypt recorded traffic). ALPN:
// a client that offers protocols gets http/1.1, and one that offers ALPN without http/1.1
// (say, h2 only) is refused with no_application_protocol rather than spoken to in a protocol
// it did not ask for; a client without ALPN is served HTTP/1.1.
#pragma once

#include <openssl/ssl.h>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "error/result.h"
#include "http/server_options.h"

namespace intake::http {

struct TlsContext {
  // Non-const behind the pointer: asio's ssl::stream takes the context by reference.
  std::unique_ptr<boost::asio::ssl::context> ssl;
  std::string cert_sha256;                          // hex fingerprint of the served certificate
  std::chrono::system_clock::time_point not_after;  // of the served certificate
};

// Builds a context from the files `options` names. An unreadable file, a key that is not the
// certificate's, or an unreadable client CA file is an error saying which (never the key's
// content).
Result<std::shared_ptr<const TlsContext>> make_tls_context(const TlsOptions& options);

// What a verified client certificate says, for mapping it to an API key.
struct PeerIdentity {
  std::string sha256;             // lowercase hex SHA-256 of the certificate's DER
  std::vector<std::string> sans;  // its DNS and URI subjectAltNames
};

// The peer's certificate if it passed verification against the client CAs; else null.
std::shared_ptr<const PeerIdentity> verified_peer(SSL* ssl);

// Lowercase hex SHA-256 of a certificate's DER.
std::string certificate_sha256(X509* certificate);

}  // namespace intake::http
