#include "policy/signature.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crypto/digest.h"

namespace intake::policy {
namespace {

constexpr std::string_view kSecret = "whsec-0123456789abcdef";
constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::string_view kNonce = "nonce-0123456789abcdef";

// A v2-signed request that can be altered one element at a time after it was signed.
struct Signed {
  std::string method = "POST";
  std::string path = "/v1/topics/events.orders";
  std::string query = "sync=true&b=2&a=1";
  std::vector<std::pair<std::string, std::string>> headers = {{"Authorization", "Bearer key-secret"},
                                                              {"Content-Type", "application/json"},
                                                              {"X-Intake-Record-Key", "order-42"},
                                                              {"X-Intake-Partition", "3"},
                                                              {"Idempotency-Key", "idem-1"},
                                                              {"X-Tenant", "acme"},
                                                              {"User-Agent", "curl/8"}};
  std::vector<std::string> copy_headers = {"X-Tenant"};
  std::string body = R"({"order":42})";
  std::vector<HeaderLine> lines;

  RequestToSign request() {
    lines.clear();
    for (const auto& [name, value] : headers) lines.push_back({name, value});
    return {
        .method = method, .path = path, .query = query, .headers = lines, .copy_headers = copy_headers, .body = body};
  }
  std::string sign(std::int64_t t = kNow, std::string_view nonce = kNonce) {
    return sign_request_v2(kSecret, request(), t, nonce);
  }
  Result<ReplayReservation> verify(const std::string& header, ReplayCache& replays, std::int64_t now = kNow) {
    return verify_signature({.header = header,
                             .signing_secret = kSecret,
                             .key_id = "signer",
                             .now_s = now,
                             .window_s = 300,
                             .request = request()},
                            replays);
  }
  std::string& header(std::string_view name) {
    for (auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return headers.emplace_back(std::string(name), "").second;
  }
};

std::shared_ptr<ReplayCache> cache(std::size_t max_bytes = std::size_t{32} << 20) {
  return std::make_shared<ReplayCache>(max_bytes);
}

ErrorCode code_of(const Result<ReplayReservation>& result) { return result ? ErrorCode::kCount_ : result.error().code; }

TEST(SignatureV2, CanonicalStringIsTheDocumentedOne) {
  Signed request;
  request.headers.emplace_back("x-intake-record-key", "  again\t");  // trimmed; a repeat joins with ","
  EXPECT_EQ(canonical_string_v2(request.request(), "1800000000", kNonce),
            "INTAKE-HMAC-SHA256-V2\n"
            "POST\n"
            "/v1/topics/events.orders\n"
            "a=1&b=2&sync=true\n"
            "content-type:application/json\n"
            "idempotency-key:idem-1\n"
            "x-intake-partition:3\n"
            "x-intake-record-key:order-42,again\n"
            "x-tenant:acme\n" +
                crypto::to_hex(crypto::sha256(R"({"order":42})")) +
                "\n"
                "1800000000\n"
                "nonce-0123456789abcdef");
}

TEST(SignatureV2, CanonicalStringLayout) {
  Signed request;
  request.headers = {{"Content-Type", "text/plain"},
                     {"X-Intake-Signature", "t=1"},
                     {"x-intake-sync", " true\t"},
                     {"X-Intake-Sync", "false"},
                     {"Authorization", "Bearer k"}};
  request.copy_headers.clear();
  request.query = "";
  request.body = "";
  EXPECT_EQ(canonical_string_v2(request.request(), "1800000000", kNonce),
            "INTAKE-HMAC-SHA256-V2\nPOST\n/v1/topics/events.orders\n\ncontent-type:text/plain\n"
            "x-intake-sync:true,false\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n1800000000\n"
            "nonce-0123456789abcdef");
}

TEST(SignatureV2, QueryParametersSortByNameThenValueAsSent) {
  Signed request;
  request.query = "b=2&a=%20x&a=1&c&b=1";
  EXPECT_NE(canonical_string_v2(request.request(), "1", kNonce).find("\na=%20x&a=1&b=1&b=2&c\n"), std::string::npos);
}

TEST(SignatureV2, ValidSignatureIsAccepted) {
  auto replays = cache();
  Signed request;
  const std::string header = request.sign();
  EXPECT_EQ(header.rfind("t=1800000000,n=nonce-0123456789abcdef,v2=", 0), 0u) << header;
  auto accepted = request.verify(header, *replays);
  ASSERT_TRUE(accepted) << accepted.error().message;
  EXPECT_TRUE(accepted.value().held());
}

TEST(SignatureV2, ReorderedQueryAndUnsignedHeadersStillPass) {
  auto replays = cache();
  Signed request;
  const std::string header = request.sign();
  request.query = "a=1&sync=true&b=2";
  request.header("User-Agent") = "something-else";
  request.header("Authorization") = "Bearer another";
  request.headers.emplace_back("Accept", "*/*");
  auto accepted = request.verify(header, *replays);
  EXPECT_TRUE(accepted) << accepted.error().message;
}

TEST(SignatureV2, EverySignedElementAlteredIsAnInvalidSignature) {
  const std::vector<std::pair<std::string, void (*)(Signed&)>> alterations = {
      {"method", [](Signed& r) { r.method = "PUT"; }},
      {"path (another topic)", [](Signed& r) { r.path = "/v1/topics/events.other"; }},
      {"path (another route)", [](Signed& r) { r.path += "/records"; }},
      {"query parameter added", [](Signed& r) { r.query += "&x=1"; }},
      {"query parameter changed", [](Signed& r) { r.query = "sync=false&b=2&a=1"; }},
      {"query removed", [](Signed& r) { r.query.clear(); }},
      {"X-Intake-Record-Key", [](Signed& r) { r.header("X-Intake-Record-Key") = "order-43"; }},
      {"X-Intake-Partition", [](Signed& r) { r.header("X-Intake-Partition") = "4"; }},
      {"X-Intake-Sync added", [](Signed& r) { r.header("X-Intake-Sync") = "false"; }},
      {"X-Intake-Key added", [](Signed& r) { r.header("X-Intake-Key") = "another"; }},
      {"X-Intake-* repeated", [](Signed& r) { r.headers.emplace_back("X-Intake-Record-Key", "order-43"); }},
      {"copied header", [](Signed& r) { r.header("X-Tenant") = "evil"; }},
      {"copied header removed",
       [](Signed& r) { std::erase_if(r.headers, [](auto& h) { return h.first == "X-Tenant"; }); }},
      {"Content-Type", [](Signed& r) { r.header("Content-Type") = "application/x-ndjson"; }},
      {"Content-Encoding added", [](Signed& r) { r.header("Content-Encoding") = "gzip"; }},
      {"Idempotency-Key", [](Signed& r) { r.header("Idempotency-Key") = "idem-2"; }},
      {"body", [](Signed& r) { r.body = R"({"order":43})"; }},
  };
  for (const auto& [what, alter] : alterations) {
    auto replays = cache();
    Signed request;
    const std::string header = request.sign();
    alter(request);
    EXPECT_EQ(code_of(request.verify(header, *replays)), ErrorCode::kInvalidSignature) << what;
  }
}

TEST(SignatureV2, TimestampAndNonceAreSigned) {
  auto replays = cache();
  Signed request;
  const std::string header = request.sign();
  std::string other_time = header;
  other_time.replace(0, std::string("t=1800000000").size(), "t=1800000001");
  EXPECT_EQ(code_of(request.verify(other_time, *replays)), ErrorCode::kInvalidSignature);
  std::string other_nonce = header;
  other_nonce.replace(other_nonce.find(kNonce), kNonce.size(), "nonce-0123456789abcdeX");
  EXPECT_EQ(code_of(request.verify(other_nonce, *replays)), ErrorCode::kInvalidSignature);
  EXPECT_TRUE(request.verify(header, *replays));
}

TEST(SignatureV2, NonceMustBeWellFormed) {
  EXPECT_TRUE(valid_nonce("0123456789abcdef"));
  EXPECT_TRUE(valid_nonce(std::string(128, '_')));
  EXPECT_FALSE(valid_nonce("0123456789abcde"));
  EXPECT_FALSE(valid_nonce(std::string(129, 'a')));
  EXPECT_FALSE(valid_nonce("0123456789abcdef!"));
  auto replays = cache();
  Signed request;
  EXPECT_EQ(code_of(request.verify(request.sign(kNow, "short"), *replays)), ErrorCode::kInvalidSignature);
  const std::string no_nonce = "t=1800000000,v2=" + std::string(64, '0');
  EXPECT_EQ(code_of(request.verify(no_nonce, *replays)), ErrorCode::kInvalidSignature);
}

TEST(SignatureV2, TimestampOutsideTheWindowIsExpired) {
  auto replays = cache();
  Signed request;
  EXPECT_EQ(code_of(request.verify(request.sign(kNow - 301), *replays)), ErrorCode::kSignatureExpired);
  EXPECT_EQ(code_of(request.verify(request.sign(kNow + 301), *replays)), ErrorCode::kSignatureExpired);
}

TEST(SignatureV2, ACommittedNonceIsAReplayEvenForAnotherRequest) {
  auto replays = cache();
  Signed request;
  auto first = request.verify(request.sign(), *replays);
  ASSERT_TRUE(first);
  first.value().commit();
  EXPECT_EQ(code_of(request.verify(request.sign(), *replays)), ErrorCode::kSignatureReplayed);
  request.body = "another body, same nonce";
  EXPECT_EQ(code_of(request.verify(request.sign(), *replays)), ErrorCode::kSignatureReplayed);
  // Identical requests with their own nonces do not collide (v1's replay id was the MAC).
  request.body = R"({"order":42})";
  EXPECT_TRUE(request.verify(request.sign(kNow, "nonce-another-0123456789"), *replays));
  EXPECT_EQ(replays->stats().replays_refused.load(), 2u);
}

TEST(SignatureV2, AReleasedNonceCanBeRetried) {
  auto replays = cache();
  Signed request;
  const std::string header = request.sign();
  {
    auto refused = request.verify(header, *replays);
    ASSERT_TRUE(refused);
    refused.value().release();  // e.g. answered 429
  }
  {
    auto dropped = request.verify(header, *replays);
    ASSERT_TRUE(dropped);  // destroyed unsettled: released too
  }
  auto retried = request.verify(header, *replays);
  ASSERT_TRUE(retried);
  retried.value().commit();
  EXPECT_EQ(code_of(request.verify(header, *replays)), ErrorCode::kSignatureReplayed);
}

TEST(SignatureV2, AConcurrentDuplicateWhileReservedIsAReplay) {
  auto replays = cache();
  Signed request;
  const std::string header = request.sign();
  auto in_flight = request.verify(header, *replays);
  ASSERT_TRUE(in_flight);
  EXPECT_EQ(code_of(request.verify(header, *replays)), ErrorCode::kSignatureReplayed);
  in_flight.value().release();
  EXPECT_TRUE(request.verify(header, *replays));
}

TEST(SignatureV2, AnyOfSeveralV2ValuesMayMatchForSecretRotation) {
  auto replays = cache();
  Signed request;
  const std::string good = request.sign();
  const std::string header =
      "t=1800000000,n=" + std::string(kNonce) + ",v2=" + std::string(64, '0') + "," + good.substr(good.find("v2="));
  EXPECT_TRUE(request.verify(header, *replays));
}

TEST(SignatureV2, V2GovernsAHeaderThatAlsoCarriesV1) {
  auto replays = cache();
  Signed request;
  const std::string v1 = sign_request(kSecret, kNow, request.body);
  const std::string v1_mac = v1.substr(v1.find("v1="));
  // A valid v1 beside a wrong v2 does not pass: v2 is checked alone.
  const std::string wrong_v2 = "t=1800000000,n=" + std::string(kNonce) + "," + v1_mac + ",v2=" + std::string(64, 'a');
  EXPECT_EQ(code_of(request.verify(wrong_v2, *replays)), ErrorCode::kInvalidSignature);
  EXPECT_TRUE(request.verify(request.sign() + "," + v1_mac, *replays));
}

TEST(SignatureV1, StillVerifiedAndAcceptedOnce) {
  auto replays = cache();
  Signed request;
  const std::string header = sign_request(kSecret, kNow, request.body);
  auto first = request.verify(header, *replays);
  ASSERT_TRUE(first);
  first.value().commit();
  EXPECT_EQ(code_of(request.verify(header, *replays)), ErrorCode::kSignatureReplayed);
}

TEST(SignatureV1, ReplayInAnotherHexSpellingIsStillAReplay) {
  auto replays = cache();
  Signed request;
  const std::string header = sign_request(kSecret, kNow, request.body);
  auto first = request.verify(header, *replays);
  ASSERT_TRUE(first);
  first.value().commit();
  std::string upper = header;
  for (std::size_t i = upper.find("v1=") + 3; i < upper.size(); ++i) {
    upper[i] = static_cast<char>(std::toupper(upper[i]));
  }
  ASSERT_NE(upper, header);
  EXPECT_EQ(code_of(request.verify(upper, *replays)), ErrorCode::kSignatureReplayed);
}

TEST(SignatureV1, TamperedBodyAndWrongSecretAreRejected) {
  auto replays = cache();
  Signed request;
  EXPECT_EQ(code_of(request.verify(sign_request(kSecret, kNow, "amount=10"), *replays)), ErrorCode::kInvalidSignature);
  EXPECT_EQ(code_of(request.verify(sign_request("another-secret-xxxxxx", kNow, request.body), *replays)),
            ErrorCode::kInvalidSignature);
}

TEST(Signature, MissingAndMalformedHeadersSayWhatToSend) {
  auto replays = cache();
  Signed request;
  auto missing = request.verify("", *replays);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kSignatureRequired);
  EXPECT_NE(missing.error().message.find("t=<unix seconds>,n=<nonce>,v2="), std::string::npos);
  for (const char* bad : {"garbage", "t=abc,v1=00", "v1=00", "t=1800000000", "t=1800000000,v1=zz",
                          "t=1800000000,n=nonce-0123456789abcdef,v2=zz"}) {
    EXPECT_EQ(code_of(request.verify(bad, *replays)), ErrorCode::kInvalidSignature) << bad;
  }
}

// The reference client signer (examples/sign_request.py) and this one agree on a fixed vector.
TEST(SignatureV2, ThePythonReferenceSignerAgrees) {
  Signed request;
  request.header("X-Intake-Record-Key") = " order-42\t";
  request.query = "b=2&sync=true&a=1&a=0";
  request.headers.emplace_back("x-intake-record-key", "again");
  const std::string body_path = ::testing::TempDir() + "/sign_request_body";
  std::ofstream(body_path, std::ios::binary) << request.body;
  std::string command = "python3 " INTAKE_SOURCE_DIR "/examples/sign_request.py --secret '" + std::string(kSecret) +
                        "' --method POST --path '" + request.path + "?" + request.query +
                        "' --copy-header x-tenant --timestamp 1800000000 --nonce " + std::string(kNonce) +
                        " --body-file " + body_path;
  for (const auto& [name, value] : request.headers) command += " -H '" + name + ": " + value + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe.get()) != nullptr) output += buffer;
  EXPECT_EQ(pclose(pipe.release()), 0) << command;
  EXPECT_EQ(output, request.sign() + "\n") << command;
}

TEST(ReplayCache, ForgetsEntriesOnceTheirWindowIsOver) {
  auto replays = cache();
  auto first = replays->reserve("k", "n:1", /*expires_s=*/100, /*now_s=*/50);
  ASSERT_TRUE(first);
  first.value().commit();
  EXPECT_EQ(replays->stats().entries.load(), 1u);
  EXPECT_EQ(replays->stats().bytes.load(), ReplayCache::kEntryOverheadBytes + std::string_view("k\nn:1").size());
  EXPECT_EQ(code_of(replays->reserve("k", "n:1", 100, 60)), ErrorCode::kSignatureReplayed);
  auto again = replays->reserve("k", "n:1", 200, 101);  // window over: forgotten, then taken anew
  ASSERT_TRUE(again);
  again.value().commit();
  EXPECT_EQ(replays->stats().entries.load(), 1u);
  EXPECT_EQ(code_of(replays->reserve("k", "n:1", 200, 150)), ErrorCode::kSignatureReplayed);
  EXPECT_TRUE(replays->reserve("other-key", "n:1", 200, 150));  // per key
}

TEST(ReplayCache, AFullBudgetRefusesNewEntriesAndNeverEvictsALiveOne) {
  // One shard's budget holds three entries of this size.
  const std::size_t entry_bytes = ReplayCache::kEntryOverheadBytes + std::string_view("k\nn:00").size();
  auto replays = cache(ReplayCache::kShards * (3 * entry_bytes));
  std::vector<ReplayReservation> held;
  std::size_t refused = 0;
  for (int i = 0; i < 100; ++i) {
    std::string id = "n:" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    auto reserved = replays->reserve("k", id, 100, 50);
    if (reserved) {
      reserved.value().commit();
    } else {
      EXPECT_EQ(reserved.error().code, ErrorCode::kServerBusy);
      ++refused;
    }
  }
  EXPECT_GT(refused, 0u);
  EXPECT_LE(replays->stats().bytes.load(), ReplayCache::kShards * 3 * entry_bytes);
  EXPECT_EQ(replays->stats().refused_full.load(), refused);
  EXPECT_EQ(replays->stats().entries.load(), 100u - refused);
  // Every accepted entry still refuses its replay: nothing was evicted to make room.
  std::size_t replayed = 0;
  for (int i = 0; i < 100; ++i) {
    std::string id = "n:" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    if (code_of(replays->reserve("k", id, 100, 60)) == ErrorCode::kSignatureReplayed) ++replayed;
  }
  EXPECT_EQ(replayed, 100u - refused);
  // Once they expire, room comes back.
  EXPECT_TRUE(replays->reserve("k", "n:00", 300, 101));
}

TEST(ReplayCache, ASettlementAfterExpiryDoesNotTouchALaterEntry) {
  auto replays = cache();
  auto old = replays->reserve("k", "n:1", 100, 50);
  ASSERT_TRUE(old);
  auto fresh = replays->reserve("k", "n:1", 300, 150);  // the old one expired while in flight
  ASSERT_TRUE(fresh);
  old.value().release();
  EXPECT_EQ(code_of(replays->reserve("k", "n:1", 300, 151)), ErrorCode::kSignatureReplayed);
}

TEST(ReplayCache, OfConcurrentDuplicatesExactlyOneReserves) {
  auto replays = cache();
  std::atomic<int> reserved{0}, replayed{0};
  std::vector<std::thread> threads;
  std::vector<ReplayReservation> held(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto result = replays->reserve("k", "n:same", 100, 50);
      if (result) {
        ++reserved;
        held[t] = std::move(result).value();
      } else if (result.error().code == ErrorCode::kSignatureReplayed) {
        ++replayed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(reserved.load(), 1);
  EXPECT_EQ(replayed.load(), 7);
}

}  // namespace
}  // namespace intake::policy
