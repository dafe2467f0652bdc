// Model hashing: OMS path order, root digests (values from a Python pathlib/hashlib rendering of
// the OMS "files" method: sorted PurePosixPath, sha256 over raw digests), tensor digests, errors.
#include <filesystem>

#include "fingerprint/base/sha256.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

namespace fs = std::filesystem;
using ::modelprint::testing::TempDir;
using ::modelprint::testing::write_text;

TEST(HashTest, OmsOrderIsComponentWise) {
    EXPECT_TRUE(oms_path_less("a/b", "a.b"));   // plain string order would say the opposite
    EXPECT_FALSE(oms_path_less("a.b", "a/b"));
    EXPECT_TRUE(oms_path_less("a", "a/b"));
    EXPECT_TRUE(oms_path_less("B", "a"));       // code-point order
    EXPECT_TRUE(oms_path_less("z", "\xc3\xa9"));  // UTF-8 compares unsigned
}

TEST(HashTest, StoriesDirectoryRootDigest) {
    auto d = hash_path(::modelprint::testing::stories_dir().string());
    MP_ASSERT_OK(d);
    EXPECT_EQ(d->root_digest, "adc9117d46b942c1b70b53e7d03e883967623fe9736f41de92ff2f4ee83d6f86");
    ASSERT_EQ(d->files.size(), 6u);
    EXPECT_EQ(d->files[2].name, "model.safetensors");
    EXPECT_EQ(d->files[2].sha256, "b865acd78d625031302d5b77834237c6e45ca782ff2f2c212e39407bc9292940");
    EXPECT_EQ(d->files[3].sha256, "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
}

TEST(HashTest, SingleFileIsOneResourceNamedDot) {
    auto d = hash_path((::modelprint::testing::stories_dir() / "model.safetensors").string());
    MP_ASSERT_OK(d);
    ASSERT_EQ(d->files.size(), 1u);
    EXPECT_EQ(d->files[0].name, ".");
    EXPECT_EQ(d->root_digest, "6715761e57ce349aee2a60bdb397051b78b5e3e7680889adf5424f600551792d");
}

TEST(HashTest, ShardedModelAndTensorDigests) {
    auto m = Model::open((::modelprint::testing::testdata_dir() / "intake" / "tiny_llama_sharded").string());
    MP_ASSERT_OK(m);
    for (int threads : {1, 2, 3}) {
        HashOptions opt;
        opt.threads = threads;
        auto d = hash_model(**m, opt);
        MP_ASSERT_OK(d);
        EXPECT_EQ(d->root_digest, "e4d79c2c5221dba632095ac14ec6d6b713f79341330d6e59c96b74c6d2f39ccc");
        ASSERT_EQ(d->tensors.size(), (*m)->tensors().size());
        for (size_t i = 0; i < d->tensors.size(); ++i) {
            EXPECT_EQ(d->tensors[i].sha256, sha256_hex((*m)->tensor_bytes((*m)->tensors()[i])));
        }
    }
}

TEST(HashTest, IgnoresGitAndSignatureAndRejectsSymlinks) {
    TempDir dir;
    write_text(dir / "a.bin", "abc");
    auto base = hash_path(dir.path().string());
    MP_ASSERT_OK(base);
    fs::create_directories(dir / ".git");
    write_text(dir / ".git" / "HEAD", "ref");
    write_text(dir / "model.sig", "{}");
    write_text(dir / ".gitignore", "x");
    auto again = hash_path(dir.path().string());
    MP_ASSERT_OK(again);
    EXPECT_EQ(again->root_digest, base->root_digest);
    EXPECT_EQ(again->files.size(), 1u);
    fs::create_symlink(dir / "a.bin", dir / "link.bin");
    EXPECT_THAT(hash_path(dir.path().string()), StatusIs(StatusCode::kInvalidArgument, "symbolic link \"link.bin\""));
    HashOptions allow;
    allow.allow_symlinks = true;
    auto followed = hash_path(dir.path().string(), allow);
    MP_ASSERT_OK(followed);
    EXPECT_EQ(followed->files.size(), 2u);
    EXPECT_THAT(hash_path((dir / "missing").string()), StatusIs(StatusCode::kNotFound, "no such file"));
}

}  // namespace
}  // namespace modelprint
