// Tests of the single-read comparison: the hashing stream (model/hash.h ModelHashStream: file,
// root and tensor digests from one front-to-back read, whatever order the reader asks in), the
// read schedule (forensics/weights_schedule.h: every task once, dependencies, release after the
// last use, errors), page release (MappedFile::release leaves the bytes readable), and the
// comparison itself: a model re-sharded with its layers spread over files out of order, read
// once through the schedule, gives the same evidence as the single-file original, with and
// without page release.
#include "forensics/weights_schedule.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"
#include "forensics/compare.h"
#include "forensics/weights_section.h"
#include "tests/util/test_util.h"

namespace modelprint {
namespace {

namespace fs = std::filesystem;
using ::modelprint::testing::TempDir;

std::string lineage(const std::string& name) {
    return (testing::testdata_dir() / "lineage" / name).string();
}

// One safetensors file holding `names` of model m, data in the order given.
void write_shard(const Model& m, const std::vector<std::string>& names, const fs::path& path) {
    Json header = Json::object();
    std::vector<uint8_t> data;
    for (const std::string& n : names) {
        const TensorInfo* t = m.find(n);
        ASSERT_NE(t, nullptr) << n;
        const auto bytes = m.tensor_bytes(*t);
        header[n] = {{"dtype", std::string(dtype_name(t->dtype))},
                     {"shape", t->shape},
                     {"data_offsets", {data.size(), data.size() + bytes.size()}}};
        data.insert(data.end(), bytes.begin(), bytes.end());
    }
    std::string h = header.dump();
    while (h.size() % 8 != 0) h += ' ';
    testing::Bytes out;
    out.u64(h.size()).str(h);
    std::vector<uint8_t> file = out.data();
    file.insert(file.end(), data.begin(), data.end());
    testing::write_bytes(path, file);
}

// lineage/base re-sharded: layers spread over three files out of order, the embedding in the
// last file in OMS order, layer 1 stored before layer 0.
fs::path scrambled_base(const TempDir& dir) {
    auto m = Model::open(lineage("base"));
    EXPECT_TRUE(m.ok());
    const Model& base = **m;
    auto layer = [&](int l) {
        std::vector<std::string> out;
        for (const TensorInfo& t : base.tensors())
            if (t.name.find("layers." + std::to_string(l) + ".") != std::string::npos)
                out.push_back(t.name);
        return out;
    };
    auto cat = [](std::vector<std::string> x, const std::vector<std::string>& y) {
        x.insert(x.end(), y.begin(), y.end());
        return x;
    };
    const fs::path d = dir / "scrambled";
    fs::create_directories(d);
    std::map<std::string, std::vector<std::string>> shards = {
        {"z-embed-l3.safetensors", cat(layer(3), {"model.embed_tokens.weight"})},
        {"a-l1-l0.safetensors", cat(layer(1), layer(0))},
        {"m-head-l2.safetensors", cat({"lm_head.weight", "model.norm.weight"}, layer(2))}};
    Json wm = Json::object();
    for (const auto& [file, names] : shards) {
        write_shard(base, names, d / file);
        for (const std::string& n : names) wm[n] = file;
    }
    testing::write_text(d / "model.safetensors.index.json", Json{{"weight_map", wm}}.dump());
    for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
        fs::copy_file(fs::path(lineage("base")) / f, d / f);
    }
    return d;
}

// The evidence and verdict of a comparison document (paths and digests left out).
Json evidence_of(const WeightComparison& r) {
    Json j = parse_json(weights_evidence_json(r), "weight evidence").value();
    return Json{{"evidence", j},
                {"verdict", {std::string(relation_name(r.verdict.relation)), r.verdict.subtype,
                             r.verdict.confidence, r.verdict.decisive, r.verdict.reason}}};
}

TEST(HashStream, DigestsFromOneReadInAnyOrder) {
    TempDir dir;
    const fs::path d = scrambled_base(dir);
    auto m = Model::open(d.string());
    MP_ASSERT_OK(m);
    const Model& model = **m;
    auto ref = hash_path(d.string());
    MP_ASSERT_OK(ref);
    for (bool release : {false, true}) {
        HashOptions ho;
        ho.threads = 2;
        ho.tensors = false;
        auto s = ModelHashStream::open(model, ho, true, release);
        MP_ASSERT_OK(s);
        for (size_t i = 0; i < model.tensors().size(); ++i) (*s)->want(i, true);
        // Ask for the tensors last to first: every file is still read front to back once.
        for (size_t i = model.tensors().size(); i-- > 0;) {
            MP_ASSERT_OK((*s)->ensure(i));
            EXPECT_TRUE((*s)->ready(i));
            EXPECT_EQ((*s)->tensor_digest(i), sha256_hex(model.tensor_bytes(model.tensors()[i])))
                << model.tensors()[i].name;
            (*s)->release(i);
        }
        auto digest = (*s)->finish();
        MP_ASSERT_OK(digest);
        EXPECT_EQ(digest->root_digest, ref->root_digest);
        ASSERT_EQ(digest->files.size(), ref->files.size());
        for (size_t i = 0; i < ref->files.size(); ++i) {
            EXPECT_EQ(digest->files[i].name, ref->files[i].name);
            EXPECT_EQ(digest->files[i].sha256, ref->files[i].sha256);
        }
        EXPECT_EQ((*s)->bytes_hashed(), (*s)->total_bytes());  // every byte once
        EXPECT_THAT((*s)->finish(), StatusIs(StatusCode::kInvalidArgument, "already finished"));
    }
}

TEST(HashStream, HashModelTensorDigestsAndOffMode) {
    auto m = Model::open(lineage("base"));
    MP_ASSERT_OK(m);
    auto d = hash_model(**m);
    MP_ASSERT_OK(d);
    ASSERT_EQ(d->tensors.size(), (*m)->tensors().size());
    for (size_t i = 0; i < d->tensors.size(); ++i) {
        EXPECT_EQ(d->tensors[i].sha256, sha256_hex((*m)->tensor_bytes((*m)->tensors()[i])));
    }
    auto off = ModelHashStream::open(**m, HashOptions{}, false, false);
    MP_ASSERT_OK(off);
    EXPECT_TRUE((*off)->ready(0));
    MP_ASSERT_OK((*off)->ensure(0));
    EXPECT_EQ((*off)->bytes_hashed(), 0u);
    EXPECT_THAT((*off)->finish(), StatusIs(StatusCode::kInvalidArgument, "hashing is off"));
}

TEST(MappedFile, ReleaseKeepsTheBytesReadable) {
    TempDir dir;
    std::vector<uint8_t> bytes(3 * 4096 + 123);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 7 + 1);
    testing::write_bytes(dir / "f.bin", bytes);
    auto f = MappedFile::open((dir / "f.bin").string());
    MP_ASSERT_OK(f);
    const std::string before = sha256_hex((*f)->bytes());
    (*f)->prefetch(0, bytes.size());
    (*f)->release(100, 2 * 4096);         // partial pages at both ends
    (*f)->release(0, bytes.size());       // everything
    (*f)->release(bytes.size() + 5, 10);  // past the end: no-op
    EXPECT_EQ(sha256_hex((*f)->bytes()), before);
}

TEST(PairSchedule, EveryTaskOnceInDependencyOrderAndErrors) {
    auto m = Model::open(lineage("base"));
    MP_ASSERT_OK(m);
    HashOptions ho;
    ho.tensors = false;
    auto sa = ModelHashStream::open(**m, ho, true, true);
    auto sb = ModelHashStream::open(**m, ho, true, true);
    MP_ASSERT_OK(sa);
    MP_ASSERT_OK(sb);
    PairSchedule plan(**sa, **sb);
    std::vector<int> runs(4, 0);
    const size_t last = (*m)->tensors().size() - 1;
    const size_t t0 = plan.add({last}, {0}, [&] {
        ++runs[0];
        return Status();
    });
    plan.add({0, 1}, {last},
             [&] {
                 ++runs[1];
                 return Status();
             },
             {t0});
    plan.add({}, {}, [&] {
        ++runs[2];
        return Status();
    });
    plan.add({1}, {1},
             [&] {
                 ++runs[3];
                 return Status();
             },
             {t0});
    MP_ASSERT_OK(plan.run_all());
    EXPECT_EQ(runs, std::vector<int>({1, 1, 1, 1}));
    const auto& order = plan.run_order();
    ASSERT_EQ(order.size(), 4u);
    EXPECT_EQ(order[0], t0);  // forced first
    EXPECT_EQ(order[1], 2u);  // needs nothing: runs in the same sweep
    // 1 and 3 waited for task 0; their A tensors were read by then, so they pulled B's.
    EXPECT_EQ(order[2], 1u);
    EXPECT_EQ(order[3], 3u);

    PairSchedule bad(**sa, **sb);
    bad.add({}, {}, [] { return Status(); }, {1});
    bad.add({}, {}, [] { return Status(); });
    EXPECT_THAT(bad.run_all(), StatusIs(StatusCode::kInvalidArgument, "not an earlier task"));
    PairSchedule failing(**sa, **sb);
    failing.add({0}, {0}, [] { return corrupt_data("task says no"); });
    EXPECT_THAT(failing.run_all(), StatusIs(StatusCode::kCorruptData, "task says no"));
}

TEST(SingleRead, ScrambledShardsGiveTheSameEvidenceWithAndWithoutRelease) {
    TempDir dir;
    const fs::path d = scrambled_base(dir);
    CompareOptions o;
    o.progress = false;
    o.threads = 2;
    o.hash_on_open = false;
    auto ref = compare_models(lineage("base"), lineage("finetune"), o);
    MP_ASSERT_OK(ref);
    auto ref_digest = hash_path(d.string());
    MP_ASSERT_OK(ref_digest);
    for (PageRelease rel : {PageRelease::kNever, PageRelease::kAlways}) {
        o.weights.release = rel;
        auto r = compare_models(d.string(), lineage("finetune"), o);
        MP_ASSERT_OK(r);
        EXPECT_EQ(evidence_of(*r), evidence_of(*ref));
        EXPECT_EQ(r->a.root_digest, ref_digest->root_digest);  // digests from the same read
        EXPECT_EQ(r->b.root_digest, ref->b.root_digest);
        // Pruned (depth alignment, pairs re-read) both ways round.
        auto p1 = compare_models(d.string(), lineage("pruned"), o);
        auto p2 = compare_models(lineage("base"), lineage("pruned"), o);
        MP_ASSERT_OK(p1);
        MP_ASSERT_OK(p2);
        EXPECT_EQ(evidence_of(*p1), evidence_of(*p2));
    }
    // Hashing at open (the store-lookup path) gives the same result and the same digests.
    o.hash_on_open = true;
    auto pair = open_pair(d.string(), lineage("finetune"), o);
    MP_ASSERT_OK(pair);
    EXPECT_EQ(pair->a.root_digest, ref_digest->root_digest);
    auto two = compare_opened(*pair, o);
    MP_ASSERT_OK(two);
    EXPECT_EQ(evidence_of(*two), evidence_of(*ref));
    EXPECT_EQ(two->a.root_digest, ref_digest->root_digest);
}

}  // namespace
}  // namespace modelprint
