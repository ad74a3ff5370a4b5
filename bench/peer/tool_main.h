// main() of the benchmark's small C++ tools: any failure ends the tool with a message and exit 1,
// which the harness reports.
#pragma once

#include <exception>
#include <iostream>

namespace intake::bench {

template <typename Run>
int run_tool(Run run, int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << argv[0] << ": " << error.what() << "\n";
    return 1;
  }
}

}  // namespace intake::bench
