// The one file that includes the HTTP library. Debian's libcpp-httplib-dev is a compiled
// library: this file must be built with the same CPPHTTPLIB_* feature macros as the library
// (they change the layout of its classes); CMakeLists.txt takes them from pkg-config.
#include "http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "request_deadline.h"
#include "request_framing.h"

namespace t4dm {

std::string HttpRequest::Header(const std::string& name) const {
  for (const auto& h : headers) {
    if (h.first == name) return h.second;
  }
  return "";
}

bool HttpRequest::HasHeader(const std::string& name) const {
  for (const auto& h : headers) {
    if (h.first == name) return true;
  }
  return false;
}

std::vector<std::string> HttpRequest::QueryValues(const std::string& name) const {
  std::vector<std::string> values;
  for (const auto& q : query) {
    if (q.first == name) values.push_back(q.second);
  }
  return values;
}

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

HttpRequest Convert(const httplib::Request& req, bool with_body) {
  HttpRequest out;
  out.method = req.method;
  out.path = req.path;
  for (const auto& p : req.params) out.query.emplace_back(p.first, p.second);
  for (const auto& h : req.headers) out.headers.emplace_back(Lower(h.first), h.second);
  if (with_body) out.body = req.body;
  out.remote_addr = req.remote_addr;
  return out;
}

void Apply(const HttpResponse& from, httplib::Response* to) {
  to->status = from.status;
  for (const auto& h : from.headers) to->set_header(h.first, h.second);
  to->set_content(from.body, from.content_type);
}

const char* LibraryErrorCode(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "request_timeout";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 415:
      return "unsupported_media_type";
    case 416:
      return "range_not_satisfiable";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "bad_request";
  }
}

const char* LibraryErrorMessage(int status) {
  switch (status) {
    case 400:
      return "the request could not be parsed as HTTP";
    case 404:
      return "no such endpoint";
    case 413:
      return "request body larger than the limit (see --max-body-bytes)";
    case 414:
      return "request URI longer than 8192 bytes";
    case 415:
      return "request bodies with a Content-Encoding are not accepted: send plain JSON";
    default:
      return "the request failed";
  }
}

// ---------------------------------------------------------------------------------------
// Connections. The library's own connection loop (keep-alive, SocketStream) only knows a
// per-read timeout; the server below replaces it with one whose stream enforces the
// whole-request deadline. Everything of one connection runs on one worker thread, so the
// handlers find the connection they serve through a thread-local pointer.

using SteadyClock = std::chrono::steady_clock;

struct Connection {
  Connection(int socket, const HttpServerOptions& options)
      : sock(socket),
        deadline(std::chrono::seconds(options.request_timeout_seconds),
                 options.min_request_bytes_per_second) {}

  void StartRequest(SteadyClock::time_point now) {
    deadline.Start(now);
    timed_out = false;
    response_bytes = 0;
  }

  const int sock;
  RequestDeadline deadline;
  bool timed_out = false;       // a read of the current request ran out of time
  bool unread_body = false;     // answered before its body was read: close the connection
  uint64_t response_bytes = 0;  // written for the current request
};

thread_local Connection* tls_connection = nullptr;

// poll() for one socket, retried on EINTR. >0 ready, 0 timed out, <0 error.
int PollSocket(int sock, short events, int64_t timeout_ms) {
  pollfd p{};
  p.fd = sock;
  p.events = events;
  const int ms = static_cast<int>(std::min<int64_t>(std::max<int64_t>(timeout_ms, 0), 1 << 30));
  while (true) {
    const int r = ::poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

void SocketAddress(int sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  sockaddr* a = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? ::getpeername(sock, a, &len) : ::getsockname(sock, a, &len)) != 0) return;
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    port = ntohs(in6->sin6_port);
  }
  ip = text;
}

// The stream of one connection: buffered reads that wait at most the read timeout each and
// never past the request's deadline; writes bounded by the write timeout.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(Connection* conn, int64_t read_timeout_ms, int64_t write_timeout_ms)
      : conn_(conn), read_timeout_ms_(read_timeout_ms), write_timeout_ms_(write_timeout_ms) {}

  using httplib::Stream::write;

  bool buffered() const { return pos_ < len_; }

  bool is_readable() const override { return buffered() || WaitReadable() > 0; }
  bool is_writable() const override {
    return PollSocket(conn_->sock, POLLOUT, write_timeout_ms_) > 0;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (!buffered()) {
      if (WaitReadable() <= 0) return -1;
      ssize_t n;
      do {
        n = ::recv(conn_->sock, buf_, sizeof(buf_), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      conn_->deadline.Received(static_cast<size_t>(n));
      pos_ = 0;
      len_ = static_cast<size_t>(n);
    }
    const size_t k = std::min(size, len_ - pos_);
    std::memcpy(ptr, buf_ + pos_, k);
    pos_ += k;
    return static_cast<ssize_t>(k);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (PollSocket(conn_->sock, POLLOUT, write_timeout_ms_) <= 0) return -1;
    ssize_t n;
    do {
      n = ::send(conn_->sock, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n > 0) conn_->response_bytes += static_cast<uint64_t>(n);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    SocketAddress(conn_->sock, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    SocketAddress(conn_->sock, false, ip, port);
  }
  socket_t socket() const override { return conn_->sock; }

 private:
  // >0 readable; 0 out of time (the read timeout or the request deadline; marks the
  // connection timed out); <0 error.
  int WaitReadable() const {
    const int64_t ms = conn_->deadline.RemainingMs(SteadyClock::now(), read_timeout_ms_);
    const int r = ms > 0 ? PollSocket(conn_->sock, POLLIN, ms) : 0;
    if (r == 0) conn_->timed_out = true;
    return r;
  }

  Connection* const conn_;
  const int64_t read_timeout_ms_;
  const int64_t write_timeout_ms_;
  char buf_[16384];
  size_t pos_ = 0;
  size_t len_ = 0;
};

// Reads what the peer already sent, without waiting, so that closing does not reset the
// connection before the peer has read the answer (a close with unread data sends RST).
void DrainPending(int sock) {
  char buf[16384];
  for (int i = 0; i < 64; ++i) {
    const ssize_t n = ::recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
    if (n <= 0) return;
  }
}

// After an answer sent without reading the request's body: stop sending, then wait a short
// while for the peer to close, so that it reads the answer instead of a connection reset
// (closing with unread data sends RST, which can discard the answer at the peer). A little
// of the body is read and discarded (a small body is usually all there already); a large
// one is not: the peer's sends then block, and it reads the answer.
void LingeringClose(int sock) {
  ::shutdown(sock, SHUT_WR);
  const SteadyClock::time_point end = SteadyClock::now() + std::chrono::seconds(2);
  constexpr uint64_t kMaxDrain = 256u << 10;
  char buf[16384];
  uint64_t drained = 0;
  while (true) {
    const int64_t left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - SteadyClock::now()).count();
    if (left <= 0) return;
    pollfd p{};
    p.fd = sock;
    p.events = static_cast<short>(POLLRDHUP | (drained < kMaxDrain ? POLLIN : 0));
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 100)));
    if (r < 0 && errno != EINTR) return;
    if (r <= 0) continue;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return;
    if (p.revents & POLLIN) {
      const ssize_t n = ::recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0) return;
      if (n > 0) drained += static_cast<uint64_t>(n);
    }
  }
}

// The library's server with its connection loop replaced (process_and_close_socket is the
// library's virtual hook for this; process_request, the parsing of one request, is reused).
class DeadlineServer final : public httplib::Server {
 public:
  // timeout_response: the whole raw response for a request that ran out of time before the
  // library could answer it.
  DeadlineServer(const HttpServerOptions& options, std::function<std::string()> timeout_response)
      : options_(options), timeout_response_(std::move(timeout_response)) {}

 private:
  bool process_and_close_socket(socket_t sock) override {
    Connection conn(sock, options_);
    int yes = 1;  // small answers go out at once (no Nagle delay on keep-alive connections)
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    ConnectionStream stream(&conn, options_.read_timeout_seconds * 1000,
                            options_.write_timeout_seconds * 1000);
    tls_connection = &conn;
    bool ok = false;
    for (size_t left = keep_alive_max_count_; left > 0 && WaitForRequest(stream, sock); --left) {
      conn.StartRequest(SteadyClock::now());
      bool connection_closed = false;
      ok = process_request(stream, left == 1, connection_closed, nullptr);
      if (!ok && conn.timed_out && conn.response_bytes == 0 && conn.deadline.bytes() > 0) {
        // Out of time inside the request line: the library answers nothing there.
        const std::string response = timeout_response_();
        stream.write(response.data(), response.size());
      }
      if (!ok || connection_closed || conn.timed_out || conn.unread_body) break;
    }
    tls_connection = nullptr;
    if (conn.unread_body) {
      LingeringClose(sock);
    } else {
      DrainPending(sock);
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

  // Waits (up to the keep-alive timeout) for the first byte of the next request; false when
  // none comes, the peer closed, or the server is stopping.
  bool WaitForRequest(const ConnectionStream& stream, socket_t sock) {
    if (stream.buffered()) return true;
    const SteadyClock::time_point end =
        SteadyClock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    while (svr_sock_ != INVALID_SOCKET) {
      const int64_t left =
          std::chrono::duration_cast<std::chrono::milliseconds>(end - SteadyClock::now()).count();
      if (left <= 0) return false;
      const int r = PollSocket(sock, POLLIN, std::min<int64_t>(left, 50));
      if (r > 0) return true;
      if (r < 0) return false;
    }
    return false;
  }

  const HttpServerOptions options_;
  const std::function<std::string()> timeout_response_;
};

std::string TimeoutMessage(const HttpServerOptions& o) {
  return "the request was not received in time: a request must arrive within " +
         std::to_string(o.request_timeout_seconds) +
         " s (--request-timeout-seconds) plus 1 s per " +
         std::to_string(o.min_request_bytes_per_second) + " bytes, with no pause longer than " +
         std::to_string(o.read_timeout_seconds) + " s (--read-timeout-seconds)";
}

// Marks the connection being served to be closed after this answer (its body is unread).
void CloseAfterAnswer(httplib::Response* res) {
  res->set_header("Connection", "close");
  if (tls_connection != nullptr) tls_connection->unread_body = true;
}

bool TimedOut() { return tls_connection != nullptr && tls_connection->timed_out; }

class HttplibServer final : public HttpServer {
 public:
  HttplibServer(const HttpServerOptions& options, HttpCallbacks callbacks)
      : options_(options),
        callbacks_(std::move(callbacks)),
        server_(options, [this] { return RawTimeoutResponse(); }) {}

  t4dx::Status Bind() {
    const size_t threads = options_.threads;
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_.set_payload_max_length(options_.max_body_bytes);
    server_.set_read_timeout(static_cast<time_t>(options_.read_timeout_seconds), 0);
    server_.set_write_timeout(static_cast<time_t>(options_.write_timeout_seconds), 0);
    server_.set_keep_alive_timeout(static_cast<time_t>(options_.keep_alive_timeout_seconds));
    server_.set_keep_alive_max_count(options_.keep_alive_max_requests);
    server_.set_tcp_nodelay(true);
    // The library's default sets SO_REUSEPORT, which would let a second server bind the same
    // port and silently share its connections; SO_REUSEADDR alone only allows a restart.
    server_.set_socket_options([](int sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });

    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return Admit(req, &res) ? httplib::Server::HandlerResponse::Handled
                              : httplib::Server::HandlerResponse::Unhandled;
    });
    const httplib::Server::Handler handler = [this](const httplib::Request& req,
                                                    httplib::Response& res) { Handle(req, &res); };
    // Requests with a body go to content-reader handlers: the body is read here, unparsed.
    // (The library's own body reading would parse an application/x-www-form-urlencoded
    // body -- which is what `curl -d` declares -- into query parameters and refuse such
    // bodies above 8 KB.)
    const httplib::Server::HandlerWithContentReader reader_handler =
        [this](const httplib::Request& req, httplib::Response& res,
               const httplib::ContentReader& reader) { HandleWithBody(req, &res, reader); };
    server_.Get(".*", handler);
    server_.Post(".*", handler);
    server_.Post(".*", reader_handler);
    server_.Put(".*", handler);
    server_.Put(".*", reader_handler);
    server_.Patch(".*", handler);
    server_.Patch(".*", reader_handler);
    server_.Delete(".*", handler);
    server_.Delete(".*", reader_handler);
    server_.Options(".*", handler);
    server_.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          if (TimedOut() && res.status == 400) {
            // The head stopped arriving: a timeout, not a malformed request.
            res.status = 408;
            res.set_header("Connection", "close");
            LibraryResponse(req, &res, LibraryErrorCode(408), TimeoutMessage(options_));
            return httplib::Server::HandlerResponse::Handled;
          }
          // A request the library could not parse (or would not read): where the next
          // request would begin is unknown, so the connection ends with this answer.
          if (res.status == 400 || res.status == 413 || res.status == 414 || res.status == 415) {
            CloseAfterAnswer(&res);
          }
          LibraryResponse(req, &res, LibraryErrorCode(res.status), LibraryErrorMessage(res.status));
          return httplib::Server::HandlerResponse::Handled;
        }));
    server_.set_exception_handler(
        [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
          res.status = 500;
          LibraryResponse(req, &res, "internal", "unexpected exception while answering");
        });

    if (options_.port == 0) {
      const int port = server_.bind_to_any_port(options_.host);
      if (port <= 0) {
        return t4dx::Status::IOError("cannot listen on " + options_.host + ":0");
      }
      port_ = port;
    } else {
      if (!server_.bind_to_port(options_.host, options_.port)) {
        return t4dx::Status::IOError("cannot listen on " + options_.host + ":" +
                                     std::to_string(options_.port) +
                                     " (address in use, or not an address of this host)");
      }
      port_ = options_.port;
    }
    return t4dx::Status::OK();
  }

  int port() const override { return port_; }

  t4dx::Status Run() override {
    const bool ok = server_.listen_after_bind();
    if (!ok && !stopped_.load()) {
      return t4dx::Status::IOError("the listening socket failed on " + options_.host + ":" +
                                   std::to_string(port_));
    }
    return t4dx::Status::OK();
  }

  void Stop() override {
    stopped_.store(true);
    server_.stop();
  }

 private:
  bool Admit(const httplib::Request& req, httplib::Response* res) {
    try {
      const HttpRequest head = Convert(req, false);
      const BodyFraming framing = CheckBodyFraming(head.headers, options_.max_body_bytes);
      if (!framing.ok()) {
        res->status = framing.status;
        CloseAfterAnswer(res);
        LibraryResponse(req, res, framing.code, framing.message);
        return true;
      }
      if (req.has_header("Content-Encoding") &&
          req.get_header_value("Content-Encoding") != "identity") {
        res->status = 415;
        if (framing.has_body()) CloseAfterAnswer(res);
        LibraryResponse(req, res, LibraryErrorCode(415), LibraryErrorMessage(415));
        return true;
      }
      // The library would parse a multipart body itself; the service reads JSON only.
      if (req.get_header_value("Content-Type").rfind("multipart/", 0) == 0) {
        res->status = 415;
        if (framing.has_body()) CloseAfterAnswer(res);
        LibraryResponse(req, res, LibraryErrorCode(415),
                        "multipart bodies are not accepted: send the JSON document itself");
        return true;
      }
      if (!callbacks_.admit) return false;
      HttpResponse out;
      if (!callbacks_.admit(head, &out)) return false;
      Apply(out, res);
      if (framing.has_body()) CloseAfterAnswer(res);
      return true;
    } catch (...) {
      res->status = 500;
      CloseAfterAnswer(res);
      LibraryResponse(req, res, "internal", "unexpected exception while admitting");
      return true;
    }
  }

  void Handle(const httplib::Request& req, httplib::Response* res) {
    try {
      HttpResponse out;
      callbacks_.handle(Convert(req, true), &out);
      Apply(out, res);
    } catch (...) {
      res->status = 500;
      LibraryResponse(req, res, "internal", "unexpected exception while answering");
    }
  }

  void HandleWithBody(const httplib::Request& req, httplib::Response* res,
                      const httplib::ContentReader& reader) {
    try {
      HttpRequest request = Convert(req, false);
      bool too_large = false;
      const size_t max = options_.max_body_bytes;
      const bool ok = reader([&](const char* data, size_t n) {
        if (request.body.size() + n > max) {
          too_large = true;
          return false;
        }
        request.body.append(data, n);
        return true;
      });
      if (!ok || too_large) {
        // The rest of the body was not read: the connection cannot be reused.
        CloseAfterAnswer(res);
        if (too_large || res->status == 413) {
          res->status = 413;
          LibraryResponse(req, res, LibraryErrorCode(413), LibraryErrorMessage(413));
        } else if (TimedOut()) {
          res->status = 408;
          LibraryResponse(req, res, LibraryErrorCode(408), TimeoutMessage(options_));
        } else {
          res->status = 400;
          LibraryResponse(req, res, "bad_request",
                          "the request body could not be read completely (the connection "
                          "closed early, or the chunked framing is malformed)");
        }
        return;
      }
      HttpResponse out;
      callbacks_.handle(request, &out);
      Apply(out, res);
    } catch (...) {
      res->status = 500;
      LibraryResponse(req, res, "internal", "unexpected exception while answering");
    }
  }

  void LibraryResponse(const httplib::Request& req, httplib::Response* res, const std::string& code,
                       const std::string& message) {
    try {
      HttpResponse out;
      out.status = res->status;
      out.body = callbacks_.error_body ? callbacks_.error_body(res->status, code, message)
                                       : "{\"error\":{\"code\":\"" + code + "\"}}";
      res->set_content(out.body, out.content_type);
      if (callbacks_.on_library_response) callbacks_.on_library_response(Convert(req, false), out);
    } catch (...) {
      res->set_content("{\"error\":{\"code\":\"internal\",\"message\":\"\"}}", "application/json");
    }
  }

  // A complete 408 response, written on the socket when the request line itself ran out of
  // time (the library answers nothing there).
  std::string RawTimeoutResponse() {
    std::string body;
    try {
      body = callbacks_.error_body
                 ? callbacks_.error_body(408, "request_timeout", TimeoutMessage(options_))
                 : "{\"error\":{\"code\":\"request_timeout\"}}";
      if (callbacks_.on_library_response) {
        HttpRequest unknown;
        HttpResponse out;
        out.status = 408;
        out.body = body;
        callbacks_.on_library_response(unknown, out);
      }
    } catch (...) {
      body = "{\"error\":{\"code\":\"request_timeout\",\"message\":\"\"}}";
    }
    return "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  }

  const HttpServerOptions options_;
  const HttpCallbacks callbacks_;
  DeadlineServer server_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace

t4dx::Status HttpServer::Create(const HttpServerOptions& options, HttpCallbacks callbacks,
                                std::unique_ptr<HttpServer>* server) {
  auto s = std::make_unique<HttplibServer>(options, std::move(callbacks));
  t4dx::Status status = s->Bind();
  if (!status.ok()) return status;
  *server = std::move(s);
  return t4dx::Status::OK();
}

}  // namespace t4dm
