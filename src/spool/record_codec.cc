#include "spool/record_codec.h"

#include <cstring>

#include "spool/log_format.h"

namespace intake::spool {
namespace {

template <typename Int>
void put(std::string& out, Int value) {
  // Little-endian, whatever the host is.
  for (std::size_t i = 0; i < sizeof(Int); ++i) {
    out.push_back(static_cast<char>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xFFu));
  }
}

template <typename Length>
void put_bytes(std::string& out, std::string_view bytes) {
  put<Length>(out, static_cast<Length>(bytes.size()));
  out.append(bytes);
}

// Reads fields off the front of a payload; any overrun makes `ok` false for good.
class Cursor {
 public:
  explicit Cursor(std::string_view data) : data_(data) {}
  template <typename Int>
  Int get() {
    if (data_.size() < sizeof(Int)) return fail<Int>();
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < sizeof(Int); ++i) {
      value |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(data_[i])) << (8 * i);
    }
    data_.remove_prefix(sizeof(Int));
    return static_cast<Int>(value);
  }
  template <typename Length>
  std::string_view get_bytes() {
    const auto length = static_cast<std::size_t>(get<Length>());
    if (!ok_ || data_.size() < length) return fail<std::string_view>();
    auto bytes = data_.substr(0, length);
    data_.remove_prefix(length);
    return bytes;
  }
  bool ok() const { return ok_; }
  bool at_end() const { return data_.empty(); }

 private:
  template <typename T>
  T fail() {
    ok_ = false;
    data_ = {};
    return T{};
  }
  std::string_view data_;
  bool ok_ = true;
};

}  // namespace

kafka::OutgoingRecord DecodedRecord::outgoing() const {
  return kafka::OutgoingRecord{.topic = topic,
                               .key = key,
                               .value = value,
                               .partition = partition,
                               .headers = std::span<const kafka::RecordHeader>(headers.data(), headers.size()),
                               .listener = nullptr};
}

std::size_t encoded_size(const kafka::OutgoingRecord& record) {
  std::size_t size = 1 + 4 + 2 + record.topic.size() + 4 + record.key.size() + 2 + 4 + record.value.size();
  for (const auto& header : record.headers) size += 2 + header.name.size() + 4 + header.value.size();
  return size;
}

void encode(const kafka::OutgoingRecord& record, std::string& out) {
  out.reserve(out.size() + encoded_size(record));
  put<std::uint8_t>(out, kPayloadFormat);
  put<std::int32_t>(out, record.partition);
  put_bytes<std::uint16_t>(out, record.topic);
  put_bytes<std::uint32_t>(out, record.key);
  put<std::uint16_t>(out, static_cast<std::uint16_t>(record.headers.size()));
  for (const auto& header : record.headers) {
    put_bytes<std::uint16_t>(out, header.name);
    put_bytes<std::uint32_t>(out, header.value);
  }
  put_bytes<std::uint32_t>(out, record.value);
}

Result<void> decode(std::string_view payload, DecodedRecord& out) {
  Cursor cursor(payload);
  const auto format = cursor.get<std::uint8_t>();
  if (cursor.ok() && format != kPayloadFormat) {
    return make_error(ErrorCode::kInternal, "spooled record has unknown format " + std::to_string(format));
  }
  out.partition = cursor.get<std::int32_t>();
  out.topic = cursor.get_bytes<std::uint16_t>();
  out.key = cursor.get_bytes<std::uint32_t>();
  const auto header_count = cursor.get<std::uint16_t>();
  out.headers.clear();
  for (std::uint16_t i = 0; i < header_count && cursor.ok(); ++i) {
    const auto name = cursor.get_bytes<std::uint16_t>();
    const auto value = cursor.get_bytes<std::uint32_t>();
    out.headers.push_back({name, value});
  }
  out.value = cursor.get_bytes<std::uint32_t>();
  if (!cursor.ok() || !cursor.at_end()) {
    return make_error(ErrorCode::kInternal, "spooled record payload is truncated or has trailing bytes");
  }
  return {};
}

}  // namespace intake::spool
