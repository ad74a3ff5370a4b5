// Micro-benchmark of HTTP/1.1 request parsing: the candidates for the rebuilt connection code
// (docs/decisions/0008-http-parser.md). Each parses the same request bytes many times:
//  - BeastStringBody: beast::http::request_parser<string_body> fed with put(), header first and then
//    the body with eager set, as Intake's async_read_header + async_read do today (a basic_fields node
//    per header and the body in a std::string, every request);
//  - BeastViews: a basic_parser<true> subclass that keeps string_views into the read buffer in a
//    caller-owned fixed array, nothing allocated. Beast 1.74 has no reset(): the parser object is
//    reused by move-assigning a freshly constructed one; BeastViewsOnStack constructs one per request;
//  - Pico: picohttpparser's phr_parse_request (+ phr_decode_chunked), as Debian's libh2o-evloop
//    exports it, plus the Content-Length / Transfer-Encoding handling that the connection code would
//    then have to write itself (Beast does that part in the two candidates above).
// Three requests: a typical produce request (5 headers + Content-Length, a ~200-byte JSON body), the
// same with 20 headers, and the typical one with the body sent in 3 chunks. Each iteration first
// copies the request into the read buffer, as recv would (picohttpparser decodes chunks in place, so
// the bytes must be fresh each time); BM_CopyOnly is that copy alone.
// Heap allocations per request are counted by the replaced global operator new below.
// Run: scripts/bench.sh http_parse  (writes bench/results/http_parse.{json,md})
#include <benchmark/benchmark.h>
#include <sys/types.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Debian's libh2o-evloop exports picohttpparser's functions but ships no header for them: these are
// the declarations of h2o 2.2.5's deps/picohttpparser/picohttpparser.h, the version Debian builds.
extern "C" {
struct phr_header {
  const char* name;
  size_t name_len;
  const char* value;
  size_t value_len;
};
int phr_parse_request(const char* buf, size_t len, const char** method, size_t* method_len, const char** path,
                      size_t* path_len, int* minor_version, struct phr_header* headers, size_t* num_headers,
                      size_t last_len);
struct phr_chunked_decoder {
  size_t bytes_left_in_chunk;
  char consume_trailer;
  char _hex_count;
  char _state;
};
ssize_t phr_decode_chunked(struct phr_chunked_decoder* decoder, char* buf, size_t* bufsz);
}

namespace {
// Allocations made by this thread; the benchmarks run on one thread, so this is theirs.
thread_local std::size_t allocation_count = 0;
thread_local std::size_t allocated_bytes = 0;
}  // namespace

// Not inlined: inlined, g++ pairs the malloc() inside new with the free() inside delete and reports a
// mismatch (-Wmismatched-new-delete) that is not there.
[[gnu::noinline]] void* operator new(std::size_t size) {
  ++allocation_count;
  allocated_bytes += size;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](std::size_t size) { return ::operator new(size); }
[[gnu::noinline]] void operator delete(void* memory) noexcept { std::free(memory); }
[[gnu::noinline]] void operator delete[](void* memory) noexcept { std::free(memory); }
[[gnu::noinline]] void operator delete(void* memory, std::size_t /*size*/) noexcept { std::free(memory); }
[[gnu::noinline]] void operator delete[](void* memory, std::size_t /*size*/) noexcept { std::free(memory); }

namespace {

namespace bhttp = boost::beast::http;
using boost::beast::error_code;

// Intake's limits (http::ServerOptions defaults).
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
constexpr std::uint64_t kMaxBodyBytes = 1024 * 1024;

// A produce request's body: one record, 200 bytes.
constexpr std::string_view kBody =
    R"({"records":[{"key":"user-4711","value":{"event":"page_view","path":"/checkout/cart","ts":1764671234567,)"
    R"("session":"9f86d081884c7d65","ref":"https://shop.example.com/p/42","ab":["b",70001],"ok":true}}]})";
static_assert(kBody.size() == 200);

enum class Shape { kTypical, kTwentyHeaders, kChunked };

std::string common_headers() {
  return "POST /v1/topics/events HTTP/1.1\r\n"
         "Host: intake.example.internal:8080\r\n"
         "User-Agent: intake-client-go/1.4.2 (linux; amd64)\r\n"
         "Accept: application/json\r\n"
         "Content-Type: application/json\r\n"
         // A 40-character API key.
         "Authorization: Bearer 3f9a1c7e5b2d8f4a6c0e9b1d7f3a5c8e2b4d6f0a\r\n";
}

std::string request_of(Shape shape) {
  std::string request = common_headers();
  if (shape == Shape::kTwentyHeaders) {
    request +=
        "Accept-Encoding: gzip, deflate, br\r\n"
        "Accept-Language: en-US,en;q=0.9\r\n"
        "Connection: keep-alive\r\n"
        "Cache-Control: no-cache\r\n"
        "X-Request-Id: 5f0c6e2a-9d4b-4c1e-8a7f-3b2d1e0f9c8a\r\n"
        "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
        "tracestate: congo=t61rcWkgMzE,rojo=00f067aa0ba902b7\r\n"
        "X-Forwarded-For: 203.0.113.195, 198.51.100.17\r\n"
        "X-Forwarded-Proto: https\r\n"
        "X-Forwarded-Host: intake.example.com\r\n"
        "X-Real-IP: 203.0.113.195\r\n"
        "Via: 1.1 edge-proxy-3\r\n"
        "Idempotency-Key: 8e03978e-40d5-43e8-bc93-6894a57f9324\r\n"
        "Origin: https://shop.example.com\r\n";
  }
  if (shape == Shape::kChunked) {
    request += "Transfer-Encoding: chunked\r\n\r\n";
    // Three chunks, as a client streaming its body writes them, then the last chunk.
    for (const std::size_t begin : {std::size_t{0}, std::size_t{64}, std::size_t{128}}) {
      const auto piece = kBody.substr(begin, begin == 128 ? std::string_view::npos : 64);
      std::array<char, 16> hex{};
      const auto end = std::to_chars(hex.data(), hex.data() + hex.size(), piece.size(), 16).ptr;
      request.append(hex.data(), end).append("\r\n").append(piece).append("\r\n");
    }
    request += "0\r\n\r\n";
  } else {
    request += "Content-Length: " + std::to_string(kBody.size()) + "\r\n\r\n";
    request += kBody;
  }
  return request;
}

std::size_t header_count_of(Shape shape) { return shape == Shape::kTwentyHeaders ? 20 : 6; }

// What the candidates are checked against before they are timed.
struct Summary {
  std::string method;
  std::string target;
  std::size_t header_count = 0;
  std::string body;
};

// What the view-based candidates produce: views into the read buffer, nothing owned, nothing
// allocated. The connection would own one per connection and clear it per request.
struct RequestViews {
  static constexpr std::size_t kMaxFields = 64;
  static constexpr std::size_t kMaxBodyPieces = 16;
  struct Field {
    std::string_view name;
    std::string_view value;
  };
  std::string_view method;
  std::string_view target;
  int version = 0;
  std::array<Field, kMaxFields> fields{};
  std::size_t field_count = 0;
  std::array<std::string_view, kMaxBodyPieces> body{};
  std::size_t body_pieces = 0;

  void clear() {
    field_count = 0;
    body_pieces = 0;
  }
  bool add_field(std::string_view name, std::string_view value) {
    if (field_count == kMaxFields) return false;
    fields[field_count++] = Field{name, value};
    return true;
  }
  bool add_body(std::string_view piece) {
    if (piece.empty()) return true;
    if (body_pieces == kMaxBodyPieces) return false;
    body[body_pieces++] = piece;
    return true;
  }
  void describe(Summary& out) const {
    out.method = method;
    out.target = target;
    out.header_count = field_count;
    out.body.clear();
    for (std::size_t i = 0; i < body_pieces; ++i) out.body += body[i];
  }
};

std::string_view to_std(boost::beast::string_view view) { return {view.data(), view.size()}; }

// Candidate (b): Beast's parser with callbacks that keep views. A view stays valid as long as the
// bytes it points at are not moved: Beast hands out views of the buffer given to put(), except a
// value folded over lines (obs-fold), which it joins in a stack buffer that dies when the field's
// callback returns (docs/decisions/0008-http-parser.md).
class ViewParser final : public bhttp::basic_parser<true> {
 public:
  explicit ViewParser(RequestViews& out) : out_(&out) {
    header_limit(kMaxHeaderBytes);
    body_limit(kMaxBodyBytes);
    eager(true);
  }
  ViewParser(ViewParser&&) = default;
  ViewParser& operator=(ViewParser&&) = default;
  ViewParser(const ViewParser&) = delete;
  ViewParser& operator=(const ViewParser&) = delete;
  ~ViewParser() override = default;

 private:
  void on_request_impl(bhttp::verb /*method*/, boost::beast::string_view method_text, boost::beast::string_view target,
                       int version, error_code& /*ec*/) override {
    out_->method = to_std(method_text);
    out_->target = to_std(target);
    out_->version = version;
  }
  void on_response_impl(int /*code*/, boost::beast::string_view /*reason*/, int /*version*/, error_code& ec) override {
    ec = bhttp::error::bad_version;  // a request parser is never given a status line
  }
  void on_field_impl(bhttp::field /*name*/, boost::beast::string_view name_text, boost::beast::string_view value,
                     error_code& ec) override {
    if (!out_->add_field(to_std(name_text), to_std(value))) ec = bhttp::error::header_limit;
  }
  void on_header_impl(error_code& /*ec*/) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& /*content_length*/, error_code& /*ec*/) override {}
  std::size_t on_body_impl(boost::beast::string_view body, error_code& ec) override {
    if (!out_->add_body(to_std(body))) ec = bhttp::error::body_limit;
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t /*size*/, boost::beast::string_view /*extensions*/,
                            error_code& /*ec*/) override {}
  std::size_t on_chunk_body_impl(std::uint64_t /*remain*/, boost::beast::string_view body, error_code& ec) override {
    if (!out_->add_body(to_std(body))) ec = bhttp::error::body_limit;
    return body.size();
  }
  void on_finish_impl(error_code& /*ec*/) override {}

  RequestViews* out_;
};

bool parse_with(ViewParser& parser, const char* data, std::size_t size) {
  error_code ec;
  const std::size_t used = parser.put(boost::asio::const_buffer(data, size), ec);
  return !ec && parser.is_done() && used == size;
}

// Candidate (a), as src/http/server.cc reads a request today.
bool parse_string_body(const char* data, std::size_t size, Summary* check) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(kMaxBodyBytes);
  error_code ec;
  std::size_t used = parser.put(boost::asio::const_buffer(data, size), ec);  // async_read_header
  if (ec || !parser.is_header_done()) return false;
  parser.eager(true);  // async_read
  if (!parser.is_done()) used += parser.put(boost::asio::const_buffer(data + used, size - used), ec);
  if (ec || !parser.is_done() || used != size) return false;
  const auto& message = parser.get();
  benchmark::DoNotOptimize(&message);
  if (check != nullptr) {
    check->method = to_std(message.method_string());
    check->target = to_std(message.target());
    check->header_count = static_cast<std::size_t>(std::distance(message.begin(), message.end()));
    check->body = message.body();
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Candidate (c): picohttpparser finds the request line and the headers; the framing rules it leaves
// to its caller are the least a server needs: one Content-Length or exactly "chunked", never both.
bool parse_pico(char* data, std::size_t size, RequestViews& out) {
  out.clear();
  const char* method = nullptr;
  std::size_t method_len = 0;
  const char* path = nullptr;
  std::size_t path_len = 0;
  int minor_version = 0;
  std::array<phr_header, RequestViews::kMaxFields> headers{};
  std::size_t header_count = headers.size();
  const int header_bytes = phr_parse_request(data, size, &method, &method_len, &path, &path_len, &minor_version,
                                             headers.data(), &header_count, 0);
  if (header_bytes <= 0) return false;
  out.method = {method, method_len};
  out.target = {path, path_len};
  out.version = 10 + minor_version;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  for (std::size_t i = 0; i < header_count; ++i) {
    const std::string_view name{headers[i].name, headers[i].name_len};
    const std::string_view value{headers[i].value, headers[i].value_len};
    if (headers[i].name == nullptr) return false;  // obs-fold: refused rather than joined
    out.add_field(name, value);
    if (iequals(name, "content-length")) {
      std::uint64_t length = 0;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (error != std::errc{} || end != value.data() + value.size() || value.empty()) return false;
      if (content_length && *content_length != length) return false;
      content_length = length;
    } else if (iequals(name, "transfer-encoding")) {
      if (chunked || !iequals(value, "chunked")) return false;
      chunked = true;
    }
  }
  if (chunked && content_length) return false;
  char* body = data + header_bytes;
  std::size_t body_size = size - static_cast<std::size_t>(header_bytes);
  if (chunked) {
    phr_chunked_decoder decoder{};
    decoder.consume_trailer = 1;
    if (phr_decode_chunked(&decoder, body, &body_size) < 0) return false;  // -2: incomplete, -1: malformed
    if (body_size > kMaxBodyBytes) return false;
  } else {
    const std::uint64_t length = content_length.value_or(0);
    if (length > kMaxBodyBytes || length > body_size) return false;
    body_size = static_cast<std::size_t>(length);
  }
  out.add_body({body, body_size});
  return true;
}

// Times parse(buffer, size) over fresh copies of the request, after checking once that it parses
// the request right; reports allocations and allocated bytes per request.
template <class Parse, class Describe>
void run(benchmark::State& state, Shape shape, Parse parse, Describe describe) {
  const std::string request = request_of(shape);
  std::vector<char> buffer(request.size());
  std::memcpy(buffer.data(), request.data(), request.size());
  Summary got;
  if (!parse(buffer.data(), buffer.size()) || !describe(got)) {
    state.SkipWithError("the candidate did not parse the request");
    return;
  }
  if (got.method != "POST" || got.target != "/v1/topics/events" || got.header_count != header_count_of(shape) ||
      got.body != kBody) {
    state.SkipWithError("the candidate parsed the request into something else");
    return;
  }
  const std::size_t allocations_before = allocation_count;
  const std::size_t bytes_before = allocated_bytes;
  for (auto _ : state) {
    std::memcpy(buffer.data(), request.data(), request.size());
    benchmark::ClobberMemory();
    if (!parse(buffer.data(), buffer.size())) {
      state.SkipWithError("a parse failed while timed");
      break;
    }
    benchmark::ClobberMemory();
  }
  state.counters["allocs_per_req"] = benchmark::Counter(static_cast<double>(allocation_count - allocations_before),
                                                        benchmark::Counter::kAvgIterations);
  state.counters["alloc_bytes_per_req"] =
      benchmark::Counter(static_cast<double>(allocated_bytes - bytes_before), benchmark::Counter::kAvgIterations);
  state.counters["request_bytes"] = static_cast<double>(request.size());
}

void BM_CopyOnly(benchmark::State& state, Shape shape) {
  run(
      state, shape, [](char* data, std::size_t size) { return data != nullptr && size > 0; },
      [shape](Summary& out) {
        // Nothing parsed: the check is given what the request holds.
        out = Summary{"POST", "/v1/topics/events", header_count_of(shape), std::string(kBody)};
        return true;
      });
}

void BM_BeastStringBody(benchmark::State& state, Shape shape) {
  Summary last;
  const char* last_data = nullptr;
  std::size_t last_size = 0;
  run(
      state, shape,
      [&](char* data, std::size_t size) {
        last_data = data;
        last_size = size;
        return parse_string_body(data, size, nullptr);
      },
      [&](Summary& out) { return parse_string_body(last_data, last_size, &out); });
}

void BM_BeastViews(benchmark::State& state, Shape shape) {
  RequestViews views;
  ViewParser parser(views);
  run(
      state, shape,
      [&](char* data, std::size_t size) {
        views.clear();
        parser = ViewParser(views);  // Beast 1.74 has no reset(): start from a fresh parser's state
        return parse_with(parser, data, size);
      },
      [&](Summary& out) {
        views.describe(out);
        return true;
      });
}

void BM_BeastViewsOnStack(benchmark::State& state, Shape shape) {
  RequestViews views;
  run(
      state, shape,
      [&](char* data, std::size_t size) {
        views.clear();
        ViewParser parser(views);
        return parse_with(parser, data, size);
      },
      [&](Summary& out) {
        views.describe(out);
        return true;
      });
}

void BM_Pico(benchmark::State& state, Shape shape) {
  RequestViews views;
  run(
      state, shape, [&](char* data, std::size_t size) { return parse_pico(data, size, views); },
      [&](Summary& out) {
        views.describe(out);
        return true;
      });
}

BENCHMARK_CAPTURE(BM_CopyOnly, typical, Shape::kTypical);
BENCHMARK_CAPTURE(BM_CopyOnly, headers20, Shape::kTwentyHeaders);
BENCHMARK_CAPTURE(BM_CopyOnly, chunked, Shape::kChunked);
BENCHMARK_CAPTURE(BM_BeastStringBody, typical, Shape::kTypical);
BENCHMARK_CAPTURE(BM_BeastStringBody, headers20, Shape::kTwentyHeaders);
BENCHMARK_CAPTURE(BM_BeastStringBody, chunked, Shape::kChunked);
BENCHMARK_CAPTURE(BM_BeastViews, typical, Shape::kTypical);
BENCHMARK_CAPTURE(BM_BeastViews, headers20, Shape::kTwentyHeaders);
BENCHMARK_CAPTURE(BM_BeastViews, chunked, Shape::kChunked);
BENCHMARK_CAPTURE(BM_BeastViewsOnStack, typical, Shape::kTypical);
BENCHMARK_CAPTURE(BM_BeastViewsOnStack, headers20, Shape::kTwentyHeaders);
BENCHMARK_CAPTURE(BM_BeastViewsOnStack, chunked, Shape::kChunked);
BENCHMARK_CAPTURE(BM_Pico, typical, Shape::kTypical);
BENCHMARK_CAPTURE(BM_Pico, headers20, Shape::kTwentyHeaders);
BENCHMARK_CAPTURE(BM_Pico, chunked, Shape::kChunked);

}  // namespace

BENCHMARK_MAIN();
