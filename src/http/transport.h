// Transport: a connection's byte stream, either the TCP socket itself or TLS over it. One
// branch per I/O operation decides which; nothing virtual and nothing allocated for a plain
// connection, so the plain path costs what it did before TLS existed.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <memory>
#include <utility>

#include "http/tls_context.h"

namespace intake::http {

class Transport {
 public:
  // `tls` null: plain TCP.
  Transport(boost::asio::ip::tcp::socket socket, std::shared_ptr<const TlsContext> tls)
      : socket_(std::move(socket)), context_(std::move(tls)) {
    if (context_)
      tls_ = std::make_unique<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>>(socket_, *context_->ssl);
  }
  Transport(const Transport&) = delete;  // tls_ refers to socket_
  Transport& operator=(const Transport&) = delete;

  bool is_tls() const { return tls_ != nullptr; }
  boost::asio::ip::tcp::socket& socket() { return socket_; }
  SSL* native_tls() { return tls_->native_handle(); }
  auto get_executor() { return socket_.get_executor(); }

  template <typename Handler>
  void async_handshake(Handler&& handler) {
    tls_->async_handshake(boost::asio::ssl::stream_base::server, std::forward<Handler>(handler));
  }

  template <typename Handler>
  void async_read_some(const boost::asio::mutable_buffer& buffer, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffer, std::forward<Handler>(handler));
    } else {
      socket_.async_read_some(buffer, std::forward<Handler>(handler));
    }
  }

  // All of `buffer`, then the handler.
  template <typename Handler>
  void async_write(const boost::asio::const_buffer& buffer, Handler&& handler) {
    if (tls_) {
      boost::asio::async_write(*tls_, buffer, std::forward<Handler>(handler));
    } else {
      boost::asio::async_write(socket_, buffer, std::forward<Handler>(handler));
    }
  }

  // Sends close_notify and waits for the peer's (TLS only); the caller bounds the wait.
  template <typename Handler>
  void async_shutdown(Handler&& handler) {
    tls_->async_shutdown(std::forward<Handler>(handler));
  }

 private:
  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<const TlsContext> context_;  // kept alive for tls_
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
};

}  // namespace intake::http
