// t4dx: command-line parsing, help and dispatch. See cli.h and README.md.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "render.h"
#include "t4dx/inspect.h"

namespace t4dx_cli {

using t4dx::Status;

std::string Args::Get(const std::string& name, const std::string& def) const {
  auto it = opts.find(name);
  return it == opts.end() ? def : it->second;
}

Status Args::GetUint(const std::string& name, uint64_t def, uint64_t* v) const {
  auto it = opts.find(name);
  if (it == opts.end()) {
    *v = def;
    return Status::OK();
  }
  const std::string& s = it->second;
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument(name + " wants a whole number, got '" + s + "'");
  }
  *v = std::stoull(s);
  return Status::OK();
}

t4dx::Env* StoreEnv(Context& ctx) { return ctx.snapshot_env ? ctx.snapshot_env.get() : ctx.env; }

Status OpenStore(Context& ctx, bool read_only, bool create, std::unique_ptr<t4dx::Engine>* engine) {
  t4dx::Options o = ctx.options;
  o.read_only = read_only;
  o.create_if_missing = create && !read_only;
  o.env = StoreEnv(ctx);
  if (ctx.snapshot_env && !read_only) {
    return Status::InvalidArgument("--data " + ctx.data +
                                   " is a snapshot, which is read-only; restore it first "
                                   "(t4dx snapshot restore FILE.tar DIR)");
  }
  if (!create && !o.env->FileExists(ctx.data)) {
    return Status::NotFound("store " + ctx.data + " does not exist");
  }
  return t4dx::Engine::Open(o, ctx.data, engine);
}

int Fail(const Context& ctx, const Status& s) {
  const bool problem = s.IsCorruption();
  std::fprintf(stderr, "t4dx: %s\n", s.ToString().c_str());
  if (ctx.json) {
    nlohmann::json e = {{"code", Status::CodeName(s.code())}, {"message", s.message()}};
    if (!s.file().empty()) {
      e["file"] = s.file();
      e["line"] = s.line();
      e["offset"] = s.offset();
    }
    std::cout << nlohmann::json({{"ok", false}, {"error", e}})
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << std::endl;
  }
  return problem ? kExitProblems : kExitError;
}

int Usage(const Context& ctx, const std::string& message) {
  std::fprintf(stderr, "t4dx: %s\n(see t4dx --help)\n", message.c_str());
  return kExitError;
}

void Emit(const Context& ctx, const std::string& json) {
  if (ctx.json) {
    std::cout << json;
    if (json.empty() || json.back() != '\n') std::cout << '\n';
  } else {
    std::cout << RenderHuman(json);
  }
  std::cout.flush();
}

void Say(const Context& ctx, const std::string& line) {
  if (!ctx.json) std::cout << line << "\n";
}

bool DocFlag(const std::string& json, const std::vector<std::string>& keys, bool def) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object()) return def;
  for (const auto& k : keys) {
    // "a.b" looks into nested objects.
    const nlohmann::json* cur = &j;
    size_t start = 0;
    while (cur != nullptr) {
      const size_t dot = k.find('.', start);
      const std::string part =
          k.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      auto it = cur->is_object() ? cur->find(part) : cur->end();
      cur = (cur->is_object() && it != cur->end()) ? &*it : nullptr;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (cur != nullptr && cur->is_boolean()) return cur->get<bool>();
  }
  return def;
}

namespace {

constexpr const char* kGlobalHelp =
    R"(t4dx: diagnosis, repair and snapshots of a T4DX store (one data directory)

usage: t4dx --data DIR <command> [arguments] [--json]
       t4dx <command> --help

Global options (anywhere on the line):
  --data DIR   the store directory (seg_NNNNNN/, wal.jsonl, global_index.json, ...).
               A snapshot FILE.tar is accepted too, for read-only commands.
  --json       print the JSON document (the same one /storage/... returns) instead of
               text; no progress bar
  --help, -h   help for t4dx or for one command

Read-only commands (status, stats, segments, segment, verify, wal stats/dump/check/status,
global-index check, hnsw stats, memtable, compaction-history, replay-estimate, get, search,
export, snapshot create) take no lock and change no byte: they work on a store a running
service holds. Commands that change a store take its lock and fail at once, naming the
process that holds it.

Exit codes:
  0  healthy / done
  1  problems found (verify, checks), corrupt data met, or the item asked for is absent
  2  usage error, I/O error, or the store is locked by another process

Environment (as the service reads it):
  T4DM_FLUSH_THRESHOLD   items per MemTable before a flush (default 1000)
  T4DM_RECOVERY_STRICT   true: refuse to open on WAL corruption (default false)
  T4DM_WAL_SYNC          always | interval | none (default always)

Long work (import, verify, rebuilds, compact, snapshots) shows a progress bar when stderr
is a terminal; nothing extra with --json or when piped.

Commands:
)";

std::string UsageLine(const CommandSpec& c) {
  std::string u = "t4dx";
  if (c.needs_data) u += " --data DIR";
  u += std::string(" ") + c.name;
  if (c.args && *c.args) u += std::string(" ") + c.args;
  for (const auto& o : c.options) {
    u += std::string(" [") + o.name + (o.takes_value ? " V" : "") + "]";
  }
  return u + " [--json]";
}

}  // namespace

std::string CommandHelp(const CommandSpec& c) {
  std::string h = "usage: " + UsageLine(c) + "\n\n" + c.summary + "\n\n" + c.help + "\n";
  if (!c.options.empty()) {
    h += "\nOptions:\n";
    for (const auto& o : c.options) {
      std::string n = std::string(o.name) + (o.takes_value ? " V" : "");
      if (n.size() < 18) n.append(18 - n.size(), ' ');
      h += "  " + n + " " + o.help + "\n";
    }
  }
  h += "  --json             print the JSON document\n";
  h += "\nExit codes: 0 ok, 1 problems found / not found, 2 usage or I/O error or locked.\n";
  return h;
}

namespace {

int Main(int argc, char** argv) {
  std::vector<CommandSpec> commands;
  AddStoreCommands(&commands);
  AddWalCommands(&commands);
  AddItemCommands(&commands);
  AddSnapshotCommands(&commands);

  Context ctx;
  ctx.env = t4dx::Env::Default();
  bool help = false;
  std::vector<std::string> rest;  // everything but the global options
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") {
      ctx.json = true;
    } else if (a == "--help" || a == "-h") {
      help = true;
    } else if (a == "--data") {
      if (i + 1 >= argc) return Usage(ctx, "--data wants a directory");
      ctx.data = argv[++i];
    } else if (a.compare(0, 7, "--data=") == 0) {
      ctx.data = a.substr(7);
    } else {
      rest.push_back(a);
    }
  }
  ctx.progress = !ctx.json && ::isatty(2);

  // The command: two words ("wal check") before one ("status").
  const CommandSpec* cmd = nullptr;
  size_t words = 0;
  if (rest.size() >= 2) {
    for (const auto& c : commands) {
      if (rest[0] + " " + rest[1] == c.name) {
        cmd = &c;
        words = 2;
      }
    }
  }
  if (cmd == nullptr && !rest.empty()) {
    for (const auto& c : commands) {
      if (rest[0] == c.name) {
        cmd = &c;
        words = 1;
      }
    }
  }
  if (cmd == nullptr) {
    // A group name alone ("wal") or nothing: list what there is.
    std::string group = rest.empty() ? "" : rest[0];
    std::string list;
    for (const auto& c : commands) {
      std::string n = c.name;
      if (!group.empty() && n.compare(0, group.size() + 1, group + " ") != 0) continue;
      std::string col = n + (c.args && *c.args ? std::string(" ") + c.args : "");
      if (col.size() < 30) col.append(30 - col.size(), ' ');
      list += "  " + col + " " + c.summary + "\n";
    }
    if (!group.empty() && list.empty()) {
      return Usage(ctx, "unknown command '" + group + "'");
    }
    if (group.empty()) {
      std::cout << kGlobalHelp << list;
      return help ? kExitOk : (std::fprintf(stderr, "t4dx: no command given\n"), kExitError);
    }
    std::cout << "usage: t4dx --data DIR " << group << " <subcommand> ...\n\n" << list;
    return help ? kExitOk
                : (std::fprintf(stderr, "t4dx: '%s' wants a subcommand\n", group.c_str()),
                   kExitError);
  }
  if (help) {
    std::cout << CommandHelp(*cmd);
    return kExitOk;
  }

  Args args;
  for (size_t i = words; i < rest.size(); ++i) {
    const std::string& a = rest[i];
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      std::string name = a, value;
      const size_t eq = a.find('=');
      if (eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
      }
      const OptionSpec* spec = nullptr;
      for (const auto& o : cmd->options) {
        if (name == o.name) spec = &o;
      }
      if (spec == nullptr) return Usage(ctx, "unknown option " + name + " for " + cmd->name);
      if (spec->takes_value && eq == std::string::npos) {
        if (i + 1 >= rest.size()) return Usage(ctx, name + " wants a value");
        value = rest[++i];
      } else if (!spec->takes_value && eq != std::string::npos) {
        return Usage(ctx, name + " takes no value");
      }
      args.opts[name] = value;
    } else {
      args.positional.push_back(a);
    }
  }
  const int n = static_cast<int>(args.positional.size());
  if (n < cmd->min_positional || n > cmd->max_positional) {
    return Usage(ctx, std::string("usage: ") + UsageLine(*cmd));
  }
  if (cmd->needs_data) {
    if (ctx.data.empty()) return Usage(ctx, std::string(cmd->name) + " needs --data DIR");
    while (ctx.data.size() > 1 && ctx.data.back() == '/') ctx.data.pop_back();
    // A snapshot archive opens read-only through its own Env.
    bool is_dir = true;
    if (ctx.env->IsDirectory(ctx.data, &is_dir).ok() && !is_dir) {
      Status s = t4dx::OpenSnapshotEnv(ctx.env, ctx.data, &ctx.snapshot_env);
      if (!s.ok()) return Fail(ctx, s.WithContext("--data " + ctx.data));
    }
  }
  Status s = t4dx::ApplyEnvironment(&ctx.options);
  if (!s.ok()) return Fail(ctx, s);
  return cmd->run(ctx, args);
}

}  // namespace
}  // namespace t4dx_cli

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(true);
  return t4dx_cli::Main(argc, argv);
}
