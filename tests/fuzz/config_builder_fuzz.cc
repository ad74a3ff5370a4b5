// The config builder (config/builder.h) on a registry tree made from the input: one entry per
// line, "<key>=<value>" (the key up to the first '='). All or nothing: a built Config never
// holds more keys, topics or brokers than the tree has entries under those folders.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/builder.h"
#include "config/raw_tree.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace intake;
  fuzz::FuzzInput input(data, size);
  config::RawTree tree;
  tree.prefix = "intake/";
  tree.source = "fuzz";
  while (!input.empty()) {
    const std::string_view line = input.take_until('\n');
    const std::size_t equals = line.find('=');
    const std::string_view key = line.substr(0, equals);
    const std::string_view value = equals == std::string_view::npos ? "" : line.substr(equals + 1);
    tree.entries.insert_or_assign(std::string(key), std::string(value));
  }
  std::size_t keys = 0, topics = 0, brokers = 0;
  for (const auto& [key, value] : tree.entries) {
    keys += key.starts_with("keys/") ? 1 : 0;
    topics += key.starts_with("topics/") ? 1 : 0;
    brokers += key.starts_with("brokers/") ? 1 : 0;
  }
  const std::string hash = config::content_hash(tree);
  FUZZ_CHECK(hash.size() == 64);
  if (auto built = config::build_config(tree)) {
    const config::Config& config = *built.value();
    FUZZ_CHECK(config.keys.size() <= keys);
    FUZZ_CHECK(config.topics.size() <= topics);
    FUZZ_CHECK(config.brokers.size() <= brokers);
    FUZZ_CHECK(config::content_hash(tree) == hash);
  }
  return 0;
}
