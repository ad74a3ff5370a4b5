// What a client sends to authenticate: the Authorization / X-Intake-Key headers
// (policy/access.h, Bearer and Basic), X-Intake-Signature (policy/signature.h) and the base64
// under Basic (encoding/base64.h). Input: authorization \n x-intake-key \n signature header
// \n secret \n path \n query \n header name \n header value \n body. The signature
// header is checked against that request (v1 and v2 parsing, canonicalisation); a request
// signed by sign_request_v2 (and by the deprecated v1) must verify, and once its reservation
// is committed, be a replay.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "encoding/base64.h"
#include "fuzz_input.h"
#include "policy/access.h"
#include "policy/signature.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace intake;
  fuzz::FuzzInput input(data, size);
  const std::string_view authorization = input.take_until('\n');
  const std::string_view x_intake_key = input.take_until('\n');
  const std::string_view signature = input.take_until('\n');
  const std::string_view secret = input.take_until('\n');
  const std::string_view path = input.take_until('\n');
  const std::string_view query = input.take_until('\n');
  const std::string_view header_name = input.take_until('\n');
  const std::string_view header_value = input.take_until('\n');
  const std::string_view body = input.rest();

  policy::PresentedCredential credential;
  if (policy::present_credential(authorization, x_intake_key, credential)) {
    FUZZ_CHECK(!credential.secret.empty());
    FUZZ_CHECK(credential.claimed_key_id.empty() || !credential.basic_decoded.empty());
  }
  (void)policy::presented_key(authorization, x_intake_key);

  if (auto decoded = encoding::base64_decode(authorization)) {
    FUZZ_CHECK(decoded->size() <= authorization.size());
    FUZZ_CHECK(encoding::base64_decode(encoding::base64_encode(*decoded)) == *decoded);
  }
  FUZZ_CHECK(encoding::base64_decode(encoding::base64_encode(body)) == body);

  const auto replays = std::make_shared<policy::ReplayCache>(std::size_t{1} << 20);
  const std::int64_t now_s = 1'700'000'000;
  const policy::HeaderLine headers[] = {{header_name, header_value}, {"Content-Type", "application/json"}};
  policy::SignatureCheck check{
      .header = signature,
      .signing_secret = secret,
      .key_id = "key",
      .now_s = now_s,
      .window_s = 300,
      .request = {
          .method = "POST", .path = path, .query = query, .headers = headers, .copy_headers = {}, .body = body}};
  (void)policy::verify_signature(check, *replays);
  (void)policy::canonical_string_v2(check.request, "1", "nonce");

  if (secret.empty()) return 0;
  const std::string v2_header = policy::sign_request_v2(secret, check.request, now_s - 10, "fuzz-nonce-0123456789");
  check.header = v2_header;
  {
    auto first = policy::verify_signature(check, *replays);
    FUZZ_CHECK(first);
    first->commit();
  }
  auto again = policy::verify_signature(check, *replays);
  FUZZ_CHECK(!again && again.error().code == ErrorCode::kSignatureReplayed);

  const std::string v1_header = policy::sign_request(secret, now_s - 10, body);
  check.header = v1_header;
  {
    auto first = policy::verify_signature(check, *replays);
    FUZZ_CHECK(first);
    first->commit();
  }
  again = policy::verify_signature(check, *replays);
  FUZZ_CHECK(!again && again.error().code == ErrorCode::kSignatureReplayed);
  return 0;
}
