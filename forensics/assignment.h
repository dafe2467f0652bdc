// Linear assignment (the "Hungarian" problem) on a dense cost matrix, solved exactly with the
// shortest-augmenting-path method of Jonker & Volgenant (1987) in the potentials formulation
// (Kuhn-Munkres with Dijkstra-like row insertion; O(n^2 m) for n rows <= m columns, doubles).
// Used to match MLP units, attention heads and hidden dimensions of two models.
// Does not: approximate (no auction), handle infinite or NaN costs (rejected), or allow n > m
// (transpose first; solve_max_similarity does this for you).
// Invariant: the result is a perfect matching of the rows into distinct columns that minimises
// the total cost; ties are broken deterministically (lowest column index first).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

// cost: row-major n x m with n <= m. Returns col[i] for each row i (distinct columns).
Result<std::vector<int32_t>> solve_assignment_min(std::span<const double> cost, int64_t n,
                                                  int64_t m);

// Maximise the summed similarity of a row-major rows x cols matrix (any shape). Returns, for
// each row, its matched column, or -1 when rows > cols and the row is left unmatched.
Result<std::vector<int32_t>> solve_max_similarity(std::span<const double> sim, int64_t rows,
                                                  int64_t cols);

// Greedy matching for problems too large for the exact solver (rows x rows x cols above
// ~1e9): every pair in descending similarity, taken when both its row and its column are still
// free. Candidates are each row's `top_k` best columns; a row left without a free candidate
// takes its best free column by a full scan. Same output convention as solve_max_similarity.
// Permutation-equivariant (ties broken by index), so a statistic that is null-exchangeable
// under the exact matching stays so under this one (docs/methods.md).
Result<std::vector<int32_t>> greedy_max_similarity(std::span<const double> sim, int64_t rows,
                                                   int64_t cols, int top_k = 8);

// solve_max_similarity when rows^2 * cols (or cols^2 * rows when rows > cols) is at most
// `exact_limit`, else greedy_max_similarity.
Result<std::vector<int32_t>> match_max_similarity(std::span<const double> sim, int64_t rows,
                                                  int64_t cols, double exact_limit = 1e9);

}  // namespace modelprint
