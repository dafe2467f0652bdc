// The keyed watermark evidence section (see watermark_section.h).
#include "forensics/watermark_section.h"

#include <algorithm>
#include <cmath>

#include "fingerprint/base/json.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/logit_print.h"
#include "fingerprint/model/model.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "fingerprint/transcript.h"
#include "forensics/pipeline.h"
#include "forensics/stats.h"

namespace modelprint {
namespace {

constexpr double kLn10 = 2.302585092994045684;

std::string num(double x) { return std::isfinite(x) ? fmt::format("{:.4g}", x) : "-"; }
Json finite(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

std::string p_text(double log_p) {
    // p as a decimal where it is representable, else 10^x (it may underflow a double)
    const double l10 = log_p / kLn10;
    if (l10 > -300) return fmt::format("{:.3g}", std::exp(log_p));
    return fmt::format("1e{:.1f}", l10);
}

std::string verdict_word(const WatermarkEvidence& e) {
    if (!e.conclusive) return "inconclusive";
    return e.p_value < e.alpha ? "detected" : "not-detected";
}

const char* mass_name(const GreenMassTest& t) {
    if (t.log_ratio) return "log-ratio";
    if (!t.reference) return "green-mass";
    return t.weights == ContextWeights::kEqual ? "probability-difference, equal weights"
                                               : "probability-difference";
}

Json mass_json(const GreenMassTest& t, Statistic s) {
    return {{"mode", "open-model"},
            {"statistic", std::string(statistic_name(s))},
            {"variant", mass_name(t)},
            {"reference", t.reference},
            {"weights", t.weights == ContextWeights::kEqual ? "equal" : "sqrt-positions"},
            {"scored", t.positions},
            {"contexts", t.contexts},
            {"green_mass", t.green_mass},
            {"expected", t.expected},
            {"z", t.z},
            {"p_value", t.p_value},
            {"log10_p", finite(t.log_p / kLn10)},
            {"conclusive", t.conclusive}};
}

Json text_json(const WatermarkTest& t, Statistic s, const char* mode) {
    Json j = {{"mode", mode},
              {"statistic", std::string(statistic_name(s))},
              {"tokens", t.count.tokens},
              {"scored", t.count.scored},
              {"green", t.count.green},
              {"green_fraction", t.green_fraction},
              {"z", t.z},
              {"p_value", t.p_value},
              {"log10_p", finite(t.log_p / kLn10)},
              {"verdict", std::string(watermark_verdict_name(t.verdict))}};
    if (t.verdict == WatermarkVerdict::kInconclusive) j["tokens_needed"] = t.tokens_needed;
    return j;
}

StatisticRow row_of(Statistic s, double z, double p, const std::vector<double>& null_z) {
    StatisticRow r;
    r.statistic = s;
    r.available = true;
    r.value = z;
    r.p_value = p;
    r.n_null = null_z.size();
    if (!null_z.empty()) {
        double m = 0.0, v = 0.0;
        for (double x : null_z) m += x;
        m /= static_cast<double>(null_z.size());
        for (double x : null_z) v += (x - m) * (x - m);
        r.null_mean = m;
        r.null_sd = null_z.size() > 1 ? std::sqrt(v / static_cast<double>(null_z.size() - 1)) : 0;
        r.percentile = 100.0 *
                       static_cast<double>(std::count_if(null_z.begin(), null_z.end(),
                                                         [&](double x) { return x < z; })) /
                       static_cast<double>(null_z.size());
    }
    return r;
}

std::string calibration_text(const WatermarkEvidence& e) {
    if (e.mode == WatermarkEvidence::Mode::kText) {
        return "exact binomial tail P(X >= green), X ~ Bin(scored, g/V): the green count of text "
               "that does not depend on the key";
    }
    return "exact null mean and variance of each context's green sum over random green lists "
           "(sampling g of V ids without replacement), contexts combined by sqrt(positions)-"
           "weighted Stouffer, normal tail";
}

}  // namespace

WatermarkSection::WatermarkSection(WatermarkEvidence evidence) : e_(std::move(evidence)) {}

Vote WatermarkSection::vote() const {
    Vote v;
    v.basis = Basis::kWatermark;
    const std::string what = e_.mode == WatermarkEvidence::Mode::kText
                                 ? "text detection over B's responses"
                                 : "open-model radioactivity test of B";
    const std::string commit = "key commitment sha256:" + e_.key_commitment.substr(0, 16);
    if (!e_.conclusive) {
        v.relation = Relation::kUnknown;
        v.can_judge = false;
        if (e_.mode == WatermarkEvidence::Mode::kText) {
            v.reason = fmt::format(
                "watermark inconclusive: {} scored tokens in B's responses, {} more needed for "
                "p < {:g}",
                e_.text.pooled.count.scored, e_.tokens_needed, e_.alpha);
        } else {
            v.reason = fmt::format(
                "watermark inconclusive: {} contexts with variance, fewer than the {} the "
                "open-model test needs",
                e_.radioactivity.open_model.contexts, e_.min_contexts);
        }
        return v;
    }
    v.can_judge = true;
    if (detected()) {
        v.relation = Relation::kDistilled;
        v.confidence = Confidence::kHigh;
        v.strength = confidence_value(v.confidence);
        v.reason = fmt::format(
            "the keyed watermark of A is detected in B: {} z = {:.2f}, p = {} < alpha = {:g} "
            "({})",
            what, e_.z, p_text(e_.log_p), e_.alpha, commit);
    } else {
        v.relation = Relation::kUnknown;
        v.reason = fmt::format(
            "the keyed watermark of A is not detected in B: {} z = {:.2f}, p = {} >= alpha = "
            "{:g} ({}); no accusation, and no evidence of independence either",
            what, e_.z, p_text(e_.log_p), e_.alpha, commit);
    }
    return v;
}

std::optional<DecisiveStatistic> WatermarkSection::decisive() const {
    DecisiveStatistic d;
    d.statistic = e_.statistic;
    d.value = e_.z;
    d.p_value = e_.p_value;
    d.log10_p = e_.log_p / kLn10;
    d.text = fmt::format("watermark.{} = {:.2f} (p = {}; null: {})", statistic_name(e_.statistic),
                         e_.z, p_text(e_.log_p), calibration_text(e_));
    return d;
}

std::vector<StatisticRow> WatermarkSection::statistics() const {
    std::vector<StatisticRow> rows;
    if (e_.mode == WatermarkEvidence::Mode::kText) {
        rows.push_back(row_of(Statistic::kWatermarkTextZ, e_.text.pooled.z, e_.text.pooled.p_value,
                              e_.null_z));
        return rows;
    }
    const RadioactivityResult& r = e_.radioactivity;
    rows.push_back(
        row_of(Statistic::kWatermarkOpenModelZ, r.open_model.z, r.open_model.p_value, e_.null_z));
    rows.push_back(row_of(Statistic::kWatermarkOpenModelEqualZ, r.open_model_equal.z,
                          r.open_model_equal.p_value, {}));
    rows.push_back(row_of(Statistic::kWatermarkOpenModelPlainZ, r.open_model_plain.z,
                          r.open_model_plain.p_value, {}));
    rows.push_back(
        row_of(Statistic::kWatermarkGenerationZ, r.generation.z, r.generation.p_value, {}));
    return rows;
}

std::optional<NullDistribution> WatermarkSection::null_distribution() const {
    if (e_.null_z.empty()) return std::nullopt;
    NullDistribution n;
    n.statistic = e_.statistic;
    n.observed = e_.z;
    n.values = e_.null_z;
    n.description = fmt::format(
        "the same test on the same data under {} random keys B cannot know: KS of their p-values "
        "against uniform D = {:.3f}, p = {:.3g}; min p = {:.3g}; {} below alpha. The p-value "
        "itself is exact ({})",
        e_.null_z.size(), e_.null_ks_d, e_.null_ks_p, e_.null_min_p, e_.null_below_alpha,
        calibration_text(e_));
    return n;
}

std::string WatermarkSection::text() const {
    const Vote v = vote();
    std::string out = fmt::format("watermark: {} — {}\n", relation_name(v.relation), v.reason);
    out += fmt::format("  key          commitment sha256:{}\n", e_.key_commitment);
    out += fmt::format("  teacher A    {}\n", e_.teacher);
    if (e_.mode == WatermarkEvidence::Mode::kText) {
        const WatermarkTest& t = e_.text.pooled;
        out += fmt::format(
            "  text         {} responses, {} scored (de-duplicated), {} green ({:.3f}, expected "
            "{:.3f}), z {:.2f}, p {} -> {}\n",
            e_.text.responses.size(), t.count.scored, t.count.green, t.green_fraction, e_.gamma,
            t.z, p_text(t.log_p), watermark_verdict_name(t.verdict));
    } else {
        const RadioactivityResult& r = e_.radioactivity;
        if (r.cross_tokenizer) {
            out += fmt::format(
                "  suspect      cross-tokenizer: {} of {} teacher token strings shared\n",
                r.shared_tokens, r.teacher_vocab);
        }
        auto line = [&](const char* label, const GreenMassTest& t) {
            out += fmt::format(
                "  {:<12} {} prefixes, {} contexts, green mass {:.4f} (expected {:.4f}), z {:.2f}, "
                "p {}{}\n",
                label, t.positions, t.contexts, t.green_mass, t.expected, t.z, p_text(t.log_p),
                t.conclusive ? "" : " (inconclusive)");
        };
        line("open-model", r.open_model);
        line("  equal w.", r.open_model_equal);
        line("  plain", r.open_model_plain);
        out += fmt::format(
            "  generation   {} samples, {} scored, green fraction {:.3f}, z {:.2f}, p {}\n",
            r.responses, r.generation.count.scored, r.generation.green_fraction, r.generation.z,
            p_text(r.generation.log_p));
    }
    if (!e_.null_z.empty()) {
        out += fmt::format(
            "  null keys    {} random keys: KS p {:.3g}, min p {:.3g}, {} below alpha {:g}\n",
            e_.null_z.size(), e_.null_ks_p, e_.null_min_p, e_.null_below_alpha, e_.alpha);
    }
    return out;
}

std::string WatermarkSection::json() const {
    const Vote v = vote();
    Json j;
    j["ran"] = true;
    j["mode"] = e_.mode == WatermarkEvidence::Mode::kText ? "text" : "open-model";
    j["key_commitment"] = e_.key_commitment;
    j["teacher"] = e_.teacher;
    j["suspect"] = e_.suspect;
    j["alpha"] = e_.alpha;
    j["verdict"] = verdict_word(e_);
    j["vote"] = std::string(relation_name(v.relation));
    j["reason"] = v.reason;
    j["conclusive"] = e_.conclusive;
    j["decisive"] = {{"statistic", std::string(statistic_name(e_.statistic))},
                     {"z", e_.z},
                     {"p_value", e_.p_value},
                     {"log10_p", finite(e_.log_p / kLn10)},
                     {"null", calibration_text(e_)}};
    Json tests = Json::array();
    if (e_.mode == WatermarkEvidence::Mode::kText) {
        tests.push_back(text_json(e_.text.pooled, Statistic::kWatermarkTextZ, "text"));
        Json rs = Json::array();
        for (const auto& [id, t] : e_.text.responses) {
            Json x = text_json(t, Statistic::kWatermarkTextZ, "text");
            x["id"] = id;
            rs.push_back(x);
        }
        j["responses"] = rs;
        if (!e_.conclusive) j["tokens_needed"] = e_.tokens_needed;
    } else {
        const RadioactivityResult& r = e_.radioactivity;
        tests.push_back(mass_json(r.open_model, Statistic::kWatermarkOpenModelZ));
        tests.push_back(mass_json(r.open_model_equal, Statistic::kWatermarkOpenModelEqualZ));
        tests.push_back(mass_json(r.open_model_plain, Statistic::kWatermarkOpenModelPlainZ));
        if (r.open_model_logratio.reference) {
            Json lr = mass_json(r.open_model_logratio, Statistic::kNone);
            lr.erase("statistic");
            tests.push_back(lr);
        }
        tests.push_back(text_json(r.generation, Statistic::kWatermarkGenerationZ, "generation"));
        j["cross_tokenizer"] = r.cross_tokenizer;
        j["shared_tokens"] = r.shared_tokens;
        j["teacher_vocab"] = r.teacher_vocab;
        j["responses"] = r.responses;
        j["min_contexts"] = e_.min_contexts;
    }
    j["tests"] = tests;
    j["null_keys"] = {{"keys", e_.null_z.size()},
                      {"ks_d", e_.null_ks_d},
                      {"ks_p", e_.null_ks_p},
                      {"min_p", e_.null_min_p},
                      {"below_alpha", e_.null_below_alpha},
                      {"z", e_.null_z}};
    return j.dump();
}

void WatermarkSection::report(ReportParts& parts) const {
    const Vote v = vote();
    ReportTable t;
    t.title = "Keyed watermark evidence";
    t.text = fmt::format(
        "{}: {}. The key is not in this report; its commitment is sha256:{} (reveal the key to "
        "let anyone re-check). Null: {}.",
        relation_name(v.relation), v.reason, e_.key_commitment, calibration_text(e_));
    t.columns = {"test", "scored", "contexts / green", "z", "p-value", "decisive"};
    if (e_.mode == WatermarkEvidence::Mode::kText) {
        const WatermarkTest& w = e_.text.pooled;
        t.rows.push_back({"text (pooled, de-duplicated)", std::to_string(w.count.scored),
                          std::to_string(w.count.green), num(w.z), p_text(w.log_p), "yes"});
    } else {
        const RadioactivityResult& r = e_.radioactivity;
        struct Row {
            const char* name;
            const GreenMassTest* m;
            bool decisive;
        };
        const Row mass_rows[] = {{"open-model p_s - p_t", &r.open_model, true},
                                 {"open-model, equal weights", &r.open_model_equal, false},
                                 {"open-model plain", &r.open_model_plain, false}};
        for (const Row& x : mass_rows) {
            t.rows.push_back({x.name, std::to_string(x.m->positions), std::to_string(x.m->contexts),
                              num(x.m->z), p_text(x.m->log_p), x.decisive ? "yes" : "no"});
        }
        t.rows.push_back({"generation", std::to_string(r.generation.count.scored),
                          std::to_string(r.generation.count.green), num(r.generation.z),
                          p_text(r.generation.log_p), "no"});
    }
    parts.tables.push_back(std::move(t));
    if (auto n = null_distribution()) {
        ReportDistribution d;
        d.title = fmt::format("Watermark: {} against random keys", statistic_name(n->statistic));
        d.statistic = std::string(statistic_name(n->statistic));
        d.observed = n->observed;
        d.background = n->values;
        d.p_value = e_.p_value;
        d.note = n->description;
        parts.distributions.push_back(std::move(d));
    }
}

// ---- runner

namespace {

Result<GreenLists> section_lists(const WatermarkKey& key, int64_t teacher_vocab,
                                 const Tokenizer& tok) {
    const int64_t V = key.vocab_size > 0 ? key.vocab_size : teacher_vocab;
    if (key.vocab_size > 0 && teacher_vocab > 0 && key.vocab_size != teacher_vocab) {
        return invalid_argument(
            "--watermark-key: the key is bound to a vocabulary of {} ids, the teacher A has {}",
            key.vocab_size, teacher_vocab);
    }
    if (tok.vocab_size() > V) {
        return invalid_argument(
            "--watermark-key: the key's vocabulary ({} ids) does not match the teacher A's "
            "tokenizer ({} ids)",
            V, tok.vocab_size());
    }
    return GreenLists::create(key, V);
}

void null_summary(WatermarkEvidence& e, const std::vector<double>& p) {
    if (p.empty()) return;
    const KsResult ks = ks_uniform(p);
    e.null_ks_d = ks.d;
    e.null_ks_p = ks.p_value;
    e.null_min_p = *std::min_element(p.begin(), p.end());
    e.null_below_alpha = std::count_if(p.begin(), p.end(), [&](double x) { return x < e.alpha; });
}

Result<std::unique_ptr<EvidenceSection>> skipped(std::string reason) {
    return std::unique_ptr<EvidenceSection>(
        std::make_unique<SkippedSection>(SectionKind::kWatermark, std::move(reason)));
}

}  // namespace

bool watermark_section_applies(const PairContext& c) {
    return c.request != nullptr && c.request->watermark_key.has_value();
}

Result<std::unique_ptr<EvidenceSection>> run_watermark_section(PairContext& c) {
    const CompareRequest& req = *c.request;
    const WatermarkKey& key = *req.watermark_key;
    const WatermarkSectionOptions& o = req.watermark;
    if (c.a.kind != "model") {
        return skipped(fmt::format(
            "the watermark section needs the teacher A as a model (its tokenizer is the key's "
            "vocabulary); {} is a {}",
            c.a.path, c.a.kind));
    }
    WatermarkEvidence e;
    e.key_commitment = watermark_key_commitment(key);
    e.alpha = o.radioactivity.text.alpha;
    e.teacher = c.a.path;
    e.suspect = c.b.path;
    e.min_contexts = o.radioactivity.min_contexts;

    std::unique_ptr<Model> own_a;
    const Model* teacher = c.pair != nullptr ? c.pair->model_a.get() : nullptr;
    if (teacher == nullptr) {
        MP_ASSIGN_OR_RETURN(own_a, Model::open(c.a.path));
        teacher = own_a.get();
    }
    auto t_tok = load_model_tokenizer(*teacher);
    if (!t_tok.ok()) return skipped("no teacher tokenizer: " + t_tok.status().message());
    MP_ASSIGN_OR_RETURN(GreenLists lists,
                        section_lists(key, teacher->config().vocab_size, **t_tok));
    e.gamma = lists.gamma();
    const std::vector<WatermarkKey> nulls = null_watermark_keys(key, o.null_keys, o.null_seed);
    std::vector<double> null_p;

    if (c.b.kind == "transcript") {
        e.mode = WatermarkEvidence::Mode::kText;
        e.statistic = Statistic::kWatermarkTextZ;
        MP_ASSIGN_OR_RETURN(Transcript tr, load_transcript(c.b.path));
        MP_ASSIGN_OR_RETURN(std::vector<ScoredSequence> seqs, transcript_sequences(tr, **t_tok));
        auto det = detect_sequences(lists, seqs, o.radioactivity.text);
        if (!det.ok()) return skipped("B's transcript: " + det.status().message());
        e.text = std::move(*det);
        const WatermarkTest& t = e.text.pooled;
        e.z = t.z;
        e.log_p = t.log_p;
        e.p_value = t.p_value;
        e.conclusive = t.verdict != WatermarkVerdict::kInconclusive;
        e.tokens_needed = t.tokens_needed;
        for (const WatermarkKey& k : nulls) {
            MP_ASSIGN_OR_RETURN(GreenLists l, GreenLists::create(k, lists.vocab_size()));
            MP_ASSIGN_OR_RETURN(TextDetection d, detect_sequences(l, seqs, o.radioactivity.text));
            e.null_z.push_back(d.pooled.z);
            null_p.push_back(d.pooled.p_value);
        }
        null_summary(e, null_p);
        return std::unique_ptr<EvidenceSection>(std::make_unique<WatermarkSection>(std::move(e)));
    }

    // B a model: radioactivity, with A as the reference distribution.
    e.mode = WatermarkEvidence::Mode::kOpenModel;
    e.statistic = Statistic::kWatermarkOpenModelZ;
    std::unique_ptr<Model> own_b;
    const Model* suspect = c.pair != nullptr ? c.pair->model_b.get() : nullptr;
    if (suspect == nullptr) {
        auto m = Model::open(c.b.path);
        if (!m.ok()) return skipped("B: " + m.status().message());
        own_b = std::move(*m);
        suspect = own_b.get();
    }
    auto s_tok = load_model_tokenizer(*suspect);
    if (!s_tok.ok()) return skipped("B has no tokenizer: " + s_tok.status().message());
    BackendOptions bo;
    bo.threads = req.weights.threads;
    auto sb = make_backend(*suspect, req.behavior.device, bo);
    if (!sb.ok()) return skipped("B cannot run on the engine: " + sb.status().message());
    auto tb = make_backend(*teacher, req.behavior.device, bo);
    if (!tb.ok()) return skipped("A cannot run on the engine: " + tb.status().message());
    RadioactivityInput in;
    in.suspect = sb->get();
    in.suspect_tokenizer = s_tok->get();
    in.teacher_tokenizer = t_tok->get();
    in.teacher = tb->get();
    in.prompts = default_radioactivity_prompts(o.samples);
    auto data = collect_radioactivity(lists, in, o.radioactivity);
    if (!data.ok()) {
        if (data.status().code() == StatusCode::kInvalidArgument) return data.status();
        return skipped("the radioactivity test cannot read B: " + data.status().message());
    }
    MP_ASSIGN_OR_RETURN(e.radioactivity, evaluate_radioactivity(lists, *data, o.radioactivity));
    const GreenMassTest& om = e.radioactivity.open_model;
    e.z = om.z;
    e.log_p = om.log_p;
    e.p_value = om.p_value;
    e.conclusive = om.conclusive;
    for (const WatermarkKey& k : nulls) {
        MP_ASSIGN_OR_RETURN(GreenLists l, GreenLists::create(k, lists.vocab_size()));
        MP_ASSIGN_OR_RETURN(RadioactivityResult r,
                            evaluate_radioactivity(l, *data, o.radioactivity));
        e.null_z.push_back(r.open_model.z);
        null_p.push_back(r.open_model.p_value);
    }
    null_summary(e, null_p);
    return std::unique_ptr<EvidenceSection>(std::make_unique<WatermarkSection>(std::move(e)));
}

}  // namespace modelprint
