// The read schedule of a two-model weight comparison: work items ("tasks") over tensors of A and
// of B, run so that every weight file is read from storage once. Each side is read through a
// ModelHashStream (model/hash.h): a task runs as soon as the bytes of all its tensors have been
// hashed (so they are in memory), and the tensors' pages are given back after the last task that
// reads them. Tasks are forced in the order they were added (the plan): forcing a task hashes
// its files up to its tensors; whatever else that read passes over is run right away when its
// task can run, and a task with some of its tensors read has the rest read next (so a layer of A
// read early pulls the same layer of B, whatever the two files' layouts).
// Dependencies: a task runs after the tasks it names (e.g. the layers after the hidden alignment).
// Does not: compute anything itself, or decide what a task reads (weights_compare.cpp does).
// Invariants: each task runs exactly once; a tensor is released only after every task that
// names it ran; the results of a comparison must not depend on the order tasks ran in (tasks
// write to their own slots).
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

class ModelHashStream;

class PairSchedule {
public:
    PairSchedule(ModelHashStream& a, ModelHashStream& b);

    // A task reading tensors `ta` of A and `tb` of B (indices into Model::tensors()), run after
    // the tasks in `after` (ids returned earlier). Returns the task's id.
    size_t add(std::vector<size_t> ta, std::vector<size_t> tb, std::function<Status()> run,
               std::vector<size_t> after = {});
    // Run every task (once). The first failing task's status is returned.
    Status run_all();
    // Task ids in the order they ran (tests, diagnostics).
    const std::vector<size_t>& run_order() const { return order_; }

private:
    struct Task {
        std::vector<size_t> ta, tb;
        std::function<Status()> run;
        std::vector<size_t> after;
        bool done = false;
    };
    bool deps_done(const Task& t) const;
    bool all_ready(const Task& t) const;
    bool any_ready(const Task& t) const;
    Status ensure(const Task& t);
    Status run_task(size_t id);
    Status settle();
    ModelHashStream& a_;
    ModelHashStream& b_;
    std::vector<Task> tasks_;
    std::vector<int> uses_a_, uses_b_;  // tasks still to run per tensor
    std::vector<size_t> order_;
};

}  // namespace modelprint
