#include "policy/signature.h"

#include <gtest/gtest.h>

#include <cctype>

namespace intake::policy {
namespace {

constexpr std::string_view kSecret = "whsec-0123456789abcdef";
constexpr std::int64_t kNow = 1'800'000'000;

SignatureCheck check(const std::string& header, std::string_view body, std::int64_t now = kNow) {
  return SignatureCheck{header, body, kSecret, "signer", now, 300};
}

TEST(Signature, ValidSignatureIsAcceptedOnce) {
  ReplayCache replays;
  const std::string header = sign_request(kSecret, kNow, R"({"a":1})");
  EXPECT_TRUE(verify_signature(check(header, R"({"a":1})"), replays));
  auto replayed = verify_signature(check(header, R"({"a":1})"), replays);
  ASSERT_FALSE(replayed);
  EXPECT_EQ(replayed.error().code, ErrorCode::kSignatureReplayed);
}

TEST(Signature, ReplayInAnotherHexSpellingIsStillAReplay) {
  ReplayCache replays;
  const std::string header = sign_request(kSecret, kNow, "x");
  ASSERT_TRUE(verify_signature(check(header, "x"), replays));
  std::string upper = header;
  const auto mac_at = upper.find("v1=") + 3;
  for (std::size_t i = mac_at; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  ASSERT_NE(upper, header);
  auto replayed = verify_signature(check(upper, "x"), replays);
  ASSERT_FALSE(replayed);
  EXPECT_EQ(replayed.error().code, ErrorCode::kSignatureReplayed);
}

TEST(Signature, TamperedBodyIsRejected) {
  ReplayCache replays;
  auto result = verify_signature(check(sign_request(kSecret, kNow, "amount=10"), "amount=1000"), replays);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidSignature);
}

TEST(Signature, WrongSecretIsRejected) {
  ReplayCache replays;
  auto result = verify_signature(check(sign_request("another-secret-xxxxxx", kNow, "x"), "x"), replays);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidSignature);
}

TEST(Signature, TimestampOutsideTheWindowIsExpired) {
  ReplayCache replays;
  EXPECT_EQ(verify_signature(check(sign_request(kSecret, kNow - 301, "x"), "x"), replays).error().code,
            ErrorCode::kSignatureExpired);
  EXPECT_EQ(verify_signature(check(sign_request(kSecret, kNow + 301, "x"), "x"), replays).error().code,
            ErrorCode::kSignatureExpired);
  EXPECT_TRUE(verify_signature(check(sign_request(kSecret, kNow - 299, "x"), "x"), replays));
}

TEST(Signature, MissingAndMalformedHeadersSayWhatToSend) {
  ReplayCache replays;
  auto missing = verify_signature(check("", "x"), replays);
  EXPECT_EQ(missing.error().code, ErrorCode::kSignatureRequired);
  EXPECT_NE(missing.error().message.find("t=<unix seconds>"), std::string::npos);
  for (const char* bad : {"garbage", "t=abc,v1=00", "v1=00", "t=1800000000", "t=1800000000,v1=zz"}) {
    auto result = verify_signature(check(bad, "x"), replays);
    ASSERT_FALSE(result) << bad;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidSignature) << bad;
  }
}

TEST(Signature, AnyOfSeveralV1ValuesMayMatchForSecretRotation) {
  ReplayCache replays;
  const std::string good = sign_request(kSecret, kNow, "x");
  const std::string header =
      "t=" + std::to_string(kNow) + ",v1=" + std::string(64, '0') + "," + good.substr(good.find("v1="));
  EXPECT_TRUE(verify_signature(check(header, "x"), replays));
}

TEST(ReplayCache, ForgetsSignaturesAfterTheirWindow) {
  ReplayCache replays;
  EXPECT_TRUE(replays.first_use("k", "sig", /*forget_after_s=*/100, /*now_s=*/50));
  EXPECT_FALSE(replays.first_use("k", "sig", 100, 60));
  EXPECT_TRUE(replays.first_use("other-key", "sig", 100, 60));  // per key
  EXPECT_TRUE(replays.first_use("k", "sig", 200, 150));         // window over
  EXPECT_LE(replays.size(), 2u);
}

}  // namespace
}  // namespace intake::policy
