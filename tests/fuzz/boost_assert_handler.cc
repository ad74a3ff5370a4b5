// BOOST_ASSERT in the fuzz build (BOOST_ENABLE_ASSERT_HANDLER): a failed assertion aborts, as
// it does without a handler, except one known false alarm of Boost.Beast 1.74's chunked parser.
//
// basic_parser::parse_chunk_header asserts `n >= 5` when it resumes the last chunk
// ("0\r\n" + trailers) after asking for more bytes, but it asks for more as soon as it has
// "0\r\n" alone, so a final chunk that arrives in pieces of fewer than 5 bytes trips the
// assertion. The code after it handles those bytes correctly (it only looks for the end of the
// trailers again), and release builds (NDEBUG) never evaluate it. Later Beast versions dropped
// the assertion. Any other failed assertion is a finding.
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace boost {

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  if (std::strcmp(expr, "n >= 5") == 0 && std::strstr(file, "beast/http/impl/basic_parser.ipp") != nullptr) return;
  std::fprintf(stderr, "%s:%ld: %s: Assertion '%s' failed\n", file, line, function, expr);
  std::abort();
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file, long line) {
  std::fprintf(stderr, "%s:%ld: %s: Assertion '%s' failed: %s\n", file, line, function, expr, msg);
  std::abort();
}

}  // namespace boost
