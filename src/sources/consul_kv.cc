#include "sources/consul_kv.h"

#include <simdjson.h>
#include <boost/asio.hpp>

#include "encoding/base64.h"

namespace intake::sources {

ConsulKvSource::ConsulKvSource(ConsulOptions options, ConsulTransport transport)
    : options_(std::move(options)), endpoint_(parse_consul_address(options_.address, options_.token)) {
  if (options_.prefix.empty() || options_.prefix.back() != '/') options_.prefix += '/';
  endpoint_.transport = std::move(transport);
}

namespace {

Error decode_error(std::string message) { return make_error(ErrorCode::kInternal, std::move(message)); }

}  // namespace

Result<config::RawTree> decode_kv_answer(const HttpAnswer& answer, const std::string& prefix) {
  config::RawTree tree;
  tree.prefix = prefix;
  if (answer.status == 404) return tree;  // no key under the prefix: an empty config, not an error
  simdjson::dom::parser parser;
  simdjson::dom::array items;
  if (parser.parse(answer.body).get_array().get(items) != simdjson::SUCCESS) {
    return decode_error("Consul's KV answer is not a JSON array");
  }
  for (auto item : items) {
    std::string_view key;
    if (item["Key"].get_string().get(key) != simdjson::SUCCESS) return decode_error("a KV entry has no Key");
    if (key.substr(0, prefix.size()) != prefix) continue;
    std::string value;
    auto encoded = item["Value"];
    // Null values (folders, `consul kv put key` without data) are empty strings.
    if (encoded.error() == simdjson::SUCCESS && !encoded.is_null()) {
      std::string_view base64;
      if (encoded.get_string().get(base64) != simdjson::SUCCESS) {
        return decode_error("KV entry " + std::string(key) + " has a non-string Value");
      }
      auto decoded = encoding::base64_decode(base64);
      if (!decoded) return decode_error("KV entry " + std::string(key) + " has a Value that is not base64");
      value = std::move(*decoded);
    }
    tree.entries.emplace(std::string(key.substr(prefix.size())), std::move(value));
  }
  return tree;
}

void ConsulKvSource::start(boost::asio::io_context& control, config::UpdateCallbacks& callbacks) {
  BlockingQuery query{"/v1/kv/" + options_.prefix + "?recurse=true", options_.wait};
  auto on_answer = [this, &callbacks](const HttpAnswer& answer, std::uint64_t index) -> Result<void> {
    auto tree = decode_kv_answer(answer, options_.prefix);
    if (!tree) return std::move(tree).error();
    tree->source = "consul";
    tree->revision = std::to_string(index);
    stats_.count_snapshot(tree->revision);
    callbacks.on_tree(std::move(tree).value());
    return {};
  };
  auto on_error = [&callbacks](const std::string& message) { callbacks.on_source_error("consul_kv", message); };
  boost::asio::co_spawn(control, run_blocking_query(endpoint_, query, stats_, on_answer, on_error),
                        boost::asio::detached);
}

}  // namespace intake::sources
