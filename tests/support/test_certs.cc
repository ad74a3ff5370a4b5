#include "test_certs.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "http/tls_context.h"

namespace intake::testing {
namespace {

void run(const std::string& command) {
  const std::string quiet = command + " >/dev/null 2>&1";
  if (std::system(quiet.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

void write_text(const std::string& path, const std::string& text) {
  FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) throw std::runtime_error("cannot write " + path);
  std::fputs(text.c_str(), file);
  std::fclose(file);
}

// A key and a certificate signed by the CA, with the given subjectAltName.
void signed_cert(const std::string& dir, const std::string& name, const std::string& san, const std::string& usage) {
  const std::string base = dir + "/" + name;
  write_text(base + ".ext", "subjectAltName=" + san + "\nextendedKeyUsage=" + usage + "\n");
  run("openssl req -newkey rsa:2048 -nodes -keyout " + base + ".key -subj /CN=" + name + " -out " + base + ".csr");
  run("openssl x509 -req -in " + base + ".csr -CA " + dir + "/ca.crt -CAkey " + dir +
      "/ca.key -CAcreateserial -days 2" + " -sha256 -extfile " + base + ".ext -out " + base + ".crt");
}

}  // namespace

TestCerts make_test_certs(const std::string& dir) {
  run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + dir + "/ca.key -subj /CN=intake-test-ca -days 2 -out " +
      dir + "/ca.crt");
  signed_cert(dir, "server", "IP:127.0.0.1,DNS:localhost", "serverAuth");
  signed_cert(dir, "server2", "IP:127.0.0.1,DNS:localhost", "serverAuth");
  signed_cert(dir, "client", "URI:spiffe://intake.test/client,DNS:client.intake.test", "clientAuth");
  run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + dir + "/stranger.key -subj /CN=stranger -days 2 -out " +
      dir + "/stranger.crt");
  TestCerts certs;
  certs.ca_cert = dir + "/ca.crt";
  certs.server_cert = dir + "/server.crt";
  certs.server_key = dir + "/server.key";
  certs.server2_cert = dir + "/server2.crt";
  certs.server2_key = dir + "/server2.key";
  certs.client_cert = dir + "/client.crt";
  certs.client_key = dir + "/client.key";
  certs.stranger_cert = dir + "/stranger.crt";
  certs.stranger_key = dir + "/stranger.key";
  return certs;
}

std::string pem_sha256(const std::string& pem_file) {
  FILE* file = std::fopen(pem_file.c_str(), "r");
  if (file == nullptr) throw std::runtime_error("cannot read " + pem_file);
  X509* certificate = PEM_read_X509(file, nullptr, nullptr, nullptr);
  std::fclose(file);
  if (certificate == nullptr) throw std::runtime_error("no certificate in " + pem_file);
  std::string hex = http::certificate_sha256(certificate);
  X509_free(certificate);
  return hex;
}

void replace_file(const std::string& from, const std::string& to) {
  const std::string staged = to + ".staged";
  std::filesystem::copy_file(from, staged, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(staged, to);
}

}  // namespace intake::testing
