// Shared request checks, result shaping and seeded sampling of the backends (backend_common.h).
#include "fingerprint/engine/backend_common.h"

#include <algorithm>
#include <cmath>

#include "fingerprint/engine/cpu_ops.h"
#include "fingerprint/model/arch.h"

namespace modelprint {

Status check_engine_config(const ModelConfig& c, const std::string& path, const char* engine) {
    if (find_arch(c.arch) == nullptr) {
        std::vector<std::string_view> names;
        for (const ArchSpec* s : all_archs()) names.push_back(s->name);
        return unsupported(
            "{}: architecture \"{}\" is not supported by the {} engine (supported: {})", path,
            c.model_type, engine, fmt::join(names, ", "));
    }
    const ArchSpec* spec = find_arch(c.arch);
    if (spec == nullptr) return internal_error("no ArchSpec for {}", c.model_type);
    if (spec->parallel_residual) {
        return unsupported("{}: parallel residual blocks are not supported", path);
    }
    for (auto [what, v] : {std::pair<const char*, int64_t>{"vocab_size", c.vocab_size},
                           {"hidden_size", c.hidden_size},
                           {"num_hidden_layers", c.n_layers},
                           {"num_attention_heads", c.n_heads},
                           {"num_key_value_heads", c.n_kv_heads},
                           {"head_dim", c.head_dim},
                           {"intermediate_size", c.intermediate_size}}) {
        if (v <= 0 || v > (int64_t{1} << 31)) {
            return corrupt_data("{}: {} is {}, must be in [1, 2^31]", path, what, v);
        }
    }
    if (c.n_heads % c.n_kv_heads != 0) {
        return corrupt_data("{}: {} attention heads are not a multiple of {} kv heads", path,
                            c.n_heads, c.n_kv_heads);
    }
    if (!(c.norm_eps >= 0.0))
        return corrupt_data("{}: norm epsilon {} is negative", path, c.norm_eps);
    return Status();
}

Status check_engine_plan(const Model& m, const char* engine, bool moe) {
    const std::string& path = m.path();
    if (!m.plan_status().ok()) return m.plan_status().with_context(path);
    const ModelPlan& p = m.plan();
    if (static_cast<int64_t>(p.layers.size()) != m.config().n_layers) {
        return internal_error("{}: plan has {} layers, config {}", path, p.layers.size(),
                              m.config().n_layers);
    }
    for (size_t l = 0; l < p.layers.size(); ++l) {
        const MlpPlan& mp = p.layers[l].mlp;
        if (mp.kind == MlpKind::kMoe && !moe) {
            return unsupported(
                "{}: layer {} is a mixture-of-experts block ({} experts, top-{}), which the {} "
                "engine does not implement; run it with --device cpu",
                path, l, mp.moe.n_experts, mp.moe.top_k, engine);
        }
    }
    std::vector<TensorRole> need = global_tensors(p);
    for (size_t l = 0; l < p.layers.size(); ++l) {
        for (const TensorRole& r : layer_tensors(p.layers[l], static_cast<int>(l))) need.push_back(r);
    }
    for (const auto& r : need) {
        if (!m.has_tensor(r)) {
            return not_found("{}: tensor {} is missing (the {} engine needs it)", path,
                             canonical_name(r), arch_name(m.config().arch));
        }
    }
    return Status();
}

Status check_prefill_request(const PrefillRequest& req, int64_t V) {
    if (req.sequences.empty()) return invalid_argument("prefill: no sequences given");
    if (req.logits == LogitsMode::kTopK && (req.top_k <= 0 || req.top_k > V)) {
        return invalid_argument("prefill: top_k {} must be in [1, vocab size {}]", req.top_k, V);
    }
    return Status();
}

Status check_generate_request(const GenerateRequest& req, int64_t V) {
    if (req.max_new_tokens < 0) {
        return invalid_argument("generate: max_new_tokens {} is negative", req.max_new_tokens);
    }
    if (!(req.temperature >= 0.0f) || !std::isfinite(req.temperature)) {
        return invalid_argument("generate: temperature {} must be finite and >= 0",
                                req.temperature);
    }
    if (req.top_k < 0 || req.top_k > V) {
        return invalid_argument("generate: top_k {} must be in [0, vocab size {}]", req.top_k, V);
    }
    return Status();
}

Status check_token_sequence(std::span<const int32_t> ids, size_t index, int64_t extra,
                            int64_t context, int64_t V, const std::string& model_path,
                            int64_t max_total, const char* engine) {
    if (ids.empty()) return invalid_argument("sequence {} is empty", index);
    const int64_t total = static_cast<int64_t>(ids.size()) + extra;
    if (context > 0 && total > context) {
        return out_of_range("sequence {}: {} tokens exceed the context window of {} of {}", index,
                            total, context, model_path);
    }
    if (max_total > 0 && total > max_total) {
        return out_of_range("sequence {}: {} tokens exceed the {} engine's limit of {}", index,
                            total, engine, max_total);
    }
    for (size_t t = 0; t < ids.size(); ++t) {
        if (ids[t] < 0 || ids[t] >= V) {
            return out_of_range(
                "sequence {}: token id {} at position {} is outside the vocabulary "
                "[0, {})",
                index, ids[t], t, V);
        }
    }
    return Status();
}

PrefillResult new_prefill_result(const PrefillRequest& req, int64_t V, int64_t C, int64_t L) {
    PrefillResult res;
    res.vocab_size = V;
    res.hidden_size = C;
    res.outputs.resize(req.sequences.size());
    for (size_t i = 0; i < req.sequences.size(); ++i) {
        res.outputs[i].length = static_cast<int64_t>(req.sequences[i].size());
        if (req.hidden != HiddenCapture::kNone)
            res.outputs[i].hidden.resize(static_cast<size_t>(L + 1));
    }
    return res;
}

HiddenCaptureFn hidden_capture(const PrefillRequest& req, PrefillResult& res, int64_t C) {
    if (req.hidden == HiddenCapture::kNone) return {};
    const HiddenCapture mode = req.hidden;
    return [&res, mode, C](int l, const std::vector<float>& x) {
        int64_t off = 0;
        for (SequenceOutput& o : res.outputs) {
            const int64_t T = o.length;
            auto& h = o.hidden[l];
            if (mode == HiddenCapture::kFull) {
                h.assign(x.begin() + off * C, x.begin() + (off + T) * C);
            } else {
                std::vector<double> acc(static_cast<size_t>(C), 0.0);
                for (int64_t t = 0; t < T; ++t) {
                    for (int64_t j = 0; j < C; ++j) acc[j] += x[(off + t) * C + j];
                }
                h.resize(static_cast<size_t>(C));
                for (int64_t j = 0; j < C; ++j)
                    h[j] = static_cast<float>(acc[j] / static_cast<double>(T));
            }
            off += T;
        }
    };
}

int32_t sample_token(const float* logits, int64_t V, float temperature, int top_k,
                     std::mt19937_64& rng) {
    const int64_t K = top_k > 0 ? top_k : V;
    std::vector<int32_t> cand(static_cast<size_t>(K));
    std::vector<float> cval(static_cast<size_t>(K));
    topk_forward(cand.data(), cval.data(), logits, V, K);
    std::vector<double> p(static_cast<size_t>(K));
    double sum = 0.0;
    for (int64_t j = 0; j < K; ++j) {
        p[j] = std::exp((static_cast<double>(cval[j]) - cval[0]) / temperature);
        sum += p[j];
    }
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * sum;
    double acc = 0.0;
    for (int64_t j = 0; j < K; ++j) {
        acc += p[j];
        if (u < acc) return cand[j];
    }
    return cand[K - 1];
}

Result<std::vector<GenerateResult>> Backend::generate_batch(const std::vector<GenerateRequest>& reqs) {
    std::vector<GenerateResult> out;
    out.reserve(reqs.size());
    EngineTimings total;
    for (size_t i = 0; i < reqs.size(); ++i) {
        auto r = generate(reqs[i]);
        if (!r.ok()) return r.status().with_context(fmt::format("generation {} of the batch", i));
        total.load_s += r->timings.load_s;
        total.prefill_tokens += r->timings.prefill_tokens;
        total.prefill_s += r->timings.prefill_s;
        total.decode_tokens += r->timings.decode_tokens;
        total.decode_s += r->timings.decode_s;
        out.push_back(std::move(r).value());
    }
    for (auto& r : out) r.timings = total;
    return out;
}

Result<std::vector<GenerateResult>> generate_all(Backend& backend,
                                                 const std::vector<GenerateRequest>& reqs,
                                                 int batch) {
    std::vector<GenerateResult> out;
    out.reserve(reqs.size());
    const size_t step = static_cast<size_t>(std::max(1, batch));
    for (size_t j0 = 0; j0 < reqs.size(); j0 += step) {
        const size_t j1 = std::min(reqs.size(), j0 + step);
        std::vector<GenerateRequest> chunk(reqs.begin() + static_cast<std::ptrdiff_t>(j0),
                                           reqs.begin() + static_cast<std::ptrdiff_t>(j1));
        auto r = backend.generate_batch(chunk);
        if (!r.ok()) return r.status().with_context(fmt::format("generations {}..{}", j0, j1 - 1));
        for (auto& g : *r) out.push_back(std::move(g));
    }
    return out;
}

Status prefill_all_logits(Backend& backend, size_t n, int batch,
                          const std::function<const std::vector<int32_t>&(size_t)>& ids,
                          const std::function<void(size_t, const float*, int64_t)>& visit) {
    const size_t step = static_cast<size_t>(std::max(1, batch));
    for (size_t j0 = 0; j0 < n; j0 += step) {
        const size_t j1 = std::min(n, j0 + step);
        PrefillRequest req;
        req.logits = LogitsMode::kAll;
        for (size_t j = j0; j < j1; ++j) req.sequences.push_back(ids(j));
        MP_ASSIGN_OR_RETURN(PrefillResult res, backend.prefill(req));
        const int64_t V = res.vocab_size;
        for (size_t j = j0; j < j1; ++j) {
            const SequenceOutput& o = res.outputs[j - j0];
            MP_CHECK(static_cast<int64_t>(o.logits.size()) == o.length * V);
            visit(j, o.logits.data(), V);
        }
    }
    return Status();
}

}  // namespace modelprint
