// Pairwise weight analysis of two models (white-box evidence, DESIGN.md "Evidence" 1-2):
//   identity   — per-tensor SHA-256 by canonical role (names may differ), the same values after
//                dtype normalisation, exact dtype casts (one side equals the other rounded to its
//                dtype), quantisation lattices (GGUF block types, or absmax int8 / 4-bit
//                round-trips detected from the values);
//   hidden     — alignment of the residual-stream dimensions through the embedding columns of
//                the tokens both vocabularies share (AWM, Zeng et al. ICLR 2026: a linear
//                assignment on |correlation| that absorbs permutations and sign flips), fitted
//                on one half of the shared tokens and scored on the other half; an orthogonal
//                Procrustes fit (rotations) scored the same way;
//   depth      — a layer x layer similarity (off-diagonal Gram entries of row-normalised,
//                norm-folded projections on up to 256 aligned hidden dims: invariant to unit and
//                head permutations and to rescaling) and a monotone layer matching (pruned,
//                inserted or duplicated layers);
//   per layer  — MLP units matched separately on gate rows and on up rows (exact Hungarian /
//                Jonker-Volgenant up to rows^2 x cols = 1e9, greedy above: assignment.h), the
//                model-tracing statistic of Zhu, Ahmed, Kuditipudi & Liang (ICML 2025, phi_MATCH):
//                Spearman's rho between the two matchings, one-sided p-value per layer, Fisher-
//                combined in log space; heads matched on q / k+v rows; per role the mean |cosine|
//                of aligned rows (scale-invariant) and the relative L2 distance (scale-sensitive).
// Reads: every weight file once (forensics/weights_schedule.h): the embeddings first, then layer
// by layer (A's and B's layer l together) — tensor digests, value identity, fingerprint terms,
// depth descriptors and the diagonal pair's analysis all from the same bytes — and the pages of
// what is done given back when the pair is larger than memory. Through hashing streams the same
// read yields the OMS root digests. Exception: at unequal depth the matched layer pairs are
// read a second time after the depth alignment (the descriptors of every layer are needed
// first). Memory: one layer of each in f32 plus the embeddings. Units beyond `max_units` per
// layer are subsampled by stride.
// Does not: decide the relation (verdict.h), hash files (model/hash.h), or run the models.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/model/arch.h"

namespace modelprint {

class Model;
class ModelHashStream;

// Give back the pages of compared tensors (MappedFile::release): kAuto when A and B together
// exceed half of the physical memory (smaller pairs stay in the page cache for the next run).
enum class PageRelease : uint8_t { kAuto, kAlways, kNever };

struct WeightCompareOptions {
    int64_t max_units = 1024;     // MLP units of A tested per layer (stride subsample above)
    int64_t max_tokens = 16384;   // shared tokens used for the hidden alignment
    int64_t gram_dims = 256;      // hidden dims of the depth descriptor
    int threads = 0;
    bool progress = true;
    PageRelease release = PageRelease::kAuto;
};

struct RoleSimilarity {
    std::string role;        // "attn_q", ..., "ffn_down"
    double cosine = 0;       // mean |cos| of aligned rows (columns for attn_output / ffn_down)
    double rel_l2 = 0;       // ||A - B_aligned||_F / ||A||_F
    double norm_ratio = 0;   // ||B||_F / ||A||_F
};

struct LayerEvidence {
    int layer_a = 0, layer_b = 0;
    double similarity = 0;       // mean of role cosines
    int64_t units = 0;           // MLP units tested
    double unit_rho = 0;         // Spearman(pi_gate, pi_up)
    double log_p = 0;            // natural log of the one-sided p-value
    double unit_identity = 0;    // fraction of tested units matched to the same index
    double head_identity = 0;    // fraction of q heads matched to the same index
    // AWM (Zeng et al. 2026): unbiased CKA of Wq and of Wk with the aligned hidden dims as
    // samples (up to 512, by stride) — invariant to any orthogonal map of the output side.
    double cka_q = 0, cka_k = 0;
    // Function-preserving MLP rescaling (weights_layer.cpp scale_factors): std over matched
    // units of log(|up_B row| / |up_A row|), and how much of it the down columns undo.
    int64_t scale_units = 0;
    double scale_spread = 0, scale_compensation = 0;
    std::vector<RoleSimilarity> roles;
};

// A tensor its architecture gives no canonical role (MoE experts and routers until they get
// roles, extra heads, tensors under names no rule knows): counted and compared by name and
// digest like every other tensor, never ignored.
struct UnroledTensor {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    std::string sha256;     // of the stored bytes
    bool in_other = false;  // the other model has a tensor without a role with these bytes
                            // (the same name when it has that name, else any name)
};

// Identity over every tensor. `identical` (verdict.h) needs digests_equal: the multisets of
// (dtype, shape, SHA-256) over all tensors of A and of B are equal, every shared role is
// bit-identical, no role is on one side only, and tensors without a role that both models name
// alike have the same bytes.
struct TensorIdentity {
    int64_t tensors_a = 0, tensors_b = 0;  // every tensor of each model
    int64_t roled_a = 0, roled_b = 0;      // of them, with a canonical role
    int64_t inferred_a = 0, inferred_b = 0;  // roles inferred from shapes/structure (model.h)
    std::vector<UnroledTensor> unroled_a, unroled_b;  // file order
    int64_t unroled_equal = 0;   // tensors of A without a role with a bit-identical one in B
    bool digests_equal = false;  // multisets of (dtype, shape, SHA-256) of all tensors equal
    bool values_equal_unroled = false;  // tensors without a role: multisets of (shape, f32
                                        // values) equal, and name-paired ones equal
    int64_t shared_roles = 0;        // canonical roles present in both
    int64_t only_a = 0, only_b = 0;  // roles present on one side
    int64_t equal_bytes = 0;         // same dtype and same bytes (SHA-256)
    int64_t equal_values = 0;        // same f32 values (any dtype, layout normalised)
    int64_t cast_equal = 0;          // one side == the other rounded to its (lower) dtype
    int64_t names_differ = 0;        // shared roles stored under different names
    // ... of which at least one name is not its format's own name for the role (the HF name
    // of the architecture in safetensors, the GGUF name in GGUF; inferred roles never are):
    // a GGUF conversion keeps its format's names and is not a rename.
    int64_t names_nonstandard = 0;
    std::string dtype_a, dtype_b;    // dominant dtypes of the matrices
};

struct QuantEvidence {
    bool block_types = false;     // GGUF quantised dtypes present
    std::string lattice;          // "" or "int8-row", "4bit-block32", "gguf:<type>"
    double lattice_fraction = 0;  // fraction of matrix elements on the detected lattice
};

struct WeightEvidence {
    // Structure.
    std::string arch_a, arch_b;
    int64_t hidden_a = 0, hidden_b = 0, layers_a = 0, layers_b = 0;
    bool layer_comparable = false;   // same layer layout and width: per-layer analysis ran
    std::string structure_note;      // why the per-layer analysis did not run
    // Identity.
    TensorIdentity identity;
    bool identical_bytes = false, identical_values = false;
    QuantEvidence quant_a, quant_b;
    // Hidden alignment through the shared vocabulary.
    bool hidden_aligned = false;
    std::string vocab_note;
    int64_t shared_tokens = 0;
    double hidden_cos = 0;            // held-out mean |corr| of matched embedding columns
    double hidden_identity = 0;       // fraction of dims matched to the same index
    double hidden_rho = 0;            // Spearman between the two halves' matchings
    double hidden_log_p = 0;
    double procrustes_cos = 0;        // held-out cosine of rows after an orthogonal fit
    double embedding_cos = 0;         // all shared tokens, aligned columns
    // Depth.
    std::vector<std::vector<double>> layer_sim;  // layers_a x layers_b
    std::vector<std::pair<int, int>> layer_match;
    bool depth_diagonal = true;
    // Per layer (matched pairs only).
    std::vector<LayerEvidence> layers;
    double log_p = 0;          // Fisher over layers (natural log)
    double mean_similarity = 0;
    double min_similarity = 0;
    double mean_unit_rho = 0;
    double mean_rel_l2 = 0;
    double median_norm_ratio = 0;
    double unit_identity = 0;  // mean over layers
    double head_identity = 0;
    double mean_cka = 0;       // mean over layers of (cka_q + cka_k) / 2
    double scale_spread = 0;        // median over layers of LayerEvidence::scale_spread
    double scale_compensation = 0;  // median over layers of LayerEvidence::scale_compensation
    // Public-dispute statistic: Pearson of the per-layer attention-std profiles.
    double attn_std_corr = 0;
    double invariant_cos = 0;  // HuRef-style invariant cosine (weight_print.h)
    std::vector<std::string> notes;
};

// Reads the weights once, without hashing.
Result<WeightEvidence> compare_weights(const Model& a, const Model& b,
                                       const WeightCompareOptions& options = {});
// Reads the weights once through the given streams (opened on a and b); with hashing streams
// the caller's finish() afterwards gives the root digests from the same read.
Result<WeightEvidence> compare_weights(const Model& a, const Model& b, ModelHashStream& sa,
                                       ModelHashStream& sb, const WeightCompareOptions& options);
// Whether a comparison of a and b gives pages back under `mode`.
bool release_pages_for(const Model& a, const Model& b, PageRelease mode);

}  // namespace modelprint
