// Linear assignment by shortest augmenting paths with dual potentials (Jonker & Volgenant 1987;
// the same algorithm as the classic O(n^2 m) "Hungarian with potentials" formulation, e.g.
// e-maxx.ru/algo/assignment_hungary). See assignment.h.
#include "forensics/assignment.h"

#include <algorithm>

#include <numeric>

#include <cmath>
#include <limits>

namespace modelprint {

Result<std::vector<int32_t>> solve_assignment_min(std::span<const double> cost, int64_t n,
                                                  int64_t m) {
    if (n < 0 || m < 0 || n > m) {
        return invalid_argument("assignment: need 0 <= rows <= cols, got {} x {}", n, m);
    }
    if (m > 0 && n > static_cast<int64_t>(std::numeric_limits<int32_t>::max()) / m) {
        return invalid_argument("assignment: {} x {} matrix exceeds the size limit", n, m);
    }
    if (static_cast<int64_t>(cost.size()) != n * m) {
        return invalid_argument("assignment: cost has {} entries, expected {} x {} = {}",
                                cost.size(), n, m, n * m);
    }
    for (size_t i = 0; i < cost.size(); ++i) {
        if (!std::isfinite(cost[i])) {
            return invalid_argument("assignment: cost entry {} (row {}, col {}) is not finite",
                                    i, static_cast<int64_t>(i) / m, static_cast<int64_t>(i) % m);
        }
    }
    const double kInf = std::numeric_limits<double>::infinity();
    // 1-based arrays as in the reference formulation; column 0 is the virtual start.
    std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0), minv(m + 1);
    std::vector<int64_t> p(m + 1, 0), way(m + 1, 0);
    std::vector<char> used(m + 1);
    for (int64_t i = 1; i <= n; ++i) {
        p[0] = i;
        int64_t j0 = 0;
        std::fill(minv.begin(), minv.end(), kInf);
        std::fill(used.begin(), used.end(), 0);
        do {
            used[j0] = 1;
            const int64_t i0 = p[j0];
            double delta = kInf;
            int64_t j1 = -1;
            const double* row = cost.data() + (i0 - 1) * m;
            const double ui0 = u[i0];
            for (int64_t j = 1; j <= m; ++j) {
                if (used[j]) continue;
                const double cur = row[j - 1] - ui0 - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            if (j1 < 0) return internal_error("assignment: no augmenting column at row {}", i);
            for (int64_t j = 0; j <= m; ++j) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            const int64_t j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0 != 0);
    }
    std::vector<int32_t> col(n, -1);
    for (int64_t j = 1; j <= m; ++j) {
        if (p[j] != 0) col[p[j] - 1] = static_cast<int32_t>(j - 1);
    }
    for (int64_t i = 0; i < n; ++i) MP_CHECK(col[i] >= 0);
    return col;
}

Result<std::vector<int32_t>> solve_max_similarity(std::span<const double> sim, int64_t rows,
                                                  int64_t cols) {
    if (rows < 0 || cols < 0 || static_cast<int64_t>(sim.size()) != rows * cols) {
        return invalid_argument("assignment: similarity has {} entries, expected {} x {}",
                                sim.size(), rows, cols);
    }
    if (rows <= cols) {
        std::vector<double> cost(sim.size());
        for (size_t i = 0; i < sim.size(); ++i) cost[i] = -sim[i];
        return solve_assignment_min(cost, rows, cols);
    }
    // More rows than columns: solve the transpose and invert the matching.
    std::vector<double> cost(sim.size());
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cols; ++c) cost[c * rows + r] = -sim[r * cols + c];
    }
    MP_ASSIGN_OR_RETURN(std::vector<int32_t> col_to_row, solve_assignment_min(cost, cols, rows));
    std::vector<int32_t> out(rows, -1);
    for (int64_t c = 0; c < cols; ++c) out[col_to_row[c]] = static_cast<int32_t>(c);
    return out;
}

Result<std::vector<int32_t>> greedy_max_similarity(std::span<const double> sim, int64_t rows,
                                                   int64_t cols, int top_k) {
    if (rows < 0 || cols < 0 || static_cast<int64_t>(sim.size()) != rows * cols) {
        return invalid_argument("assignment: similarity has {} entries, expected {} x {}",
                                sim.size(), rows, cols);
    }
    for (double x : sim) {
        if (!std::isfinite(x)) return invalid_argument("assignment: similarity {} is not finite", x);
    }
    const int64_t k = std::min<int64_t>(std::max(1, top_k), cols);
    struct Cand {
        double s;
        int32_t r, c;
    };
    std::vector<Cand> cand;
    cand.reserve(static_cast<size_t>(rows * k));
    std::vector<int32_t> idx(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
        const double* row = sim.data() + r * cols;
        std::iota(idx.begin(), idx.end(), 0);
        auto better = [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); };
        std::nth_element(idx.begin(), idx.begin() + (k - 1), idx.end(), better);
        for (int64_t j = 0; j < k; ++j) cand.push_back({row[idx[j]], static_cast<int32_t>(r), idx[j]});
    }
    std::sort(cand.begin(), cand.end(), [](const Cand& a, const Cand& b) {
        if (a.s != b.s) return a.s > b.s;
        return a.r != b.r ? a.r < b.r : a.c < b.c;
    });
    std::vector<int32_t> out(static_cast<size_t>(rows), -1);
    std::vector<char> col_used(static_cast<size_t>(cols), 0);
    int64_t matched = 0;
    for (const Cand& c : cand) {
        if (matched == std::min(rows, cols)) break;
        if (out[c.r] >= 0 || col_used[c.c]) continue;
        out[c.r] = c.c;
        col_used[c.c] = 1;
        ++matched;
    }
    // Rows whose candidates were all taken: best free column by a full scan, in row order
    // (rows > cols leaves the rest at -1).
    for (int64_t r = 0; r < rows && matched < std::min(rows, cols); ++r) {
        if (out[r] >= 0) continue;
        const double* row = sim.data() + r * cols;
        int32_t best = -1;
        for (int64_t c = 0; c < cols; ++c) {
            if (!col_used[c] && (best < 0 || row[c] > row[best])) best = static_cast<int32_t>(c);
        }
        out[r] = best;
        col_used[best] = 1;
        ++matched;
    }
    return out;
}

Result<std::vector<int32_t>> match_max_similarity(std::span<const double> sim, int64_t rows,
                                                  int64_t cols, double exact_limit) {
    const double n = static_cast<double>(std::min(rows, cols));
    const double m = static_cast<double>(std::max(rows, cols));
    if (n * n * m <= exact_limit) return solve_max_similarity(sim, rows, cols);
    return greedy_max_similarity(sim, rows, cols);
}

}  // namespace modelprint
