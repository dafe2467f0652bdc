// The evidence pipeline's parts: the name tables of the verdict vocabulary, decide() on every
// row of the precedence table (and on votes no row accepts), the skipped section, and the
// renderings of a section (text, JSON, report parts, Markdown, HTML).
#include "forensics/evidence.h"

#include <set>

#include "fingerprint/base/json.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::testing::HasSubstr;

// A section whose vote and numbers the test sets.
class FakeSection : public EvidenceSection {
public:
    FakeSection(SectionKind k, Relation r, bool can_judge = true, Basis basis = Basis::kNone)
        : kind_(k) {
        vote_.relation = r;
        vote_.can_judge = can_judge;
        vote_.confidence = Confidence::kHigh;
        vote_.strength = 0.9;
        vote_.basis = basis == Basis::kNone ? (k == SectionKind::kWeights     ? Basis::kWeights
                                               : k == SectionKind::kWatermark ? Basis::kWatermark
                                               : k == SectionKind::kEndpoint  ? Basis::kEndpoint
                                                                              : Basis::kBehavior)
                                            : basis;
        vote_.reason = fmt::format("{} says {}", section_kind_name(k), relation_name(r));
    }
    SectionKind kind() const override { return kind_; }
    Vote vote() const override { return vote_; }
    std::optional<DecisiveStatistic> decisive() const override {
        DecisiveStatistic d;
        d.statistic = Statistic::kDistillationZ;
        d.value = 4.5;
        d.p_value = 1e-6;
        d.log10_p = -6;
        d.text = "fake statistic";
        return d;
    }
    std::vector<StatisticRow> statistics() const override { return {}; }
    std::optional<NullDistribution> null_distribution() const override {
        NullDistribution n;
        n.statistic = Statistic::kDistillationZ;
        n.observed = 4.5;
        n.values = {-1.0, -0.5, 0.0, 0.2, 0.4, 1.1};
        n.description = "six fake null pairs";
        return n;
    }
    std::string text() const override { return "fake section text\n"; }
    std::string json() const override { return R"({"fake": true})"; }
    void report(ReportParts& parts) const override {
        ReportTable t;
        t.title = "Fake table";
        t.columns = {"x", "y"};
        t.rows = {{"1", "2"}};
        parts.tables.push_back(t);
        ReportDistribution d;
        d.title = "Fake statistic against its null";
        d.statistic = "distillation_z";
        d.observed = 4.5;
        d.background = null_distribution()->values;
        d.p_value = 1e-6;
        d.note = "six fake null pairs";
        parts.distributions.push_back(d);
    }

private:
    SectionKind kind_;
    Vote vote_;
};

CombinedVerdict decide_of(std::initializer_list<const EvidenceSection*> s) { return decide(s); }

// ---- names

template <typename E, typename N, typename P>
void check_names(int count, N name, P parse) {
    std::set<std::string> seen;
    for (int i = 0; i < count; ++i) {
        const E e = static_cast<E>(i);
        const std::string n(name(e));
        EXPECT_NE(n, "?") << i;
        EXPECT_TRUE(seen.insert(n).second) << "duplicate name " << n;
        auto back = parse(n);
        ASSERT_TRUE(back.ok()) << n;
        EXPECT_EQ(*back, e) << n;
    }
}

TEST(EvidenceNames, EveryValueHasADistinctNameThatParsesBack) {
    check_names<Relation>(kRelationCount, relation_name, parse_relation);
    check_names<Confidence>(kConfidenceCount, confidence_name, parse_confidence);
    check_names<Basis>(kBasisCount, basis_name, parse_basis);
    check_names<SectionKind>(kSectionKindCount, section_kind_name, parse_section_kind);
    check_names<Statistic>(kStatisticCount, statistic_name, parse_statistic);
    EXPECT_EQ(relation_name(Relation::kSimilarBehavior), "similar-behavior");
    EXPECT_EQ(statistic_name(Statistic::kDistillationZ), "distillation_z");
}

TEST(EvidenceNames, UnknownNamesAreErrorsListingTheChoices) {
    EXPECT_THAT(parse_relation("distiled"),
                StatusIs(StatusCode::kInvalidArgument, "'distiled' is not a relation"));
    EXPECT_THAT(parse_statistic("cross_likelihood"),
                StatusIs(StatusCode::kInvalidArgument, "cross_likelihood_z"));
    EXPECT_THAT(parse_basis(""), StatusIs(StatusCode::kInvalidArgument, "watermark"));
}

TEST(EvidenceNames, ConfidenceLevelsAndValues) {
    EXPECT_EQ(confidence_level(0.95), Confidence::kHigh);
    EXPECT_EQ(confidence_level(0.7), Confidence::kMedium);
    EXPECT_EQ(confidence_level(0.2), Confidence::kLow);
    EXPECT_EQ(confidence_level(0.0), Confidence::kNone);
    for (Confidence c :
         {Confidence::kNone, Confidence::kLow, Confidence::kMedium, Confidence::kHigh}) {
        EXPECT_EQ(confidence_level(confidence_value(c)), c);
    }
}

// ---- decide(): one test per row of the precedence table, in its order

TEST(Decide, TableIsTheDocumentedOne) {
    const auto& t = precedence_table();
    ASSERT_EQ(t.size(), 9u);
    EXPECT_EQ(t[0].asserts, Relation::kIdentical);
    EXPECT_EQ(t[1].asserts, Relation::kDerived);
    EXPECT_EQ(t[2].section, SectionKind::kWatermark);
    EXPECT_EQ(t[3].section, SectionKind::kBehavior);
    EXPECT_EQ(t[4].asserts, Relation::kSimilarBehavior);
    EXPECT_EQ(t[5].section, SectionKind::kWeights);
    EXPECT_EQ(t[6].when, WeightsCondition::kCannotJudge);
    EXPECT_EQ(t[7].section, SectionKind::kEndpoint);
    EXPECT_EQ(t[7].asserts, Relation::kNotClaimed);
    EXPECT_EQ(t[8].section, SectionKind::kEndpoint);
    EXPECT_EQ(t[8].asserts, Relation::kServesClaimed);
    // Samples never show weights: no row lets the endpoint section say identical/derived.
    for (const PrecedenceRow& row : t) {
        if (row.section != SectionKind::kEndpoint) continue;
        EXPECT_NE(row.asserts, Relation::kIdentical);
        EXPECT_NE(row.asserts, Relation::kDerived);
    }
}

TEST(Decide, Row1WeightsIdenticalWinsOverEverything) {
    FakeSection w(SectionKind::kWeights, Relation::kIdentical, true, Basis::kBytes);
    FakeSection b(SectionKind::kBehavior, Relation::kDistilled);
    const CombinedVerdict v = decide_of({&w, &b});
    EXPECT_EQ(v.relation, Relation::kIdentical);
    EXPECT_EQ(v.basis, Basis::kBytes);
    EXPECT_EQ(v.rule, 0);
    ASSERT_EQ(v.notes.size(), 1u);
    EXPECT_THAT(v.notes[0], HasSubstr("behavior says distilled; outranked"));
}

TEST(Decide, Row2WeightsDerivedWinsOverBehaviour) {
    FakeSection w(SectionKind::kWeights, Relation::kDerived);
    FakeSection b(SectionKind::kBehavior, Relation::kIndependent);
    const CombinedVerdict v = decide_of({&b, &w});  // order of sections does not matter
    EXPECT_EQ(v.relation, Relation::kDerived);
    EXPECT_EQ(v.basis, Basis::kWeights);
    EXPECT_EQ(v.decided_by, SectionKind::kWeights);
    EXPECT_EQ(v.rule, 1);
    EXPECT_EQ(v.notes.size(), 1u);
}

TEST(Decide, Row3WatermarkDistilledUnlessWeightsSayLineage) {
    FakeSection wi(SectionKind::kWeights, Relation::kIndependent);
    FakeSection wm(SectionKind::kWatermark, Relation::kDistilled);
    FakeSection b(SectionKind::kBehavior, Relation::kIndependent);
    CombinedVerdict v = decide_of({&wi, &wm, &b});
    EXPECT_EQ(v.relation, Relation::kDistilled);
    EXPECT_EQ(v.basis, Basis::kWatermark);
    EXPECT_EQ(v.rule, 2);
    FakeSection wd(SectionKind::kWeights, Relation::kDerived);
    v = decide_of({&wd, &wm});
    EXPECT_EQ(v.relation, Relation::kDerived);
}

TEST(Decide, Row4BehaviourDistilledWhereWeightsSayIndependentUnknownOrNothing) {
    FakeSection b(SectionKind::kBehavior, Relation::kDistilled);
    FakeSection wi(SectionKind::kWeights, Relation::kIndependent);
    FakeSection wu(SectionKind::kWeights, Relation::kUnknown, true);
    FakeSection wx(SectionKind::kWeights, Relation::kUnknown, false);
    for (const EvidenceSection* w :
         {static_cast<const EvidenceSection*>(&wi), static_cast<const EvidenceSection*>(&wu),
          static_cast<const EvidenceSection*>(&wx), static_cast<const EvidenceSection*>(nullptr)}) {
        const CombinedVerdict v = decide_of({w, &b});
        EXPECT_EQ(v.relation, Relation::kDistilled);
        EXPECT_EQ(v.basis, Basis::kBehavior);
        EXPECT_EQ(v.rule, 3);
        ASSERT_TRUE(v.decisive.has_value());
        EXPECT_EQ(v.decisive->statistic, Statistic::kDistillationZ);
    }
    FakeSection wd(SectionKind::kWeights, Relation::kDerived);
    EXPECT_EQ(decide_of({&wd, &b}).relation, Relation::kDerived);
}

TEST(Decide, Row5SimilarBehaviourWhereWeightsDoNotSayLineage) {
    FakeSection b(SectionKind::kBehavior, Relation::kSimilarBehavior);
    FakeSection wi(SectionKind::kWeights, Relation::kIndependent);
    CombinedVerdict v = decide_of({&wi, &b});
    EXPECT_EQ(v.relation, Relation::kSimilarBehavior);
    EXPECT_EQ(v.rule, 4);
    EXPECT_EQ(decide_of({&b}).relation, Relation::kSimilarBehavior);
}

TEST(Decide, Row6WeightsIndependent) {
    FakeSection wi(SectionKind::kWeights, Relation::kIndependent);
    FakeSection bu(SectionKind::kBehavior, Relation::kUnknown, false);
    CombinedVerdict v = decide_of({&wi, &bu});
    EXPECT_EQ(v.relation, Relation::kIndependent);
    EXPECT_EQ(v.basis, Basis::kWeights);
    EXPECT_EQ(v.rule, 5);
    FakeSection bi(SectionKind::kBehavior, Relation::kIndependent);
    v = decide_of({&wi, &bi});
    EXPECT_EQ(v.basis, Basis::kWeights);  // both agree: the weights row ranks first
    EXPECT_TRUE(v.notes.empty());
}

TEST(Decide, Row7BehaviourIndependentOnlyWhenWeightsCannotJudge) {
    FakeSection bi(SectionKind::kBehavior, Relation::kIndependent);
    FakeSection wx(SectionKind::kWeights, Relation::kUnknown, false);  // different widths
    CombinedVerdict v = decide_of({&wx, &bi});
    EXPECT_EQ(v.relation, Relation::kIndependent);
    EXPECT_EQ(v.basis, Basis::kBehavior);
    EXPECT_EQ(v.decided_by, SectionKind::kBehavior);
    EXPECT_EQ(v.rule, 6);
    EXPECT_EQ(decide_of({&bi}).basis, Basis::kBehavior);  // no weights (a transcript side)
    // Weights compared and ambiguous: behaviour's `independent` does not settle it.
    FakeSection wu(SectionKind::kWeights, Relation::kUnknown, true);
    v = decide_of({&wu, &bi});
    EXPECT_EQ(v.relation, Relation::kUnknown);
    EXPECT_EQ(v.rule, -1);
    EXPECT_THAT(v.reason, HasSubstr("no precedence rule fired"));
    EXPECT_THAT(v.reason, HasSubstr("behavior: independent"));
}

TEST(Decide, Row8EndpointNotClaimed) {
    FakeSection e(SectionKind::kEndpoint, Relation::kNotClaimed);
    const CombinedVerdict v = decide_of({&e});
    EXPECT_EQ(v.relation, Relation::kNotClaimed);
    EXPECT_EQ(v.basis, Basis::kEndpoint);
    EXPECT_EQ(v.decided_by, SectionKind::kEndpoint);
    EXPECT_EQ(v.rule, 7);
    EXPECT_TRUE(v.notes.empty());
}

TEST(Decide, Row9EndpointServesClaimedWithItsSubtype) {
    FakeSection e(SectionKind::kEndpoint, Relation::kServesClaimed);
    CombinedVerdict v = decide_of({&e});
    EXPECT_EQ(v.relation, Relation::kServesClaimed);
    EXPECT_EQ(v.basis, Basis::kEndpoint);
    EXPECT_EQ(v.rule, 8);
    // An endpoint that cannot decide (inconclusive) votes unknown: no row fires, and the
    // verdict carries the section's reason (the queries a decisive answer needs).
    FakeSection u(SectionKind::kEndpoint, Relation::kUnknown, false);
    v = decide_of({&u});
    EXPECT_EQ(v.relation, Relation::kUnknown);
    EXPECT_EQ(v.rule, -1);
    EXPECT_EQ(v.reason, "endpoint says unknown");
    // An endpoint vote of identical is not one the table lets it assert: ignored, said so.
    FakeSection id(SectionKind::kEndpoint, Relation::kIdentical);
    v = decide_of({&id});
    EXPECT_EQ(v.relation, Relation::kUnknown);
    ASSERT_EQ(v.notes.size(), 1u);
    EXPECT_THAT(v.notes[0], HasSubstr("endpoint says identical, which the precedence table"));
}

TEST(Decide, NoRuleNoSectionsAndIgnoredVotes) {
    EXPECT_EQ(decide_of({}).relation, Relation::kUnknown);
    EXPECT_EQ(decide_of({}).reason, "no evidence section ran");
    FakeSection wu(SectionKind::kWeights, Relation::kUnknown, true);
    CombinedVerdict v = decide_of({&wu});
    EXPECT_EQ(v.relation, Relation::kUnknown);
    EXPECT_EQ(v.reason, "weights says unknown");  // one section: its own reason
    // A vote no row lets a section assert is ignored, and said to be.
    FakeSection wd(SectionKind::kWeights, Relation::kDistilled);
    v = decide_of({&wd});
    EXPECT_EQ(v.relation, Relation::kUnknown);
    ASSERT_EQ(v.notes.size(), 1u);
    EXPECT_THAT(v.notes[0], HasSubstr("does not let it assert"));
    // A section that did not run casts no vote and is named in the notes.
    SkippedSection skipped(SectionKind::kBehavior, "B has no tokenizer.json");
    FakeSection wi(SectionKind::kWeights, Relation::kIndependent);
    v = decide_of({&wi, &skipped});
    EXPECT_EQ(v.relation, Relation::kIndependent);
    ASSERT_EQ(v.notes.size(), 1u);
    EXPECT_THAT(v.notes[0], HasSubstr("behavior: not run (B has no tokenizer.json)"));
}

// ---- renderings

TEST(EvidenceRender, SkippedSectionIsOneLineEverywhere) {
    SkippedSection s(SectionKind::kBehavior, "too little background: 0 participants");
    EXPECT_FALSE(s.ran());
    EXPECT_EQ(s.text(), "behavior: not run — too little background: 0 participants\n");
    auto j = parse_json(s.json(), "skipped");
    MP_ASSERT_OK(j);
    EXPECT_EQ((*j)["ran"], false);
    EXPECT_EQ((*j)["reason"], "too little background: 0 participants");
    ReportParts parts;
    s.report(parts);
    ASSERT_EQ(parts.tables.size(), 1u);
    EXPECT_TRUE(parts.distributions.empty());
    EXPECT_THAT(s.markdown(), HasSubstr("too little background"));
    EXPECT_THAT(s.html(), HasSubstr("Evidence: behavior (not run)"));
}

TEST(EvidenceRender, ReportPartsBecomePredicateMembers) {
    ReportParts parts;
    ReportHeatmap h;
    h.title = "H";
    h.values = {{0.25, 1.0}, {0.5, NAN}};
    h.x_labels = {"0", "1"};
    h.y_labels = {"0", "1"};
    parts.heatmaps.push_back(h);
    FakeSection(SectionKind::kBehavior, Relation::kDistilled).report(parts);
    auto j = parse_json(report_parts_json(parts), "parts");
    MP_ASSERT_OK(j);
    EXPECT_EQ((*j)["heatmaps"][0]["values"][0][0], "0.25");
    EXPECT_EQ((*j)["heatmaps"][0]["values"][1][1], "-");  // not finite: drawn grey
    EXPECT_EQ((*j)["sections"][0]["title"], "Fake table");
    EXPECT_EQ((*j)["distributions"][0]["background"].size(), 6u);
    EXPECT_EQ((*j)["distributions"][0]["observed"], "4.5");
    EXPECT_FALSE(parse_json(report_parts_json({}), "empty")->contains("sections"));
}

TEST(EvidenceRender, MarkdownHasATextPlotAndHtmlAnSvgPlot) {
    FakeSection s(SectionKind::kBehavior, Relation::kDistilled);
    const std::string md = s.markdown();
    EXPECT_THAT(md, HasSubstr("### Fake statistic against its null"));
    EXPECT_THAT(md, HasSubstr("<- observed 4.5"));
    EXPECT_THAT(md, HasSubstr("(background n = 6)"));
    EXPECT_THAT(md, HasSubstr("| x | y |"));
    const std::string html = s.html();
    EXPECT_THAT(html, HasSubstr("<svg"));
    EXPECT_THAT(html, HasSubstr("observed 4.5"));
    EXPECT_THAT(html, HasSubstr("distillation_z (background n = 6)"));
    EXPECT_EQ(html.find("Other fields"), std::string::npos);
}

}  // namespace
}  // namespace modelprint
