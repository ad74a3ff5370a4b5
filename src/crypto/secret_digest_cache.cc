#include "crypto/secret_digest_cache.h"

#include <absl/hash/hash.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstring>
#include <random>

namespace intake::crypto {
namespace {

std::uint64_t random_seed() {
  std::uint64_t seed = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof(seed)) != 1) {
    seed = (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  }
  return seed;
}

}  // namespace

SecretDigestCache& SecretDigestCache::for_this_thread() {
  static const std::uint64_t process_seed = random_seed();
  thread_local SecretDigestCache cache(process_seed);
  return cache;
}

SecretDigestCache::~SecretDigestCache() { OPENSSL_cleanse(slots_.data(), sizeof(slots_)); }

std::size_t SecretDigestCache::slot_of(std::string_view secret) const { return absl::HashOf(seed_, secret) % kSlots; }

Sha256 SecretDigestCache::digest(std::string_view secret) {
  if (secret.size() > kMaxSecretBytes) {
    ++computed_;
    return sha256(secret);
  }
  Slot& slot = slots_[slot_of(secret)];
  if (slot.filled && slot.length == secret.size() &&
      CRYPTO_memcmp(slot.secret.data(), secret.data(), secret.size()) == 0) {
    return slot.digest;
  }
  ++computed_;
  slot.digest = sha256(secret);
  slot.length = secret.size();
  std::memcpy(slot.secret.data(), secret.data(), secret.size());
  slot.filled = true;
  return slot.digest;
}

}  // namespace intake::crypto
