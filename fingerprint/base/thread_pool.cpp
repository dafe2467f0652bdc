// parallel_for on a persistent pool of workers; the calling thread works too.
// One job runs on the pool at a time: a call made while the pool is busy (from another thread,
// or nested inside a job) gets threads of its own, as every call did before the pool (the CPU
// engine makes ~250 calls per SmolLM2 pass; each used to start and join a thread).
#include "fingerprint/base/thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace modelprint {

namespace {

struct Job {
    const std::function<void(size_t)>* fn = nullptr;
    size_t n = 0, grain = 1;
    std::atomic<size_t> next{0};

    void run() {
        for (;;) {
            const size_t begin = next.fetch_add(grain);
            if (begin >= n) return;
            const size_t end = std::min(n, begin + grain);
            for (size_t i = begin; i < end; ++i) (*fn)(i);
        }
    }
};

// Back-to-back jobs (a forward pass makes hundreds, each tens of microseconds) would pay a
// futex sleep and wake per job; workers and the caller spin briefly before sleeping instead.
constexpr int kSpins = 4000;  // ~50-100 us of pause instructions

class Pool {
public:
    ~Pool() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stop_ = true;
        }
        wake_.notify_all();
        for (auto& t : workers_) t.join();
    }

    // Runs the job on `helpers` pool workers plus the caller; false when the pool is busy.
    bool try_run(Job& job, int helpers) {
        std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
        if (!busy.owns_lock()) return false;
        {
            std::lock_guard<std::mutex> lock(mu_);
            while (static_cast<int>(workers_.size()) < helpers) {
                workers_.emplace_back([this, id = static_cast<int>(workers_.size())] { loop(id); });
            }
            job_ = &job;
            wanted_ = helpers;
            running_.store(helpers, std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        job.run();
        for (int i = 0; i < kSpins && running_.load(std::memory_order_acquire) != 0; ++i) {
            _mm_pause();
        }
        if (running_.load(std::memory_order_acquire) != 0) {
            std::unique_lock<std::mutex> lock(mu_);
            done_.wait(lock, [&] { return running_.load(std::memory_order_acquire) == 0; });
        }
        return true;
    }

private:
    void loop(int id) {
        uint64_t seen = 0;
        for (;;) {
            for (int i = 0; i < kSpins && generation_.load(std::memory_order_acquire) == seen;
                 ++i) {
                _mm_pause();
            }
            Job* job = nullptr;
            {
                std::unique_lock<std::mutex> lock(mu_);
                wake_.wait(lock, [&] {
                    return stop_ || generation_.load(std::memory_order_acquire) != seen;
                });
                if (stop_) return;
                seen = generation_.load(std::memory_order_acquire);
                if (id >= wanted_) continue;
                job = job_;
            }
            job->run();
            if (running_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard<std::mutex> lock(mu_);
                done_.notify_one();
            }
        }
    }

    std::mutex busy_;  // held by the caller whose job is on the pool
    std::mutex mu_;    // guards job_, wanted_, workers_, stop_ and the sleeps
    std::condition_variable wake_, done_;
    std::vector<std::thread> workers_;
    Job* job_ = nullptr;
    int wanted_ = 0;
    std::atomic<int> running_{0};
    std::atomic<uint64_t> generation_{0};
    bool stop_ = false;
};

Pool& pool() {
    static Pool p;
    return p;
}

}  // namespace

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
    const int workers =
        static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), max_workers));
    if (workers <= 1) {
        for (size_t i = 0; i < n; ++i) fn(i);
        return;
    }
    Job job;
    job.fn = &fn;
    job.n = n;
    job.grain = grain;
    if (pool().try_run(job, workers - 1)) return;
    std::vector<std::thread> own;
    own.reserve(static_cast<size_t>(workers - 1));
    for (int t = 1; t < workers; ++t) own.emplace_back([&job] { job.run(); });
    job.run();
    for (auto& th : own) th.join();
}

}  // namespace modelprint
