// Operations endpoints: health, Prometheus metrics, the OpenAPI document, the session list
// and the web inspector's static files.
#include "openapi.h"
#include "process_stats.h"
#include "routes.h"
#include "static_files.h"
#include "t4dx/engine.h"

namespace t4dm {
namespace {

std::string RenderMetrics(Service* service, const std::string& version) {
  PromText out;
  service->metrics()->AddTo(&out);
  out.Gauge("t4dm_http_requests_in_flight", "HTTP requests being answered", {},
            static_cast<double>(service->metrics()->in_flight.load()));
  out.Gauge("t4dm_build_info", "Version of t4dm-service", {{"version", version}}, 1);

  SessionManager* sessions = service->sessions();
  out.Gauge("t4dm_sessions_open", "Session stores open now", {},
            static_cast<double>(sessions->open_count()));
  out.Gauge("t4dm_sessions_open_max", "Session stores open at most (--max-open-sessions)", {},
            static_cast<double>(sessions->max_open()));
  out.Add("t4dm_session_opens_total", "counter", "Session stores opened since start",
          "t4dm_session_opens_total", {}, static_cast<double>(sessions->opens()));
  out.Add("t4dm_session_closes_total", "counter",
          "Session stores closed since start (idle, evicted or shutdown)",
          "t4dm_session_closes_total", {}, static_cast<double>(sessions->closes()));
  std::vector<std::string> on_disk;
  if (sessions->ListSessions(&on_disk).ok()) {
    out.Gauge("t4dm_sessions_on_disk", "Session stores in the data root", {},
              static_cast<double>(on_disk.size()));
  }

  for (const std::string& id : sessions->OpenSessions()) {
    SessionLease lease;
    if (!sessions->AcquireIfOpen(id, &lease)) continue;
    std::string stats;
    if (lease.engine()->Describe(t4dx::View::kStats, "", &stats).ok()) {
      AddStoreGauges(id, stats, &out);
    }
  }

  const ProcessStats ps = ReadProcessStats();
  out.Gauge("t4dm_process_open_fds", "File descriptors open in the service process", {},
            static_cast<double>(ps.open_fds));
  out.Gauge("t4dm_process_max_fds", "File descriptor limit (RLIMIT_NOFILE soft)", {},
            static_cast<double>(ps.max_fds));
  out.Gauge("t4dm_process_resident_memory_bytes", "Resident memory of the service process", {},
            static_cast<double>(ps.resident_bytes));
  out.Gauge("t4dm_process_virtual_memory_bytes", "Virtual memory of the service process", {},
            static_cast<double>(ps.virtual_bytes));
  out.Gauge("t4dm_process_threads", "Threads of the service process", {},
            static_cast<double>(ps.threads));
  return out.Render();
}

}  // namespace

void AddOpsRoutes(Service* service, const OpsOptions& options) {
  Router* router = service->router();
  {
    Route r;
    r.method = "GET";
    r.pattern = "/healthz";
    r.auth = false;
    r.handler = [service](RouteContext&, HttpResponse* res) {
      Json doc = {{"status", "ok"}, {"sessions_open", service->sessions()->open_count()}};
      SetJson(200, DumpJson(doc), res);
      return ApiStatus::OK();
    };
    router->Add(std::move(r));
  }
  {
    Route r;
    r.method = "GET";
    r.pattern = "/metrics";
    r.all_sessions = true;  // the per-session gauges name every open session
    const std::string version = options.version;
    r.handler = [service, version](RouteContext&, HttpResponse* res) {
      res->status = 200;
      res->content_type = "text/plain; version=0.0.4; charset=utf-8";
      res->body = RenderMetrics(service, version);
      return ApiStatus::OK();
    };
    router->Add(std::move(r));
  }
  {
    Route r;
    r.method = "GET";
    r.pattern = "/openapi.json";
    r.handler = [](RouteContext&, HttpResponse* res) {
      SetJson(200, kOpenApiJson, res);
      return ApiStatus::OK();
    };
    router->Add(std::move(r));
  }
  {
    Route r;
    r.method = "GET";
    r.pattern = "/sessions";
    r.all_sessions = true;
    r.handler = [service](RouteContext&, HttpResponse* res) {
      std::vector<std::string> ids;
      T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(service->sessions()->ListSessions(&ids)));
      const std::vector<std::string> open = service->sessions()->OpenSessions();
      Json list = Json::array();
      for (const std::string& id : ids) {
        bool is_open = false;
        for (const std::string& o : open) is_open = is_open || o == id;
        list.push_back({{"session_id", id}, {"open", is_open}});
      }
      SetJson(200, DumpJson(Json{{"sessions", list}}), res);
      return ApiStatus::OK();
    };
    router->Add(std::move(r));
  }

  // The inspector is a static page that works without the server; its files hold no store
  // data, and a browser cannot attach X-API-Key to a page load, so they need no key.
  auto files = std::make_shared<StaticFiles>(options.inspector_dir);
  {
    Route r;
    r.method = "GET";
    r.pattern = "/inspector";
    r.auth = false;
    r.handler = [](RouteContext&, HttpResponse* res) {
      res->status = 301;
      res->headers.emplace_back("Location", "/inspector/");
      SetJson(301, "{\"location\":\"/inspector/\"}", res);
      return ApiStatus::OK();
    };
    router->Add(std::move(r));
  }
  {
    Route r;
    r.method = "GET";
    r.pattern = "/inspector/*";
    r.auth = false;
    r.handler = [files](RouteContext& ctx, HttpResponse* res) {
      return files->Serve(ctx.params["*"], res);
    };
    router->Add(std::move(r));
  }
}

}  // namespace t4dm
