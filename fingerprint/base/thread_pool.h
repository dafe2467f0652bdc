// Minimal parallelism: parallel_for over [0, n) with a fixed number of worker threads.
// Work is split into contiguous chunks claimed dynamically; fn(i) must be thread-safe.
// Deterministic results are the caller's job (write to slot i, reduce in index order).
#pragma once

#include <cstddef>
#include <functional>

namespace modelprint {

// Threads to use: MODELPRINT_THREADS if set, else hardware concurrency (at least 1).
int default_thread_count();

// Run fn(i) for i in [0, n). threads <= 0 means default_thread_count(). grain: indices per claim.
void parallel_for(size_t n, const std::function<void(size_t)>& fn, int threads = 0,
                  size_t grain = 1);

}  // namespace modelprint
