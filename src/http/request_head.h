// A parsed request line and header block, as views into the connection's read buffer: valid
// while that request is being handled, never copied.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "http/message.h"

namespace intake::http {

// More fields than this is answered 431: no legitimate client of a produce API sends them.
inline constexpr std::size_t kMaxHeaderFields = 64;

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

struct RequestHead {
  Method method = Method::kOther;
  std::string_view target;  // path and query, as sent
  int version = 11;         // 10 or 11
  std::array<HeaderField, kMaxHeaderFields> fields{};
  std::size_t field_count = 0;
  bool keep_alive = true;
  bool chunked = false;
  bool expect_continue = false;
  std::optional<std::uint64_t> content_length;

  bool has_body() const { return chunked || content_length.value_or(0) > 0; }
};

// Case-insensitive lookup over a RequestHead's fields; the first field of a name wins.
class HeadFields final : public HeaderSource {
 public:
  explicit HeadFields(const RequestHead& head) : head_(head) {}
  std::string_view find(std::string_view name) const override;
  void for_each(const std::function<void(std::string_view name, std::string_view value)>& visit) const override;

 private:
  const RequestHead& head_;
};

}  // namespace intake::http
