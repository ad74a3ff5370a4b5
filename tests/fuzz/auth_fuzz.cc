// What a client sends to authenticate: the Authorization / X-Intake-Key headers
// (policy/access.h, Bearer and Basic), X-Intake-Signature (policy/signature.h) and the base64
// under Basic (encoding/base64.h). Input: authorization \n x-intake-key \n signature header
// \n secret \n body. A request signed by sign_request must verify once, then be a replay.
#include <cstddef>
#include <cstdint>
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

  policy::ReplayCache replays;
  const std::int64_t now_s = 1'700'000'000;
  policy::SignatureCheck check{signature, body, secret, "key", now_s, 300};
  (void)policy::verify_signature(check, replays);

  const std::string signed_header = policy::sign_request(secret, now_s - 10, body);
  check.header = signed_header;
  if (!secret.empty()) {
    FUZZ_CHECK(policy::verify_signature(check, replays));
    auto again = policy::verify_signature(check, replays);
    FUZZ_CHECK(!again && again.error().code == ErrorCode::kSignatureReplayed);
  }
  return 0;
}
