// Role inference from shapes and structure, for when tensor names cannot be trusted: names no
// rule of the architecture knows (another naming convention, obfuscated names), or names whose
// shapes contradict config.json. Tensor names are attacker-controlled; shapes and the way the
// matrices compose are not, because the model has to run.
//
// Method (Llama family: separate q/k/v, gated MLP; docs/architecture.md "Role inference"):
//   1. layer index: the dot-separated all-digit component of the names (the same position for
//      every per-layer tensor) that splits the tensors into n_layers groups of equal shapes;
//   2. global tensors by shape: [V, C] matrices (V = vocab_size) are the token embedding and
//      the output head, one 1-D [C] tensor is the output norm. With two [V, C] matrices the head
//      is the one whose rows share a common direction (the softmax pushes every row of tokens
//      that are not the target the same way; the embedding rows of unseen tokens stay at their
//      random init): |mean row| / mean |row| larger;
//   3. per layer by shape: q [NH*HS, C], k and v [NKV*HS, C], o [C, NH*HS], gate and up
//      [FF, C], down [C, FF], two norms [C];
//   4. ties of equal shapes by composition: matrices that multiply each other form a
//      homogeneous pair whose per-unit norms training keeps balanced (gradient flow conserves
//      |w_in,u|^2 - |w_out,u|^2 per unit: Du, Hu & Lee, NeurIPS 2018), so
//        up rows ~ down columns (gate rows are not: silu is not homogeneous),
//        v rows ~ o columns, q rows ~ k rows (per head dim, GQA groups averaged),
//        a norm's gains ~ the input columns of the matrices it feeds (attn: q,k,v; ffn: gate, up):
//      each tie is resolved by the assignment with the largest sum of Pearson correlations of
//      those norm profiles.
// Does not: handle fused qkv, ungated MLPs, MoE layers or biases it cannot pair by name prefix
// (they fail inference; the name-based roles are kept and the rest listed without a role).
// Invariants: never asserts or crashes on hostile names or shapes; either every per-layer
// tensor of every layer gets a role and the layout is complete, or nothing is inferred.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"
#include "fingerprint/model/config.h"
#include "fingerprint/model/tensor.h"

namespace modelprint {

// Reads tensor i as f32 (stored layout).
using TensorReader = std::function<Result<std::vector<float>>(size_t)>;

struct RoleInference {
    std::vector<TensorRole> roles;  // parallel to the tensors; kUnknown where none
    std::string note;               // what was inferred and how (or why inference failed)
};

// Roles of `tensors` under a config with known dimensions (hidden_size, n_layers, n_heads,
// n_kv_heads, head_dim, intermediate_size; vocab_size when known). kFailedPrecondition with
// the reason when the structure does not determine the roles.
Result<RoleInference> infer_roles(const std::vector<TensorInfo>& tensors, const ModelConfig& cfg,
                                  const TensorReader& read);

// Whether name-based roles are missing or contradict the config: no token embedding, a layer
// missing a core projection, or a role's shape that is not the config's.
bool roles_need_inference(const std::vector<TensorInfo>& tensors,
                          const std::vector<TensorRole>& roles, const ModelConfig& cfg);

}  // namespace modelprint
