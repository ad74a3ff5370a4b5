// SHA-256 digests of API keys: computing, hex round-trip and constant-time comparison.
// Keys are never stored or compared in plain text; only their digests are.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace intake::crypto {

using Sha256 = std::array<std::uint8_t, 32>;

Sha256 sha256(std::string_view data);

// Parses 64 hex digits (either case). Returns nullopt for anything else.
std::optional<Sha256> parse_sha256_hex(std::string_view hex);

std::string to_hex(const Sha256& digest);

// Returns true iff a == b, in time independent of where they differ.
bool constant_time_equal(const Sha256& a, const Sha256& b);

// Hash-table functors for digest keys: the hash reads the (already uniformly random) digest
// bytes; equality is constant-time so a lookup leaks nothing about stored digests.
struct Sha256Hash {
  std::size_t operator()(const Sha256& digest) const;
};
struct Sha256Equal {
  bool operator()(const Sha256& a, const Sha256& b) const { return constant_time_equal(a, b); }
};

}  // namespace intake::crypto
