// Service: turns HTTP requests into route calls. For every request, in order:
//   1. find the route (404 unknown path, 405 known path under another method);
//   2. authenticate X-API-Key (401) and check the key's role (403) -- before the body is
//      read, so an unauthenticated client cannot make the server buffer a large body;
//   3. parse the body as a JSON object (POST; DELETE when it has one), whatever the
//      Content-Type;
//   4. resolve the session: session_id from the query string (GET) or the JSON body (POST;
//      the query string is accepted too; both must agree), "" or absent = "default";
//      validate it, check the key may use it (403), lease its store (404 / created);
//   5. run the handler; answer its error as {"error":{"code","message"}};
//   6. record the metrics and one access-log line.
// No exception escapes: anything unexpected is a 500 with a JSON body, logged.
//
// Thread safety: Admit/Handle are called concurrently by the HTTP server's threads.
#pragma once

#include <chrono>
#include <string>

#include "api_keys.h"
#include "config.h"
#include "http_server.h"
#include "logger.h"
#include "metrics.h"
#include "router.h"
#include "session_manager.h"

namespace t4dm {

class Service {
 public:
  Service(const ServiceConfig& config, const ApiKeys& keys, SessionManager* sessions,
          Logger* logger);

  Router* router() { return &router_; }
  HttpMetrics* metrics() { return &metrics_; }
  const ServiceConfig& config() const { return config_; }
  SessionManager* sessions() { return sessions_; }
  Logger* logger() { return logger_; }

  // The callbacks to give the HttpServer.
  HttpCallbacks Callbacks();

  bool Admit(const HttpRequest& request, HttpResponse* response);
  void Handle(const HttpRequest& request, HttpResponse* response);

 private:
  using Clock = std::chrono::steady_clock;

  const Route* Find(const HttpRequest& request, std::map<std::string, std::string>* params,
                    ApiStatus* error) const;
  ApiStatus Authorize(const Route& route, const HttpRequest& request, const ApiKey** key) const;
  ApiStatus ResolveSession(const HttpRequest& request, Json* body, std::string* session) const;
  ApiStatus Run(const HttpRequest& request, HttpResponse* response, std::string* route_name,
                std::string* session, const ApiKey** key);
  void Finish(const HttpRequest& request, const std::string& route_name, const std::string& session,
              const ApiKey* key, const ApiStatus& error, Clock::time_point start,
              HttpResponse* response);

  const ServiceConfig& config_;
  const ApiKeys& keys_;
  SessionManager* const sessions_;
  Logger* const logger_;
  Router router_;
  HttpMetrics metrics_;
};

// The text of an error answer (adds a trailing newline for terminals).
void SetError(const ApiStatus& error, HttpResponse* response);
// A JSON answer: body plus a trailing newline.
void SetJson(int status, std::string body, HttpResponse* response);

}  // namespace t4dm
