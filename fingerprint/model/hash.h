// Model hashing: SHA-256 of every file and of every tensor's bytes, and the directory root digest
// computed as OpenSSF Model Signing v1.0 does for serialization method "files"
// (model_signing: ROOT = SHA-256 over the concatenated raw per-file digests, files ordered as
// Python's PurePosixPath sorts them; .git, .gitattributes, .github, .gitignore and the signature
// file ignored; symlinks an error unless allowed; a single-file model is one resource named ".").
// Files are hashed in parallel (one file per thread, large files streamed from the map), tensor
// digests overlapped with them; progress goes to stderr for large models.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fingerprint/base/sha256.h"
#include "fingerprint/base/status.h"

namespace modelprint {

class Model;

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

// The OMS ordering of relative POSIX paths (component-wise, as PurePosixPath compares).
bool oms_path_less(const std::string& a, const std::string& b);

}  // namespace modelprint
