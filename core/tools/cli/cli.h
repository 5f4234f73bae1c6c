// t4dx: the operator's command-line tool. Shared pieces of the commands.
//
// Every command is a CommandSpec (name, usage, help, options, handler) registered in its
// group's file (cmd_store.cc, cmd_wal.cc, cmd_items.cc, cmd_snapshot.cc); main.cc parses
// the command line, prints help and dispatches. Output is the engine's own JSON documents
// (--json) or a human rendering of the same documents (render.h): no figure is computed
// twice.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "t4dx/engine.h"
#include "t4dx/env.h"
#include "t4dx/options.h"
#include "t4dx/status.h"

namespace t4dx_cli {

// Exit codes (documented in `t4dx --help`).
constexpr int kExitOk = 0;        // healthy / done
constexpr int kExitProblems = 1;  // problems found (verify, checks), corrupt data, not found
constexpr int kExitError = 2;     // usage error, I/O error, store locked

// The parsed command line of one command.
struct Args {
  std::vector<std::string> positional;      // after the command words
  std::map<std::string, std::string> opts;  // "--k" -> "10"; flags -> ""

  bool Has(const std::string& name) const { return opts.count(name) != 0; }
  std::string Get(const std::string& name, const std::string& def = "") const;
  // Parses an unsigned option; InvalidArgument naming it when malformed.
  t4dx::Status GetUint(const std::string& name, uint64_t def, uint64_t* v) const;
};

struct Context {
  std::string data;       // --data: store directory (or a snapshot .tar, read-only)
  bool json = false;      // --json
  bool progress = false;  // a progress bar on stderr (a TTY, and not --json)
  t4dx::Options options;  // defaults + the environment (T4DM_*)
  t4dx::Env* env = nullptr;
  std::unique_ptr<t4dx::Env> snapshot_env;  // set when --data names a .tar
};

struct OptionSpec {
  const char* name;  // "--k"
  bool takes_value;
  const char* help;
};

struct CommandSpec {
  const char* name;     // "wal check"
  const char* args;     // positional part of the usage line, e.g. "ID" or ""
  const char* summary;  // one line
  const char* help;     // paragraph(s): what it does, exit codes specific to it
  std::vector<OptionSpec> options;
  int min_positional = 0;
  int max_positional = 0;
  bool needs_data = true;
  int (*run)(Context& ctx, const Args& args) = nullptr;
};

// Registration (each group appends its commands).
void AddStoreCommands(std::vector<CommandSpec>* out);
void AddWalCommands(std::vector<CommandSpec>* out);
void AddItemCommands(std::vector<CommandSpec>* out);
void AddSnapshotCommands(std::vector<CommandSpec>* out);

// ---- helpers for commands ----

// Opens the store. read_only: no lock, no byte changed (works beside a running service).
// create: create the store if it is missing (put, import). Errors are printed by Fail.
t4dx::Status OpenStore(Context& ctx, bool read_only, bool create,
                       std::unique_ptr<t4dx::Engine>* engine);

// The Env and directory to read store files through (a snapshot's Env for a .tar).
t4dx::Env* StoreEnv(Context& ctx);

// Prints an error (stderr; with --json also a JSON error document on stdout) and returns
// its exit code: 1 for corruption, 2 otherwise (item commands map a missing item to 1).
int Fail(const Context& ctx, const t4dx::Status& s);
int Usage(const Context& ctx, const std::string& message);

// Prints one JSON document: as is with --json, rendered for humans otherwise.
void Emit(const Context& ctx, const std::string& json);
// Prints a line of text on stdout (human mode only).
void Say(const Context& ctx, const std::string& line);

// Reads a boolean verdict from a document: the first of keys that is present
// (default when none is). A key may name a nested field: "consistency.ok".
bool DocFlag(const std::string& json, const std::vector<std::string>& keys, bool def);

// Opens the store read-only and prints one Describe view. Exit 1 when the first of
// health_keys present in the document is false (none given: always 0); a missing segment
// (kNotFound) is exit 1 too.
int RunView(Context& ctx, t4dx::View view, const std::string& arg,
            const std::vector<std::string>& health_keys);

// The help text of one command / of a group / of everything.
std::string CommandHelp(const CommandSpec& spec);

}  // namespace t4dx_cli
