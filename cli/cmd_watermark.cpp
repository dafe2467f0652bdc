// `modelprint watermark keygen --out KEY.json [--greenlist-ratio R --bias B --seeding-scheme S
//  --context-width W --vocab-size V | --model M] [--force]`: a fresh secret key (file mode 0600),
// printed only as its commitment.
// `modelprint watermark detect INPUT --key KEY.json ...`: INPUT is a text file (or - for stdin),
// a transcript (*.jsonl: per response and pooled), token ids (--ids, scored exactly as
// transformers' WatermarkDetector: a leading BOS dropped), or a model (directory, .safetensors,
// .gguf: radioactivity, forensics/watermark_model.h; needs --teacher-tokenizer or --teacher).
// Keys are secrets: nothing here prints or stores the key, only sha256 commitments.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/command.h"
#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "fingerprint/transcript.h"
#include "fingerprint/watermark.h"
#include "forensics/stats.h"
#include "forensics/watermark.h"
#include "forensics/watermark_model.h"

namespace modelprint::cli {

Result<std::vector<int32_t>> parse_id_list(const std::string& s);        // cmd_logits.cpp
Result<std::unique_ptr<Tokenizer>> model_tokenizer(const Model& model);  // cmd_logits.cpp

namespace {

struct WatermarkArgs {
    CLI::App* keygen = nullptr;
    CLI::App* detect = nullptr;
    // keygen
    std::string out;
    double ratio = 0.25, bias = 2.0;
    std::string scheme = "lefthash";
    int context_width = 1;
    int64_t vocab_size = 0;
    std::string bind_model;
    bool force = false;
    // detect
    std::string input, key, tokenizer, teacher_tokenizer, teacher, prompts, ids;
    bool no_dedup = false, json = false;
    double alpha = 1e-3;
    int max_tokens = 128;
    float temperature = 1.0f;
    uint64_t seed = 0;
    std::string device = "cpu";
    int threads = 0;
    int null_keys = 0;
    int samples = 256;
};

Status run_keygen(const WatermarkArgs& a) {
    WatermarkKey base;
    base.greenlist_ratio = a.ratio;
    base.bias = a.bias;
    base.context_width = a.context_width;
    if (a.scheme == "lefthash") {
        base.seeding_scheme = SeedingScheme::kLeftHash;
    } else if (a.scheme == "selfhash") {
        base.seeding_scheme = SeedingScheme::kSelfHash;
    } else {
        return invalid_argument("--seeding-scheme must be lefthash or selfhash, not \"{}\"",
                                a.scheme);
    }
    base.vocab_size = a.vocab_size;
    if (!a.bind_model.empty()) {
        MP_ASSIGN_OR_RETURN(auto model, Model::open(a.bind_model));
        base.vocab_size = model->config().vocab_size;
    }
    // Validate through the parser so keygen never writes a key detect would refuse.
    MP_TRY(parse_watermark_key(watermark_key_json(base), "the requested key").status());
    if (base.vocab_size > 0) MP_TRY(GreenLists::create(base, base.vocab_size).status());
    MP_ASSIGN_OR_RETURN(WatermarkKey key, generate_watermark_key(base));
    MP_TRY(write_watermark_key(a.out, key, a.force));
    std::printf("wrote %s (mode 0600); commitment sha256:%s\n", a.out.c_str(),
                watermark_key_commitment(key).c_str());
    return Status();
}

Json test_json(const WatermarkTest& t) {
    Json j = {{"tokens", t.count.tokens},
              {"scored", t.count.scored},
              {"green", t.count.green},
              {"green_fraction", t.green_fraction},
              {"z", t.z},
              {"p_value", t.p_value},
              {"log10_p", t.log_p / std::log(10.0)},
              {"verdict", std::string(watermark_verdict_name(t.verdict))}};
    if (t.verdict == WatermarkVerdict::kInconclusive) j["tokens_needed"] = t.tokens_needed;
    return j;
}

Json mass_json(const GreenMassTest& t) {
    return {{"mode", "open-model"},
            {"reference", t.reference},
            {"statistic", t.log_ratio   ? "log-ratio"
                          : t.reference ? "probability-difference"
                                        : "green-mass"},
            {"weights", t.weights == ContextWeights::kEqual ? "equal" : "sqrt-positions"},
            {"scored", t.positions},
            {"contexts", t.contexts},
            {"green_mass", t.green_mass},
            {"expected", t.expected},
            {"z", t.z},
            {"p_value", t.p_value},
            {"log10_p", t.log_p / std::log(10.0)},
            {"conclusive", t.conclusive}};
}

std::string verdict_line(const std::string& name, const WatermarkTest& t) {
    std::string s = fmt::format("{}: {} scored, {} green ({:.3f}), z {:.2f}, p {:.3g} -> {}", name,
                                t.count.scored, t.count.green, t.green_fraction, t.z, t.p_value,
                                watermark_verdict_name(t.verdict));
    if (t.verdict == WatermarkVerdict::kInconclusive) {
        s += fmt::format(" ({} more scored tokens needed)", t.tokens_needed);
    }
    return s;
}

bool is_model_path(const std::string& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return true;
    auto ends = [&](std::string_view e) {
        return p.size() >= e.size() && p.compare(p.size() - e.size(), e.size(), e) == 0;
    };
    return ends(".safetensors") || ends(".gguf");
}

Result<std::vector<std::string>> read_prompts(const std::string& path, int samples) {
    std::vector<std::string> out;
    if (path.empty()) {
        return default_radioactivity_prompts(samples);
    }
    MP_ASSIGN_OR_RETURN(std::string text, read_file(path));
    if (is_transcript_path(path)) {
        MP_ASSIGN_OR_RETURN(Transcript t, parse_transcript(text, path));
        for (const auto& e : t.entries) out.push_back(e.prompt);
    } else {
        // One prompt a line; an empty line or <bos> is a BOS-only start.
        size_t i = 0;
        while (i < text.size()) {
            size_t j = text.find('\n', i);
            if (j == std::string::npos) j = text.size();
            std::string line = text.substr(i, j - i);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            out.push_back(line == "<bos>" ? std::string() : line);
            i = j + 1;
        }
    }
    if (out.empty()) return invalid_argument("{}: no prompts", path);
    return out;
}

// The vocabulary the green lists range over: the key's binding, else the model's (when known),
// else the tokenizer's; a tokenizer with more ids than that does not belong to the key.
Result<GreenLists> lists_for(const WatermarkKey& key, int64_t model_vocab, const Tokenizer* tok) {
    int64_t V = key.vocab_size > 0 ? key.vocab_size : model_vocab > 0 ? model_vocab : 0;
    if (V == 0 && tok) V = tok->vocab_size();
    if (V == 0) {
        return invalid_argument("the key binds no vocabulary size: give --tokenizer (or a model)");
    }
    if (tok && tok->vocab_size() > V) {
        return invalid_argument(
            "the watermark key's vocabulary ({} ids) does not match the "
            "tokenizer's ({} ids)",
            V, tok->vocab_size());
    }
    return GreenLists::create(key, V);
}

// --null-keys N: the same collected data under N fresh random keys of the same scheme, width
// and ratio — keys the model cannot know — and the KS test of their p-values against uniform.
Status run_null_keys(const WatermarkArgs& a, const WatermarkKey& key, const GreenLists& lists,
                     const RadioactivityData& data, const RadioactivityOptions& ro) {
    std::vector<double> pg, pm, pd, pp, pe;
    // reproducible null keys per --seed
    for (const WatermarkKey& k : null_watermark_keys(key, a.null_keys, a.seed)) {
        MP_ASSIGN_OR_RETURN(GreenLists l, GreenLists::create(k, lists.vocab_size()));
        MP_ASSIGN_OR_RETURN(RadioactivityResult r, evaluate_radioactivity(l, data, ro));
        pg.push_back(r.generation.p_value);
        pm.push_back(r.open_model.p_value);
        pd.push_back(r.open_model_logratio.p_value);
        pp.push_back(r.open_model_plain.p_value);
        pe.push_back(r.open_model_equal.p_value);
    }
    auto summary = [](const std::vector<double>& p) {
        const KsResult ks = ks_uniform(p);
        const double mn = *std::min_element(p.begin(), p.end());
        const auto below = std::count_if(p.begin(), p.end(), [](double x) { return x < 1e-3; });
        auto frac = [&](double t) {
            return static_cast<double>(
                       std::count_if(p.begin(), p.end(), [&](double x) { return x < t; })) /
                   static_cast<double>(p.size());
        };
        return Json{{"ks_d", ks.d},
                    {"ks_p", ks.p_value},
                    {"min_p", mn},
                    {"below_1e-3", below},
                    {"frac_below_0.05", frac(0.05)},
                    {"frac_below_0.5", frac(0.5)}};
    };
    Json j = {{"mode", "null-keys"},
              {"keys", a.null_keys},
              {"reference", data.reference},
              {"generation", summary(pg)},
              {"open_model", summary(pm)},
              {"open_model_logratio", summary(pd)},
              {"open_model_plain", summary(pp)},
              {"open_model_equal", summary(pe)}};
    std::printf("%s\n", j.dump(2).c_str());
    return Status();
}

Status run_detect_model(const WatermarkArgs& a, const WatermarkKey& key,
                        const WatermarkOptions& wo) {
    MP_ASSIGN_OR_RETURN(auto suspect, Model::open(a.input));
    MP_ASSIGN_OR_RETURN(auto s_tok, model_tokenizer(*suspect));
    std::unique_ptr<Model> teacher;
    std::unique_ptr<Tokenizer> t_tok;
    if (!a.teacher.empty()) {
        MP_ASSIGN_OR_RETURN(teacher, Model::open(a.teacher));
        MP_ASSIGN_OR_RETURN(t_tok, model_tokenizer(*teacher));
    }
    if (!a.teacher_tokenizer.empty()) {
        MP_ASSIGN_OR_RETURN(t_tok, Tokenizer::from_file(a.teacher_tokenizer));
    }
    if (!t_tok) return invalid_argument("a model needs --teacher-tokenizer T (or --teacher MODEL)");
    MP_ASSIGN_OR_RETURN(GreenLists lists,
                        lists_for(key, teacher ? teacher->config().vocab_size : 0, t_tok.get()));
    MP_ASSIGN_OR_RETURN(DeviceKind dev, parse_device(a.device));
    BackendOptions bo;
    bo.threads = a.threads;
    MP_ASSIGN_OR_RETURN(auto s_backend, make_backend(*suspect, dev, bo));
    std::unique_ptr<Backend> t_backend;
    if (teacher) {
        MP_ASSIGN_OR_RETURN(t_backend, make_backend(*teacher, dev, bo));
    }
    RadioactivityInput in;
    in.suspect = s_backend.get();
    in.suspect_tokenizer = s_tok.get();
    in.teacher_tokenizer = t_tok.get();
    in.teacher = t_backend.get();
    MP_ASSIGN_OR_RETURN(in.prompts, read_prompts(a.prompts, a.samples));
    RadioactivityOptions ro;
    ro.text = wo;
    ro.max_new_tokens = a.max_tokens;
    ro.temperature = a.temperature;
    ro.seed = a.seed;
    MP_ASSIGN_OR_RETURN(RadioactivityData data, collect_radioactivity(lists, in, ro));
    if (a.null_keys > 0) return run_null_keys(a, key, lists, data, ro);
    MP_ASSIGN_OR_RETURN(RadioactivityResult r, evaluate_radioactivity(lists, data, ro));
    const GreenMassTest& om = r.open_model;
    if (a.json) {
        Json gen = test_json(r.generation);
        gen["mode"] = "generation";
        Json j = {{"mode", "open-model"},
                  {"p_value", om.p_value},
                  {"log10_p", om.log_p / std::log(10.0)},
                  {"z", om.z},
                  {"green_mass", om.green_mass},
                  {"scored", om.positions},
                  {"distilled", om.conclusive && om.p_value < wo.alpha},
                  {"alpha", wo.alpha},
                  {"key_commitment", watermark_key_commitment(key)},
                  {"cross_tokenizer", r.cross_tokenizer},
                  {"shared_tokens", r.shared_tokens},
                  {"teacher_vocab", r.teacher_vocab},
                  {"responses", r.responses},
                  {"tests", Json::array({gen, mass_json(om)})}};
        if (om.reference) {
            j["tests"].push_back(mass_json(r.open_model_logratio));
            j["tests"].push_back(mass_json(r.open_model_plain));
        }
        j["tests"].push_back(mass_json(r.open_model_equal));
        std::printf("%s\n", j.dump(2).c_str());
        return Status();
    }
    std::printf("key commitment sha256:%s\n", watermark_key_commitment(key).c_str());
    if (r.cross_tokenizer) {
        std::printf("cross-tokenizer suspect: %lld of %lld teacher token strings shared\n",
                    static_cast<long long>(r.shared_tokens),
                    static_cast<long long>(r.teacher_vocab));
    }
    std::printf("%s\n", verdict_line("generation (" + std::to_string(r.responses) + " samples)",
                                     r.generation)
                            .c_str());
    auto mass_line = [&](const GreenMassTest& t) {
        std::printf(
            "open-model%s%s: %lld prefixes in %lld contexts, green mass %.4f (expected %.4f), "
            "z %.2f, p %.3g%s\n",
            t.log_ratio   ? " (log-ratio to the teacher)"
            : t.reference ? " (p minus teacher's p)"
                          : "",
            t.weights == ContextWeights::kEqual ? " (equal context weights)" : "",
            static_cast<long long>(t.positions), static_cast<long long>(t.contexts), t.green_mass,
            t.expected, t.z, t.p_value, t.conclusive ? "" : " (inconclusive)");
    };
    mass_line(om);
    if (om.reference) {
        mass_line(r.open_model_logratio);
        mass_line(r.open_model_plain);
    }
    mass_line(r.open_model_equal);
    std::printf("verdict: %s\n", om.conclusive && om.p_value < wo.alpha
                                     ? "radioactive (trained on text watermarked with this key)"
                                     : "no evidence of this watermark");
    return Status();
}

Status run_detect(const WatermarkArgs& a) {
    MP_ASSIGN_OR_RETURN(WatermarkKey key, load_watermark_key(a.key));
    WatermarkOptions wo;
    wo.alpha = a.alpha;
    wo.dedup = !a.no_dedup;
    if (!(wo.alpha > 0 && wo.alpha < 1))
        return invalid_argument("--alpha {} is not in (0, 1)", wo.alpha);
    if (a.ids.empty() && a.input.empty()) return invalid_argument("give INPUT or --ids");
    if (a.ids.empty() && a.input != "-" && is_model_path(a.input))
        return run_detect_model(a, key, wo);

    std::unique_ptr<Tokenizer> tok;
    if (!a.tokenizer.empty()) {
        MP_ASSIGN_OR_RETURN(tok, Tokenizer::from_file(a.tokenizer));
    } else if (a.ids.empty()) {
        return invalid_argument("text needs --tokenizer T (the tokenizer the key's model uses)");
    }
    MP_ASSIGN_OR_RETURN(GreenLists lists, lists_for(key, 0, tok.get()));
    GreenCounter counter(lists, wo.dedup);
    struct Row {
        std::string id;
        WatermarkTest test;
    };
    std::vector<Row> rows;
    if (!a.ids.empty()) {
        MP_ASSIGN_OR_RETURN(std::vector<int32_t> ids, parse_id_list(a.ids));
        if (tok && tok->bos_id() && !ids.empty() && ids[0] == *tok->bos_id())
            ids.erase(ids.begin());
        MP_ASSIGN_OR_RETURN(GreenCount c, counter.add(ids));
        rows.push_back({"ids", watermark_test(lists, c, wo)});
    } else if (a.input != "-" && is_transcript_path(a.input)) {
        MP_ASSIGN_OR_RETURN(Transcript t, load_transcript(a.input));
        MP_ASSIGN_OR_RETURN(std::vector<ScoredSequence> seqs, transcript_sequences(t, *tok));
        for (const ScoredSequence& q : seqs) {
            MP_ASSIGN_OR_RETURN(GreenCount c, counter.add(q.ids, q.start));
            rows.push_back({q.id, watermark_test(lists, c, wo)});
        }
    } else {
        std::string text;
        if (a.input == "-") {
            text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
        } else {
            MP_ASSIGN_OR_RETURN(text, read_file(a.input));
        }
        MP_ASSIGN_OR_RETURN(std::vector<int32_t> ids, tok->encode(text, true));
        size_t start = 0;
        if (auto b = tok->bos_id(); b && !ids.empty() && ids[0] == *b) start = 1;
        MP_ASSIGN_OR_RETURN(GreenCount c, counter.add(ids, start));
        rows.push_back({"text", watermark_test(lists, c, wo)});
    }
    const WatermarkTest pooled = watermark_test(lists, counter.pooled(), wo);
    if (a.json) {
        Json j = test_json(pooled);
        j["mode"] = "text";
        j["dedup"] = wo.dedup;
        j["alpha"] = wo.alpha;
        j["key_commitment"] = watermark_key_commitment(key);
        Json rs = Json::array();
        for (const auto& r : rows) {
            Json x = test_json(r.test);
            x["id"] = r.id;
            rs.push_back(x);
        }
        j["responses"] = rs;
        std::printf("%s\n", j.dump(2).c_str());
        return Status();
    }
    std::printf("key commitment sha256:%s\n", watermark_key_commitment(key).c_str());
    if (rows.size() > 1) {
        for (const auto& r : rows) std::printf("%s\n", verdict_line(r.id, r.test).c_str());
    }
    std::printf("%s\n", verdict_line(rows.size() > 1 ? "pooled" : rows[0].id, pooled).c_str());
    return Status();
}

CommandRegistrar reg(
    {"watermark", "Keyed green-list watermarks: keygen, detect in text or models", 62,
     [](CLI::App& sub) -> CommandAction {
         auto a = std::make_shared<WatermarkArgs>();
         sub.require_subcommand(1);
         CLI::App* k = sub.add_subcommand("keygen", "Write a fresh secret key (0600)");
         a->keygen = k;
         k->add_option("--out", a->out, "Key file to write")->required();
         k->add_option("--greenlist-ratio", a->ratio, "Green fraction (default 0.25)");
         k->add_option("--bias", a->bias, "Logit bias of green ids (default 2.0)");
         k->add_option("--seeding-scheme", a->scheme, "lefthash (default) or selfhash");
         k->add_option("--context-width", a->context_width, "Context tokens (default 1)");
         k->add_option("--vocab-size", a->vocab_size, "Bind the key to V ids");
         k->add_option("--model", a->bind_model, "Bind the key to this model's vocabulary");
         k->add_flag("--force", a->force, "Overwrite an existing key file");
         CLI::App* d = sub.add_subcommand("detect", "Test text, a transcript or a model");
         a->detect = d;
         d->add_option("INPUT", a->input, "Text file (- for stdin), TRANSCRIPT.jsonl, or a model");
         d->add_option("--key", a->key, "Key file (watermark keygen)")->required();
         d->add_option("--tokenizer", a->tokenizer, "Tokenizer of the text");
         d->add_option("--ids", a->ids, "Token ids instead of INPUT, comma-separated");
         d->add_option("--teacher-tokenizer", a->teacher_tokenizer,
                       "Model mode: the key's (teacher's) tokenizer");
         d->add_option("--teacher", a->teacher,
                       "Model mode: the teacher model (reference distribution)");
         d->add_option("--prompts", a->prompts,
                       "Model mode: prompts (lines; <bos> or empty line: BOS only)");
         d->add_option("--samples", a->samples,
                       "Model mode: samples of the default prompts (256; ignored with --prompts)")
             ->check(CLI::Range(1, 1000000));
         d->add_option("--max-tokens", a->max_tokens, "Model mode: tokens per sample (128)")
             ->check(CLI::PositiveNumber);
         d->add_option("--temperature", a->temperature, "Model mode: sampling (1.0)")
             ->check(CLI::PositiveNumber);
         d->add_option("--seed", a->seed, "Model mode: sampling seed (0)");
         d->add_option("--alpha", a->alpha, "Significance level (default 1e-3)");
         d->add_flag("--no-dedup", a->no_dedup, "Score repeated n-grams every time");
         d->add_option("--null-keys", a->null_keys,
                       "Model mode: p-values under N random keys instead, and "
                       "their KS test against uniform")
             ->check(CLI::Range(1, 100000));
         d->add_flag("--json", a->json, "Print one JSON object");
         d->add_option("--device", a->device, "auto, cpu or cuda (default cpu)");
         d->add_option("--threads", a->threads, "CPU threads")->check(CLI::NonNegativeNumber);
         return [a] { return a->keygen->parsed() ? run_keygen(*a) : run_detect(*a); };
     }});

}  // namespace
}  // namespace modelprint::cli
