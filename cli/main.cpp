// modelprint: entry point. Builds the CLI11 app from the command registry, runs the chosen
// command and maps its Status to an exit code. Never lets an exception escape.
#include <cstdio>
#include <cstdlib>

#include "cli/command.h"
#include "fingerprint/base/progress.h"

namespace modelprint::cli {

namespace {
GlobalOptions g_options;
}

const GlobalOptions& global_options() { return g_options; }

std::string resolve_db_path() {
    if (!g_options.db_path.empty()) return g_options.db_path;
    if (const char* env = std::getenv("MODELPRINT_DB"); env != nullptr && *env) return env;
    return "modelprint.db";
}

std::vector<CommandSpec>& command_registry() {
    static std::vector<CommandSpec> registry;
    return registry;
}

int exit_code_for(const Status& s) {
    switch (s.code()) {
        case StatusCode::kOk: return kExitOk;
        case StatusCode::kInvalidArgument: return kExitUsage;
        case StatusCode::kVerificationFailed: return kExitVerifyFailed;
        case StatusCode::kNotFound:
        case StatusCode::kCorruptData:
        case StatusCode::kUnsupported:
        case StatusCode::kOutOfRange: return kExitBadInput;
        case StatusCode::kIoError: return kExitIo;
        case StatusCode::kFailedPrecondition: return kExitPrecondition;
        case StatusCode::kInternal: return kExitError;
    }
    return kExitError;
}

int run_main(int argc, char** argv) {
    CLI::App app{"modelprint — model provenance and distillation detection"};
    app.set_version_flag("--version", "modelprint 0.1.0");
    app.require_subcommand(1);
    app.add_option("--db", g_options.db_path, "SQLite database (default ./modelprint.db or $MODELPRINT_DB)");
    app.add_flag("-q,--quiet", g_options.quiet, "No progress output on stderr");

    auto& registry = command_registry();
    std::stable_sort(registry.begin(), registry.end(),
                     [](const CommandSpec& a, const CommandSpec& b) { return a.order < b.order; });
    std::vector<std::pair<CLI::App*, CommandAction>> actions;
    for (const auto& spec : registry) {
        CLI::App* sub = app.add_subcommand(spec.name, spec.help);
        actions.emplace_back(sub, spec.setup(*sub));
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }
    if (g_options.quiet) Progress::set_enabled(false);
    for (auto& [sub, action] : actions) {
        if (!sub->parsed()) continue;
        Status s = action();
        if (!s.ok()) {
            std::fprintf(stderr, "modelprint: error: %s\n", s.message().c_str());
            return exit_code_for(s);
        }
        return kExitOk;
    }
    return kExitUsage;
}

}  // namespace modelprint::cli

int main(int argc, char** argv) {
    try {
        return modelprint::cli::run_main(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "modelprint: internal error: %s\n", e.what());
        return modelprint::cli::kExitError;
    } catch (...) {
        std::fprintf(stderr, "modelprint: internal error\n");
        return modelprint::cli::kExitError;
    }
}
