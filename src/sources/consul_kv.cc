#include "sources/consul_kv.h"

#include <boost/asio.hpp>
#include <simdjson.h>

#include "encoding/base64.h"

namespace intake::sources {

ConsulKvSource::ConsulKvSource(ConsulOptions options, ConsulTransport transport)
    : options_(std::move(options)), endpoint_(parse_consul_address(options_.address, options_.token)) {
  if (options_.prefix.empty() || options_.prefix.back() != '/') options_.prefix += '/';
  endpoint_.transport = std::move(transport);
}

std::string decode_kv_answer(const HttpAnswer& answer, const std::string& prefix, config::RawTree& tree) {
  tree.prefix = prefix;
  tree.entries.clear();
  if (answer.status == 404) return {};  // no key under the prefix: an empty config, not an error
  simdjson::dom::parser parser;
  simdjson::dom::array items;
  if (parser.parse(answer.body).get_array().get(items) != simdjson::SUCCESS) {
    return "Consul's KV answer is not a JSON array";
  }
  for (auto item : items) {
    std::string_view key;
    if (item["Key"].get_string().get(key) != simdjson::SUCCESS) return "a KV entry has no Key";
    if (key.substr(0, prefix.size()) != prefix) continue;
    std::string value;
    auto encoded = item["Value"];
    // Null values (folders, `consul kv put key` without data) are empty strings.
    if (encoded.error() == simdjson::SUCCESS && !encoded.is_null()) {
      std::string_view base64;
      if (encoded.get_string().get(base64) != simdjson::SUCCESS) return "KV entry " + std::string(key) + " has a non-string Value";
      auto decoded = encoding::base64_decode(base64);
      if (!decoded) return "KV entry " + std::string(key) + " has a Value that is not base64";
      value = std::move(*decoded);
    }
    tree.entries.emplace(std::string(key.substr(prefix.size())), std::move(value));
  }
  return {};
}

void ConsulKvSource::start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) {
  BlockingQuery query{"/v1/kv/" + options_.prefix + "?recurse=true", options_.wait};
  auto on_answer = [this, &callbacks](const HttpAnswer& answer, std::uint64_t index) -> std::string {
    config::RawTree tree;
    tree.source = "consul";
    tree.revision = std::to_string(index);
    if (auto problem = decode_kv_answer(answer, options_.prefix, tree); !problem.empty()) return problem;
    stats_.count_snapshot(tree.revision);
    callbacks.on_tree(std::move(tree));
    return {};
  };
  auto on_error = [&callbacks](const std::string& message) { callbacks.on_source_error("consul_kv", message); };
  boost::asio::co_spawn(control, run_blocking_query(endpoint_, query, stats_, on_answer, on_error),
                        boost::asio::detached);
}

}  // namespace intake::sources
