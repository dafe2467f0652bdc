// Stored-dtype panels (fingerprint/engine/cpu_pack.cpp, cpu_gemm.h): for every dtype the engine
// keeps as stored (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)
//  - the dequantised panels hold, bit for bit, the values convert_to_f32 gives for the stored
//    bytes (uniform random bytes: halves include subnormals, infinities and NaNs, signalling
//    ones too; plus the real gguf-py blocks of testdata/gguf);
//  - the product on the stored panels is bit for bit the product on the f32 expansion packed by
//    pack_rows (the f32 oracle path), for both kernels, 1-3 threads, with and without bias, at
//    odd shapes (rows not a multiple of 32 or of MR, inner dimension crossing the 256 k-block);
//  - several parts of different dtypes, a transposed part and a row order give the product of
//    the concatenated, transposed, reordered f32 matrix;
//  - every malformed input is an error naming the part.
#include <bit>
#include <cstring>
#include <random>

#include "fingerprint/base/dtype.h"
#include "fingerprint/engine/cpu_gemm.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

using ::modelprint::testing::random_stored;
using ::modelprint::testing::read_bytes;
using ::modelprint::testing::testdata_dir;

const DType kStored[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ8_0,
                         DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                         DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

std::vector<float> to_f32(DType t, const std::vector<uint8_t>& bytes, uint64_t n) {
    std::vector<float> out(n);
    EXPECT_TRUE(convert_to_f32(t, bytes, n, out.data()).ok());
    return out;
}

std::vector<float> randn(size_t n, uint64_t seed) {
    std::mt19937_64 g(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

// Bitwise comparison (NaNs included).
::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes differ";
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::bit_cast<uint32_t>(a[i]) != std::bit_cast<uint32_t>(b[i])) {
            return ::testing::AssertionFailure()
                   << "element " << i << ": " << a[i] << " (0x" << std::hex
                   << std::bit_cast<uint32_t>(a[i]) << ") vs " << b[i] << " (0x"
                   << std::bit_cast<uint32_t>(b[i]) << ")";
        }
    }
    return ::testing::AssertionSuccess();
}

std::vector<float> gather_all(const PackedMatrix& p) {
    std::vector<int32_t> ids(static_cast<size_t>(p.rows));
    for (int64_t i = 0; i < p.rows; ++i) ids[i] = static_cast<int32_t>(i);
    std::vector<float> out(static_cast<size_t>(p.rows * p.cols));
    packed_gather_rows(out.data(), p, ids.data(), p.rows);
    return out;
}

PackedMatrix pack_one(DType t, const std::vector<uint8_t>& bytes, int64_t rows, int64_t cols) {
    StoredMatrix m;
    m.dtype = t;
    m.bytes = bytes;
    m.rows = rows;
    m.cols = cols;
    auto p = pack_stored(std::span<const StoredMatrix>(&m, 1));
    EXPECT_TRUE(p.ok()) << p.status().to_string();
    return p.ok() ? std::move(p).value() : PackedMatrix{};
}

TEST(CpuPack, EveryStoredDtypeDequantisesToTheBitsOfConvertToF32) {
    for (DType t : kStored) {
        const int64_t bs = dtype_info(t).block_size;
        for (int64_t rows : {1, 31, 33, 70}) {
            for (int64_t blocks_per_row : {1, 3, 9}) {
                const int64_t cols = bs == 1 ? 8 * blocks_per_row + 1 : bs * blocks_per_row;
                const uint64_t n = static_cast<uint64_t>(rows * cols);
                SCOPED_TRACE(std::string(dtype_name(t)) + " " + std::to_string(rows) + "x" +
                             std::to_string(cols));
                for (bool sane : {false, true}) {
                    const auto bytes = random_stored(t, n, 100 + rows + cols, sane);
                    const PackedMatrix p = pack_one(t, bytes, rows, cols);
                    ASSERT_EQ(p.rows, rows);
                    ASSERT_EQ(p.cols, cols);
                    ASSERT_TRUE(same_bits(gather_all(p), to_f32(t, bytes, n)));
                }
            }
        }
    }
}

TEST(CpuPack, RealGgufPyBlocksDequantiseToTheirReferenceValues) {
    // testdata/gguf/quant_*.bin: blocks quantised by gguf-py, *.f32 its dequantised values.
    for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                    DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
        const std::string name(dtype_name(t));
        SCOPED_TRACE(name);
        const auto bytes = read_bytes(testdata_dir() / "gguf" / ("quant_" + name + ".bin"));
        const auto ref = read_bytes(testdata_dir() / "gguf" / ("quant_" + name + ".f32"));
        const uint64_t n = ref.size() / 4;
        const int64_t cols = dtype_info(t).block_size;
        ASSERT_EQ(n % static_cast<uint64_t>(cols), 0u);
        const int64_t rows = static_cast<int64_t>(n) / cols;
        std::vector<float> want(n);
        std::memcpy(want.data(), ref.data(), ref.size());
        ASSERT_TRUE(same_bits(gather_all(pack_one(t, bytes, rows, cols)), want));
    }
}

struct Shape {
    int64_t N, OC, blocks;  // inner dimension = blocks * block size (+1 for plain types)
};

TEST(CpuPack, ProductOnStoredPanelsIsBitwiseTheProductOnTheF32Expansion) {
    const Shape shapes[] = {{1, 1, 1}, {1, 33, 9}, {3, 31, 3}, {9, 70, 2}, {97, 65, 10}};
    int checked = 0;
    for (DType t : kStored) {
        const int64_t bs = dtype_info(t).block_size;
        for (const Shape& s : shapes) {
            const int64_t IC = bs == 1 ? 32 * s.blocks + 1 : bs * s.blocks;
            const uint64_t n = static_cast<uint64_t>(s.OC * IC);
            SCOPED_TRACE(std::string(dtype_name(t)) + " N=" + std::to_string(s.N) +
                         " OC=" + std::to_string(s.OC) + " IC=" + std::to_string(IC));
            const auto bytes = random_stored(t, n, 7 + s.OC, true);
            const auto w = to_f32(t, bytes, n);
            const PackedMatrix stored = pack_one(t, bytes, s.OC, IC);
            const PackedMatrix oracle = pack_rows(w.data(), s.OC, IC);
            const auto x = randn(static_cast<size_t>(s.N * IC), 3 + s.N);
            const auto bias = randn(static_cast<size_t>(s.OC), 5);
            for (const float* b : {static_cast<const float*>(nullptr), bias.data()}) {
                for (GemmKernel kern : {GemmKernel::kAvx512, GemmKernel::kAvx2}) {
                    std::vector<float> want(static_cast<size_t>(s.N * s.OC));
                    packed_matmul_forward(want.data(), x.data(), oracle, b, s.N, 1, kern);
                    for (int threads : {1, 2, 3}) {
                        std::vector<float> got(want.size(), NAN);
                        packed_matmul_forward(got.data(), x.data(), stored, b, s.N, threads, kern);
                        ASSERT_TRUE(same_bits(got, want))
                            << "kernel " << static_cast<int>(kern) << " threads " << threads;
                        ++checked;
                    }
                }
            }
        }
    }
    EXPECT_EQ(checked, 11 * 5 * 2 * 2 * 3);
}

TEST(CpuPack, PartsTransposedAndReorderedRowsMatchTheF32Matrix) {
    // A fused matrix like Q/K/V of a Q4_K_M file: Q4_K rows, Q6_K rows, then f32, bf16
    // (transposed, as GPT-2's Conv1D stores it) and f16 (rows reordered, as GGUF's Q/K).
    const int64_t IC = 512, N = 11;
    struct Part {
        DType t;
        int64_t rows;
        bool transposed;
        bool reorder;
    };
    const Part spec[] = {{DType::kQ4_K, 64, false, false},
                         {DType::kQ6_K, 40, false, true},
                         {DType::kF32, 17, false, false},
                         {DType::kBF16, 33, true, false},
                         {DType::kF16, 8, false, true}};
    std::vector<std::vector<uint8_t>> bytes;
    std::vector<StoredMatrix> parts;
    std::vector<float> w;  // the canonical f32 matrix, rows concatenated
    for (size_t i = 0; i < std::size(spec); ++i) {
        const Part& p = spec[i];
        const uint64_t n = static_cast<uint64_t>(p.rows * IC);
        bytes.push_back(random_stored(p.t, n, 40 + i, true));
        const auto f = to_f32(p.t, bytes.back(), n);  // stored order
        StoredMatrix m;
        m.dtype = p.t;
        m.bytes = bytes.back();
        m.rows = p.rows;
        m.cols = IC;
        m.transposed = p.transposed;
        if (p.reorder) {
            for (int64_t r = 0; r < p.rows; ++r) m.row_order.push_back((r * 7 + 3) % p.rows);
        }
        for (int64_t r = 0; r < p.rows; ++r) {
            const int64_t sr = m.row_order.empty() ? r : m.row_order[r];
            for (int64_t k = 0; k < IC; ++k) {
                w.push_back(p.transposed ? f[k * p.rows + sr] : f[sr * IC + k]);
            }
        }
        parts.push_back(std::move(m));
    }
    auto stored = pack_stored(parts);
    MP_ASSERT_OK(stored);
    const int64_t OC = static_cast<int64_t>(w.size()) / IC;
    ASSERT_EQ(stored->rows, OC);
    ASSERT_EQ(stored->parts.size(), std::size(spec));
    EXPECT_TRUE(same_bits(gather_all(*stored), w));
    const PackedMatrix oracle = pack_rows(w.data(), OC, IC);
    const auto x = randn(static_cast<size_t>(N * IC), 9);
    const auto bias = randn(static_cast<size_t>(OC), 10);
    std::vector<float> want(static_cast<size_t>(N * OC)), got(want.size());
    for (int threads : {1, 2}) {
        packed_matmul_forward(want.data(), x.data(), oracle, bias.data(), N, threads);
        packed_matmul_forward(got.data(), x.data(), *stored, bias.data(), N, threads);
        EXPECT_TRUE(same_bits(got, want)) << threads << " threads";
    }
    // Size: a (64, 512) Q4_K part is 2 panels x 2 groups x 4736 bytes, 2.8 % over its 9216
    // stored bytes (the 6-bit scales unpacked); Q6_K (40 rows) pads to 2 panels of 2 x 6720.
    EXPECT_EQ(stored->parts[0].panels() * stored->parts[0].panel_bytes, 2 * 2 * 4736);
    EXPECT_EQ(stored->parts[1].panels() * stored->parts[1].panel_bytes, 2 * 2 * 6720);
}

TEST(CpuPack, MalformedPartsAreErrorsNamingThePart) {
    const auto q4k = random_stored(DType::kQ4_K, 256 * 2, 1, true);
    const auto q2k = random_stored(DType::kQ2_K, 256 * 2, 1, false);
    const auto f32 = random_stored(DType::kF32, 64, 1, true);
    auto one = [](DType t, std::span<const uint8_t> b, int64_t rows, int64_t cols) {
        StoredMatrix m;
        m.dtype = t;
        m.bytes = b;
        m.rows = rows;
        m.cols = cols;
        return m;
    };
    auto pack = [](std::vector<StoredMatrix> v) { return pack_stored(v); };
    EXPECT_THAT(pack({one(DType::kQ2_K, q2k, 2, 256)}),
                StatusIs(StatusCode::kInvalidArgument, "part 0 has dtype Q2_K"));
    EXPECT_THAT(pack({one(DType::kF32, f32, 4, 16), one(DType::kQ4_K, q4k, 2, 256)}),
                StatusIs(StatusCode::kInvalidArgument, "part 1 is (2, 256), the matrix has 16"));
    EXPECT_THAT(pack({one(DType::kQ4_K, q4k, 4, 128)}),
                StatusIs(StatusCode::kCorruptData, "128 columns, not a whole number of 256"));
    EXPECT_THAT(pack({one(DType::kQ4_K, std::span(q4k).first(100), 2, 256)}),
                StatusIs(StatusCode::kCorruptData, "needs 288 bytes, has 100"));
    EXPECT_THAT(pack({one(DType::kF32, f32, -1, 64)}),
                StatusIs(StatusCode::kInvalidArgument, "part 0 is (-1, 64)"));
    StoredMatrix t = one(DType::kQ4_K, q4k, 2, 256);
    t.transposed = true;
    EXPECT_THAT(pack({t}), StatusIs(StatusCode::kInvalidArgument, "transposed Q4_K"));
    StoredMatrix r = one(DType::kF32, f32, 4, 16);
    r.row_order = {0, 1, 2};
    EXPECT_THAT(pack({r}), StatusIs(StatusCode::kInvalidArgument, "4 rows and a row order of 3"));
    r.row_order = {0, 1, 2, 4};
    EXPECT_THAT(pack({r}), StatusIs(StatusCode::kInvalidArgument, "names row 4 of 4"));
    // Empty input and zero-row parts are fine.
    auto empty = pack_stored({});
    MP_ASSERT_OK(empty);
    EXPECT_TRUE(empty->empty());
    EXPECT_FALSE(packable_dtype(DType::kQ3_K));
    EXPECT_TRUE(packable_dtype(DType::kQ6_K));
}

}  // namespace
}  // namespace modelprint
