// The one file that includes the HTTP library. Debian's libcpp-httplib-dev is a compiled
// library: this file must be built with the same CPPHTTPLIB_* feature macros as the library
// (they change the layout of its classes); CMakeLists.txt takes them from pkg-config.
#include "http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>

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

class HttplibServer final : public HttpServer {
 public:
  HttplibServer(const HttpServerOptions& options, HttpCallbacks callbacks)
      : options_(options), callbacks_(std::move(callbacks)) {}

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
      if (req.has_header("Content-Encoding") &&
          req.get_header_value("Content-Encoding") != "identity") {
        res->status = 415;
        LibraryResponse(req, res, LibraryErrorCode(415), LibraryErrorMessage(415));
        return true;
      }
      // The library would parse a multipart body itself; the service reads JSON only.
      if (req.get_header_value("Content-Type").rfind("multipart/", 0) == 0) {
        res->status = 415;
        LibraryResponse(req, res, LibraryErrorCode(415),
                        "multipart bodies are not accepted: send the JSON document itself");
        return true;
      }
      if (!callbacks_.admit) return false;
      HttpResponse out;
      if (!callbacks_.admit(Convert(req, false), &out)) return false;
      Apply(out, res);
      return true;
    } catch (...) {
      res->status = 500;
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
        res->set_header("Connection", "close");
        res->status = too_large || res->status == 413 ? 413 : 400;
        LibraryResponse(req, res, LibraryErrorCode(res->status),
                        res->status == 413 ? LibraryErrorMessage(413)
                                           : "the request body could not be read completely");
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

  const HttpServerOptions options_;
  const HttpCallbacks callbacks_;
  httplib::Server server_;
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
