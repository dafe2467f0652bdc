// PairSchedule (see weights_schedule.h): plan-order forcing, opportunistic runs, completion of
// half-read tasks, release after the last use.
#include "forensics/weights_schedule.h"

#include <algorithm>

#include "fingerprint/model/hash.h"

namespace modelprint {

PairSchedule::PairSchedule(ModelHashStream& a, ModelHashStream& b) : a_(a), b_(b) {}

size_t PairSchedule::add(std::vector<size_t> ta, std::vector<size_t> tb,
                         std::function<Status()> run, std::vector<size_t> after) {
    for (size_t i : ta) {
        if (uses_a_.size() <= i) uses_a_.resize(i + 1, 0);
        ++uses_a_[i];
        a_.want(i, false);
    }
    for (size_t i : tb) {
        if (uses_b_.size() <= i) uses_b_.resize(i + 1, 0);
        ++uses_b_[i];
        b_.want(i, false);
    }
    tasks_.push_back(Task{std::move(ta), std::move(tb), std::move(run), std::move(after), false});
    return tasks_.size() - 1;
}

bool PairSchedule::deps_done(const Task& t) const {
    return std::all_of(t.after.begin(), t.after.end(),
                       [&](size_t d) { return d < tasks_.size() && tasks_[d].done; });
}

bool PairSchedule::all_ready(const Task& t) const {
    return std::all_of(t.ta.begin(), t.ta.end(), [&](size_t i) { return a_.ready(i); }) &&
           std::all_of(t.tb.begin(), t.tb.end(), [&](size_t i) { return b_.ready(i); });
}

bool PairSchedule::any_ready(const Task& t) const {
    // Only a hashing stream makes "ready" news (without hashing every tensor is ready).
    return (a_.hashing() &&
            std::any_of(t.ta.begin(), t.ta.end(), [&](size_t i) { return a_.ready(i); })) ||
           (b_.hashing() &&
            std::any_of(t.tb.begin(), t.tb.end(), [&](size_t i) { return b_.ready(i); }));
}

Status PairSchedule::ensure(const Task& t) {
    for (size_t i : t.ta) MP_TRY(a_.ensure(i));
    for (size_t i : t.tb) MP_TRY(b_.ensure(i));
    return Status();
}

Status PairSchedule::run_task(size_t id) {
    Task& t = tasks_[id];
    MP_TRY(t.run());
    t.done = true;
    order_.push_back(id);
    for (size_t i : t.ta)
        if (--uses_a_[i] == 0) a_.release(i);
    for (size_t i : t.tb)
        if (--uses_b_[i] == 0) b_.release(i);
    t.run = nullptr;  // free what the closure holds
    return Status();
}

// Run every task that can run; complete tasks that are partly read; repeat until nothing moves.
Status PairSchedule::settle() {
    for (;;) {
        bool moved = false;
        for (size_t id = 0; id < tasks_.size(); ++id) {
            const Task& t = tasks_[id];
            if (t.done || !deps_done(t) || !all_ready(t)) continue;
            MP_TRY(run_task(id));
            moved = true;
        }
        if (moved) continue;
        for (size_t id = 0; id < tasks_.size() && !moved; ++id) {
            const Task& t = tasks_[id];
            if (t.done || !deps_done(t) || all_ready(t) || !any_ready(t)) continue;
            MP_TRY(ensure(t));
            moved = true;
        }
        if (!moved) return Status();
    }
}

Status PairSchedule::run_all() {
    for (size_t id = 0; id < tasks_.size(); ++id) {
        for (size_t d : tasks_[id].after) {
            if (d >= id) {
                return invalid_argument(
                    "schedule: task {} runs after task {}, which is not an "
                    "earlier task",
                    id, d);
            }
        }
    }
    for (size_t id = 0; id < tasks_.size(); ++id) {
        if (tasks_[id].done) continue;
        MP_TRY(ensure(tasks_[id]));
        MP_TRY(settle());
        if (!tasks_[id].done) {
            return internal_error("schedule: task {} could not run after its tensors were read",
                                  id);
        }
    }
    return Status();
}

}  // namespace modelprint
