// Model hashing (see hash.h). Work items — whole files and individual tensors — are scheduled
// largest first over parallel_for, so on a multi-file model files are hashed concurrently and the
// tensor digests fill the remaining cores. Each item is a sequential SHA-256 over the mapped
// bytes, fed in 16 MiB pieces so progress can be reported.
// OMS "files" method (sigstore/model-transparency, model_signing/_serialization/file.py and
// manifest.py): every regular file under the root except ignored paths; a symlink is an error
// unless allowed (then followed); the root digest is SHA-256 over the raw digests in path order.
#include "fingerprint/model/hash.h"

#include <algorithm>
#include <filesystem>
#include <memory>

#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/progress.h"
#include "fingerprint/base/thread_pool.h"
#include "fingerprint/model/model.h"

namespace fs = std::filesystem;

namespace modelprint {
namespace {

constexpr uint64_t kPiece = uint64_t{16} << 20;

struct WorkItem {
    std::span<const uint8_t> bytes;
    std::string* hex_out;
};

void run_items(std::vector<WorkItem>& items, int threads, Progress* progress) {
    std::sort(items.begin(), items.end(),
              [](const WorkItem& a, const WorkItem& b) { return a.bytes.size() > b.bytes.size(); });
    parallel_for(items.size(), [&](size_t i) {
        Sha256 h;
        std::span<const uint8_t> b = items[i].bytes;
        for (uint64_t off = 0; off < b.size(); off += kPiece) {
            const uint64_t n = std::min<uint64_t>(kPiece, b.size() - off);
            h.update(b.subspan(off, n));
            if (progress) progress->advance(n);
        }
        *items[i].hex_out = to_hex(h.finish());
    }, threads, 1);
}

std::vector<std::string> split_components(const std::string& p) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= p.size()) {
        size_t slash = p.find('/', start);
        if (slash == std::string::npos) slash = p.size();
        out.push_back(p.substr(start, slash - start));
        start = slash + 1;
    }
    return out;
}

bool is_ignored(const std::string& rel, const std::vector<std::string>& ignore) {
    for (const std::string& ig : ignore) {
        if (rel == ig || (rel.size() > ig.size() && rel.starts_with(ig) && rel[ig.size()] == '/')) {
            return true;
        }
    }
    return false;
}

struct FileSet {
    std::vector<FileDigest> files;
    std::vector<std::unique_ptr<MappedFile>> maps;
};

Result<FileSet> collect_files(const std::string& path, const HashOptions& opt) {
    FileSet set;
    std::error_code ec;
    const fs::path root(path);
    auto st = fs::symlink_status(root, ec);
    if (ec || !fs::exists(st)) return not_found("{}: no such file or directory", path);
    if (fs::is_symlink(st) && !opt.allow_symlinks) {
        return invalid_argument("{}: is a symbolic link (allow symlinks to follow it)", path);
    }
    if (!fs::is_directory(root, ec)) {
        MP_ASSIGN_OR_RETURN(auto map, MappedFile::open(path));
        set.files.push_back(FileDigest{".", map->size(), {}});
        set.maps.push_back(std::move(map));
        return set;
    }
    std::vector<std::string> ignore = {".git", ".gitattributes", ".github", ".gitignore",
                                       opt.signature_name};
    ignore.insert(ignore.end(), opt.ignore_paths.begin(), opt.ignore_paths.end());
    auto options = opt.allow_symlinks ? fs::directory_options::follow_directory_symlink
                                      : fs::directory_options::none;
    std::vector<std::string> rels;
    for (auto it = fs::recursive_directory_iterator(root, options, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const fs::path rel_path = it->path().lexically_relative(root);
        const std::string rel = rel_path.generic_string();
        if (is_ignored(rel, ignore)) {
            if (it->is_directory()) it.disable_recursion_pending();
            continue;
        }
        if (it->is_symlink() && !opt.allow_symlinks) {
            return invalid_argument("{}: contains symbolic link \"{}\" (allow symlinks to follow it)",
                                    path, rel);
        }
        if (it->is_regular_file()) rels.push_back(rel);
    }
    if (ec) return io_error("{}: cannot list directory: {}", path, ec.message());
    std::sort(rels.begin(), rels.end(), oms_path_less);
    for (const std::string& rel : rels) {
        MP_ASSIGN_OR_RETURN(auto map, MappedFile::open((root / rel).string()));
        set.files.push_back(FileDigest{rel, map->size(), {}});
        set.maps.push_back(std::move(map));
    }
    return set;
}

std::string root_of(const std::vector<FileDigest>& files) {
    Sha256 h;
    for (const FileDigest& f : files) {
        Digest d{};
        for (size_t i = 0; i < 32; ++i) {
            d[i] = static_cast<uint8_t>(std::stoi(f.sha256.substr(2 * i, 2), nullptr, 16));
        }
        h.update(std::span<const uint8_t>(d));
    }
    return to_hex(h.finish());
}

Result<ModelDigest> hash_impl(const std::string& path, const Model* model, const HashOptions& opt) {
    MP_ASSIGN_OR_RETURN(FileSet set, collect_files(path, opt));
    ModelDigest out;
    out.files = std::move(set.files);
    std::vector<WorkItem> items;
    uint64_t total = 0;
    for (size_t i = 0; i < out.files.size(); ++i) {
        set.maps[i]->advise_sequential();
        items.push_back({set.maps[i]->bytes(), &out.files[i].sha256});
        total += out.files[i].size;
    }
    if (model != nullptr && opt.tensors) {
        out.tensors.resize(model->tensors().size());
        for (size_t i = 0; i < model->tensors().size(); ++i) {
            const TensorInfo& t = model->tensors()[i];
            out.tensors[i].name = t.name;
            items.push_back({model->tensor_bytes(t), &out.tensors[i].sha256});
            total += t.nbytes;
        }
    }
    Progress progress("hashing", total);
    run_items(items, opt.threads, &progress);
    progress.finish();
    out.root_digest = root_of(out.files);
    return out;
}

}  // namespace

bool oms_path_less(const std::string& a, const std::string& b) {
    // PurePosixPath orders by its list of components; strings compare by code point, which for
    // UTF-8 is byte order (unsigned).
    const auto ca = split_components(a), cb = split_components(b);
    return std::lexicographical_compare(
        ca.begin(), ca.end(), cb.begin(), cb.end(), [](const std::string& x, const std::string& y) {
            return std::lexicographical_compare(
                x.begin(), x.end(), y.begin(), y.end(), [](char p, char q) {
                    return static_cast<unsigned char>(p) < static_cast<unsigned char>(q);
                });
        });
}

Result<ModelDigest> hash_path(const std::string& path, const HashOptions& options) {
    return hash_impl(path, nullptr, options);
}

Result<ModelDigest> hash_model(const Model& model, const HashOptions& options) {
    std::string path = model.path();
    if (path.ends_with(".index.json")) path = model.root_dir();
    return hash_impl(path, &model, options);
}

}  // namespace modelprint
