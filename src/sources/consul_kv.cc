#include "sources/consul_kv.h"

#include <boost/asio.hpp>

namespace intake::sources {

ConsulKvSource::ConsulKvSource(ConsulOptions options, ConsulTransport transport)
    : options_(std::move(options)), endpoint_(parse_consul_address(options_.address, options_.token)) {
  if (options_.prefix.empty() || options_.prefix.back() != '/') options_.prefix += '/';
  endpoint_.transport = std::move(transport);
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
