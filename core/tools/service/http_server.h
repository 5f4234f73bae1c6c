// HttpServer: the HTTP library behind a small interface. http_server.cc is the only file
// that includes the library (cpp-httplib); nothing else of it leaks out.
//
// The server hands every request to two callbacks:
//   admit(request without body) -> may answer at once (e.g. 401) before the body is read;
//   handle(request with body)   -> answers everything else.
// Responses the library makes itself (malformed request line 400, body over the limit 413,
// URI too long 414, request body with a Content-Encoding 415) get the service's JSON error
// body and are reported through on_library_response.
//
// Reading a request is bounded twice: every read waits at most read_timeout_seconds, and the
// whole request (head and body) must arrive within request_timeout_seconds of its first
// byte, plus one second per min_request_bytes_per_second bytes received (RequestDeadline):
// a client dribbling bytes cannot hold a worker thread. Such a request is answered 408 when
// a response can still be written, and its connection closed. The body framing is checked
// from the head alone (CheckBodyFraming): a Content-Length over max_body_bytes is answered
// 413 before any byte of the body is read, a malformed or contradictory one 400. A request
// answered without its body being read (401, 413, ...) closes its connection.
//
// Lifecycle: Create() binds the socket; Run() serves on the calling thread until Stop();
// Stop() may be called from any thread: it stops accepting, lets the requests in flight
// finish, then Run() returns. Callbacks run on the server's worker threads, concurrently;
// they must not throw (a stray exception is answered 500 and logged, never fatal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "t4dx/status.h"

namespace t4dm {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded, without the query string
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_addr;

  // The first value of a header (name lower-case), or "" when absent.
  std::string Header(const std::string& name) const;
  bool HasHeader(const std::string& name) const;
  // Every value of a query parameter.
  std::vector<std::string> QueryValues(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;  // 0: any free port (see HttpServer::port())
  size_t threads = 32;
  size_t max_body_bytes = 32u << 20;
  int64_t read_timeout_seconds = 5;
  int64_t request_timeout_seconds = 5;
  size_t min_request_bytes_per_second = 16384;
  int64_t write_timeout_seconds = 5;
  int64_t keep_alive_timeout_seconds = 5;
  size_t keep_alive_max_requests = 1000;
};

struct HttpCallbacks {
  // Returns true when it answered the request in *response (the body is then not read).
  std::function<bool(const HttpRequest& request, HttpResponse* response)> admit;
  std::function<void(const HttpRequest& request, HttpResponse* response)> handle;
  // A response the library produced without calling handle (its status and JSON body).
  std::function<void(const HttpRequest& request, const HttpResponse& response)> on_library_response;
  // The JSON error body for a library-made response.
  std::function<std::string(int status, const std::string& code, const std::string& message)>
      error_body;
};

class HttpServer {
 public:
  // Binds host:port. IOError naming the address when it cannot (in use, bad address).
  static t4dx::Status Create(const HttpServerOptions& options, HttpCallbacks callbacks,
                             std::unique_ptr<HttpServer>* server);
  virtual ~HttpServer() = default;

  virtual int port() const = 0;
  // Serves until Stop(); returns once the requests in flight are done.
  virtual t4dx::Status Run() = 0;
  virtual void Stop() = 0;
};

}  // namespace t4dm
