// Subcommand registry of the modelprint CLI. Each cli/cmd_<name>.cpp defines its options and
// action and registers itself with a static CommandRegistrar, so adding a command touches one
// file. Actions return a Status; main() maps it to the exit codes of docs/errors.md.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "fingerprint/base/status.h"

namespace modelprint::cli {

// Options every command sees.
struct GlobalOptions {
    std::string db_path;  // --db, else MODELPRINT_DB, else ./modelprint.db
    bool quiet = false;
};
const GlobalOptions& global_options();
std::string resolve_db_path();

// A command's action. It prints its own output (stdout) and returns OK or an error; the error is
// printed by main() as "modelprint: error: <message>".
using CommandAction = std::function<Status()>;

struct CommandSpec {
    std::string name;
    std::string help;
    int order = 100;  // position in --help
    // Adds options to `sub` and returns the action (which captures the option storage).
    std::function<CommandAction(CLI::App& sub)> setup;
};

std::vector<CommandSpec>& command_registry();

struct CommandRegistrar {
    explicit CommandRegistrar(CommandSpec spec) { command_registry().push_back(std::move(spec)); }
};

// Exit codes (docs/errors.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;         // internal error / anything unexpected
inline constexpr int kExitUsage = 2;         // bad flags or arguments
inline constexpr int kExitVerifyFailed = 3;  // signature/digest verification failed
inline constexpr int kExitBadInput = 4;      // input file missing, corrupt or unsupported
inline constexpr int kExitIo = 5;            // I/O error (read/write/database)
inline constexpr int kExitPrecondition = 6;  // not possible in this state (no GPU, schema too new)
int exit_code_for(const Status& s);

}  // namespace modelprint::cli
