// TcpProxy: a loopback TCP proxy in front of one upstream port, for tests that need to see or
// cut a client's connections to a real peer without touching the peer.
//
// Counts every connection it accepts: each is one attempt of the client to reach the peer,
// including those it closes at once because the upstream refuses (the peer is down). While
// cut, the listener is closed too: new connections are refused by the kernel and not counted.
//
// Threads: one of its own runs every socket; the public calls are safe from any thread and
// cut()/restore() have taken effect when they return.
#pragma once

#include <cstdint>
#include <memory>

namespace intake::testing {

class TcpProxy {
 public:
  // Listens on 127.0.0.1 at a free port, forwarding to 127.0.0.1:upstream_port.
  explicit TcpProxy(std::uint16_t upstream_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::uint16_t port() const;
  // Connections accepted so far.
  std::uint64_t accepted() const;
  // Closes every connection and the listener: new connections are refused until restore().
  void cut();
  // Listens again on the same port.
  void restore();

 private:
  class Loop;
  std::unique_ptr<Loop> loop_;
};

}  // namespace intake::testing
