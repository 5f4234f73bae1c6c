// The data plane: store, batch store, get, delete and search episodes. Item JSON uses the
// engine's field names (t4dx/item_json.h). A write is acknowledged (201) only once the
// engine has made it durable per T4DM_WAL_SYNC, and is visible to the next search.
#include <cstdint>

#include "request_parsing.h"
#include "routes.h"
#include "t4dx/engine.h"
#include "t4dx/item_json.h"

namespace t4dm {
namespace {

RequestLimits Limits(const Service* service) {
  RequestLimits limits;
  limits.max_k = service->config().engine.max_k;
  limits.max_batch_items = service->config().engine.max_batch_items;
  limits.max_content_bytes = service->config().engine.max_content_bytes;
  return limits;
}

bool QueryFlag(const HttpRequest& request, const std::string& name, bool default_value) {
  const std::vector<std::string> values = request.QueryValues(name);
  if (values.empty()) return default_value;
  const std::string& v = values.front();
  return !(v == "0" || v == "false" || v == "no");
}

ApiStatus ValidItemId(const std::string& id) {
  const t4dx::Status s = t4dx::ValidateId(id);
  if (!s.ok()) return ApiStatus::BadRequest("invalid_item_id", s.message());
  return ApiStatus::OK();
}

void AddRoute(Service* service, const char* method, const char* pattern, Role role,
              SessionUse session, RouteHandler handler) {
  Route r;
  r.method = method;
  r.pattern = pattern;
  r.role = role;
  r.session = session;
  r.handler = std::move(handler);
  service->router()->Add(std::move(r));
}

}  // namespace

void AddEpisodeRoutes(Service* service) {
  AddRoute(
      service, "POST", "/episodes", Role::kReadWrite, SessionUse::kCreate,
      [service](RouteContext& ctx, HttpResponse* res) {
        t4dx::Item item;
        bool generated = false;
        T4DM_RETURN_IF_API_ERROR(ParseItem(ctx.body, Limits(service), "item", &item, &generated));
        T4DM_RETURN_IF_API_ERROR(ctx.OpenSession());
        uint64_t lsn = 0;
        T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(ctx.engine->Put(item, &lsn)));
        Json doc = {{"id", item.id}, {"lsn", lsn}, {"session_id", ctx.session_id}};
        if (generated) doc["id_generated"] = true;
        SetJson(201, DumpJson(doc), res);
        return ApiStatus::OK();
      });

  AddRoute(
      service, "POST", "/episodes/batch", Role::kReadWrite, SessionUse::kCreate,
      [service](RouteContext& ctx, HttpResponse* res) {
        std::vector<t4dx::Item> items;
        T4DM_RETURN_IF_API_ERROR(ParseBatch(ctx.body, Limits(service), &items));
        T4DM_RETURN_IF_API_ERROR(ctx.OpenSession());
        uint64_t last_lsn = 0;
        T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(ctx.engine->PutBatch(items, &last_lsn)));
        Json ids = Json::array();
        for (const t4dx::Item& item : items) ids.push_back(item.id);
        Json doc = {{"ids", std::move(ids)},
                    {"count", items.size()},
                    {"last_lsn", last_lsn},
                    {"session_id", ctx.session_id}};
        SetJson(201, DumpJson(doc), res);
        return ApiStatus::OK();
      });

  AddRoute(
      service, "GET", "/episodes/{item_id}", Role::kReadOnly, SessionUse::kRead,
      [](RouteContext& ctx, HttpResponse* res) {
        const std::string& id = ctx.params["item_id"];
        T4DM_RETURN_IF_API_ERROR(ValidItemId(id));
        t4dx::Item item;
        const t4dx::Status s = ctx.engine->Get(id, &item);
        if (s.IsNotFound()) {
          return ApiStatus::Error(404, "item_not_found",
                                  "no item \"" + id + "\" in session \"" + ctx.session_id + "\"");
        }
        T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(s));
        SetJson(200, t4dx::ItemToJson(item, QueryFlag(ctx.http, "include_embedding", true)), res);
        return ApiStatus::OK();
      });

  AddRoute(
      service, "DELETE", "/episodes/{item_id}", Role::kReadWrite, SessionUse::kRead,
      [](RouteContext& ctx, HttpResponse* res) {
        T4DM_RETURN_IF_API_ERROR(FieldReader(ctx.body).RejectUnknown({}));
        const std::string& id = ctx.params["item_id"];
        T4DM_RETURN_IF_API_ERROR(ValidItemId(id));
        uint64_t lsn = 0;
        const t4dx::Status s = ctx.engine->Delete(id, &lsn);
        if (s.IsNotFound()) {
          return ApiStatus::Error(404, "item_not_found",
                                  "no item \"" + id + "\" in session \"" + ctx.session_id + "\"");
        }
        T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(s));
        Json doc = {{"id", id}, {"deleted", true}, {"lsn", lsn}, {"session_id", ctx.session_id}};
        SetJson(200, DumpJson(doc), res);
        return ApiStatus::OK();
      });

  AddRoute(
      service, "POST", "/episodes/search", Role::kReadOnly, SessionUse::kRead,
      [service](RouteContext& ctx, HttpResponse* res) {
        SearchRequest request;
        T4DM_RETURN_IF_API_ERROR(ParseSearch(ctx.body, Limits(service), &request));
        t4dx::SearchResult result;
        T4DM_RETURN_IF_API_ERROR(
            ApiStatus::FromEngine(ctx.engine->Search(request.query, request.options, &result)));
        // Built as text: the engine's item JSON is embedded as it renders it.
        std::string body = "{\"session_id\":" + DumpJson(Json(ctx.session_id)) +
                           ",\"count\":" + std::to_string(result.hits.size()) + ",\"hits\":[";
        for (size_t i = 0; i < result.hits.size(); ++i) {
          const t4dx::SearchHit& hit = result.hits[i];
          if (i > 0) body.push_back(',');
          body += "{\"id\":" + DumpJson(Json(hit.id)) + ",\"score\":" + DumpJson(Json(hit.score));
          if (request.options.include_items) {
            body += ",\"item\":" + t4dx::ItemToJson(hit.item, request.options.include_embedding);
          }
          body.push_back('}');
        }
        body.push_back(']');
        if (request.options.explain && !result.plan_json.empty()) {
          body += ",\"plan\":" + result.plan_json;
        }
        body.push_back('}');
        SetJson(200, std::move(body), res);
        return ApiStatus::OK();
      });
}

}  // namespace t4dm
