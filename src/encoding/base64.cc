#include "encoding/base64.h"

#include <array>
#include <cstdint>

namespace intake::encoding {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return table;
}
constexpr auto kDecode = make_decode_table();

}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::uint32_t bits = 0;
    int padding = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=' && last && j >= 2) {
        ++padding;
        bits <<= 6;
        continue;
      }
      const auto value = kDecode[static_cast<unsigned char>(c)];
      if (value < 0 || padding > 0) return std::nullopt;  // no data after '='
      bits = bits << 6 | static_cast<std::uint32_t>(value);
    }
    out.push_back(static_cast<char>(bits >> 16));
    if (padding < 2) out.push_back(static_cast<char>(bits >> 8 & 0xFF));
    if (padding < 1) out.push_back(static_cast<char>(bits & 0xFF));
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t bits = static_cast<std::uint8_t>(bytes[i]) << 16 |
                               static_cast<std::uint8_t>(bytes[i + 1]) << 8 | static_cast<std::uint8_t>(bytes[i + 2]);
    out.push_back(kAlphabet[bits >> 18]);
    out.push_back(kAlphabet[bits >> 12 & 63]);
    out.push_back(kAlphabet[bits >> 6 & 63]);
    out.push_back(kAlphabet[bits & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t bits = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (rest == 2) bits |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[bits >> 18]);
    out.push_back(kAlphabet[bits >> 12 & 63]);
    out.push_back(rest == 2 ? kAlphabet[bits >> 6 & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace intake::encoding
