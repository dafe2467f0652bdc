// `modelprint report create|import|list|show|export|render`: reports kept in the store.
//   create --kind comparison|audit --subject NAME=DIGEST... --predicate FILE [--sign KEY] --out F
//          builds the in-toto statement around a predicate document (report.h conventions),
//          signs it when --sign is given, writes F and stores the bytes as written;
//   import FILE            stores an existing report file (signed bundle or unsigned statement);
//   list [--json]          the stored reports, newest first;
//   show ID                metadata and the Markdown rendering;
//   export ID --format json|md|html [--out F]   json is the stored bytes, unchanged;
//   render FILE --format md|html [--out F]      renders a report file without the store.
#include <cstdio>

#include "cli/command.h"
#include "cli/model_json.h"
#include "db/store.h"
#include "fingerprint/base/mmap_file.h"
#include "forensics/report.h"

namespace modelprint::cli {
namespace {

struct ReportArgs {
    CLI::App* create = nullptr;
    CLI::App* import = nullptr;
    CLI::App* list = nullptr;
    CLI::App* show = nullptr;
    CLI::App* exp = nullptr;
    CLI::App* render = nullptr;
    std::string kind = "comparison";
    std::vector<std::string> subjects;
    std::string predicate;
    std::string sign;
    std::string out;
    std::string file;
    int64_t id = 0;
    std::string format = "json";
    bool json = false;
};

Result<ParsedReport> parse_bytes(const std::string& bytes, const std::string& what) {
    return parse_report(bytes, what);
}

Result<int64_t> store_bytes(Store& store, const std::string& bytes, const std::string& what) {
    MP_ASSIGN_OR_RETURN(ParsedReport rep, parse_bytes(bytes, what));
    ReportRecord r;
    r.kind = rep.predicate_type == kAuditPredicateType ? "audit" : "comparison";
    r.predicate_type = rep.predicate_type;
    r.envelope = bytes;
    r.is_signed = rep.is_signed;
    r.key_hint = rep.is_signed ? rep.bundle.key_hint : "";
    for (const auto& s : rep.subjects) r.subjects.push_back({s.name, s.sha256});
    return store.put_report(r);
}

Result<std::string> rendered(const std::string& bytes, const std::string& format,
                             const std::string& what) {
    if (format == "json") return bytes;
    MP_ASSIGN_OR_RETURN(ParsedReport rep, parse_bytes(bytes, what));
    if (format == "md" || format == "markdown") return render_report_markdown(rep.statement);
    if (format == "html") return render_report_html(rep.statement);
    return invalid_argument("--format '{}' is not json, md or html", format);
}

Status emit(const std::string& text, const std::string& out) {
    if (out.empty()) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        return Status();
    }
    MP_TRY(write_file_atomic(out, text, 0644));
    std::fprintf(stderr, "wrote %s (%zu bytes)\n", out.c_str(), text.size());
    return Status();
}

Status run_create(const ReportArgs& a) {
    ReportInput in;
    MP_ASSIGN_OR_RETURN(in.kind, parse_report_kind(a.kind));
    for (const std::string& s : a.subjects) {
        const size_t eq = s.rfind('=');
        if (eq == std::string::npos) return invalid_argument("--subject '{}' is not NAME=DIGEST", s);
        in.subjects.push_back({s.substr(0, eq), s.substr(eq + 1)});
    }
    MP_ASSIGN_OR_RETURN(in.predicate_json, read_file(a.predicate));
    MP_ASSIGN_OR_RETURN(std::string bytes, write_report(in, a.out, a.sign));
    MP_ASSIGN_OR_RETURN(auto store, Store::open(resolve_db_path()));
    MP_ASSIGN_OR_RETURN(int64_t id, store_bytes(*store, bytes, a.out));
    std::printf("%s report %s written; stored as report %lld\n", a.sign.empty() ? "unsigned" : "signed",
                a.out.c_str(), static_cast<long long>(id));
    return Status();
}

Status run_report(const ReportArgs& a) {
    if (a.render->parsed()) {
        MP_ASSIGN_OR_RETURN(std::string bytes, read_file(a.file));
        MP_ASSIGN_OR_RETURN(std::string text, rendered(bytes, a.format, a.file));
        return emit(text, a.out);
    }
    if (a.create->parsed()) return run_create(a);
    MP_ASSIGN_OR_RETURN(auto store, Store::open(resolve_db_path()));
    if (a.import->parsed()) {
        MP_ASSIGN_OR_RETURN(std::string bytes, read_file(a.file));
        MP_ASSIGN_OR_RETURN(int64_t id, store_bytes(*store, bytes, a.file));
        std::printf("stored report %lld\n", static_cast<long long>(id));
        return Status();
    }
    if (a.list->parsed()) {
        MP_ASSIGN_OR_RETURN(auto reports, store->list_reports());
        if (a.json) {
            Json arr = Json::array();
            for (const auto& r : reports) {
                Json subj = Json::array();
                for (const auto& s : r.subjects) subj.push_back({{"name", s.name}, {"sha256", s.digest}});
                arr.push_back({{"id", r.id}, {"kind", r.kind}, {"predicate_type", r.predicate_type},
                               {"signed", r.is_signed}, {"key_hint", r.key_hint},
                               {"sha256", r.envelope_sha256}, {"created_at", r.created_at},
                               {"subjects", subj}});
            }
            print_json(arr);
            return Status();
        }
        std::printf("%-5s %-11s %-7s %-20s %s\n", "id", "kind", "signed", "created", "subjects");
        for (const auto& r : reports) {
            std::string subj;
            for (const auto& s : r.subjects) subj += (subj.empty() ? "" : ", ") + s.name;
            std::printf("%-5lld %-11s %-7s %-20s %s\n", static_cast<long long>(r.id), r.kind.c_str(),
                        r.is_signed ? "yes" : "no", r.created_at.c_str(), subj.c_str());
        }
        return Status();
    }
    MP_ASSIGN_OR_RETURN(ReportRecord r, store->get_report(a.id));
    const std::string what = fmt::format("report {}", r.id);
    if (a.show->parsed()) {
        std::printf("report %lld  %s  %s  sha256 %s\n", static_cast<long long>(r.id), r.kind.c_str(),
                    r.is_signed ? ("signed, key " + r.key_hint.substr(0, 16)).c_str() : "unsigned",
                    r.envelope_sha256.c_str());
        MP_ASSIGN_OR_RETURN(std::string md, rendered(r.envelope, "md", what));
        std::printf("\n%s", md.c_str());
        return Status();
    }
    MP_ASSIGN_OR_RETURN(std::string text, rendered(r.envelope, a.format, what));
    return emit(text, a.out);
}

CommandRegistrar reg({"report", "Create, store, list, show and export reports (json, md, html)", 84,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<ReportArgs>();
                          sub.require_subcommand(1);
                          a->create = sub.add_subcommand("create", "Build a report from a predicate document");
                          a->create->add_option("--kind", a->kind, "comparison or audit");
                          a->create->add_option("--subject", a->subjects, "NAME=DIGEST (repeat)")->required();
                          a->create->add_option("--predicate", a->predicate, "Predicate JSON file")->required();
                          a->create->add_option("--sign", a->sign, "Private key: write a signed bundle");
                          a->create->add_option("--out", a->out, "Report file to write")->required();
                          a->import = sub.add_subcommand("import", "Store an existing report file");
                          a->import->add_option("FILE", a->file, "Report file")->required();
                          a->list = sub.add_subcommand("list", "List stored reports");
                          a->list->add_flag("--json", a->json, "Print JSON");
                          a->show = sub.add_subcommand("show", "Show a stored report");
                          a->show->add_option("ID", a->id, "Report id")->required();
                          a->exp = sub.add_subcommand("export", "Export a stored report");
                          a->exp->add_option("ID", a->id, "Report id")->required();
                          a->exp->add_option("--format", a->format, "json (bytes as stored), md or html");
                          a->exp->add_option("--out", a->out, "Output file (default stdout)");
                          a->render = sub.add_subcommand("render", "Render a report file");
                          a->render->add_option("FILE", a->file, "Report file")->required();
                          a->render->add_option("--format", a->format, "md or html")->required();
                          a->render->add_option("--out", a->out, "Output file (default stdout)");
                          return [a] { return run_report(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli
