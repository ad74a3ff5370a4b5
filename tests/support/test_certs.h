// Certificates for TLS tests, made with the openssl CLI in a directory the caller owns: a CA,
// two server certificates for 127.0.0.1 (SAN IP and DNS localhost) signed by it, a client
// certificate signed by it (SAN URI and DNS), and a self-signed client certificate no CA vouches for.
#pragma once

#include <string>

namespace intake::testing {

struct TestCerts {
  std::string ca_cert;
  std::string server_cert, server_key;
  std::string server2_cert, server2_key;
  std::string client_cert, client_key;  // SAN URI spiffe://intake.test/client, DNS client.intake.test
  std::string stranger_cert, stranger_key;
};

// Throws std::runtime_error when openssl fails.
TestCerts make_test_certs(const std::string& dir);

// Lowercase hex SHA-256 of the first certificate in a PEM file.
std::string pem_sha256(const std::string& pem_file);

// Replaces `to` with a copy of `from` by rename, so a reader sees the old file or the new one.
void replace_file(const std::string& from, const std::string& to);

}  // namespace intake::testing
