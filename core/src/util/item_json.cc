// Public JSON form of items and filters (service, CLI, WASM API), and Filter::Matches.
#include "t4dx/item_json.h"

#include <cfloat>
#include <cmath>

#include "util/json_util.h"

namespace t4dx {

namespace {

using nlohmann::json;

Status Bad(const std::string& msg) { return Status::InvalidArgument(msg); }

std::string Expected(const std::string& at, const char* what, const json& got) {
  return at + ": expected " + what + ", got " + json_util::TypeName(got);
}

}  // namespace

Status ItemFromJson(std::string_view text, Item* item, const std::string& where) {
  json j;
  std::string why;
  if (!json_util::Parse(text, &j, &why)) return Bad(where + ": invalid JSON: " + why);
  if (!j.is_object()) return Bad(Expected(where, "an object", j));
  Item result;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    const std::string at = where + "." + key;
    if (key == "id" || key == "kind" || key == "content") {
      if (v.is_null() && key != "id") continue;
      if (!v.is_string()) return Bad(Expected(at, "a string", v));
      std::string s = v.get<std::string>();
      if (key == "id") {
        result.id = std::move(s);
      } else if (key == "kind") {
        result.kind = std::move(s);
      } else {
        result.content = std::move(s);
      }
    } else if (key == "embedding") {
      if (v.is_null()) continue;
      if (!v.is_array()) return Bad(Expected(at, "an array of numbers", v));
      result.embedding.reserve(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string ati = at + "[" + std::to_string(i) + "]";
        if (!v[i].is_number()) return Bad(Expected(ati, "a number", v[i]));
        const double d = v[i].get<double>();
        if (!std::isfinite(d) || std::fabs(d) > FLT_MAX) {
          return Bad(ati + ": " + v[i].dump() + " is out of float32 range");
        }
        result.embedding.push_back(static_cast<float>(d));
      }
    } else if (key == "timestamp") {
      if (v.is_null()) continue;
      if (!v.is_number()) return Bad(Expected(at, "an integer (ms since the epoch)", v));
      if (!json_util::GetInt64(v, &result.timestamp) || result.timestamp == Item::kNow) {
        return Bad(at + ": " + v.dump() + " is not a 64-bit integer (ms since the epoch)");
      }
    } else if (key == "metadata") {
      if (v.is_null()) continue;
      std::string reason;
      if (!json_util::MetadataFromJson(v, at, &result.metadata, &reason)) return Bad(reason);
    } else {
      return Bad(where + ": unknown field \"" + key +
                 "\" (expected id, kind, content, embedding, timestamp, metadata)");
    }
  }
  *item = std::move(result);
  return Status::OK();
}

std::string ItemToJson(const Item& item, bool include_embedding) {
  std::string out = "{\"id\":";
  json_util::AppendString(&out, item.id);
  out += ",\"kind\":";
  json_util::AppendString(&out, item.kind);
  out += ",\"content\":";
  json_util::AppendString(&out, item.content);
  if (include_embedding) {
    out += ",\"embedding\":[";
    for (size_t i = 0; i < item.embedding.size(); ++i) {
      if (i > 0) out.push_back(',');
      json_util::AppendFloat(&out, item.embedding[i]);
    }
    out.push_back(']');
  }
  if (item.timestamp != Item::kNow) {
    out += ",\"timestamp\":" + std::to_string(item.timestamp);
  }
  out += ",\"metadata\":";
  json_util::AppendMetadata(&out, item.metadata);
  out.push_back('}');
  return out;
}

namespace {

Status ScalarValues(const json& v, const std::string& at, bool strings_only,
                    std::vector<MetaValue>* values) {
  const char* what = strings_only ? "a non-empty array of strings"
                                  : "a non-empty array of strings, numbers or booleans";
  if (!v.is_array() || v.empty()) return Bad(Expected(at, what, v));
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string ati = at + "[" + std::to_string(i) + "]";
    const json& e = v[i];
    if (strings_only ? !e.is_string() : !(e.is_string() || e.is_number() || e.is_boolean())) {
      return Bad(Expected(ati, strings_only ? "a string" : "a string, number or boolean", e));
    }
    MetaValue mv;
    std::string reason;
    if (!json_util::MetaValueFromJson(e, ati, &mv, &reason)) return Bad(reason);
    values->push_back(std::move(mv));
  }
  return Status::OK();
}

Status ConditionFromJson(const std::string& key, const json& v, const std::string& at,
                         MetaCondition* c) {
  c->key = key;
  if (!v.is_object()) {
    c->op = MetaCondition::Op::kEq;
    MetaValue mv;
    std::string reason;
    if (!json_util::MetaValueFromJson(v, at, &mv, &reason)) return Bad(reason);
    c->values.push_back(std::move(mv));
    return Status::OK();
  }
  if (v.size() != 1) {
    return Bad(at + ": expected an object with exactly one of eq, any_of, all_of");
  }
  const std::string& op = v.begin().key();
  const json& arg = v.begin().value();
  const std::string atop = at + "." + op;
  if (op == "eq") {
    c->op = MetaCondition::Op::kEq;
    MetaValue mv;
    std::string reason;
    if (!json_util::MetaValueFromJson(arg, atop, &mv, &reason)) return Bad(reason);
    c->values.push_back(std::move(mv));
    return Status::OK();
  }
  if (op == "any_of") {
    c->op = MetaCondition::Op::kAnyOf;
    return ScalarValues(arg, atop, false, &c->values);
  }
  if (op == "all_of") {
    c->op = MetaCondition::Op::kAllOf;
    return ScalarValues(arg, atop, true, &c->values);
  }
  return Bad(at + ": unknown operator \"" + op + "\" (expected eq, any_of or all_of)");
}

}  // namespace

Status FilterFromJson(std::string_view text, Filter* filter) {
  json j;
  std::string why;
  if (!json_util::Parse(text, &j, &why)) return Bad("filter: invalid JSON: " + why);
  if (!j.is_object()) return Bad(Expected("filter", "an object", j));
  Filter result;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    const std::string at = "filter." + key;
    if (key == "time_from" || key == "time_to") {
      if (v.is_null()) continue;
      int64_t t;
      if (!json_util::GetInt64(v, &t)) {
        return Bad(Expected(at, "an integer (ms since the epoch)", v));
      }
      (key == "time_from" ? result.time_from : result.time_to) = t;
    } else if (key == "kind") {
      if (v.is_null()) continue;
      if (v.is_string()) {
        result.kinds.push_back(v.get<std::string>());
      } else if (v.is_array()) {
        for (size_t i = 0; i < v.size(); ++i) {
          if (!v[i].is_string()) {
            return Bad(Expected(at + "[" + std::to_string(i) + "]", "a string", v[i]));
          }
          result.kinds.push_back(v[i].get<std::string>());
        }
      } else {
        return Bad(Expected(at, "a string or an array of strings", v));
      }
    } else if (key == "metadata") {
      if (v.is_null()) continue;
      if (!v.is_object()) return Bad(Expected(at, "an object", v));
      for (auto m = v.begin(); m != v.end(); ++m) {
        MetaCondition c;
        T4DX_RETURN_IF_ERROR(ConditionFromJson(m.key(), m.value(), at + "." + m.key(), &c));
        result.metadata.push_back(std::move(c));
      }
    } else {
      return Bad("filter: unknown field \"" + key +
                 "\" (expected time_from, time_to, kind, metadata)");
    }
  }
  *filter = std::move(result);
  return Status::OK();
}

std::string FilterToJson(const Filter& filter) {
  // Fields in a fixed order; metadata conditions in the filter's order. (Two conditions
  // on one key cannot both survive a JSON object round trip; the last one wins.)
  std::string out = "{";
  auto sep = [&out]() {
    if (out.size() > 1) out.push_back(',');
  };
  if (filter.time_from) {
    sep();
    out += "\"time_from\":" + std::to_string(*filter.time_from);
  }
  if (filter.time_to) {
    sep();
    out += "\"time_to\":" + std::to_string(*filter.time_to);
  }
  if (!filter.kinds.empty()) {
    sep();
    out += "\"kind\":[";
    for (size_t i = 0; i < filter.kinds.size(); ++i) {
      if (i > 0) out.push_back(',');
      json_util::AppendString(&out, filter.kinds[i]);
    }
    out.push_back(']');
  }
  if (!filter.metadata.empty()) {
    sep();
    out += "\"metadata\":{";
    for (size_t i = 0; i < filter.metadata.size(); ++i) {
      const MetaCondition& c = filter.metadata[i];
      if (i > 0) out.push_back(',');
      json_util::AppendString(&out, c.key);
      out.push_back(':');
      if (c.op == MetaCondition::Op::kEq) {
        out += "{\"eq\":";
        if (c.values.empty()) {
          out += "null";
        } else {
          json_util::AppendMetaValue(&out, c.values[0]);
        }
        out.push_back('}');
      } else {
        out += c.op == MetaCondition::Op::kAnyOf ? "{\"any_of\":[" : "{\"all_of\":[";
        for (size_t k = 0; k < c.values.size(); ++k) {
          if (k > 0) out.push_back(',');
          json_util::AppendMetaValue(&out, c.values[k]);
        }
        out += "]}";
      }
    }
    out.push_back('}');
  }
  out.push_back('}');
  return out;
}

namespace {

bool ListContains(const std::vector<std::string>& list, const std::string& s) {
  for (const std::string& e : list) {
    if (e == s) return true;
  }
  return false;
}

bool ConditionHolds(const MetaCondition& c, const MetaValue& v) {
  switch (c.op) {
    case MetaCondition::Op::kEq:
      return !c.values.empty() && v == c.values[0];
    case MetaCondition::Op::kAnyOf:
      for (const MetaValue& want : c.values) {
        if (v.type == MetaValue::Type::kStringList) {
          if (want.type == MetaValue::Type::kString && ListContains(v.list, want.str)) return true;
        } else if (v == want) {
          return true;
        }
      }
      return false;
    case MetaCondition::Op::kAllOf:
      for (const MetaValue& want : c.values) {
        if (want.type != MetaValue::Type::kString) return false;
        if (v.type == MetaValue::Type::kStringList) {
          if (!ListContains(v.list, want.str)) return false;
        } else if (v.type != MetaValue::Type::kString || v.str != want.str) {
          return false;  // a single string holds all_of only for values equal to it
        }
      }
      return true;
  }
  return false;
}

}  // namespace

bool Filter::Matches(const std::string& kind, int64_t timestamp, const Metadata& values) const {
  if (time_from && timestamp < *time_from) return false;
  if (time_to && timestamp >= *time_to) return false;
  if (!kinds.empty() && !ListContains(kinds, kind)) return false;
  for (const MetaCondition& c : metadata) {
    auto it = values.find(c.key);
    if (it == values.end() || !ConditionHolds(c, it->second)) return false;
  }
  return true;
}

}  // namespace t4dx
