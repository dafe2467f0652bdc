// Model hashing: SHA-256 of every file and of every tensor's bytes, and the directory root digest
// computed as OpenSSF Model Signing v1.0 does for serialization method "files"
// (model_signing: ROOT = SHA-256 over the concatenated raw per-file digests, files ordered as
// Python's PurePosixPath sorts them; .git, .gitattributes, .github, .gitignore and the signature
// file ignored; symlinks an error unless allowed; a single-file model is one resource named ".").
// Every file is read once, front to back: the tensor digests are fed from the same pieces as the
// file digest. hash_path / hash_model hash files in parallel (one file per thread); progress goes
// to stderr for large models. ModelHashStream lets a reader that also needs the values (compare)
// drive that single read tensor by tensor and give pages back when it is done with them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fingerprint/base/sha256.h"
#include "fingerprint/base/status.h"

namespace modelprint {

class Model;
class Progress;

struct FileDigest {
    std::string name;  // POSIX path relative to the root ("." for a single-file model)
    uint64_t size = 0;
    std::string sha256;  // hex
};

struct TensorDigest {
    std::string name;
    std::string sha256;  // hex, of the tensor's stored bytes
};

struct HashOptions {
    int threads = 0;                              // 0: default_thread_count()
    bool tensors = true;                          // also hash each tensor's bytes
    bool allow_symlinks = false;
    std::vector<std::string> ignore_paths;        // extra relative paths to ignore
    std::string signature_name = "model.sig";     // ignored like model_signing does
};

struct ModelDigest {
    std::string root_digest;  // hex; the value `model_signing digest PATH` prints
    std::vector<FileDigest> files;     // in OMS order
    std::vector<TensorDigest> tensors;
};

// Hash a model path (directory or single file) exactly as model_signing's "files" method does.
Result<ModelDigest> hash_path(const std::string& path, const HashOptions& options = {});
// Hash an opened model: files of its directory (or its single file) and its tensors.
Result<ModelDigest> hash_model(const Model& model, const HashOptions& options = {});

// One model's files hashed in the order a reader asks for its tensors. Each file is fed to
// SHA-256 front to back exactly once (ensure() moves its read position up to a tensor's end, so
// the tensor's bytes are hot in memory when the reader converts them next); tensor digests come
// from the same pieces. finish() hashes whatever was not asked for and gives the ModelDigest
// hash_model would give (tensors: every tensor's digest when options.tensors, else none).
// With hashing off the stream only manages pages (ensure() is a no-op, ready() always true).
// Page release (release_pages): after each hashed piece the pages outside wanted tensors are
// given back (MappedFile::release); a wanted tensor's pages go when the reader calls release().
// Not thread-safe: one reader drives it.
class ModelHashStream {
public:
    static Result<std::unique_ptr<ModelHashStream>> open(const Model& model,
                                                         const HashOptions& options, bool hashing,
                                                         bool release_pages);
    ~ModelHashStream();
    ModelHashStream(const ModelHashStream&) = delete;
    ModelHashStream& operator=(const ModelHashStream&) = delete;

    // The reader will read tensor i after ensure(i): keep its pages until release(i); digest:
    // also compute its own SHA-256 (otherwise only when options.tensors).
    void want(size_t tensor, bool digest);
    // Hash tensor i's file up to the tensor's end (no-op when hashing is off or already done).
    Status ensure(size_t tensor);
    bool ready(size_t tensor) const;
    // Hex digest of tensor i's bytes once ready ("" when not computed).
    const std::string& tensor_digest(size_t tensor) const;
    // The reader is done with tensor i (its pages go when release_pages).
    void release(size_t tensor);
    // Hash everything not hashed yet (files in parallel) and return the digests. Once.
    Result<ModelDigest> finish(Progress* progress = nullptr);
    bool hashing() const { return hashing_; }
    bool releases() const { return release_; }
    uint64_t bytes_hashed() const { return bytes_hashed_.load(); }
    uint64_t total_bytes() const;  // of every file the stream covers

private:
    struct Feed;
    ModelHashStream() = default;
    Status feed_to(Feed& f, uint64_t end, int inner_threads, Progress* progress);
    void release_gaps(const Feed& f, uint64_t begin, uint64_t end) const;
    const Model* model_ = nullptr;
    HashOptions options_;
    bool hashing_ = true, release_ = false, finished_ = false;
    std::vector<std::unique_ptr<Feed>> feeds_;  // OMS order (files of the root digest first)
    size_t root_files_ = 0;                     // feeds_[0, root_files_) make the root digest
    std::vector<int> tensor_feed_;              // tensor -> feed index (-1: none)
    std::vector<std::unique_ptr<Sha256>> tensor_hash_;
    std::vector<std::string> tensor_hex_;
    std::vector<uint8_t> tensor_done_, wanted_, digest_, released_;
    std::atomic<uint64_t> bytes_hashed_{0};
};

// The OMS ordering of relative POSIX paths (component-wise, as PurePosixPath compares).
bool oms_path_less(const std::string& a, const std::string& b);

}  // namespace modelprint
