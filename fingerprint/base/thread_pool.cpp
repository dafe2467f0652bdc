// parallel_for with std::thread; the calling thread works too.
#include "fingerprint/base/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

namespace modelprint {

int default_thread_count() {
    if (const char* env = std::getenv("MODELPRINT_THREADS")) {
        int n = std::atoi(env);
        if (n > 0) return n;
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

void parallel_for(size_t n, const std::function<void(size_t)>& fn, int threads, size_t grain) {
    if (n == 0) return;
    if (threads <= 0) threads = default_thread_count();
    grain = std::max<size_t>(1, grain);
    const size_t max_workers = (n + grain - 1) / grain;
    const int workers = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), max_workers));
    if (workers <= 1) {
        for (size_t i = 0; i < n; ++i) fn(i);
        return;
    }
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (;;) {
            size_t begin = next.fetch_add(grain);
            if (begin >= n) return;
            size_t end = std::min(n, begin + grain);
            for (size_t i = begin; i < end; ++i) fn(i);
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(workers - 1));
    for (int t = 1; t < workers; ++t) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
}

}  // namespace modelprint
