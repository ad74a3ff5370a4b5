#include "backends.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include "consul_client.h"
#include "encoding/base64.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "peers.h"
#include "sources/consul_kv.h"
#include "sources/etcd.h"
#include "sources/file.h"
#include "sources/zookeeper.h"
#include "tcp_proxy.h"
#include "zk_client.h"

namespace intake::conformance {
namespace {

using encoding::base64_encode;

void run_script(const std::string& peer, const std::string& action) {
  const std::string command =
      "bash " + std::string(INTAKE_SOURCE_DIR) + "/scripts/peers/" + peer + ".sh " + action + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) throw std::runtime_error(command + " failed");
}

// Batches of at most 128 operations: both Consul's and etcd's per-transaction limit.
template <typename Send>
void in_batches(const std::map<std::string, std::string>& entries, Send send) {
  std::map<std::string, std::string> batch;
  for (const auto& entry : entries) {
    batch.insert(entry);
    if (batch.size() == 128) {
      send(batch);
      batch.clear();
    }
  }
  if (!batch.empty()) send(batch);
}

class ConsulBackend final : public Backend {
 public:
  ConsulBackend() : consul_(testing::required_env("INTAKE_CONSUL_ADDR")), prefix_(testing::unique_name("conf") + "/") {}
  ~ConsulBackend() override {
    try {
      consul_.remove_prefix(prefix_);
    } catch (const std::exception&) {
    }
  }
  std::string name() const override { return "consul"; }
  std::string gateway_config_yaml() const override {
    return "config: {source: consul, on_unreachable_at_start: wait, consul: {address: \"" + consul_.address() +
           "\", prefix: \"" + prefix_ + "\"}}\n";
  }
  std::unique_ptr<sources::Source> make_source() override {
    sources::ConsulOptions options;
    options.address = consul_.address();
    options.prefix = prefix_;
    options.wait = std::chrono::milliseconds(60'000);
    return std::make_unique<sources::ConsulKvSource>(std::move(options));
  }
  void put_all(const std::map<std::string, std::string>& entries) override {
    in_batches(entries, [&](const auto& batch) {
      std::string ops = "[";
      for (const auto& [key, value] : batch) {
        ops += (ops.size() > 1 ? "," : "") + std::string(R"({"KV":{"Verb":"set","Key":")") + prefix_ + key +
               R"(","Value":")" + base64_encode(value) + R"("}})";
      }
      consul_.transaction(ops + "]");
    });
  }
  void remove(const std::string& key) override { consul_.remove(prefix_ + key); }
  void remove_everything() override { consul_.remove_prefix(prefix_); }
  void bulk_load(const std::map<std::string, std::string>& entries) override { put_all(entries); }
  void stop() override { run_script("consul", "stop"); }
  void start() override { run_script("consul", "start"); }

 private:
  testing::ConsulClient consul_;
  std::string prefix_;
};

class EtcdBackend final : public Backend {
 public:
  EtcdBackend() : address_(testing::required_env("INTAKE_ETCD_ENDPOINT")), prefix_(testing::unique_name("conf") + "/") {
    std::tie(host_, port_) = testing::parse_host_port(address_);
  }
  ~EtcdBackend() override {
    try {
      remove_everything();
    } catch (const std::exception&) {
    }
  }
  std::string name() const override { return "etcd"; }
  std::string gateway_config_yaml() const override {
    return "config: {source: etcd, on_unreachable_at_start: wait, etcd: {address: \"" + address_ + "\", prefix: \"" +
           prefix_ + "\"}}\n";
  }
  std::unique_ptr<sources::Source> make_source() override {
    sources::EtcdOptions settings;
    settings.address = address_;
    settings.prefix = prefix_;
    return std::make_unique<sources::EtcdSource>(std::move(settings));
  }
  void put_all(const std::map<std::string, std::string>& entries) override {
    in_batches(entries, [&](const auto& batch) {
      std::string ops;
      for (const auto& [key, value] : batch) {
        ops += (ops.empty() ? "" : ",") + std::string(R"({"requestPut":{"key":")") + base64_encode(prefix_ + key) +
               R"(","value":")" + base64_encode(value) + R"("}})";
      }
      call("/v3/kv/txn", R"({"success":[)" + ops + "]}");
    });
  }
  void remove(const std::string& key) override {
    call("/v3/kv/deleterange", R"({"key":")" + base64_encode(prefix_ + key) + R"("})");
  }
  void remove_everything() override {
    std::string end = prefix_;
    end.back() = static_cast<char>(end.back() + 1);
    call("/v3/kv/deleterange",
         R"({"key":")" + base64_encode(prefix_) + R"(","range_end":")" + base64_encode(end) + R"("})");
  }
  void bulk_load(const std::map<std::string, std::string>& entries) override { put_all(entries); }
  void stop() override { run_script("etcd", "stop"); }
  void start() override { run_script("etcd", "start"); }

 private:
  void call(const std::string& path, const std::string& body) {
    const auto reply = testing::http_request(host_, port_, "POST", path, body);
    if (reply.status != 200)
      throw std::runtime_error("etcd " + path + " answered " + std::to_string(reply.status) + ": " + reply.body);
  }
  std::string address_, prefix_, host_;
  std::uint16_t port_ = 0;
};

// ZooKeeper: the layout as znodes under a root of the test's own. Folders are created in the
// same multi-op as their first entry, so no empty folder is ever seen as an entry. The source
// and the gateway reach the server through a proxy that counts their connections; the test's
// own client connects directly.
class ZooKeeperBackend final : public Backend {
 public:
  ZooKeeperBackend()
      : hosts_(testing::required_env("INTAKE_ZK_HOSTS")),
        root_("/" + testing::unique_name("conf")),
        client_(std::make_unique<testing::ZkClient>(hosts_)),
        proxy_(std::make_unique<testing::TcpProxy>(testing::parse_host_port(hosts_).second)),
        proxied_hosts_("127.0.0.1:" + std::to_string(proxy_->port())) {}
  ~ZooKeeperBackend() override {
    try {
      remove_everything();
    } catch (const std::exception&) {
    }
  }
  std::string name() const override { return "zookeeper"; }
  std::string gateway_config_yaml() const override {
    return "config: {source: zookeeper, on_unreachable_at_start: wait, zookeeper: {hosts: \"" + proxied_hosts_ +
           "\", root: \"" + root_ + "\"}}\n";
  }
  std::unique_ptr<sources::Source> make_source() override {
    sources::ZooKeeperOptions settings;
    settings.hosts = proxied_hosts_;
    settings.root = root_;
    return std::make_unique<sources::ZooKeeperSource>(std::move(settings));
  }
  void put_all(const std::map<std::string, std::string>& entries) override {
    std::vector<std::pair<std::string, std::string>> creates;  // path, value; parents first
    std::vector<std::pair<std::string, std::string>> sets;
    std::set<std::string> planned;
    auto plan_folder = [&](const std::string& path) {
      if (!planned.count(path) && !exists(path)) {
        creates.emplace_back(path, "");
        planned.insert(path);
      }
    };
    for (const auto& [key, value] : entries) {
      const std::string path = root_ + "/" + key;
      plan_folder(root_);
      for (auto slash = key.find('/'); slash != std::string::npos; slash = key.find('/', slash + 1)) {
        plan_folder(root_ + "/" + key.substr(0, slash));
      }
      if (planned.count(path) || exists(path)) {
        sets.emplace_back(path, value);
      } else {
        creates.emplace_back(path, value);
        planned.insert(path);
      }
    }
    std::vector<zoo_op_t> ops(creates.size() + sets.size());
    std::vector<zoo_op_result_t> results(ops.size());
    std::size_t i = 0;
    for (const auto& [path, value] : creates) {
      zoo_create_op_init(&ops[i++], path.c_str(), value.empty() ? nullptr : value.data(),
                         value.empty() ? -1 : static_cast<int>(value.size()), &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
                         nullptr, 0);
    }
    for (const auto& [path, value] : sets) {
      zoo_set_op_init(&ops[i++], path.c_str(), value.data(), static_cast<int>(value.size()), -1, nullptr);
    }
    testing::zk_check(zoo_multi(client_->handle(), static_cast<int>(ops.size()), ops.data(), results.data()), "multi");
  }
  void remove(const std::string& key) override {
    testing::zk_check(zoo_delete(client_->handle(), (root_ + "/" + key).c_str(), -1), "delete " + key);
  }
  void remove_everything() override { client_->remove_tree(root_); }
  void bulk_load(const std::map<std::string, std::string>& entries) override {
    std::set<std::string> folders;
    for (const auto& [key, value] : entries) {
      for (auto slash = key.find('/'); slash != std::string::npos; slash = key.find('/', slash + 1)) {
        folders.insert(key.substr(0, slash));
      }
    }
    // One entry per folder first (atomically with the folder), then the rest pipelined.
    std::map<std::string, std::string> first;
    std::vector<std::pair<std::string, std::string>> rest;
    for (const auto& [key, value] : entries) {
      const std::string folder = key.substr(0, key.rfind('/'));
      if (folders.erase(folder) > 0) {
        first.emplace(key, value);
      } else {
        rest.emplace_back(root_ + "/" + key, value);
      }
    }
    put_all(first);
    client_->create_many(rest);
  }
  void stop() override {
    client_.reset();
    run_script("zookeeper", "stop");
  }
  void start() override {
    run_script("zookeeper", "start");
    client_ = std::make_unique<testing::ZkClient>(hosts_);
  }
  // While the server is down the proxy still accepts (and closes at once, the upstream
  // refusing), so every reconnect of the C client is counted.
  std::optional<std::uint64_t> connection_attempts() const override { return proxy_->accepted(); }
  // The C client paces its reconnects itself and the source cannot change that: after trying
  // every host it waits session_timeout / 60 (zookeeper.c, "Delaying connection after
  // exhaustively trying all servers"), a fixed 167 ms with the 10 s default, with no backoff:
  // 30 in 5 s. The bound is that pace plus a third; a spin, or a source opening new handles
  // at a faster pace, goes over it.
  std::uint64_t max_attempts_in_5s_down() const override {
    const auto pace = sources::ZooKeeperOptions{}.session_timeout / 60;
    return std::chrono::milliseconds(5000) / pace * 4 / 3;
  }

 private:
  bool exists(const std::string& path) {
    struct Stat stat {};
    return zoo_exists(client_->handle(), path.c_str(), 0, &stat) == ZOK;
  }
  std::string hosts_, root_;
  std::unique_ptr<testing::ZkClient> client_;
  std::unique_ptr<testing::TcpProxy> proxy_;
  std::string proxied_hosts_;
};

// The file source's YAML form: the whole registry in one file, replaced atomically (write a
// temporary file, rename it over) on every change, as careful tools and editors do.
class FileBackend final : public Backend {
 public:
  FileBackend() {
    char dir[] = "/tmp/intake-conf-XXXXXX";
    if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = dir;
    write();
  }
  ~FileBackend() override { std::filesystem::remove_all(dir_); }
  std::string name() const override { return "file"; }
  std::string gateway_config_yaml() const override {
    return "config: {source: file, on_unreachable_at_start: wait, file: {path: \"" + path() + "\"}}\n";
  }
  std::unique_ptr<sources::Source> make_source() override {
    sources::FileOptions settings;
    settings.path = path();
    return std::make_unique<sources::FileSource>(std::move(settings));
  }
  void put_all(const std::map<std::string, std::string>& entries) override {
    for (const auto& [key, value] : entries) state_[key] = value;
    write();
  }
  void remove(const std::string& key) override {
    state_.erase(key);
    write();
  }
  void remove_everything() override {
    state_.clear();
    write();
  }
  void bulk_load(const std::map<std::string, std::string>& entries) override { put_all(entries); }
  // The file vanishes (the source must keep the last good config), then comes back empty.
  void stop() override { std::filesystem::remove(path()); }
  void start() override {
    state_.clear();
    write();
  }

 private:
  std::string path() const { return dir_ + "/registry.yaml"; }
  static std::string quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  void write() {
    const std::string temporary = dir_ + "/.registry.yaml.tmp";
    {
      std::ofstream file(temporary, std::ios::trunc);
      if (state_.empty()) file << "{}\n";
      for (const auto& [key, value] : state_) file << quoted(key) << ": " << quoted(value) << "\n";
    }
    std::filesystem::rename(temporary, path());
  }
  std::string dir_;
  std::map<std::string, std::string> state_;
};

}  // namespace

std::unique_ptr<Backend> make_consul_backend() { return std::make_unique<ConsulBackend>(); }
std::unique_ptr<Backend> make_etcd_backend() { return std::make_unique<EtcdBackend>(); }
std::unique_ptr<Backend> make_zookeeper_backend() { return std::make_unique<ZooKeeperBackend>(); }
std::unique_ptr<Backend> make_file_backend() { return std::make_unique<FileBackend>(); }

}  // namespace intake::conformance
