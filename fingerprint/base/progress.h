// Progress on stderr for long work. Silent for short jobs (nothing printed before 0.5 s), when
// MODELPRINT_QUIET is set, or when disabled by the caller. Thread-safe: advance() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace modelprint {

class Progress {
public:
    Progress(std::string label, uint64_t total, std::string unit = "B");
    ~Progress();
    void advance(uint64_t n);
    void finish();
    static void set_enabled(bool enabled);

private:
    void draw(bool final_line);
    std::string label_;
    std::string unit_;
    uint64_t total_;
    std::atomic<uint64_t> done_{0};
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
    std::mutex mu_;
    bool drawn_ = false;
    bool finished_ = false;
};

}  // namespace modelprint
