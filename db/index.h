// VectorIndex: nearest-neighbour search over fixed-size fingerprint vectors by cosine
// similarity, through FAISS (adapter in index.cpp; no FAISS type appears here).
// Vectors are L2-normalised on the way in, so inner product = cosine similarity in [-1, 1].
// Layout: IndexIDMap2 over IndexFlatIP (exact) below IndexOptions::ivf_threshold vectors;
// IndexIDMap2 over IndexIVFFlat (inner product, k-means coarse quantiser, trained on the vectors
// it is built with) at or above it — the threshold and nprobe come from bench/index_bench.cpp
// (docs/benchmarks.md). The index lives in memory and is rebuilt from the store's fingerprints
// (db/store.h list_fingerprints) when needed; ids are the caller's (e.g. fingerprint row ids).
// Invariants: every stored vector has dim() finite components and unit norm; an id appears at
// most once (add() of an existing id replaces its vector).
// Not thread-safe for writes; concurrent search() calls on a built index are safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fingerprint/base/status.h"

namespace modelprint {

struct IndexOptions {
    // Build an IVF index when building from at least this many vectors (exact flat below). At
    // 100,000 vectors a flat build takes < 1 s and an IVF build (k-means) over a minute, and the
    // index is rebuilt per search call, so flat wins well past that (docs/benchmarks.md).
    size_t ivf_threshold = 1000000;
    // IVF lists; 0 = 4 * sqrt(n) rounded, clamped to [16, 65536] and to n / 39 (FAISS needs
    // ~39 training points per centroid).
    size_t nlist = 0;
    // Lists probed per query; 0 = max(8, nlist / 16).
    size_t nprobe = 0;
    int seed = 1234;
};

struct SearchHit {
    int64_t id = 0;
    float similarity = 0;  // cosine similarity
};

class VectorIndex {
public:
    // An empty flat index of dimension `dim` (1..65536).
    static Result<std::unique_ptr<VectorIndex>> create(int dim, const IndexOptions& options = {});
    // Build from n vectors (row-major, n * dim floats) with their ids, choosing flat or IVF by n.
    static Result<std::unique_ptr<VectorIndex>> build(int dim, std::span<const int64_t> ids,
                                                      std::span<const float> vectors,
                                                      const IndexOptions& options = {});
    ~VectorIndex();
    VectorIndex(const VectorIndex&) = delete;
    VectorIndex& operator=(const VectorIndex&) = delete;

    int dim() const { return dim_; }
    size_t size() const;
    bool is_ivf() const;
    size_t nlist() const;
    // Approximate resident bytes of the stored vectors and lists.
    size_t memory_bytes() const;

    // Add n vectors (n * dim floats) with ids; normalises them. kInvalidArgument for a size
    // mismatch, a non-finite component or a zero vector (naming its row), or duplicate ids
    // within the call. An id already present is replaced.
    Status add(std::span<const int64_t> ids, std::span<const float> vectors);
    // kNotFound when absent.
    Status remove(int64_t id);
    // The k nearest by cosine similarity, best first (fewer when the index holds fewer).
    Result<std::vector<SearchHit>> search(std::span<const float> query, int k) const;
    // nq queries (nq * dim floats) at once; one hit list per query.
    Result<std::vector<std::vector<SearchHit>>> search_batch(std::span<const float> queries,
                                                             int k) const;

private:
    struct Impl;
    VectorIndex() = default;
    int dim_ = 0;
    std::unique_ptr<Impl> impl_;
};

// Fingerprint vectors kept in the store: fingerprint kind "vector:<kind>" (e.g.
// "vector:weight-stats"), blob = float32 little-endian components. These convert both ways;
// blob_to_vector gives kCorruptData naming `what` for a length that is not a multiple of 4.
std::vector<uint8_t> vector_to_blob(std::span<const float> v);
Result<std::vector<float>> blob_to_vector(std::span<const uint8_t> blob, std::string_view what);
// A vector file given on the command line: a JSON array of numbers ("[0.1, 2, ...]") or raw
// float32 little-endian bytes (size a multiple of 4). kCorruptData naming `what` otherwise.
Result<std::vector<float>> parse_vector_file(std::string_view bytes, std::string_view what);

// L2-normalise one vector in place; kInvalidArgument naming `what` for non-finite or zero norm.
Status l2_normalise(std::span<float> v, std::string_view what);

}  // namespace modelprint
