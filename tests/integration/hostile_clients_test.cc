// Hostile clients against the real binary on loopback: 10,000 idle connections, churn, header
// floods, pipelined garbage, slow bodies and headers, decompression bombs. Each case must get
// its documented answer (400/408/413/431/503) or a close within its configured clock, the
// gateway's memory must stay bounded, and — the point of it — an ordinary client producing
// at the same time must be served throughout, its records consumed back from Kafka.
//
// Timing bounds are the YAML clock plus the sweep interval plus generous slack: they catch a
// connection that is never answered, not one that is a little slow. Latencies of the normal
// client are printed, not asserted.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "eventually.h"
#include "gateway_process.h"
#include "gateway_yaml.h"
#include "http_client.h"
#include "kafka_reader.h"
#include "metrics_text.h"
#include "peers.h"

namespace intake {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kSecret = "hostile-suite-secret";
// The clocks every gateway of this suite runs with (server: section).
constexpr std::uint32_t kHeaderTimeoutMs = 2'000;
constexpr std::uint32_t kBodyTimeoutMs = 2'000;
constexpr std::uint32_t kBodyMinBytesPerS = 1'024;
constexpr std::uint32_t kIdleTimeoutMs = 15'000;
constexpr std::uint32_t kWriteTimeoutMs = 3'000;
constexpr std::uint32_t kMaxHeaderBytes = 16'384;
constexpr std::uint32_t kMaxBodyBytes = 1'048'576;
// 10,000 hostile connections from 127.0.0.2-11 (1,000 each, the per-address cap) plus room for
// the normal client and the test's own /metrics scrapes from 127.0.0.1.
constexpr int kIdleConnections = 10'000;
constexpr std::uint32_t kMaxConnections = kIdleConnections + 50;
constexpr std::uint32_t kMaxConnectionsPerIp = 1'000;
// The gateway's sweep looks at clocks every 200 ms (http/server.cc); on top of that a loaded,
// sanitized build on two shared cores gets this much slack before a clock counts as ignored.
constexpr int kSlackMs = 5'000;

std::string gzip(std::string_view data) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::string zstd(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const auto size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 19);
  if (ZSTD_isError(size)) throw std::runtime_error("ZSTD_compress");
  out.resize(size);
  return out;
}

// Raises this process's soft RLIMIT_NOFILE towards `wanted` (up to the hard limit); the
// gateway, forked later, inherits it. Returns the soft limit now in force.
rlim_t raise_fd_limit(rlim_t wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = std::min(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

// One line of /proc/<pid>/<file> starting with `field`, its first number (e.g. VmRSS in KiB).
long proc_number(pid_t pid, const std::string& file, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) != 0) continue;
    const auto digit = line.find_first_of("0123456789", field.size());
    return digit == std::string::npos ? -1 : std::stol(line.substr(digit));
  }
  return -1;
}

long rss_mib(pid_t pid) { return proc_number(pid, "status", "VmRSS:") / 1024; }

// A raw client socket: the test decides every byte and how it ends.
class RawClient {
 public:
  // Connects from `source_ip` (any 127.0.0.0/8 address is loopback on Linux: distinct client
  // addresses for the per-address cap). Throws on failure.
  // `receive_buffer` > 0: SO_RCVBUF, set before connecting (a client that reads little).
  RawClient(const std::string& source_ip, std::uint16_t port, int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    sockaddr_in source{};
    source.sin_family = AF_INET;
    ::inet_pton(AF_INET, source_ip.c_str(), &source.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof(source)) != 0) {
      const int error = errno;
      ::close(fd_);
      throw std::runtime_error("bind " + source_ip + ": " + std::strerror(error));
    }
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&server), sizeof(server)) != 0) {
      const int error = errno;
      ::close(fd_);
      throw std::runtime_error("connect from " + source_ip + ": " + std::strerror(error));
    }
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  int fd() const { return fd_; }
  // False once the peer has gone (EPIPE, ECONNRESET).
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Closes with a reset rather than a FIN (no TIME_WAIT left on this side).
  void reset() {
    const linger abort{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
    ::close(fd_);
    fd_ = -1;
  }
  void close() {
    ::close(fd_);
    fd_ = -1;
  }
  // Reads until the peer closes or `timeout_ms` passes. `closed` tells which.
  struct Received {
    std::string bytes;
    bool closed = false;
  };
  Received read_until_close(int timeout_ms) {
    Received received;
    const auto deadline = SteadyClock::now() + milliseconds(timeout_ms);
    char buffer[16384];
    while (true) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()).count();
      if (left <= 0) return received;
      pollfd wanted{fd_, POLLIN, 0};
      if (::poll(&wanted, 1, static_cast<int>(left)) <= 0) continue;
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        received.closed = true;
        return received;
      }
      received.bytes.append(buffer, static_cast<std::size_t>(n));
    }
  }
  // What has arrived so far, without waiting.
  std::string read_now() {
    std::string bytes;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT)) > 0)
      bytes.append(buffer, static_cast<std::size_t>(n));
    return bytes;
  }

 private:
  int fd_ = -1;
};

// The status of the first response in `bytes`, 0 when there is none.
int first_status(const std::string& bytes) {
  if (bytes.rfind("HTTP/1.1 ", 0) != 0 || bytes.size() < 12) return 0;
  return std::atoi(bytes.substr(9, 3).c_str());
}

std::string hostile_source(int index) { return "127.0.0." + std::to_string(2 + index % 10); }

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto at = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  return values[at];
}

// An ordinary, authenticated client: one keep-alive connection from 127.0.0.1, one small
// record after another, each answered 202 (or it counts as a failure, with the reason).
class NormalClient {
 public:
  NormalClient(std::uint16_t port, std::string topic, std::string phase)
      : port_(port), topic_(std::move(topic)), phase_(std::move(phase)) {}
  ~NormalClient() { stop(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Runs for `duration` on this thread.
  void run_for(milliseconds duration) {
    const auto until = SteadyClock::now() + duration;
    while (SteadyClock::now() < until) {
      one();
      std::this_thread::sleep_for(milliseconds(5));  // the pace of run(), for comparable latencies
    }
  }

  std::vector<double> latencies_ms;
  std::set<std::string> accepted;
  std::vector<std::string> failures;
  int sent = 0;

 private:
  void run() {
    while (!stop_) {
      one();
      std::this_thread::sleep_for(milliseconds(5));
    }
  }
  void one() {
    const std::string value = phase_ + "-" + std::to_string(sent++);
    const auto began = SteadyClock::now();
    try {
      if (!connection_) connection_ = std::make_unique<testing::HttpConnection>("127.0.0.1", port_);
      const auto reply = connection_->request("POST", "/v1/topics/" + topic_, value,
                                              {{"Authorization", std::string("Bearer ") + kSecret}}, 30'000);
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - began).count());
      if (reply.status == 202) {
        accepted.insert(value);
      } else {
        failures.push_back(value + ": " + std::to_string(reply.status) + " " + reply.body);
      }
      if (reply.header("connection") == "close") connection_.reset();
    } catch (const std::exception& error) {
      failures.push_back(value + ": " + error.what());
      connection_.reset();
    }
  }

  std::uint16_t port_;
  std::string topic_;
  std::string phase_;
  std::unique_ptr<testing::HttpConnection> connection_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

// The gateway's VmRSS, sampled until stopped; keeps the highest.
class RssMonitor {
 public:
  explicit RssMonitor(pid_t pid) : pid_(pid) {
    thread_ = std::thread([this] {
      while (!stop_) {
        peak_ = std::max(peak_.load(), rss_mib(pid_));
        std::this_thread::sleep_for(milliseconds(50));
      }
    });
  }
  ~RssMonitor() { stop(); }
  long stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return peak_;
  }

 private:
  pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<long> peak_{0};
  std::thread thread_;
};

struct PhaseFigures {
  long rss_before_mib = 0;
  long rss_peak_mib = 0;
  long rss_after_mib = 0;
};

class HostileClients : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap = testing::required_env("INTAKE_KAFKA_BOOTSTRAP");
    topic = testing::unique_name("hostile.normal");
    // 10,000 hostile sockets here, as many in the gateway (which inherits this limit), and room.
    fd_limit = raise_fd_limit(2 * kIdleConnections + 4'000);
  }

  // After every attack the gateway still shuts down cleanly (and, under LeakSanitizer, exits
  // without a leak report).
  void TearDown() override {
    if (gateway) {
      EXPECT_EQ(gateway->stop(SIGTERM), 0) << gateway->log_tail();
    }
  }

  void start_gateway() {
    testing::GatewayYaml yaml;
    yaml.port = testing::free_port();
    yaml.bootstrap = bootstrap;
    yaml.keys.push_back({"hostile", kSecret, {"hostile.*"}});
    yaml.server_fields = {{"max_connections", std::to_string(kMaxConnections)},
                          {"max_connections_per_ip", std::to_string(kMaxConnectionsPerIp)},
                          {"header_timeout_ms", std::to_string(kHeaderTimeoutMs)},
                          {"body_timeout_ms", std::to_string(kBodyTimeoutMs)},
                          {"body_min_bytes_per_s", std::to_string(kBodyMinBytesPerS)},
                          {"idle_timeout_ms", std::to_string(kIdleTimeoutMs)},
                          {"write_timeout_ms", std::to_string(kWriteTimeoutMs)},
                          {"max_header_bytes", std::to_string(kMaxHeaderBytes)},
                          {"max_body_bytes", std::to_string(kMaxBodyBytes)}};
    port = yaml.port;
    {
      // AddressSanitizer keeps up to 256 MiB of freed memory in quarantine, which would read
      // as growth: this suite's gateway runs with a small one, so its RSS follows live memory.
      const char* inherited = std::getenv("ASAN_OPTIONS");
      const std::string saved = inherited != nullptr ? inherited : "";
      const std::string small_quarantine = (saved.empty() ? std::string() : saved + ":") +
                                           "quarantine_size_mb=8:allocator_release_to_os_interval_ms=500";
      ::setenv("ASAN_OPTIONS", small_quarantine.c_str(), 1);
      struct Restore {
        const char* inherited;
        const std::string& saved;
        ~Restore() { inherited != nullptr ? ::setenv("ASAN_OPTIONS", saved.c_str(), 1) : ::unsetenv("ASAN_OPTIONS"); }
      } restore{inherited, saved};
      gateway = std::make_unique<testing::GatewayProcess>(yaml.render(), yaml.port);
    }
    // A record produced first creates the topic, so the normal client's later latencies are
    // not the first-produce metadata round trip.
    ASSERT_EQ(testing::http_request("127.0.0.1", port, "POST", "/v1/topics/" + topic, "warm-up",
                                    {{"Authorization", std::string("Bearer ") + kSecret}})
                  .status,
              202);
  }

  std::string metrics() { return testing::http_request("127.0.0.1", port, "GET", "/metrics").body; }
  double open_connections() { return testing::metric_value(metrics(), "intake_http_connections_open"); }

  // Runs `hostile` while a normal client produces; asserts the normal client was served
  // throughout and its records reached Kafka; prints latency and memory figures.
  PhaseFigures under_attack(const std::string& name, const std::function<void()>& hostile) {
    PhaseFigures figures;
    NormalClient before(port, topic, name + "-before");
    before.run_for(milliseconds(1'500));
    figures.rss_before_mib = rss_mib(gateway->pid());

    NormalClient during(port, topic, name + "-during");
    RssMonitor monitor(gateway->pid());
    const auto began = SteadyClock::now();
    during.start();
    hostile();
    during.stop();
    const double hostile_s = std::chrono::duration<double>(SteadyClock::now() - began).count();
    figures.rss_peak_mib = monitor.stop();
    // Freed memory goes back to the OS on the allocator's own schedule: give it a moment.
    std::this_thread::sleep_for(milliseconds(3'000));
    figures.rss_after_mib = rss_mib(gateway->pid());

    EXPECT_TRUE(before.failures.empty()) << before.failures.front();
    EXPECT_TRUE(during.failures.empty()) << during.failures.size() << " of " << during.sent
                                         << " normal requests failed; first: " << during.failures.front();
    EXPECT_GT(during.accepted.size(), 10u) << "the normal client was barely served during " << name;
    std::set<std::string> accepted = before.accepted;
    accepted.insert(during.accepted.begin(), during.accepted.end());
    const auto delivery = testing::count_delivery(bootstrap, topic, accepted);
    EXPECT_EQ(delivery.lost, 0u) << delivery.lost << " accepted normal records are not in Kafka";

    std::printf(
        "[hostile %s] %.1f s; normal client before: %zu requests p50 %.2f ms p99 %.2f ms; during: %zu requests "
        "p50 %.2f ms p99 %.2f ms, %zu failed; RSS before %ld MiB, peak %ld MiB, after %ld MiB; %zu records "
        "consumed back\n",
        name.c_str(), hostile_s, before.latencies_ms.size(), percentile(before.latencies_ms, 0.5),
        percentile(before.latencies_ms, 0.99), during.latencies_ms.size(), percentile(during.latencies_ms, 0.5),
        percentile(during.latencies_ms, 0.99), during.failures.size(), figures.rss_before_mib, figures.rss_peak_mib,
        figures.rss_after_mib, accepted.size() - delivery.lost);
    std::fflush(stdout);
    return figures;
  }

  std::string bootstrap;
  std::string topic;
  rlim_t fd_limit = 0;
  std::uint16_t port = 0;
  std::unique_ptr<testing::GatewayProcess> gateway;
};

// Runs `count` tasks on `threads` threads; each task gets its index.
void in_parallel(int count, int threads, const std::function<void(int)>& task) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < count; i = next++) task(i);
    });
  }
  for (auto& thread : pool) thread.join();
}

// Collects failures from worker threads for one report.
struct Failures {
  std::mutex mutex;
  std::vector<std::string> items;
  void add(std::string what) {
    std::lock_guard lock(mutex);
    items.push_back(std::move(what));
  }
  std::string first() {
    std::lock_guard lock(mutex);
    return items.empty() ? std::string() : items.front();
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return items.size();
  }
};

// Sends `request`, then expects `status` and the connection closed within `bound_ms`.
void expect_answer_and_close(RawClient& client, std::string_view request, int status, int bound_ms,
                             const std::string& what, Failures& failures) {
  const auto began = SteadyClock::now();
  client.send(request);  // the gateway may answer and close before it has all of it
  const auto received = client.read_until_close(bound_ms);
  const auto took = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - began).count();
  if (!received.closed) {
    failures.add(what + ": not closed within " + std::to_string(bound_ms) + " ms; got '" +
                 received.bytes.substr(0, 200) + "'");
  } else if (first_status(received.bytes) != status) {
    failures.add(what + ": expected " + std::to_string(status) + " and close, got '" + received.bytes.substr(0, 300) +
                 "' after " + std::to_string(took) + " ms");
  }
}

TEST_F(HostileClients, TenThousandIdleConnectionsAreHeldWhileTheCapsRefuseTheExcessWith503) {
  ASSERT_GE(fd_limit, static_cast<rlim_t>(kIdleConnections + 1'000))
      << "RLIMIT_NOFILE hard limit too low for this test (raise it with ulimit -Hn)";
  start_gateway();
  ASSERT_GE(proc_number(gateway->pid(), "limits", "Max open files"), kIdleConnections + 1'000)
      << "the gateway did not inherit the raised RLIMIT_NOFILE";

  std::vector<std::unique_ptr<RawClient>> idle;
  idle.reserve(kIdleConnections);
  long opened_ms = 0;
  int per_ip_status = 0;
  int excess_refused = 0;
  int excess_admitted = 0;
  std::string refusal_body;
  double open_at_peak = 0;
  const auto figures = under_attack("idle-10k", [&] {
    const auto began = SteadyClock::now();
    for (int i = 0; i < kIdleConnections; ++i) idle.push_back(std::make_unique<RawClient>(hostile_source(i), port));
    opened_ms = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - began).count();
    // Every one of them is accepted and held (the listen backlog alone would also "connect").
    ASSERT_TRUE(testing::eventually([&] { return open_connections() >= kIdleConnections; }, milliseconds(20'000)))
        << open_connections();
    open_at_peak = open_connections();
    // One more from an address that has its 1,000: the per-address cap answers 503.
    {
      RawClient extra(hostile_source(0), port);
      const auto received = extra.read_until_close(5'000);
      per_ip_status = first_status(received.bytes);
    }
    // 100 more from a fresh address: the global cap (10,050) lets the first few dozen in and
    // answers the rest 503.
    std::vector<std::unique_ptr<RawClient>> excess;
    for (int i = 0; i < 100; ++i) excess.push_back(std::make_unique<RawClient>("127.0.0.20", port));
    std::this_thread::sleep_for(milliseconds(1'500));
    for (auto& client : excess) {
      const std::string bytes = client->read_now();
      if (bytes.empty()) {
        ++excess_admitted;
      } else if (first_status(bytes) == 503) {
        ++excess_refused;
        refusal_body = bytes;
      }
    }
    for (auto& client : excess) client->reset();
  });

  EXPECT_EQ(per_ip_status, 503);
  EXPECT_EQ(excess_refused + excess_admitted, 100);
  EXPECT_GE(excess_refused, 40);  // at most 50 places were left, one held by the normal client
  EXPECT_LE(excess_admitted, 50);
  EXPECT_NE(refusal_body.find("too_many_connections"), std::string::npos) << refusal_body;
  EXPECT_NE(refusal_body.find("Retry-After"), std::string::npos) << refusal_body;
  const std::string exposition = metrics();
  EXPECT_GE(testing::metric_value(exposition, "intake_http_connections_refused_total{reason=\"max_connections\"}"), 40);
  EXPECT_GE(
      testing::metric_value(exposition, "intake_http_connections_refused_total{reason=\"max_connections_per_ip\"}"), 1);

  // The idle clock closes all 10,000: none is left behind, and none outlives the clock by more
  // than the slack. (Opening them took opened_ms, so the last one's clock started that late.)
  const auto wait_from = SteadyClock::now();
  int closed = 0;
  for (auto& client : idle) {
    const auto left = kIdleTimeoutMs + opened_ms + kSlackMs -
                      std::chrono::duration_cast<milliseconds>(SteadyClock::now() - wait_from).count();
    if (client->read_until_close(static_cast<int>(std::max<long>(left, 1))).closed) ++closed;
  }
  EXPECT_EQ(closed, kIdleConnections) << "idle connections not closed by server.idle_timeout_ms";
  idle.clear();
  EXPECT_TRUE(testing::eventually([&] { return open_connections() <= 2; })) << open_connections();
  std::this_thread::sleep_for(milliseconds(3'000));  // the allocator's release interval, and then some
  const long rss_closed_mib = rss_mib(gateway->pid());
  std::printf(
      "[hostile idle-10k] opened %d in %ld ms, %.0f open at peak; extra per-address: %d; of 100 over the "
      "global cap: %d admitted, %d refused 503; RSS once the idle clock closed them all: %ld MiB\n",
      kIdleConnections, opened_ms, open_at_peak, per_ip_status, excess_admitted, excess_refused, rss_closed_mib);
  // 10,000 connections hold an 8 KiB read buffer each (80 MiB) plus socket state and
  // bookkeeping, and AddressSanitizer adds redzones: about 16 KiB each, 160 MiB. Three times
  // that would be a leak or a buffer per connection that should not be there.
  EXPECT_LT(figures.rss_peak_mib, figures.rss_before_mib + 512);
  // Once they are gone, how much goes back to the OS is up to the allocator (observed: from
  // none to two thirds); what stays sits in its free lists. So the test of "nothing kept per
  // connection" is a second 10,000: they must reuse that memory, not grow the process again.
  long second_peak_mib = 0;
  {
    RssMonitor monitor(gateway->pid());
    for (int i = 0; i < kIdleConnections; ++i) idle.push_back(std::make_unique<RawClient>(hostile_source(i), port));
    EXPECT_TRUE(testing::eventually([&] { return open_connections() >= kIdleConnections; }, milliseconds(20'000)));
    for (auto& client : idle) client->reset();
    idle.clear();
    EXPECT_TRUE(testing::eventually([&] { return open_connections() <= 2; })) << open_connections();
    second_peak_mib = monitor.stop();
  }
  std::this_thread::sleep_for(milliseconds(3'000));
  const long rss_second_closed_mib = rss_mib(gateway->pid());
  std::printf("[hostile idle-10k] a second 10,000 (reset by the client): RSS peak %ld MiB, after %ld MiB\n",
              second_peak_mib, rss_second_closed_mib);
  EXPECT_LT(second_peak_mib, figures.rss_peak_mib + 64) << "the second 10,000 grew the gateway again";
}

TEST_F(HostileClients, ConnectionChurnLeavesNoConnectionOrMemoryBehind) {
  start_gateway();
  const double accepted_before = testing::metric_value(metrics(), "intake_http_connections_accepted_total");
  constexpr int kEach = 1'500;
  Failures failures;
  const auto figures = under_attack("churn", [&] {
    in_parallel(4 * kEach, 4, [&](int i) {
      try {
        RawClient client(hostile_source(i), port);
        switch (i % 4) {
          case 0:  // connect, close
            client.close();
            break;
          case 1:  // connect, reset
            client.reset();
            break;
          case 2:  // half a head, close
            client.send("POST /v1/topics/hostile.churn HTTP/1.1\r\nHost: x\r\nAuthor");
            client.close();
            break;
          default:  // a whole head, part of a body too big for the read buffer (held in the body budget), reset
            client.send("POST /v1/topics/hostile.churn HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                        std::string(kSecret) + "\r\nContent-Length: 100000\r\n\r\n" + std::string(20000, 'b'));
            client.reset();
            break;
        }
      } catch (const std::exception& error) {
        failures.add(error.what());
      }
    });
  });
  EXPECT_EQ(failures.size(), 0u) << failures.first();
  // Every churned connection was taken off the listen queue (accepted, or answered by a cap)
  // and is gone again: only the scrape's own is open.
  std::string exposition;
  const auto taken = [&] {
    exposition = metrics();
    double sum = testing::metric_value(exposition, "intake_http_connections_accepted_total") - accepted_before;
    for (const char* reason : {"max_connections", "max_connections_per_ip", "dropped"}) {
      sum += testing::metric_value(exposition,
                                   std::string("intake_http_connections_refused_total{reason=\"") + reason + "\"}");
    }
    return sum;
  };
  // A connection reset while it waits in the listen queue may be gone before accept() hands it
  // over (it is then closed uncounted); each one closed with a FIN is taken and counted.
  EXPECT_TRUE(testing::eventually([&] { return taken() >= 2 * kEach; })) << taken() << "\n" << exposition;
  std::printf("[hostile churn] %d connections churned, %.0f taken off the listen queue and counted\n", 4 * kEach,
              taken());
  EXPECT_TRUE(testing::eventually([&] { return open_connections() <= 2; })) << open_connections();
  EXPECT_EQ(testing::metric_value(exposition, "intake_http_inflight_body_bytes"), 0);
  // Churn holds nothing: the peak is a few buffers per concurrent connection.
  EXPECT_LT(figures.rss_peak_mib, figures.rss_before_mib + 256);
  EXPECT_LT(figures.rss_after_mib, figures.rss_before_mib + 128);
}

TEST_F(HostileClients, HeaderFloodsAreAnswered431AndClosed) {
  start_gateway();
  const std::string auth = std::string("Authorization: Bearer ") + kSecret + "\r\n";
  const std::string head = "POST /v1/topics/hostile.floods HTTP/1.1\r\nHost: x\r\n" + auth;
  std::string many_fields = head;
  for (int i = 0; i < 100; ++i) many_fields += "X-Field-" + std::to_string(i) + ": v\r\n";
  many_fields += "Content-Length: 1\r\n\r\nx";
  const std::string huge_line = head + "X-Huge: " + std::string(4 * kMaxHeaderBytes, 'h') + "\r\n\r\n";
  const int bound_ms = static_cast<int>(kHeaderTimeoutMs) + kSlackMs;
  Failures failures;
  int endless_answered = 0;
  std::mutex endless_mutex;
  const auto figures = under_attack("header-floods", [&] {
    in_parallel(1'500, 4, [&](int i) {
      try {
        RawClient client(hostile_source(i), port);
        if (i % 3 == 0) {
          expect_answer_and_close(client, huge_line, 431, bound_ms, "huge header line", failures);
        } else if (i % 3 == 1) {
          expect_answer_and_close(client, many_fields, 431, bound_ms, "100 header fields", failures);
        } else {
          // Endless header bytes, as fast as the socket takes them, until the gateway stops it.
          const auto began = SteadyClock::now();
          client.send(head);
          const std::string line = "X-More: " + std::string(1000, 'm') + "\r\n";
          while (SteadyClock::now() - began < milliseconds(bound_ms) && client.send(line)) {
            pollfd readable{client.fd(), POLLIN, 0};
            if (::poll(&readable, 1, 0) > 0) break;
          }
          const auto received = client.read_until_close(bound_ms);
          const int status = first_status(received.bytes);
          if (!received.closed || (status != 431 && status != 408)) {
            failures.add("endless header: got '" + received.bytes.substr(0, 200) + "'" +
                         (received.closed ? "" : ", not closed"));
          } else {
            std::lock_guard lock(endless_mutex);
            ++endless_answered;
          }
        }
      } catch (const std::exception& error) {
        failures.add(error.what());
      }
    });
  });
  EXPECT_EQ(failures.size(), 0u) << failures.size() << " failures; first: " << failures.first();
  EXPECT_EQ(endless_answered, 500);
  EXPECT_LT(figures.rss_peak_mib, figures.rss_before_mib + 256);  // each head is capped at 17 KiB
  EXPECT_TRUE(testing::eventually([&] { return open_connections() <= 2; })) << open_connections();
}

TEST_F(HostileClients, PipelinedGarbageIsAnswered400AndClosed) {
  start_gateway();
  const std::string target = "/v1/topics/" + testing::unique_name("hostile.garbage");
  const std::string auth = std::string("Authorization: Bearer ") + kSecret + "\r\n";
  std::mt19937 random(20261203);
  std::string junk(4096, '\0');
  for (auto& byte : junk) byte = static_cast<char>(random() % 256);
  junk += "\r\n\r\n";  // so the request line is complete and judged
  const std::string valid = "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 2\r\n\r\nok";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"binary junk", junk},
      {"request line without a target", "GET\r\n\r\n"},
      {"unknown HTTP version", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n"},
      {"spaces in the method", "G E T /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"control bytes in the target", std::string("GET /he\x01\x7f HTTP/1.1\r\nHost: x\r\n\r\n")},
      {"non-numeric Content-Length",
       "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: abc\r\n\r\n"},
      {"negative Content-Length", "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: -1\r\n\r\n"},
      {"Content-Length past 2^64",
       "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 99999999999999999999999\r\n\r\n"},
      {"two different Content-Lengths",
       "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 2\r\nContent-Length: 3\r\n\r\nokk"},
      {"Content-Length with Transfer-Encoding (smuggling)",
       "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + auth +
           "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"Transfer-Encoding that is not chunked last",
       "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + auth + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"},
      {"bad chunk size", "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + auth +
                             "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
      {"obs-fold header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n"},
      {"a valid request then junk", valid + junk},
  };
  const int bound_ms = static_cast<int>(kHeaderTimeoutMs) + kSlackMs;
  Failures failures;
  std::atomic<int> answered_before_garbage{0};
  const auto figures = under_attack("pipelined-garbage", [&] {
    in_parallel(static_cast<int>(cases.size()) * 200, 4, [&](int i) {
      const auto& [what, bytes] = cases[static_cast<std::size_t>(i) % cases.size()];
      try {
        RawClient client(hostile_source(i), port);
        client.send(bytes);
        const auto received = client.read_until_close(bound_ms);
        std::string rest = received.bytes;
        if (what == "a valid request then junk") {
          // The valid request is answered first (202), in order, then the junk gets its 400.
          if (first_status(rest) != 202) {
            failures.add(what + ": first answer '" + rest.substr(0, 200) + "'");
            return;
          }
          ++answered_before_garbage;
          const auto next = rest.find("HTTP/1.1 ", 1);
          rest = next == std::string::npos ? std::string() : rest.substr(next);
        }
        if (!received.closed || first_status(rest) != 400 ||
            rest.find("\"code\":\"bad_request\"") == std::string::npos) {
          failures.add(what + ": expected 400 bad_request and close, got '" + rest.substr(0, 300) + "'" +
                       (received.closed ? "" : " (not closed)"));
        }
      } catch (const std::exception& error) {
        failures.add(what + ": " + error.what());
      }
    });
  });
  EXPECT_EQ(failures.size(), 0u) << failures.size() << " failures; first: " << failures.first();
  EXPECT_EQ(answered_before_garbage.load(), 200);
  EXPECT_LT(figures.rss_peak_mib, figures.rss_before_mib + 256);
  // Nothing of the smuggled or junk requests reached Kafka.
  const auto records = testing::consume_to_end(bootstrap, target.substr(std::strlen("/v1/topics/")));
  EXPECT_EQ(records.size(), 200u);  // the valid "ok" requests, nothing else
  for (const auto& record : records) EXPECT_EQ(record.value, "ok");
}

TEST_F(HostileClients, PipelinersThatNeverReadAreStoppedAndClosedByTheWriteClock) {
  start_gateway();
  std::string pipeline;
  for (int i = 0; i < 1'000; ++i) pipeline += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  constexpr int kClients = 5;
  std::vector<std::unique_ptr<RawClient>> clients;
  std::vector<std::size_t> sent(kClients, 0);
  std::vector<SteadyClock::time_point> last_progress(kClients, SteadyClock::now());
  Failures failures;
  int stalled = 0;
  const auto figures = under_attack("never-reading-pipeliners", [&] {
    for (int i = 0; i < kClients; ++i) clients.push_back(std::make_unique<RawClient>(hostile_source(i), port, 4'096));
    // Each pipelines requests as fast as the gateway takes them and reads nothing. Once the
    // answers fill the kernel's buffers the gateway's write blocks, it stops reading, and the
    // client's sends stall: a second without progress counts as stalled.
    const auto until = SteadyClock::now() + milliseconds(15'000);
    std::vector<bool> done(kClients, false);
    while (SteadyClock::now() < until && stalled < kClients) {
      for (int i = 0; i < kClients; ++i) {
        if (done[i]) continue;
        const auto offset = sent[i] % pipeline.size();
        const ssize_t n =
            ::send(clients[i]->fd(), pipeline.data() + offset, pipeline.size() - offset, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
          sent[i] += static_cast<std::size_t>(n);
          last_progress[i] = SteadyClock::now();
        } else if (SteadyClock::now() - last_progress[i] > milliseconds(1'000)) {
          done[i] = true;
          ++stalled;
        }
      }
      std::this_thread::sleep_for(milliseconds(1));
    }
    // Still reading nothing: the write clock runs out and the gateway drops each connection.
    std::this_thread::sleep_for(milliseconds(kWriteTimeoutMs + kSlackMs));
    for (int i = 0; i < kClients; ++i) {
      // Draining lets a gateway that kept the connection finish its answers and keep it open:
      // a connection still open after the drain was never closed by the clock.
      const auto received = clients[i]->read_until_close(5'000);
      if (!received.closed) failures.add("client " + std::to_string(i) + " still open after the write clock");
    }
  });
  EXPECT_EQ(stalled, kClients) << "the gateway kept reading requests whose answers nobody read";
  EXPECT_EQ(failures.size(), 0u) << failures.size() << " failures; first: " << failures.first();
  EXPECT_GE(testing::metric_value(metrics(), "intake_http_timeouts_total{phase=\"write\"}"), kClients);
  std::size_t most = 0;
  for (const auto bytes : sent) most = std::max(most, bytes);
  std::printf("[hostile never-reading-pipeliners] %d clients stalled after at most %zu request bytes each\n", stalled,
              most);
  EXPECT_LT(figures.rss_peak_mib, figures.rss_before_mib + 256);  // about 64 KiB of answers each
}

TEST_F(HostileClients, SlowBodiesAndSlowlorisHeadersGet408WithinTheirClocks) {
  start_gateway();
  const std::string auth = std::string("Authorization: Bearer ") + kSecret + "\r\n";
  // The slow body: 10 bytes every 250 ms (40 B/s) of a 100,000-byte body, far under 1,024 B/s.
  // After the 2 s grace its average rate is checked; it is answered 408 at once then.
  const int body_bound_ms = static_cast<int>(kBodyTimeoutMs) + kSlackMs;
  const int header_bound_ms = static_cast<int>(kHeaderTimeoutMs) + kSlackMs;
  Failures failures;
  std::atomic<long> slowest_body_ms{0};
  std::atomic<long> slowest_head_ms{0};
  const auto figures = under_attack("slow-clients", [&] {
    in_parallel(200, 200, [&](int i) {
      try {
        RawClient client(hostile_source(i), port);
        const bool body = i % 2 == 0;
        const auto began = SteadyClock::now();
        if (body) {
          client.send("POST /v1/topics/hostile.slow HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 100000\r\n\r\n");
        } else {
          client.send("POST /v1/topics/hostile.slow HTTP/1.1\r\n");
        }
        const int bound_ms = body ? body_bound_ms : header_bound_ms;
        RawClient::Received received;
        while (SteadyClock::now() - began < milliseconds(bound_ms)) {
          if (!client.send(body ? std::string(10, 'b') : std::string("X-Slow: 1\r\n"))) break;
          received = client.read_until_close(250);
          if (received.closed || !received.bytes.empty()) break;
        }
        if (!received.closed) {
          auto rest = client.read_until_close(1'000);
          received.bytes += rest.bytes;
          received.closed = rest.closed;
        }
        const long took = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - began).count();
        auto& slowest = body ? slowest_body_ms : slowest_head_ms;
        long seen = slowest.load();
        while (took > seen && !slowest.compare_exchange_weak(seen, took)) {
        }
        const std::string what = body ? "slow body" : "slowloris headers";
        if (first_status(received.bytes) != 408 || !received.closed) {
          failures.add(what + ": got '" + received.bytes.substr(0, 200) + "' after " + std::to_string(took) + " ms" +
                       (received.closed ? "" : " (not closed)"));
        } else if (took > bound_ms + 1'000) {
          failures.add(what + ": answered after " + std::to_string(took) + " ms, over " + std::to_string(bound_ms));
        }
      } catch (const std::exception& error) {
        failures.add(error.what());
      }
    });
  });
  EXPECT_EQ(failures.size(), 0u) << failures.size() << " failures; first: " << failures.first();
  const std::string exposition = metrics();
  EXPECT_GE(testing::metric_value(exposition, "intake_http_timeouts_total{phase=\"body\"}"), 100);
  EXPECT_GE(testing::metric_value(exposition, "intake_http_timeouts_total{phase=\"headers\"}"), 100);
  std::printf("[hostile slow-clients] slowest 408: body %ld ms (clock %u ms), headers %ld ms (clock %u ms)\n",
              slowest_body_ms.load(), kBodyTimeoutMs, slowest_head_ms.load(), kHeaderTimeoutMs);
  EXPECT_LT(figures.rss_peak_mib, figures.rss_before_mib + 256);
}

TEST_F(HostileClients, DecompressionBombsGet413WithoutInflating) {
  start_gateway();
  // 64 MiB of zeros in ~64 KiB (gzip) and ~2 KiB (zstd): 1000x and more against a 1 MiB limit.
  const std::string gzip_bomb = gzip(std::string(64u << 20, '0'));
  const std::string zstd_bomb = zstd(std::string(64u << 20, '0'));
  ASSERT_LT(gzip_bomb.size(), kMaxBodyBytes);
  ASSERT_LT(zstd_bomb.size(), kMaxBodyBytes);
  Failures failures;
  const auto figures = under_attack("decompression-bombs", [&] {
    in_parallel(120, 4, [&](int i) {
      const bool use_gzip = i % 2 == 0;
      const std::string route = i % 4 < 2 ? "/v1/topics/hostile.bombs" : "/v1/topics/hostile.bombs/records";
      try {
        const auto reply = testing::http_request(
            "127.0.0.1", port, "POST", route, use_gzip ? gzip_bomb : zstd_bomb,
            {{"Authorization", std::string("Bearer ") + kSecret}, {"Content-Encoding", use_gzip ? "gzip" : "zstd"}});
        if (reply.status != 413 || reply.body.find("payload_too_large") == std::string::npos) {
          failures.add(std::string(use_gzip ? "gzip" : "zstd") + " bomb on " + route + ": " +
                       std::to_string(reply.status) + " " + reply.body);
        }
      } catch (const std::exception& error) {
        failures.add(error.what());
      }
    });
  });
  EXPECT_EQ(failures.size(), 0u) << failures.size() << " failures; first: " << failures.first();
  // Had any bomb been inflated, one alone would add 64 MiB; four at a time, 256 MiB.
  EXPECT_LT(figures.rss_peak_mib, figures.rss_before_mib + 200);
}

}  // namespace
}  // namespace intake
