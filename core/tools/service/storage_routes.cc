// The runbook's storage endpoints. GETs take session_id from the query string, POSTs from
// the JSON body; a missing session answers 404. Segment ids are validated (digits, "000001")
// before they reach the engine.
#include <cstdint>

#include "ids.h"
#include "request_parsing.h"
#include "routes.h"
#include "t4dx/engine.h"

namespace t4dm {
namespace {

using t4dx::View;

// A handler answering the engine's Describe(view) document unchanged.
RouteHandler DescribeHandler(View view) {
  return [view](RouteContext& ctx, HttpResponse* res) {
    std::string json;
    T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(ctx.engine->Describe(view, "", &json)));
    SetJson(200, std::move(json), res);
    return ApiStatus::OK();
  };
}

RouteHandler SegmentHandler(View view) {
  return [view](RouteContext& ctx, HttpResponse* res) {
    std::string id;
    if (!NormalizeSegmentId(ctx.params["segment_id"], &id)) {
      return ApiStatus::BadRequest("invalid_segment_id",
                                   "segment id must be digits, as the runbook writes them "
                                   "(\"000001\"), or seg_000001");
    }
    std::string json;
    const t4dx::Status s = ctx.engine->Describe(view, id, &json);
    if (s.IsNotFound()) {
      return ApiStatus::Error(404, "segment_not_found", s.message());
    }
    T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(s));
    SetJson(200, std::move(json), res);
    return ApiStatus::OK();
  };
}

// Wraps an engine result document with the session it came from.
std::string WithSession(const std::string& session_id, const std::string& key,
                        const std::string& engine_json) {
  Json doc = Json::object();
  doc["session_id"] = session_id;
  Json inner = Json::parse(engine_json, nullptr, false);
  doc[key] = inner.is_discarded() ? Json(engine_json) : inner;
  return DumpJson(doc);
}

void Get(Service* service, const std::string& pattern, RouteHandler handler) {
  Route r;
  r.method = "GET";
  r.pattern = pattern;
  r.role = Role::kReadOnly;
  r.session = SessionUse::kRead;
  r.handler = std::move(handler);
  service->router()->Add(std::move(r));
}

void Post(Service* service, const std::string& pattern, Role role, RouteHandler handler) {
  Route r;
  r.method = "POST";
  r.pattern = pattern;
  r.role = role;
  r.session = SessionUse::kRead;
  r.handler = std::move(handler);
  service->router()->Add(std::move(r));
}

ApiStatus Flush(Service* service, RouteContext& ctx, HttpResponse* res) {
  T4DM_RETURN_IF_API_ERROR(FieldReader(ctx.body).RejectUnknown({}));
  T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(ctx.engine->Flush()));
  std::string memtable;
  T4DM_RETURN_IF_API_ERROR(
      ApiStatus::FromEngine(ctx.engine->Describe(View::kMemTable, "", &memtable)));
  service->logger()->Info("manual flush", {{"session", ctx.session_id}});
  Json doc = {{"session_id", ctx.session_id}, {"flushed", true}};
  Json inner = Json::parse(memtable, nullptr, false);
  if (!inner.is_discarded()) doc["memtable"] = inner;
  SetJson(200, DumpJson(doc), res);
  return ApiStatus::OK();
}

}  // namespace

void AddStorageRoutes(Service* service) {
  Get(service, "/storage/status", DescribeHandler(View::kStatus));
  Get(service, "/storage/stats", DescribeHandler(View::kStats));
  Get(service, "/storage/segments", DescribeHandler(View::kSegments));
  Get(service, "/storage/memtable", DescribeHandler(View::kMemTable));
  Get(service, "/storage/wal-status", DescribeHandler(View::kWalStatus));
  Get(service, "/storage/hnsw-stats", DescribeHandler(View::kHnswStats));
  Get(service, "/storage/global-index", DescribeHandler(View::kGlobalIndex));
  Get(service, "/storage/compaction-history", DescribeHandler(View::kCompactionHistory));
  Get(service, "/storage/recovery-report", DescribeHandler(View::kRecoveryReport));
  Get(service, "/storage/segment/{segment_id}", SegmentHandler(View::kSegment));
  Get(service, "/storage/segment/{segment_id}/metadata", SegmentHandler(View::kSegmentMetadata));
  Get(service, "/storage/segment/{segment_id}/verify", SegmentHandler(View::kSegmentVerify));
  Get(service, "/storage/segment/{segment_id}/count", SegmentHandler(View::kSegmentCount));

  // Whole-store check: every segment, the WAL, the global index, the HNSW indexed set.
  Get(service, "/storage/verify", [service](RouteContext& ctx, HttpResponse* res) {
    std::string report;
    bool healthy = false;
    T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(ctx.engine->Verify(&report, &healthy)));
    if (!healthy) {
      service->logger()->Warn("verify found problems", {{"session", ctx.session_id}});
    }
    SetJson(200, std::move(report), res);
    return ApiStatus::OK();
  });

  Post(service, "/storage/estimate-replay-time", Role::kReadOnly,
       [](RouteContext& ctx, HttpResponse* res) {
         T4DM_RETURN_IF_API_ERROR(FieldReader(ctx.body).RejectUnknown({}));
         return DescribeHandler(View::kReplayEstimate)(ctx, res);
       });

  Post(service, "/storage/compact-wal", Role::kAdmin,
       [service](RouteContext& ctx, HttpResponse* res) {
         FieldReader fields(ctx.body);
         T4DM_RETURN_IF_API_ERROR(fields.RejectUnknown({"keep_entries"}));
         uint64_t keep = 10000;
         T4DM_RETURN_IF_API_ERROR(fields.UInt("keep_entries", 0, UINT64_C(1) << 53, &keep));
         std::string result;
         T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(ctx.engine->CompactWal(keep, &result)));
         service->logger()->Info("WAL compacted",
                                 {{"session", ctx.session_id}, {"keep_entries", keep}});
         SetJson(200, std::move(result), res);
         return ApiStatus::OK();
       });

  Post(service, "/storage/truncate-wal", Role::kAdmin,
       [service](RouteContext& ctx, HttpResponse* res) {
         FieldReader fields(ctx.body);
         T4DM_RETURN_IF_API_ERROR(fields.RejectUnknown({"confirmation"}));
         std::string confirmation;
         T4DM_RETURN_IF_API_ERROR(fields.String("confirmation", &confirmation));
         if (confirmation != "I_UNDERSTAND") {
           return ApiStatus::BadRequest(
               "confirmation_required",
               "truncating the WAL drops unflushed writes (they stay in the backup copy): "
               "send \"confirmation\": \"I_UNDERSTAND\" to proceed");
         }
         std::string result;
         T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(ctx.engine->TruncateWal(&result)));
         Json fields_log = {{"session", ctx.session_id}};
         Json parsed = Json::parse(result, nullptr, false);
         if (!parsed.is_discarded()) fields_log["result"] = parsed;
         service->logger()->Warn("WAL truncated", fields_log);
         SetJson(200, std::move(result), res);
         return ApiStatus::OK();
       });

  const RouteHandler flush = [service](RouteContext& ctx, HttpResponse* res) {
    return Flush(service, ctx, res);
  };
  Post(service, "/storage/flush", Role::kReadWrite, flush);
  Post(service, "/consolidation/flush", Role::kReadWrite, flush);

  Post(service, "/storage/compact", Role::kAdmin, [service](RouteContext& ctx, HttpResponse* res) {
    T4DM_RETURN_IF_API_ERROR(FieldReader(ctx.body).RejectUnknown({}));
    T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(ctx.engine->Compact()));
    std::string history;
    T4DM_RETURN_IF_API_ERROR(
        ApiStatus::FromEngine(ctx.engine->Describe(View::kCompactionHistory, "", &history)));
    service->logger()->Info("manual compaction", {{"session", ctx.session_id}});
    SetJson(200, WithSession(ctx.session_id, "compaction_history", history), res);
    return ApiStatus::OK();
  });

  Post(service, "/storage/rebuild-hnsw", Role::kAdmin,
       [service](RouteContext& ctx, HttpResponse* res) {
         T4DM_RETURN_IF_API_ERROR(FieldReader(ctx.body).RejectUnknown({}));
         std::string result;
         T4DM_RETURN_IF_API_ERROR(
             ApiStatus::FromEngine(ctx.engine->RebuildHnsw(t4dx::ProgressFn(), &result)));
         service->logger()->Info("HNSW rebuilt", {{"session", ctx.session_id}});
         SetJson(200, std::move(result), res);
         return ApiStatus::OK();
       });

  Post(service, "/storage/rebuild-global-index", Role::kAdmin,
       [service](RouteContext& ctx, HttpResponse* res) {
         T4DM_RETURN_IF_API_ERROR(FieldReader(ctx.body).RejectUnknown({}));
         std::string result;
         T4DM_RETURN_IF_API_ERROR(ApiStatus::FromEngine(ctx.engine->RebuildGlobalIndex(&result)));
         service->logger()->Info("global index rebuilt", {{"session", ctx.session_id}});
         SetJson(200, std::move(result), res);
         return ApiStatus::OK();
       });

  Post(service, "/storage/query-plan", Role::kReadOnly,
       [service](RouteContext& ctx, HttpResponse* res) {
         RequestLimits limits;
         limits.max_k = service->config().engine.max_k;
         SearchRequest request;
         T4DM_RETURN_IF_API_ERROR(ParseSearch(ctx.body, limits, &request));
         request.options.explain = true;
         std::string plan;
         T4DM_RETURN_IF_API_ERROR(
             ApiStatus::FromEngine(ctx.engine->Explain(request.query, request.options, &plan)));
         SetJson(200, std::move(plan), res);
         return ApiStatus::OK();
       });
}

}  // namespace t4dm
