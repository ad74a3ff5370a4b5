// Where the real peers are: read from the environment that scripts/test.sh sets from the
// peers' env files. A missing variable fails the test loudly; integration tests never skip.
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace intake::testing {

inline std::string required_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set: integration tests need the real peers; run them with scripts/test.sh");
  }
  return value;
}

}  // namespace intake::testing
