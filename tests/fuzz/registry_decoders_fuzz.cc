// What the config sources read from a registry: Consul's KV and health answers
// (sources/consul_decode.h), etcd's range and watch answers (sources/etcd_decode.h) and a
// ZooKeeper subtree built from a script of reads (sources/znode_tree.h). The first byte picks
// the decoder. Checks that decoded keys stay under the prefix and paths map back and forth.
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.h"
#include "sources/consul_decode.h"
#include "sources/etcd_decode.h"
#include "sources/znode_tree.h"

namespace {

using namespace intake;

const std::string kPrefix = "intake/";

// Drives a ZnodeTree with operations taken from the input: each line is "<op><path>\t<data>".
void run_znode_script(fuzz::FuzzInput& input) {
  std::string root = "/intake";
  const std::string_view first = input.take_until('\n');
  try {
    root = sources::normalize_znode_root(first);
  } catch (const std::invalid_argument&) {
  }
  sources::ZnodeTree tree(root);
  tree.add("");
  std::int64_t zxid = 1;
  while (!input.empty()) {
    const std::string_view line = input.take_until('\n');
    if (line.empty()) continue;
    const char op = line.front();
    std::string_view rest = line.substr(1);
    const std::string path(rest.substr(0, rest.find('\t')));
    const std::string_view data = rest.find('\t') == std::string_view::npos ? "" : rest.substr(rest.find('\t') + 1);
    const sources::ZnodeStat stat{zxid, zxid, static_cast<std::int32_t>(zxid % 3)};
    ++zxid;
    switch (op % 4) {
      case 0:
        tree.add(path);
        break;
      case 1:
        tree.remove(path);
        break;
      case 2:
        (void)tree.set_data(path, std::string(data), stat);
        break;
      case 3: {
        std::vector<std::string> names;
        for (std::size_t at = 0; at <= data.size();) {
          const std::size_t end = std::min(data.find(',', at), data.size());
          // ZooKeeper lists only real child names: never empty, never with a '/'.
          const std::string_view name = data.substr(at, end - at);
          if (!name.empty() && name.find('/') == std::string_view::npos) names.emplace_back(name);
          at = end + 1;
        }
        for (const auto& added : tree.set_children(path, std::move(names), stat)) FUZZ_CHECK(tree.contains(added));
        break;
      }
    }
    if (auto relative = tree.relative(tree.absolute(path))) FUZZ_CHECK(*relative == path);
  }
  const config::RawTree assembled = tree.assemble();
  FUZZ_CHECK(assembled.entries.size() <= tree.size());
  FUZZ_CHECK(!assembled.revision.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  const std::uint8_t selector = input.take_byte();
  switch (selector % 5) {
    case 0: {
      sources::HttpAnswer answer;
      answer.status = (selector & 0x10) != 0 ? 404 : 200;
      answer.body = std::string(input.rest());
      if (auto tree = sources::decode_kv_answer(answer, kPrefix)) {
        FUZZ_CHECK(tree->prefix == kPrefix);
        if (answer.status == 404) FUZZ_CHECK(tree->entries.empty());
      }
      break;
    }
    case 1:
      if (auto health = sources::decode_health_answer(std::string(input.rest()))) {
        for (const auto& broker : health->brokers) FUZZ_CHECK(!broker.empty());
        for (std::size_t i = 1; i < health->brokers.size(); ++i) {
          FUZZ_CHECK(health->brokers[i - 1] < health->brokers[i]);
        }
      }
      break;
    case 2:
      if (auto page = sources::decode_etcd_range(input.rest(), kPrefix)) FUZZ_CHECK(page->revision > 0);
      break;
    case 3:
      if (auto message = sources::decode_etcd_watch_message(input.rest())) {
        std::map<std::string, std::string> entries;
        sources::apply_etcd_events(message->events, kPrefix, entries);
        FUZZ_CHECK(entries.size() <= message->events.size());
        for (const auto& event : message->events) FUZZ_CHECK(!event.key.empty());
      }
      break;
    case 4:
      run_znode_script(input);
      break;
  }
  (void)sources::etcd_prefix_range_end(input.rest().substr(0, 16));
  return 0;
}
