// HTTP/1.1 request heads and chunked bodies (http/head_parser.h), fed the way a connection
// feeds them: in pieces of the size the first byte picks, re-scanning the whole buffer each
// time. Checks that views point into the input and that the limits hold.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.h"
#include "http/head_parser.h"
#include "http/request_head.h"

namespace {

constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
constexpr std::uint64_t kMaxBodyBytes = 64 * 1024;

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace intake;
  fuzz::FuzzInput input(data, size);
  const std::size_t step = 1 + input.take_byte() % 64;
  const std::string_view bytes = input.rest();

  static http::RequestParser parser(kMaxHeaderBytes, kMaxBodyBytes);
  parser.reset();
  http::RequestHead head;
  std::size_t head_bytes = 0;
  for (std::size_t available = std::min(step, bytes.size());; available = std::min(available + step, bytes.size())) {
    auto parsed = parser.parse_head(bytes.substr(0, available), head);
    if (!parsed) return 0;
    head_bytes = parsed.value();
    if (head_bytes != 0 || available == bytes.size()) break;
  }
  if (head_bytes == 0) return 0;

  FUZZ_CHECK(head_bytes <= bytes.size());
  const std::string_view head_text = bytes.substr(0, head_bytes);
  FUZZ_CHECK(head.field_count <= http::kMaxHeaderFields);
  FUZZ_CHECK(inside(head.target, head_text));
  for (std::size_t i = 0; i < head.field_count; ++i) {
    FUZZ_CHECK(inside(head.fields[i].name, head_text));
    FUZZ_CHECK(inside(head.fields[i].value, head_text));
  }
  FUZZ_CHECK(head.version == 10 || head.version == 11);
  FUZZ_CHECK(head.content_length.value_or(0) <= kMaxBodyBytes);
  if (head.chunked) FUZZ_CHECK(head.version == 11);
  const http::HeadFields fields(head);
  for (std::string_view name : {"Content-Length", "content-type", "AUTHORIZATION", "X-Intake-Key", "Expect"}) {
    FUZZ_CHECK(inside(fields.find(name), head_text));
  }
  if (!head.chunked) return 0;

  std::string body;
  std::string_view rest = bytes.substr(head_bytes);
  std::size_t available = std::min(step, rest.size());
  while (!parser.body_done() && !rest.empty()) {
    auto taken = parser.parse_chunked(rest.substr(0, available), body);
    if (!taken) return 0;
    FUZZ_CHECK(taken.value() <= available);
    FUZZ_CHECK(body.size() <= kMaxBodyBytes);
    rest.remove_prefix(taken.value());
    available -= taken.value();
    if (available == rest.size() && taken.value() == 0) break;  // all bytes in, no progress
    available = std::min(available + step, rest.size());
  }
  return 0;
}
