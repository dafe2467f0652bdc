// FAISS adapter for index.h. FAISS reports errors by throwing faiss::FaissException (and may
// throw std::bad_alloc); every call into it is wrapped and turned into a Status. Norms are
// accumulated in double for a result independent of vector length.
#include "db/index.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/FaissException.h>

namespace modelprint {

using FaissIdx = faiss::Index::idx_t;

struct VectorIndex::Impl {
    IndexOptions options;
    std::unique_ptr<faiss::Index> quantizer;  // IVF only; must outlive `ivf`
    std::unique_ptr<faiss::Index> inner;      // IndexFlatIP or IndexIVFFlat
    std::unique_ptr<faiss::IndexIDMap2> map;
    bool ivf = false;
    size_t nlist = 0;
    std::unordered_set<int64_t> ids;
};

namespace {

template <typename F>
Status guarded(std::string_view what, F&& f) {
    try {
        f();
        return Status();
    } catch (const faiss::FaissException& e) {
        return internal_error("FAISS {}: {}", what, e.what());
    } catch (const std::bad_alloc&) {
        return io_error("FAISS {}: out of memory", what);
    } catch (const std::exception& e) {
        return internal_error("FAISS {}: {}", what, e.what());
    }
}

size_t auto_nlist(size_t n, const IndexOptions& o) {
    if (o.nlist > 0) return o.nlist;
    size_t nl = static_cast<size_t>(std::lround(4.0 * std::sqrt(static_cast<double>(n))));
    nl = std::clamp<size_t>(nl, 16, 65536);
    return std::max<size_t>(1, std::min(nl, n / 39));
}

Status check_shape(int dim, size_t n_ids, size_t n_floats, std::string_view what) {
    if (dim <= 0) return internal_error("index dimension {} is not positive", dim);
    if (n_floats % static_cast<size_t>(dim) != 0 || n_floats / static_cast<size_t>(dim) != n_ids) {
        return invalid_argument("{}: {} floats for {} ids of dimension {} (expected {})", what,
                                n_floats, n_ids, dim, n_ids * static_cast<size_t>(dim));
    }
    return Status();
}

}  // namespace

Status l2_normalise(std::span<float> v, std::string_view what) {
    double ss = 0;
    for (float x : v) {
        if (!std::isfinite(x)) return invalid_argument("{}: has a non-finite component", what);
        ss += static_cast<double>(x) * x;
    }
    if (!(ss > 0)) return invalid_argument("{}: is the zero vector (cannot be normalised)", what);
    const double inv = 1.0 / std::sqrt(ss);
    for (float& x : v) x = static_cast<float>(x * inv);
    return Status();
}

std::vector<uint8_t> vector_to_blob(std::span<const float> v) {
    std::vector<uint8_t> out(v.size() * 4);
    for (size_t i = 0; i < v.size(); ++i) {
        uint32_t u = 0;
        std::memcpy(&u, &v[i], 4);
        for (int b = 0; b < 4; ++b) out[i * 4 + b] = static_cast<uint8_t>(u >> (8 * b));
    }
    return out;
}

Result<std::vector<float>> blob_to_vector(std::span<const uint8_t> blob, std::string_view what) {
    if (blob.empty() || blob.size() % 4 != 0) {
        return corrupt_data("{}: vector blob of {} bytes is not a non-empty multiple of 4", what,
                            blob.size());
    }
    std::vector<float> v(blob.size() / 4);
    for (size_t i = 0; i < v.size(); ++i) {
        uint32_t u = 0;
        for (int b = 0; b < 4; ++b) u |= uint32_t{blob[i * 4 + b]} << (8 * b);
        std::memcpy(&v[i], &u, 4);
    }
    return v;
}

Result<std::vector<float>> parse_vector_file(std::string_view bytes, std::string_view what) {
    size_t p = 0;
    while (p < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[p]))) ++p;
    if (p < bytes.size() && bytes[p] == '[') {
        std::vector<float> v;
        std::string text(bytes.substr(p + 1));
        const size_t close = text.rfind(']');
        if (close == std::string::npos) return corrupt_data("{}: JSON array without ']'", what);
        text.resize(close);
        const char* s = text.c_str();
        while (true) {
            while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') ++s;
            if (*s == '\0') break;
            char* end = nullptr;
            const double d = std::strtod(s, &end);
            if (end == s) {
                return corrupt_data("{}: element {} is not a number", what, v.size());
            }
            v.push_back(static_cast<float>(d));
            s = end;
            while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') ++s;
            if (*s == ',') {
                ++s;
            } else if (*s != '\0') {
                return corrupt_data("{}: unexpected '{}' after element {}", what, *s, v.size() - 1);
            }
        }
        if (v.empty()) return corrupt_data("{}: empty vector", what);
        return v;
    }
    return blob_to_vector({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, what);
}

VectorIndex::~VectorIndex() = default;

Result<std::unique_ptr<VectorIndex>> VectorIndex::create(int dim, const IndexOptions& options) {
    if (dim < 1 || dim > 65536) {
        return invalid_argument("index dimension {} is outside 1..65536", dim);
    }
    std::unique_ptr<VectorIndex> idx(new VectorIndex());
    idx->dim_ = dim;
    idx->impl_ = std::make_unique<Impl>();
    idx->impl_->options = options;
    MP_TRY(guarded("create flat index", [&] {
        idx->impl_->inner = std::make_unique<faiss::IndexFlatIP>(dim);
        idx->impl_->map = std::make_unique<faiss::IndexIDMap2>(idx->impl_->inner.get());
    }));
    return idx;
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::build(int dim, std::span<const int64_t> ids,
                                                        std::span<const float> vectors,
                                                        const IndexOptions& options) {
    if (dim < 1 || dim > 65536) {
        return invalid_argument("index dimension {} is outside 1..65536", dim);
    }
    MP_TRY(check_shape(dim, ids.size(), vectors.size(), "index build"));
    const size_t n = ids.size();
    if (n < options.ivf_threshold || n < 39 * 16) {
        MP_ASSIGN_OR_RETURN(auto idx, create(dim, options));
        MP_TRY(idx->add(ids, vectors));
        return idx;
    }
    std::vector<float> normed(vectors.begin(), vectors.end());
    for (size_t i = 0; i < n; ++i) {
        MP_TRY(l2_normalise(std::span<float>(normed).subspan(i * dim, dim),
                            fmt::format("vector {} (id {})", i, ids[i])));
    }
    std::unique_ptr<VectorIndex> idx(new VectorIndex());
    idx->dim_ = dim;
    idx->impl_ = std::make_unique<Impl>();
    Impl& im = *idx->impl_;
    im.options = options;
    im.ivf = true;
    im.nlist = auto_nlist(n, options);
    std::unordered_set<int64_t> seen;
    for (int64_t id : ids) {
        if (!seen.insert(id).second) return invalid_argument("index build: duplicate id {}", id);
    }
    MP_TRY(guarded("build IVF index", [&] {
        im.quantizer = std::make_unique<faiss::IndexFlatIP>(dim);
        auto ivf = std::make_unique<faiss::IndexIVFFlat>(im.quantizer.get(), dim, im.nlist,
                                                         faiss::METRIC_INNER_PRODUCT);
        ivf->cp.seed = options.seed;
        ivf->nprobe = options.nprobe > 0 ? options.nprobe : std::max<size_t>(8, im.nlist / 16);
        ivf->train(static_cast<FaissIdx>(n), normed.data());
        im.inner = std::move(ivf);
        im.map = std::make_unique<faiss::IndexIDMap2>(im.inner.get());
        im.map->add_with_ids(static_cast<FaissIdx>(n), normed.data(), ids.data());
    }));
    im.ids = std::move(seen);
    return idx;
}

size_t VectorIndex::size() const { return impl_->ids.size(); }
bool VectorIndex::is_ivf() const { return impl_->ivf; }
size_t VectorIndex::nlist() const { return impl_->nlist; }

size_t VectorIndex::memory_bytes() const {
    // Vectors (4 bytes per component), ids in the list or flat map, and centroids for IVF.
    const size_t n = size();
    size_t bytes = n * static_cast<size_t>(dim_) * sizeof(float) + n * 2 * sizeof(int64_t);
    if (impl_->ivf) bytes += impl_->nlist * static_cast<size_t>(dim_) * sizeof(float);
    return bytes;
}

Status VectorIndex::add(std::span<const int64_t> ids, std::span<const float> vectors) {
    MP_TRY(check_shape(dim_, ids.size(), vectors.size(), "index add"));
    const size_t n = ids.size();
    std::vector<float> normed(vectors.begin(), vectors.end());
    std::unordered_set<int64_t> batch;
    for (size_t i = 0; i < n; ++i) {
        if (!batch.insert(ids[i]).second) {
            return invalid_argument("index add: id {} appears twice in one call", ids[i]);
        }
        MP_TRY(l2_normalise(std::span<float>(normed).subspan(i * dim_, dim_),
                            fmt::format("vector {} (id {})", i, ids[i])));
    }
    std::vector<FaissIdx> replaced;
    for (int64_t id : ids) {
        if (impl_->ids.count(id)) replaced.push_back(id);
    }
    MP_TRY(guarded("add", [&] {
        if (!replaced.empty()) {
            faiss::IDSelectorArray sel(replaced.size(), replaced.data());
            impl_->map->remove_ids(sel);
        }
        impl_->map->add_with_ids(static_cast<FaissIdx>(n), normed.data(), ids.data());
    }));
    for (int64_t id : ids) impl_->ids.insert(id);
    return Status();
}

Status VectorIndex::remove(int64_t id) {
    if (!impl_->ids.count(id)) return not_found("index: no vector with id {}", id);
    MP_TRY(guarded("remove", [&] {
        FaissIdx one = id;
        faiss::IDSelectorArray sel(1, &one);
        impl_->map->remove_ids(sel);
    }));
    impl_->ids.erase(id);
    return Status();
}

Result<std::vector<std::vector<SearchHit>>> VectorIndex::search_batch(std::span<const float> queries,
                                                                      int k) const {
    if (k < 1) return invalid_argument("search: k = {} must be at least 1", k);
    if (queries.size() % static_cast<size_t>(dim_) != 0) {
        return invalid_argument("search: {} floats is not a multiple of the dimension {}",
                                queries.size(), dim_);
    }
    const size_t nq = queries.size() / dim_;
    std::vector<float> q(queries.begin(), queries.end());
    for (size_t i = 0; i < nq; ++i) {
        MP_TRY(l2_normalise(std::span<float>(q).subspan(i * dim_, dim_),
                            fmt::format("query {}", i)));
    }
    std::vector<std::vector<SearchHit>> out(nq);
    if (size() == 0 || nq == 0) return out;
    const int kk = static_cast<int>(std::min<size_t>(static_cast<size_t>(k), size()));
    std::vector<float> dist(nq * kk);
    std::vector<FaissIdx> labels(nq * kk);
    MP_TRY(guarded("search", [&] {
        impl_->map->search(static_cast<FaissIdx>(nq), q.data(), kk, dist.data(), labels.data());
    }));
    for (size_t i = 0; i < nq; ++i) {
        for (int j = 0; j < kk; ++j) {
            const FaissIdx label = labels[i * kk + j];
            if (label < 0) continue;  // IVF may find fewer than k in the probed lists
            out[i].push_back({label, std::clamp(dist[i * kk + j], -1.0f, 1.0f)});
        }
    }
    return out;
}

Result<std::vector<SearchHit>> VectorIndex::search(std::span<const float> query, int k) const {
    if (query.size() != static_cast<size_t>(dim_)) {
        return invalid_argument("search: query has {} components, the index {}", query.size(), dim_);
    }
    MP_ASSIGN_OR_RETURN(auto all, search_batch(query, k));
    return std::move(all.front());
}

}  // namespace modelprint
