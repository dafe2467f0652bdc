// `modelprint audit MODEL --bench FILE.jsonl [--claim X] [--limit N] [--fewshot K] [--seed S]
//  [--chat-template none|auto|NAME] [--metric acc|acc_norm] [--contamination [--permutations M]
//  [--mink-ratio R]] [--device auto|cpu|cuda [--exact-f32]] [--json [--items]]
//  [--out REPORT [--sign KEY]] [--no-store]
//  [--diff AUDIT_ID]`: re-run a benchmark on the model (forensics/audit.h), test a claimed
// accuracy, measure contamination signals, store the audit with its per-item results in the
// database (unless --no-store), write an audit report (signed with --sign), and with --diff
// compare the per-item results with an audit stored earlier (a second auditor's run).
// --json prints accuracy, ci_low, ci_high, n, verdict and, with a claim, claim and p_value
// (full key list in docs/audit.md). Not here: scoring and statistics (forensics/audit*.h).
#include <cstdio>
#include <map>

#include "cli/command.h"
#include "cli/report_record.h"
#include "db/store.h"
#include "fingerprint/base/json.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/chat_template.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "forensics/audit.h"
#include "forensics/report.h"

namespace modelprint::cli {

Result<std::unique_ptr<Tokenizer>> model_tokenizer(const Model& model);  // cmd_logits.cpp

namespace {

struct AuditArgs {
    std::string model;
    std::string bench;
    double claim = 0.0;
    CLI::Option* claim_opt = nullptr;
    int64_t limit = 0;
    int fewshot = 0;
    uint64_t seed = 1234;
    std::string chat_template = "none";
    std::string metric = "acc";
    int max_new_tokens = 32;
    double alpha = 0.05;
    bool contamination = false;
    int permutations = 99;
    double mink_ratio = 0.2;
    std::string device = "cpu";
    int threads = 0;
    bool exact_f32 = false;
    bool json = false;
    bool items = false;
    std::string out;
    std::string sign;
    bool no_store = false;
    int64_t diff = 0;
};

std::string dec(double v) { return fmt::format("{:.6g}", v); }

std::string p_text(double p, double log10_p) {
    if (p > 0.0) return fmt::format("{:.3g}", p);
    return fmt::format("1e{:.1f}", log10_p);  // below double range: from the log
}

// The report predicate (forensics/report.h conventions: decimals as strings).
Result<std::string> predicate(const AuditResult& r, const Benchmark& bench, const Model& model,
                              const std::string& root, const std::string& result_json) {
    Json p;
    const std::string verdict = audit_verdict(r);
    std::string summary = fmt::format("accuracy {:.4f} ({}/{}), Wilson 95% CI [{:.4f}, {:.4f}]",
                                      r.accuracy, r.correct, r.n, r.ci.low, r.ci.high);
    if (r.claim) {
        summary +=
            fmt::format("; claim {} is {} (one-sided exact binomial p = {})", dec(r.claim->claim),
                        verdict, p_text(r.claim->p_value, r.claim->log10_p_value));
    }
    p["verdict"] = {
        {"label", verdict},
        {"decided_by", r.claim ? "one-sided exact binomial test of the claim" : "no claim given"},
        {"summary", summary}};
    p["models"] = Json::array({{{"role", "audited"},
                                {"name", model.path()},
                                {"root_digest", root},
                                {"architecture", model.config().model_type},
                                {"parameters", std::to_string(model.parameter_count())}}});
    Json rows = Json::array();
    rows.push_back({"accuracy", dec(r.accuracy)});
    rows.push_back({"correct / n", fmt::format("{} / {}", r.correct, r.n)});
    rows.push_back({"Wilson 95% CI", fmt::format("[{}, {}]", dec(r.ci.low), dec(r.ci.high))});
    rows.push_back({"benchmark", bench.name + " (sha256 " + bench.sha256 + ")"});
    if (r.claim) {
        rows.push_back({"claim", dec(r.claim->claim)});
        rows.push_back({"p-value", p_text(r.claim->p_value, r.claim->log10_p_value)});
    }
    Json sections = Json::array();
    sections.push_back(
        {{"title", "Benchmark re-run"}, {"columns", {"quantity", "value"}}, {"rows", rows}});
    Json distributions = Json::array();
    if (r.min_k || r.exchangeability) {
        Json crow = Json::array();
        if (r.min_k) {
            crow.push_back({"Min-K% vs reversed-choice controls",
                            fmt::format("{} of {} pairs higher", r.min_k->wins,
                                        r.min_k->wins + r.min_k->losses),
                            p_text(r.min_k->p_value, r.min_k->log_p_value / std::log(10.0))});
        }
        if (r.exchangeability) {
            const auto& x = *r.exchangeability;
            crow.push_back({"shuffled-order exchangeability",
                            fmt::format("canonical {:.2f} vs permuted mean {:.2f}",
                                        x.canonical_loglik, x.mean_permuted),
                            p_text(x.p_value, std::log10(x.p_value))});
            Json bg = Json::array();
            for (double v : x.permuted_loglik) bg.push_back(dec(v));
            distributions.push_back({{"title", "Shuffled-order exchangeability"},
                                     {"statistic", "log-likelihood of the benchmark"},
                                     {"observed", dec(x.canonical_loglik)},
                                     {"background", bg},
                                     {"p_value", dec(x.p_value)},
                                     {"note", "canonical file order against random orders"}});
        }
        sections.push_back({{"title", "Contamination signals"},
                            {"columns", {"test", "statistic", "p-value"}},
                            {"rows", crow}});
    }
    p["sections"] = sections;
    if (!distributions.empty()) p["distributions"] = distributions;
    MP_ASSIGN_OR_RETURN(Json audit, parse_json(result_json, "audit result"));
    p["audit"] = audit;
    return canonical_json(p);
}

Status print_text(const AuditResult& r, const Benchmark& bench) {
    std::printf(
        "audit of %s: %lld items (%lld multiple choice, %lld generative), fewshot %d, "
        "chat template %s, device %s\n",
        bench.name.c_str(), static_cast<long long>(r.n), static_cast<long long>(r.n_mc),
        static_cast<long long>(r.n_gen), r.options.fewshot, r.chat_template.c_str(),
        r.device.c_str());
    std::printf("accuracy  %.4f (%lld/%lld), Wilson 95%% CI [%.4f, %.4f]\n", r.accuracy,
                static_cast<long long>(r.correct), static_cast<long long>(r.n), r.ci.low,
                r.ci.high);
    if (r.n_mc > 0) {
        std::printf("  multiple choice: acc %.4f, acc_norm %.4f (%lld items)\n",
                    static_cast<double>(r.correct_acc) / static_cast<double>(r.n_mc),
                    static_cast<double>(r.correct_acc_norm) / static_cast<double>(r.n_mc),
                    static_cast<long long>(r.n_mc));
    }
    if (r.n_gen > 0) {
        std::printf("  generative: exact match %.4f (%lld items)\n",
                    static_cast<double>(r.correct_gen) / static_cast<double>(r.n_gen),
                    static_cast<long long>(r.n_gen));
    }
    if (r.claim) {
        std::printf("claim %s: %s (one-sided exact binomial p = %s, alpha %s)\n",
                    dec(r.claim->claim).c_str(), audit_verdict(r).c_str(),
                    p_text(r.claim->p_value, r.claim->log10_p_value).c_str(),
                    dec(r.claim->alpha).c_str());
    }
    if (r.min_k) {
        const auto& m = *r.min_k;
        std::printf(
            "Min-K%% (k = %s): item > control in %lld of %lld untied pairs, mean difference %.4f, "
            "sign test p = %s%s\n",
            dec(m.ratio).c_str(), static_cast<long long>(m.wins),
            static_cast<long long>(m.wins + m.losses), m.mean_difference,
            p_text(m.p_value, m.log_p_value / std::log(10.0)).c_str(),
            m.p_value < r.options.alpha ? "  -> flagged" : "");
    }
    if (r.exchangeability) {
        const auto& x = *r.exchangeability;
        std::printf(
            "shuffled order: canonical log-likelihood %.3f, permuted %.3f +- %.3f (z %.2f), "
            "p = %s (%lld permutations, %lld shards of %lld items)%s\n",
            x.canonical_loglik, x.mean_permuted, x.sd_permuted, x.z, dec(x.p_value).c_str(),
            static_cast<long long>(x.permutations), static_cast<long long>(x.shards),
            static_cast<long long>(x.shard_items),
            x.p_value < r.options.alpha ? "  -> flagged" : "");
    }
    std::printf("%.1f items/s\n",
                r.seconds_scoring > 0 ? static_cast<double>(r.n) / r.seconds_scoring : 0.0);
    return Status();
}

// Per-item agreement with a stored audit: items matched by id.
Status print_diff(Store& store, int64_t other, const std::vector<AuditItemRecord>& mine) {
    MP_ASSIGN_OR_RETURN(AuditRecord a, store.get_audit(other));
    MP_ASSIGN_OR_RETURN(auto theirs, store.audit_items(other));
    std::map<std::string, const AuditItemRecord*> by_id;
    for (const auto& t : theirs) by_id[t.item_id] = &t;
    int64_t common = 0, same_correct = 0, same_detail = 0;
    std::vector<std::string> differing;
    for (const auto& m : mine) {
        auto it = by_id.find(m.item_id);
        if (it == by_id.end()) continue;
        ++common;
        same_correct += it->second->correct == m.correct ? 1 : 0;
        if (it->second->score == m.score)
            ++same_detail;
        else if (differing.size() < 10)
            differing.push_back(m.item_id);
    }
    std::fprintf(stderr,
                 "diff with audit %lld (%s, score %s): %lld common items, same correctness %lld, "
                 "same score %lld\n",
                 static_cast<long long>(other), a.bench_name.c_str(), a.score.c_str(),
                 static_cast<long long>(common), static_cast<long long>(same_correct),
                 static_cast<long long>(same_detail));
    for (const auto& d : differing) std::fprintf(stderr, "  differs: %s\n", d.c_str());
    return Status();
}

Status run_audit_cmd(const AuditArgs& a) {
    AuditOptions o;
    o.fewshot = a.fewshot;
    o.seed = a.seed;
    o.limit = a.limit;
    o.max_new_tokens = a.max_new_tokens;
    o.alpha = a.alpha;
    o.contamination = a.contamination;
    o.permutations = a.permutations;
    o.mink_ratio = a.mink_ratio;
    o.threads = a.threads;
    if (a.claim_opt != nullptr && a.claim_opt->count() > 0) o.claim = a.claim;
    if (a.metric == "acc_norm")
        o.metric = McMetric::kAccNorm;
    else if (a.metric != "acc")
        return invalid_argument("--metric '{}' is not acc or acc_norm", a.metric);
    if (a.items && !a.json) return invalid_argument("--items needs --json");
    if (!a.sign.empty() && a.out.empty())
        return invalid_argument("--sign needs --out FILE for the report");
    MP_ASSIGN_OR_RETURN(Benchmark bench, load_benchmark(a.bench));
    MP_ASSIGN_OR_RETURN(DeviceKind dev, parse_device(a.device));
    MP_ASSIGN_OR_RETURN(auto model, Model::open(a.model));
    MP_ASSIGN_OR_RETURN(auto tok, model_tokenizer(*model));
    std::string warning;
    MP_ASSIGN_OR_RETURN(ChatTemplate chat, ChatTemplate::select(*tok, a.chat_template, &warning));
    if (!warning.empty()) std::fprintf(stderr, "modelprint: warning: %s\n", warning.c_str());
    if (auto eos = tok->eos_id()) o.stop_ids.push_back(*eos);
    for (int64_t e : model->config().eos_token_ids) {
        if (e >= 0 && e <= INT32_MAX) o.stop_ids.push_back(static_cast<int32_t>(e));
    }
    o.context_window = model->config().max_position;
    BackendOptions bo;
    bo.threads = a.threads;
    bo.exact_f32 = a.exact_f32;
    MP_ASSIGN_OR_RETURN(auto backend, make_backend(*model, dev, bo));
    MP_ASSIGN_OR_RETURN(AuditResult r, run_audit(*backend, *tok, &chat, bench, o));

    const std::string result_json = audit_result_json(r, bench, false);
    if (a.json)
        std::printf("%s\n", audit_result_json(r, bench, a.items).c_str());
    else
        MP_TRY(print_text(r, bench));

    if (a.no_store && a.out.empty()) return Status();
    HashOptions ho;
    ho.tensors = false;
    MP_ASSIGN_OR_RETURN(ModelDigest digest, hash_model(*model, ho));
    std::vector<AuditItemRecord> items;
    for (const ItemResult& it : r.items) {
        AuditItemRecord rec;
        rec.index = static_cast<int64_t>(it.index);
        rec.item_id = it.id;
        rec.correct = it.correct ? 1 : 0;
        rec.score = it.kind == ItemKind::kMultipleChoice
                        ? fmt::format("{:.6f}", it.loglik[static_cast<size_t>(it.pred_acc)])
                        : it.graded.predicted;
        rec.detail_json = item_detail_json(it);
        items.push_back(std::move(rec));
    }
    std::unique_ptr<Store> store;
    int64_t audit_id = 0;
    if (!a.no_store) {
        MP_ASSIGN_OR_RETURN(store, Store::open(resolve_db_path()));
        MP_TRY(store->upsert_model({digest.root_digest, model->path(), model->config().model_type,
                                    static_cast<int64_t>(model->parameter_count()), model->path(),
                                    "", ""}));
        AuditRecord rec;
        rec.model_digest = digest.root_digest;
        rec.bench_name = bench.name;
        rec.bench_digest = bench.sha256;
        rec.claim = r.claim ? dec(r.claim->claim) : "";
        rec.score = dec(r.accuracy);
        rec.result_json = result_json;
        MP_ASSIGN_OR_RETURN(audit_id, store->put_audit(rec, items));
        std::fprintf(stderr, "stored as audit %lld in %s\n", static_cast<long long>(audit_id),
                     store->path().c_str());
        if (a.diff > 0) MP_TRY(print_diff(*store, a.diff, items));
    }
    if (!a.out.empty()) {
        ReportInput in;
        in.kind = ReportKind::kAudit;
        in.subjects = {{"audited: " + model->path(), digest.root_digest}};
        MP_ASSIGN_OR_RETURN(in.predicate_json,
                            predicate(r, bench, *model, digest.root_digest, result_json));
        MP_ASSIGN_OR_RETURN(std::string bytes, write_report(in, a.out, a.sign));
        std::fprintf(stderr, "wrote %s audit report %s\n", a.sign.empty() ? "unsigned" : "signed",
                     a.out.c_str());
        if (store) {
            MP_ASSIGN_OR_RETURN(ReportRecord rr, report_record_of(bytes, a.out, "audit",
                                                                  kAuditPredicateType));
            rr.audit_id = audit_id;
            MP_ASSIGN_OR_RETURN(int64_t rid, store->put_report(rr));
            std::fprintf(stderr, "stored as report %lld\n", static_cast<long long>(rid));
        }
    }
    return Status();
}

CommandRegistrar reg(
    {"audit", "Re-run a benchmark, test a claimed score, look for contamination", 70,
     [](CLI::App& sub) -> CommandAction {
         auto a = std::make_shared<AuditArgs>();
         sub.add_option("MODEL", a->model, "Model directory or file")->required();
         sub.add_option("--bench", a->bench, "Benchmark JSONL (lm-eval conventions)")->required();
         a->claim_opt = sub.add_option("--claim", a->claim, "Claimed accuracy as a fraction (0.9)");
         sub.add_option("--limit", a->limit, "Audit the first N items only")
             ->check(CLI::NonNegativeNumber);
         sub.add_option("--fewshot", a->fewshot, "Few-shot examples per item (default 0)")
             ->check(CLI::NonNegativeNumber);
         sub.add_option("--seed", a->seed,
                        "Seed of the few-shot sample and permutations (default 1234)");
         sub.add_option("--chat-template", a->chat_template,
                        "none (default), auto, chatml, llama3, llama2, mistral, deepseek");
         sub.add_option(
             "--metric", a->metric,
             "Multiple-choice metric of the headline accuracy: acc (default) or acc_norm");
         sub.add_option("--max-new-tokens", a->max_new_tokens,
                        "Generation length for generative items (default 32)");
         sub.add_option("--alpha", a->alpha, "Significance level (default 0.05)");
         sub.add_flag("--contamination", a->contamination,
                      "Run the Min-K% and shuffled-order tests");
         sub.add_option("--permutations", a->permutations,
                        "Random orders of the shuffled-order test (default 99)");
         sub.add_option("--mink-ratio", a->mink_ratio, "Fraction k of Min-K% (default 0.2)");
         sub.add_option("--device", a->device, "auto, cpu or cuda (default cpu)");
         sub.add_flag("--exact-f32", a->exact_f32,
                      "CUDA: exact f32 matmuls instead of bf16/f16 tensor cores (per-item results "
                      "as on the CPU)");
         sub.add_option("--threads", a->threads, "CPU threads (default: all cores)")
             ->check(CLI::NonNegativeNumber);
         sub.add_flag("--json", a->json, "Print one JSON object");
         sub.add_flag("--items", a->items, "With --json: include per-item results");
         sub.add_option("--out", a->out, "Write the audit report (in-toto statement) to FILE");
         sub.add_option("--sign", a->sign, "Sign the report with this private key (PEM)");
         sub.add_flag("--no-store", a->no_store, "Do not store the audit in the database");
         sub.add_option("--diff", a->diff, "Compare per-item results with stored audit ID");
         return [a] { return run_audit_cmd(*a); };
     }});

}  // namespace
}  // namespace modelprint::cli
