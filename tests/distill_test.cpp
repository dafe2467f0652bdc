// Distillation detection over the behaviour manifest (testdata/behavior/manifest.json, made by
// testdata/gen/make_students.py): every distilled student is called `distilled` against its
// teacher — also when the teacher is given only as a transcript — and every independent pair
// (controls included) is called `independent`; ROC AUC of the cross-likelihood z over distilled
// vs independent pairs >= 0.95. Background and null pairs come from the manifest's ground
// truth: the background of a pair is every model independent of both sides; the null is every
// independent pair within background ∪ {a, b} except the pair itself (leave-one-out).
// Writes the per-pair table to <build>/behavior_pairs.md (copied into docs/behavior.md).
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "forensics/behavior_compare.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::source_dir;

struct Family {
    std::vector<std::string> names;  // participants, models first, then transcripts
    std::map<std::string, std::string> paths;
    std::map<std::string, std::string> alias;  // transcript -> the model it stands for
    std::map<std::pair<std::string, std::string>, std::string> rel;
    std::string relation(const std::string& a0, const std::string& b0) const {
        const std::string a = alias.count(a0) ? alias.at(a0) : a0;
        const std::string b = alias.count(b0) ? alias.at(b0) : b0;
        if (a == b) return "same";
        auto it = rel.find({std::min(a, b), std::max(a, b)});
        return it == rel.end() ? "unknown" : it->second;
    }
};

Result<Family> load_family() {
    const auto path = source_dir() / "testdata/behavior/manifest.json";
    MP_ASSIGN_OR_RETURN(std::string text, read_file(path.string()));
    MP_ASSIGN_OR_RETURN(Json j, parse_json(text, "behavior manifest"));
    Family f;
    for (const auto& [name, m] : j["models"].items()) {
        f.names.push_back(name);
        f.paths[name] = (source_dir() / m["path"].get<std::string>()).string();
    }
    for (const auto& [name, t] : j["transcripts"].items()) {
        f.names.push_back(name);
        f.paths[name] = (source_dir() / t["path"].get<std::string>()).string();
        f.alias[name] = t["of"].get<std::string>();
    }
    for (const auto& p : j["pairs"]) {
        const std::string a = p["a"], b = p["b"];
        f.rel[{std::min(a, b), std::max(a, b)}] = p["relation"].get<std::string>();
    }
    return f;
}

class DistillFamily : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto f = load_family();
        ASSERT_TRUE(f.ok()) << f.status().to_string();
        family_ = new Family(std::move(f).value());
        auto p = load_probe_set("default");
        ASSERT_TRUE(p.ok());
        probes_ = new ProbeSet(std::move(p).value());
        panel_ = new BehaviorPanel(*probes_);
        for (const auto& n : family_->names) {
            auto part = open_participant(family_->paths[n], *probes_, DeviceKind::kCpu);
            ASSERT_TRUE(part.ok()) << n << ": " << part.status().to_string();
            (*part)->name = n;
            index_[n] = panel_->add(std::move(part).value());
        }
    }
    static void TearDownTestSuite() {
        delete panel_;
        delete probes_;
        delete family_;
    }

    // The models (not transcripts) known to be independent of both a and b.
    static std::vector<std::string> independent_of(const std::string& a, const std::string& b) {
        std::vector<std::string> bg;
        for (const auto& n : family_->names) {
            if (n == a || n == b || family_->alias.count(n)) continue;
            if (family_->relation(n, a) == "independent" && family_->relation(n, b) == "independent") {
                bg.push_back(n);
            }
        }
        return bg;
    }

    // Background and null pairs of (a, b) from the ground truth (file comment); every null pair
    // is judged against the models independent of it, as the tested pair is.
    static BehaviorOptions options_for(const std::string& a, const std::string& b) {
        BehaviorOptions o;
        std::vector<std::string> u = independent_of(a, b);
        for (const auto& n : u) o.background.push_back(index_[n]);
        u.push_back(a);
        u.push_back(b);
        for (size_t i = 0; i < u.size(); ++i) {
            for (size_t k = i + 1; k < u.size(); ++k) {
                const bool tested = (u[i] == a && u[k] == b) || (u[i] == b && u[k] == a);
                if (!tested && family_->relation(u[i], u[k]) == "independent") {
                    o.null_pairs.emplace_back(index_[u[i]], index_[u[k]]);
                    std::vector<size_t> resp;
                    for (const auto& n : independent_of(u[i], u[k])) resp.push_back(index_[n]);
                    o.null_responders.push_back(std::move(resp));
                }
            }
        }
        return o;
    }

    static Family* family_;
    static ProbeSet* probes_;
    static BehaviorPanel* panel_;
    static std::map<std::string, size_t> index_;
};
Family* DistillFamily::family_ = nullptr;
ProbeSet* DistillFamily::probes_ = nullptr;
BehaviorPanel* DistillFamily::panel_ = nullptr;
std::map<std::string, size_t> DistillFamily::index_;

std::string fmt_stat(const BehaviorEvidence& e, Statistic name, bool p) {
    const BehaviorStat* s = e.stat(name);
    if (s == nullptr || !s->available) return "–";
    return p ? fmt::format("{:.3f} (p {:.2g})", s->cal.value, s->cal.p_t) : fmt::format("{:.3f}", s->cal.value);
}

// Every distilled/independent pair of the manifest, compared with its ground-truth background.
struct PairOutcome {
    std::string a, b, truth;
    Result<BehaviorEvidence> e;
};
std::vector<PairOutcome> compare_all_pairs(const Family& f,
                                           const std::function<BehaviorOptions(const std::string&,
                                                                               const std::string&)>& opts,
                                           BehaviorPanel& panel, std::map<std::string, size_t>& index) {
    std::vector<PairOutcome> out;
    for (size_t i = 0; i < f.names.size(); ++i) {
        for (size_t k = i + 1; k < f.names.size(); ++k) {
            const std::string& a = f.names[i];
            const std::string& b = f.names[k];
            const std::string truth = f.relation(a, b);
            if (truth != "distilled" && truth != "independent") continue;  // siblings, derived
            out.push_back({a, b, truth, compare_behavior(panel, index[a], index[b], opts(a, b))});
        }
    }
    return out;
}

TEST_F(DistillFamily, CrossLikelihoodSeparatesDistilledFromIndependent) {
    std::vector<double> pos, neg, pos_s, neg_s, pos_d, neg_d;
    std::string table =
        "| a | b | truth | verdict | distillation z | decisive p | xl z (b←a / a←b) | scorer z (b←a / a←b) | null pairs | JS | top-k | CKA | LCS | same-domain controls of a (domain z; distillation z with b) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const PairOutcome& o : compare_all_pairs(*family_, options_for, *panel_, index_)) {
        ASSERT_TRUE(o.e.ok()) << o.a << " vs " << o.b << ": " << o.e.status().to_string();
        const BehaviorEvidence& e = *o.e;
        const BehaviorStat* xl = e.stat(Statistic::kCrossLikelihoodZ);
        ASSERT_TRUE(xl->available) << o.a << " vs " << o.b;
        (o.truth == "distilled" ? pos : neg).push_back(xl->cal.value);
        const BehaviorStat* sc = e.stat(Statistic::kCrossLikelihoodScorerZ);
        const BehaviorStat* dz = e.stat(Statistic::kDistillationZ);
        ASSERT_TRUE(sc->available && dz->available) << o.a << " vs " << o.b;
        (o.truth == "distilled" ? pos_s : neg_s).push_back(sc->cal.value);
        (o.truth == "distilled" ? pos_d : neg_d).push_back(dz->cal.value);
        auto z = [](const DirectionalXl& d) {
            return d.available ? fmt::format("{:.2f}", d.z) : std::string("–");
        };
        auto sz = [](const DirectionalXl& d) {
            return d.scorer_available ? fmt::format("{:.2f}", d.scorer_z) : std::string("–");
        };
        std::string controls = e.domain_controls_checked ? std::string() : std::string("not checked");
        for (const DomainControl& c : e.domain_controls) {
            controls += fmt::format("{}{} ({:.2f}; {})", controls.empty() ? "" : ", ", c.name, c.domain_z,
                                    c.has_pair_stat ? fmt::format("{:.2f}", c.pair_stat) : "–");
        }
        if (controls.empty()) controls = "none";
        table += fmt::format("| {} | {} | {} | {} | {:.2f} | {:.2g} | {} / {} | {} / {} | {} | {} | {} | {} | {} | {} |\n",
                             o.a, o.b, o.truth, relation_name(e.relation), dz->cal.value, e.p_value,
                             z(e.xl_b_given_a), z(e.xl_a_given_b), sz(e.xl_b_given_a),
                             sz(e.xl_a_given_b), e.null_pairs, fmt_stat(e, Statistic::kLogitJs, false),
                             fmt_stat(e, Statistic::kLogitTopkOverlap, false),
                             fmt_stat(e, Statistic::kCkaBestMatch, false), fmt_stat(e, Statistic::kOutputLcs, false),
                             controls);
    }
    const double auc = roc_auc(pos, neg);
    const double auc_s = roc_auc(pos_s, neg_s);
    const double auc_d = roc_auc(pos_d, neg_d);
    table += fmt::format("\nROC AUC, {} distilled vs {} independent pairs: raw cross-likelihood z "
                         "{:.4f}; scorer-side z {:.4f}; distillation z {:.4f}\n", pos.size(),
                         neg.size(), auc, auc_s, auc_d);
    // The matrix behind it: S[c][r], candidate c's mean per-token log-likelihood of r's answers.
    table += "\nS[c][r] (rows: candidate c; columns: responder r), nats/token:\n\n| c \\ r |";
    for (const auto& r : family_->names) table += " " + r + " |";
    table += "\n|---|";
    for (size_t r = 0; r < family_->names.size(); ++r) table += "---|";
    table += "\n";
    for (const auto& c : family_->names) {
        if (!panel_->at(index_[c]).can_score()) continue;
        table += "| " + c + " |";
        for (const auto& r : family_->names) {
            auto v = c == r ? Result<std::optional<double>>(std::optional<double>())
                            : panel_->loglik(index_[c], index_[r], BehaviorOptions{});
            ASSERT_TRUE(v.ok()) << c << " scoring " << r << ": " << v.status().to_string();
            table += *v ? fmt::format(" {:.2f} |", **v) : std::string(" – |");
        }
        table += "\n";
    }
    std::ofstream(std::string(MP_BINARY_DIR) + "/behavior_pairs.md") << table;
    EXPECT_GE(pos.size(), 8u);
    EXPECT_GE(neg.size(), 40u);
    EXPECT_GE(auc, 0.95);
    EXPECT_GE(auc_d, 0.95);
}


// The verdict requirement, as far as it holds (docs/behavior.md, "Hub answerers" and
// "Open problem"): every distilled student is called `distilled` against its teacher (model and
// transcript), and no independent pair is — except control_seq vs control_seq2, two controls
// trained on the SAME 700 distillation prompts (disjoint story answers), the one known false
// accusation of distillation_z. It is listed here so that the test fails on any other false
// accusation, and also when that one goes away (then drop the exception and say so in the docs).
TEST_F(DistillFamily, EveryDistilledPairDetectedOneKnownFalseAccusation) {
    const std::set<std::pair<std::string, std::string>> known = {{"control_seq", "control_seq2"}};
    int distilled = 0, detected = 0;
    std::set<std::pair<std::string, std::string>> accused;
    for (const PairOutcome& o : compare_all_pairs(*family_, options_for, *panel_, index_)) {
        ASSERT_TRUE(o.e.ok()) << o.a << " vs " << o.b << ": " << o.e.status().to_string();
        if (o.truth == "distilled") {
            ++distilled;
            detected += o.e->relation == Relation::kDistilled ? 1 : 0;
            EXPECT_EQ(relation_name(o.e->relation), "distilled") << o.a << " vs " << o.b << ": " << o.e->reason
                                                  << "\n" << behavior_evidence_text(*o.e);
        } else if (o.e->relation != Relation::kIndependent) {
            accused.insert({o.a, o.b});
            EXPECT_TRUE(known.count({o.a, o.b})) << o.a << " vs " << o.b << " (independent) called "
                                                 << relation_name(o.e->relation) << ": " << o.e->reason;
        }
    }
    EXPECT_EQ(distilled, 10);
    EXPECT_EQ(detected, 10);
    EXPECT_EQ(accused, known);
}

// The idiosyncrasy test (forensics/behavior_idio.h; docs/behavior.md, "Open") next to
// distillation_z for every pair, with the verdict the three-test statistic distillation_idio_z
// would give under the same rule (calibrated p < alpha and above every null value), and two
// diagnostic selections of the same test (all bytes; the certain half). Writes
// <build>/behavior_idio.md. The statistic is reported, not decisive: the verdicts stay those of
// distillation_z (the rule was fixed before the run and failed: docs).
TEST_F(DistillFamily, IdiosyncrasyReport) {
    std::vector<double> pos_d, neg_d, pos_i, neg_i, pos_j, neg_j;
    std::vector<std::string> false_old, false_new, missed_old, missed_new;
    std::string table =
        "| a | b | truth | distillation z | verdict | idio z (b←a / a←b) | idio all-bytes z | "
        "idio certain-half z | distillation_idio z | p | verdict (idio) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n";
    // z of a variant selection for direction c <- r against the pair's background scorers.
    auto variant = [&](const std::string& c, const std::string& r, const std::vector<std::string>& bg,
                       IdioSelection sel) -> std::string {
        if (!panel_->at(index_[c]).can_score()) return "–";
        auto cb = panel_->byte_scores(index_[c], index_[r], BehaviorOptions{});
        if (!cb.ok()) return "err";
        std::vector<const std::vector<ByteScores>*> xb;
        for (const auto& x : bg) {
            auto b = panel_->byte_scores(index_[x], index_[r], BehaviorOptions{});
            if (!b.ok()) return "err";
            xb.push_back(*b);
        }
        auto t = idiosyncrasy_test(**cb, xb, sel);
        return t.ok() && t->available ? fmt::format("{:.2f}", t->z) : std::string("–");
    };
    auto with_idio = [](const std::string& a, const std::string& b) {
        BehaviorOptions o = options_for(a, b);
        o.idiosyncrasy = true;
        return o;
    };
    for (const PairOutcome& o : compare_all_pairs(*family_, with_idio, *panel_, index_)) {
        ASSERT_TRUE(o.e.ok()) << o.a << " vs " << o.b << ": " << o.e.status().to_string();
        const BehaviorEvidence& e = *o.e;
        const BehaviorStat* dz = e.stat(Statistic::kDistillationZ);
        const BehaviorStat* iz = e.stat(Statistic::kIdiosyncrasyZ);
        const BehaviorStat* jz = e.stat(Statistic::kDistillationIdioZ);
        ASSERT_TRUE(dz->available && iz->available && jz->available) << o.a << " vs " << o.b;
        const bool pos = o.truth == "distilled";
        (pos ? pos_d : neg_d).push_back(dz->cal.value);
        (pos ? pos_i : neg_i).push_back(iz->cal.value);
        (pos ? pos_j : neg_j).push_back(jz->cal.value);
        const bool old_call = e.relation == Relation::kDistilled;
        const bool new_call = jz->cal.sufficient && jz->cal.p_t < 0.01 && jz->cal.exceeds_null;
        const std::string name = o.a + "/" + o.b;
        if (pos && !old_call) missed_old.push_back(name);
        if (pos && !new_call) missed_new.push_back(name);
        if (!pos && old_call) false_old.push_back(name);
        if (!pos && new_call) false_new.push_back(name);
        auto iz_dir = [](const DirectionalXl& d) {
            return d.idio.available ? fmt::format("{:.2f}", d.idio.z) : std::string("–");
        };
        const auto bg = independent_of(o.a, o.b);
        table += fmt::format(
            "| {} | {} | {} | {:.2f} | {} | {} / {} | {} / {} | {} / {} | {:.2f} | {:.2g} | {} |\n",
            o.a, o.b, o.truth, dz->cal.value, relation_name(e.relation), iz_dir(e.xl_b_given_a),
            iz_dir(e.xl_a_given_b), variant(o.b, o.a, bg, IdioSelection::kAll),
            variant(o.a, o.b, bg, IdioSelection::kAll),
            variant(o.b, o.a, bg, IdioSelection::kCertain),
            variant(o.a, o.b, bg, IdioSelection::kCertain), jz->cal.value, jz->cal.p_t,
            new_call ? "distilled" : "independent");
    }
    auto minmax = [](const std::vector<double>& v, bool lo) {
        return v.empty() ? 0.0 : (lo ? *std::min_element(v.begin(), v.end())
                                     : *std::max_element(v.begin(), v.end()));
    };
    auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
        return s.empty() ? std::string("none") : s;
    };
    table += fmt::format(
        "\n{} distilled vs {} independent pairs.\n"
        "distillation_z: AUC {:.4f}, lowest distilled {:.2f}, highest independent {:.2f}; "
        "missed: {}; false accusations: {}\n"
        "idiosyncrasy_z: AUC {:.4f}, lowest distilled {:.2f}, highest independent {:.2f}\n"
        "distillation_idio_z: AUC {:.4f}, lowest distilled {:.2f}, highest independent {:.2f}; "
        "missed: {}; false accusations: {}\n",
        pos_d.size(), neg_d.size(), roc_auc(pos_d, neg_d), minmax(pos_d, true),
        minmax(neg_d, false), join(missed_old), join(false_old), roc_auc(pos_i, neg_i),
        minmax(pos_i, true), minmax(neg_i, false), roc_auc(pos_j, neg_j), minmax(pos_j, true),
        minmax(neg_j, false), join(missed_new), join(false_new));
    std::ofstream(std::string(MP_BINARY_DIR) + "/behavior_idio.md") << table;
    EXPECT_EQ(pos_d.size(), 10u);
    // The test has power on the students (measured: every distilled pair above 11)...
    for (double v : pos_i) EXPECT_GT(v, 3.0);
    // ...and is reported only: the verdicts are those of distillation_z alone.
    EXPECT_EQ(missed_old.size(), 0u);
    EXPECT_EQ(false_old, std::vector<std::string>{"control_seq/control_seq2"});
}

// Issue 16's product rule (docs/behavior.md "Same-domain controls"), as measured. With the
// ground-truth background the students of base are `distilled`, the report names base's
// same-domain controls, and the pair beats each of them. Known limitation (written as a test so
// that it fails when it changes): the domain measure is relative to the background. With the
// facts models only as background (none of them of base's stories domain), the least
// off-domain facts members still pass the control threshold (win-rate z among four
// responders: indep_data 2.83, partner 2.47 >= 2.326), so the pair is `distilled` rather than
// `similar-behavior`. The student really is distilled, so this is no false accusation, but the
// rule's intent (no member of A's domain: similar-behavior) is not met. The rule was committed
// before this was measured and is reported, not re-tuned.
TEST_F(DistillFamily, SameDomainControlsNamedAndRelativeToBackground) {
    auto facts_only = [](const std::string& a, const std::string& b) {
        BehaviorOptions o;
        const std::vector<std::string> bg = {"facts_1", "facts_2", "facts_3", "partner",
                                             "indep_data"};
        for (const auto& n : bg) o.background.push_back(index_[n]);
        o.background_given = true;
        std::vector<std::string> u = bg;
        u.push_back(a);
        u.push_back(b);
        for (size_t i = 0; i < u.size(); ++i) {
            for (size_t k = i + 1; k < u.size(); ++k) {
                const bool tested = (u[i] == a && u[k] == b) || (u[i] == b && u[k] == a);
                if (!tested) o.null_pairs.emplace_back(index_[u[i]], index_[u[k]]);
            }
        }
        return o;
    };
    for (const char* student : {"student_seq", "student_kl"}) {
        auto full = compare_behavior(*panel_, index_["base"], index_[student], options_for("base", student));
        MP_ASSERT_OK(full);
        EXPECT_EQ(relation_name(full->relation), "distilled") << student << ": " << full->reason;
        EXPECT_TRUE(full->domain_controls_checked);
        EXPECT_GT(full->decisive_probes, 0);
        ASSERT_FALSE(full->domain_controls.empty());
        for (size_t i = 0; i < full->domain_controls.size(); ++i) {
            const DomainControl& c = full->domain_controls[i];
            EXPECT_GE(c.domain_z, BehaviorOptions{}.domain_control_z) << c.name;
            if (i > 0) {  // closest first
                EXPECT_LE(c.domain_z, full->domain_controls[i - 1].domain_z);
            }
            ASSERT_TRUE(c.has_pair_stat) << c.name;
            EXPECT_LT(c.pair_stat, full->stat(Statistic::kDistillationZ)->cal.value) << c.name;
            EXPECT_NE(full->reason.find(c.name), std::string::npos) << full->reason;
        }
        const std::string json = behavior_evidence_json(*full);
        EXPECT_NE(json.find("\"domain_controls\""), std::string::npos);
        EXPECT_NE(json.find("\"decisive_probes\""), std::string::npos);
        // The similar-behavior branch: the same pair when no background member counts as a
        // same-domain control (threshold out of reach): passes the null, not an accusation.
        BehaviorOptions strict = options_for("base", student);
        strict.domain_control_z = 1e9;
        auto sim = compare_behavior(*panel_, index_["base"], index_[student], strict);
        MP_ASSERT_OK(sim);
        EXPECT_EQ(relation_name(sim->relation), "similar-behavior") << sim->reason;
        EXPECT_EQ(sim->confidence, Confidence::kLow);
        EXPECT_TRUE(sim->domain_controls_checked);
        EXPECT_TRUE(sim->domain_controls.empty());
        EXPECT_NE(sim->reason.find("closer to A than the background; distillation and shared "
                                   "training data both produce this"),
                  std::string::npos) << sim->reason;
        EXPECT_NE(sim->reason.find("add models trained on A's kind of data to the background"),
                  std::string::npos) << sim->reason;
        EXPECT_NE(sim->reason.find("Not an accusation"), std::string::npos) << sim->reason;
        EXPECT_NE(behavior_evidence_text(*sim).find("same-domain controls of A in the background: none"),
                  std::string::npos);

        auto facts = compare_behavior(*panel_, index_["base"], index_[student], facts_only("base", student));
        MP_ASSERT_OK(facts);
        std::set<std::string> names;
        for (const DomainControl& c : facts->domain_controls) names.insert(c.name);
        EXPECT_EQ(relation_name(facts->relation), "distilled") << student << ": " << facts->reason;
        EXPECT_EQ(names, (std::set<std::string>{"indep_data", "partner"})) << student << ": "
                                                                            << facts->reason;
    }
}

TEST_F(DistillFamily, TranscriptTeacherMatchesModelTeacher) {
    // The transcript is the base's greedy answers: its text equals the model's outputs.
    const auto& t = panel_->at(index_["base_api"]).outputs;
    const auto& m = panel_->at(index_["base"]).outputs;
    const OutputSimilarity s = output_similarity(t, m);
    EXPECT_EQ(s.probes, static_cast<int64_t>(probes_->probes.size()));
    EXPECT_GT(s.exact, 0.9);  // transformers vs modelprint greedy decoding may differ on a tie
}

}  // namespace
}  // namespace modelprint
