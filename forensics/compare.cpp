// compare A B, the weight half: open, hash, weigh the evidence, decide (see compare.h).
#include "forensics/compare.h"

#include <cmath>

#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"

namespace modelprint {

namespace {
Result<ModelSide> open_side(const std::string& path, const CompareOptions& opt,
                            std::unique_ptr<Model>* model) {
    auto m = Model::open(path);
    if (!m.ok()) return m.status().with_context(fmt::format("opening {}", path));
    ModelSide s;
    if (opt.hash_on_open) {
        HashOptions ho;
        ho.threads = opt.threads;
        ho.tensors = false;
        MP_ASSIGN_OR_RETURN(ModelDigest d, hash_model(**m, ho));
        s.root_digest = d.root_digest;
    }
    s.path = path;
    s.arch = std::string(arch_name((*m)->config().arch));
    s.parameters = (*m)->parameter_count();
    *model = std::move(*m);
    return s;
}
}  // namespace

OpenedPair::OpenedPair() = default;
OpenedPair::OpenedPair(OpenedPair&&) noexcept = default;
OpenedPair& OpenedPair::operator=(OpenedPair&&) noexcept = default;
OpenedPair::~OpenedPair() = default;

Result<OpenedPair> open_pair(const std::string& path_a, const std::string& path_b,
                             const CompareOptions& options) {
    OpenedPair p;
    MP_ASSIGN_OR_RETURN(p.a, open_side(path_a, options, &p.model_a));
    MP_ASSIGN_OR_RETURN(p.b, open_side(path_b, options, &p.model_b));
    return p;
}

Result<WeightComparison> compare_opened(const OpenedPair& pair, const CompareOptions& options) {
    if (pair.model_a == nullptr || pair.model_b == nullptr) {
        return invalid_argument("compare_opened: the pair {} / {} is not open", pair.a.path,
                                pair.b.path);
    }
    WeightComparison r;
    r.a = pair.a;
    r.b = pair.b;
    WeightCompareOptions wo = options.weights;
    wo.threads = options.threads;
    wo.progress = options.progress;
    // Not hashed at open: the root digests come out of the comparison's read.
    const bool hash = pair.a.root_digest.empty() || pair.b.root_digest.empty();
    const bool release = release_pages_for(*pair.model_a, *pair.model_b, wo.release);
    HashOptions ho;
    ho.threads = options.threads;
    ho.tensors = false;
    MP_ASSIGN_OR_RETURN(auto sa, ModelHashStream::open(*pair.model_a, ho, hash, release));
    MP_ASSIGN_OR_RETURN(auto sb, ModelHashStream::open(*pair.model_b, ho, hash, release));
    auto ev = compare_weights(*pair.model_a, *pair.model_b, *sa, *sb, wo);
    if (!ev.ok()) {
        return ev.status().with_context(fmt::format("comparing {} with {}", r.a.path, r.b.path));
    }
    if (hash) {
        MP_ASSIGN_OR_RETURN(ModelDigest da, sa->finish());
        MP_ASSIGN_OR_RETURN(ModelDigest db, sb->finish());
        r.a.root_digest = da.root_digest;
        r.b.root_digest = db.root_digest;
    }
    r.weights = std::move(*ev);
    r.a.dtype = r.weights.identity.dtype_a;
    r.b.dtype = r.weights.identity.dtype_b;
    r.verdict = decide_weights(r.weights);
    return r;
}

Result<WeightComparison> compare_opened(OpenedPair& pair, const CompareOptions& options) {
    MP_ASSIGN_OR_RETURN(WeightComparison r,
                        compare_opened(static_cast<const OpenedPair&>(pair), options));
    pair.a.root_digest = r.a.root_digest;
    pair.b.root_digest = r.b.root_digest;
    return r;
}

Result<WeightComparison> compare_models(const std::string& path_a, const std::string& path_b,
                                        const CompareOptions& options) {
    CompareOptions once = options;
    once.hash_on_open = false;  // nothing to look up between the steps: one read
    MP_ASSIGN_OR_RETURN(OpenedPair p, open_pair(path_a, path_b, once));
    return compare_opened(p, once);
}

}  // namespace modelprint
