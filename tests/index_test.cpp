// VectorIndex on synthetic vectors: exact cosine similarities against a brute-force reference,
// replacement and removal, IVF recall against the flat index, and every error path.
#include <cmath>
#include <random>

#include "db/index.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

std::vector<float> random_vectors(size_t n, int dim, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> v(n * dim);
    for (float& x : v) x = nd(rng);
    return v;
}

double cosine(const float* a, const float* b, int dim) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < dim; ++i) {
        ab += double{a[i]} * b[i];
        aa += double{a[i]} * a[i];
        bb += double{b[i]} * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

TEST(VectorIndex, FlatSearchMatchesBruteForceCosine) {
    constexpr int kDim = 32;
    constexpr size_t kN = 500;
    auto vecs = random_vectors(kN, kDim, 1);
    std::vector<int64_t> ids(kN);
    for (size_t i = 0; i < kN; ++i) ids[i] = 1000 + static_cast<int64_t>(i);
    auto idx = VectorIndex::build(kDim, ids, vecs);
    MP_ASSERT_OK(idx);
    EXPECT_FALSE((*idx)->is_ivf());
    EXPECT_EQ((*idx)->size(), kN);
    auto q = random_vectors(1, kDim, 2);
    for (float& x : q) x *= 7.0f;  // scale must not matter
    auto hits = (*idx)->search(q, 5);
    MP_ASSERT_OK(hits);
    ASSERT_EQ(hits->size(), 5u);
    // Brute-force reference.
    std::vector<std::pair<double, int64_t>> ref;
    for (size_t i = 0; i < kN; ++i) ref.push_back({cosine(q.data(), &vecs[i * kDim], kDim), ids[i]});
    std::sort(ref.rbegin(), ref.rend());
    for (size_t j = 0; j < 5; ++j) {
        EXPECT_EQ((*hits)[j].id, ref[j].second);
        EXPECT_NEAR((*hits)[j].similarity, ref[j].first, 1e-5);  // float32 dot products
    }
    // A stored vector finds itself with similarity 1.
    auto self = (*idx)->search(std::span<const float>(&vecs[42 * kDim], kDim), 1);
    MP_ASSERT_OK(self);
    EXPECT_EQ((*self)[0].id, 1042);
    EXPECT_NEAR((*self)[0].similarity, 1.0, 1e-5);
}

TEST(VectorIndex, AddReplacesAndRemoveDeletes) {
    auto idx = VectorIndex::create(3);
    MP_ASSERT_OK(idx);
    const std::vector<int64_t> ids = {1, 2};
    const std::vector<float> v = {1, 0, 0, 0, 1, 0};
    MP_ASSERT_OK((*idx)->add(ids, v));
    const std::vector<float> q = {0, 0, 1};
    const std::vector<int64_t> one = {1};
    MP_ASSERT_OK((*idx)->add(one, q));  // id 1 now points along z
    EXPECT_EQ((*idx)->size(), 2u);
    auto hits = (*idx)->search(q, 10);
    MP_ASSERT_OK(hits);
    ASSERT_EQ(hits->size(), 2u);  // k larger than the index: all of it
    EXPECT_EQ((*hits)[0].id, 1);
    EXPECT_NEAR((*hits)[0].similarity, 1.0, 1e-6);
    EXPECT_NEAR((*hits)[1].similarity, 0.0, 1e-6);
    MP_ASSERT_OK((*idx)->remove(1));
    EXPECT_EQ((*idx)->size(), 1u);
    EXPECT_EQ((*(*idx)->search(q, 10))[0].id, 2);
    EXPECT_THAT((*idx)->remove(1), StatusIs(StatusCode::kNotFound, "id 1"));
}

TEST(VectorIndex, IvfRecallAgainstFlat) {
    constexpr int kDim = 64;
    constexpr size_t kN = 20000;
    auto vecs = random_vectors(kN, kDim, 3);
    std::vector<int64_t> ids(kN);
    for (size_t i = 0; i < kN; ++i) ids[i] = static_cast<int64_t>(i);
    IndexOptions ivf_opt;
    ivf_opt.ivf_threshold = 1000;
    auto ivf = VectorIndex::build(kDim, ids, vecs, ivf_opt);
    MP_ASSERT_OK(ivf);
    EXPECT_TRUE((*ivf)->is_ivf());
    EXPECT_GE((*ivf)->nlist(), 16u);
    auto flat = VectorIndex::build(kDim, ids, vecs);
    MP_ASSERT_OK(flat);
    // Queries: stored vectors plus noise (near-duplicates, the registry use case).
    constexpr size_t kQ = 50;
    auto noise = random_vectors(kQ, kDim, 4);
    std::vector<float> q(kQ * kDim);
    for (size_t i = 0; i < kQ; ++i) {
        for (int d = 0; d < kDim; ++d) q[i * kDim + d] = vecs[(i * 397) * kDim + d] + 0.3f * noise[i * kDim + d];
    }
    auto a = (*ivf)->search_batch(q, 10);
    auto b = (*flat)->search_batch(q, 10);
    MP_ASSERT_OK(a);
    MP_ASSERT_OK(b);
    size_t top1 = 0;
    for (size_t i = 0; i < kQ; ++i) top1 += (!(*a)[i].empty() && (*a)[i][0].id == (*b)[i][0].id);
    EXPECT_GE(top1, kQ * 98 / 100) << "IVF top-1 recall " << top1 << "/" << kQ;
}

TEST(VectorIndex, RejectsBadInput) {
    EXPECT_THAT(VectorIndex::create(0), StatusIs(StatusCode::kInvalidArgument, "dimension 0"));
    auto idx = VectorIndex::create(2);
    MP_ASSERT_OK(idx);
    const std::vector<int64_t> ids = {1};
    EXPECT_THAT((*idx)->add(ids, std::vector<float>{1, 2, 3}),
                StatusIs(StatusCode::kInvalidArgument, "3 floats for 1 ids"));
    EXPECT_THAT((*idx)->add(ids, std::vector<float>{0, 0}),
                StatusIs(StatusCode::kInvalidArgument, "zero vector"));
    EXPECT_THAT((*idx)->add(ids, std::vector<float>{NAN, 1}),
                StatusIs(StatusCode::kInvalidArgument, "non-finite"));
    EXPECT_THAT((*idx)->add(std::vector<int64_t>{5, 5}, std::vector<float>{1, 0, 0, 1}),
                StatusIs(StatusCode::kInvalidArgument, "id 5 appears twice"));
    EXPECT_THAT((*idx)->search(std::vector<float>{1, 0, 0}, 1),
                StatusIs(StatusCode::kInvalidArgument, "3 components"));
    EXPECT_THAT((*idx)->search(std::vector<float>{1, 0}, 0), StatusIs(StatusCode::kInvalidArgument, "k = 0"));
    auto empty = (*idx)->search(std::vector<float>{1, 0}, 3);
    MP_ASSERT_OK(empty);
    EXPECT_TRUE(empty->empty());
    EXPECT_THAT(VectorIndex::build(2, ids, std::vector<float>{1}),
                StatusIs(StatusCode::kInvalidArgument, "index build"));
}

}  // namespace
}  // namespace modelprint
