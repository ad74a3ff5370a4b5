#include "tcp_proxy.h"

#include <utility>  // before Boost 1.74's asio headers, which use std::exchange without it

#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <future>
#include <thread>
#include <vector>

namespace intake::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// One accepted connection and its upstream twin; keeps itself alive through its handlers and
// closes both sockets when either side ends.
struct Pipe : std::enable_shared_from_this<Pipe> {
  explicit Pipe(tcp::socket accepted) : client(std::move(accepted)), server(client.get_executor()) {}
  void start(const tcp::endpoint& upstream) {
    server.async_connect(upstream, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return self->close();
      self->pump(self->client, self->server, self->up);
      self->pump(self->server, self->client, self->down);
    });
  }
  void pump(tcp::socket& from, tcp::socket& to, std::array<char, 64 * 1024>& buffer) {
    from.async_read_some(asio::buffer(buffer), [self = shared_from_this(), &from, &to, &buffer](
                                                   const boost::system::error_code& ec, std::size_t n) {
      if (ec) return self->close();
      asio::async_write(to, asio::buffer(buffer.data(), n),
                        [self, &from, &to, &buffer](const boost::system::error_code& ec, std::size_t) {
                          if (ec) return self->close();
                          self->pump(from, to, buffer);
                        });
    });
  }
  void close() {
    boost::system::error_code ignored;
    client.close(ignored);
    server.close(ignored);
  }
  tcp::socket client, server;
  std::array<char, 64 * 1024> up{}, down{};
};

}  // namespace

// Everything below runs on thread_, except the constructor's first listen and the atomics.
class TcpProxy::Loop {
 public:
  explicit Loop(std::uint16_t upstream_port)
      : upstream_(asio::ip::address_v4::loopback(), upstream_port), acceptor_(io_), work_(io_.get_executor()) {
    listen(0);
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Loop() {
    on_io([this] { close_all(); });
    io_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  std::uint64_t accepted() const { return accepted_.load(); }
  void cut() {
    on_io([this] { close_all(); });
  }
  void restore() {
    on_io([this] { listen(port_); });
  }

 private:
  void listen(std::uint16_t port) {
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    acceptor_.listen();
    accept();
  }
  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;
      accepted_.fetch_add(1);
      std::erase_if(pipes_, [](const auto& pipe) { return pipe.expired(); });
      auto pipe = std::make_shared<Pipe>(std::move(socket));
      pipes_.push_back(pipe);
      pipe->start(upstream_);
      accept();
    });
  }
  void close_all() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& pipe : pipes_) {
      if (auto alive = pipe.lock()) alive->close();
    }
    pipes_.clear();
  }
  template <typename F>
  void on_io(F f) {
    std::promise<void> done;
    asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  asio::io_context io_;
  tcp::endpoint upstream_;
  tcp::acceptor acceptor_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::weak_ptr<Pipe>> pipes_;
  std::atomic<std::uint64_t> accepted_{0};
  std::uint16_t port_ = 0;
  std::thread thread_;
};

TcpProxy::TcpProxy(std::uint16_t upstream_port) : loop_(std::make_unique<Loop>(upstream_port)) {}
TcpProxy::~TcpProxy() = default;
std::uint16_t TcpProxy::port() const { return loop_->port(); }
std::uint64_t TcpProxy::accepted() const { return loop_->accepted(); }
void TcpProxy::cut() { loop_->cut(); }
void TcpProxy::restore() { loop_->restore(); }

}  // namespace intake::testing
