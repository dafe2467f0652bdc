// Progress line on stderr: "label  42% 1.2 GiB/2.9 GiB 850 MiB/s", redrawn at most 5 times/s.
#include "fingerprint/base/progress.h"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

namespace modelprint {
namespace {
std::atomic<bool> g_enabled{true};

std::string human(double v, const std::string& unit) {
    if (unit != "B") return fmt::format("{:.0f} {}", v, unit);
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (v >= 1024.0 && i < 4) {
        v /= 1024.0;
        ++i;
    }
    return fmt::format("{:.1f} {}", v, units[i]);
}
}  // namespace

void Progress::set_enabled(bool enabled) { g_enabled = enabled; }

Progress::Progress(std::string label, uint64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {
    if (std::getenv("MODELPRINT_QUIET") != nullptr) g_enabled = false;
}

Progress::~Progress() { finish(); }

void Progress::advance(uint64_t n) {
    done_.fetch_add(n);
    if (!g_enabled) return;
    auto now = std::chrono::steady_clock::now();
    if (now - start_ < std::chrono::milliseconds(500)) return;
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    if (!lock.owns_lock() || finished_) return;
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
    last_draw_ = now;
    draw(false);
}

void Progress::finish() {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) return;
    finished_ = true;
    if (drawn_ && g_enabled) draw(true);
}

void Progress::draw(bool final_line) {
    drawn_ = true;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const uint64_t done = done_.load();
    const double pct = total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 0.0;
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
    std::fprintf(stderr, "\r%s %5.1f%% %s/%s %s/s%s", label_.c_str(), pct,
                 human(static_cast<double>(done), unit_).c_str(),
                 human(static_cast<double>(total_), unit_).c_str(), human(rate, unit_).c_str(),
                 final_line ? "\n" : "");
    std::fflush(stderr);
}

}  // namespace modelprint
