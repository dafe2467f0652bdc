// Model hashing (see hash.h). Each file is one Feed: a read position, a SHA-256 state and the
// tensors stored in it sorted by offset. Feeding a file up to some offset hashes it in 16 MiB
// pieces; every piece also goes to the digests of the tensors it overlaps (on a second thread
// when one is free), so the bytes are read from storage once for both. hash_path / hash_model
// feed every file to its end, files in parallel (largest first).
// OMS "files" method (sigstore/model-transparency, model_signing/_serialization/file.py and
// manifest.py): every regular file under the root except ignored paths; a symlink is an error
// unless allowed (then followed); the root digest is SHA-256 over the raw digests in path order.
#include "fingerprint/model/hash.h"

#include <algorithm>
#include <atomic>
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

std::string canonical_of(const std::string& p) {
    std::error_code ec;
    const fs::path c = fs::weakly_canonical(fs::path(p), ec);
    return ec ? fs::absolute(fs::path(p), ec).lexically_normal().string() : c.string();
}

std::string hash_root_of(const Model& model) {
    std::string path = model.path();
    if (path.ends_with(".index.json")) path = model.root_dir();
    return path;
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

struct ModelHashStream::Feed {
    std::string name;  // FileDigest name (root files) or the path (extra model files)
    std::unique_ptr<MappedFile> own;
    const MappedFile* map = nullptr;
    uint64_t pos = 0;
    Sha256 hash;
    std::string hex;
    std::vector<size_t> tensors;  // sorted by offset
    size_t first_open = 0;        // tensors before it are fully hashed
    uint64_t size() const { return map->size(); }
};

Result<std::unique_ptr<ModelHashStream>> ModelHashStream::open(const Model& model,
                                                               const HashOptions& options,
                                                               bool hashing, bool release_pages) {
    std::unique_ptr<ModelHashStream> s(new ModelHashStream());
    s->model_ = &model;
    s->options_ = options;
    s->hashing_ = hashing;
    s->release_ = release_pages;
    if (hashing) {
        MP_ASSIGN_OR_RETURN(FileSet set, collect_files(hash_root_of(model), options));
        const bool single = set.files.size() == 1 && set.files[0].name == ".";
        for (size_t i = 0; i < set.files.size(); ++i) {
            auto f = std::make_unique<Feed>();
            f->name = set.files[i].name;
            f->own = std::move(set.maps[i]);
            f->map = f->own.get();
            s->feeds_.push_back(std::move(f));
        }
        // Weight files are read through the model's own maps (one mapping per file, so a
        // release drops the pages the reader touched too).
        std::vector<std::string> canon;
        const fs::path root(hash_root_of(model));
        for (const auto& f : s->feeds_) {
            canon.push_back(canonical_of(single ? root.string() : (root / f->name).string()));
        }
        s->root_files_ = s->feeds_.size();
        std::vector<int> file_feed(model.files().size(), -1);
        for (size_t k = 0; k < model.files().size(); ++k) {
            const std::string c = canonical_of(model.files()[k].path);
            for (size_t i = 0; i < canon.size(); ++i) {
                if (canon[i] == c) file_feed[k] = static_cast<int>(i);
            }
        }
        for (size_t k = 0; k < model.files().size(); ++k) {
            if (file_feed[k] < 0) {  // an ignored weight file: digests only, not in the root
                auto f = std::make_unique<Feed>();
                f->name = model.files()[k].path;
                s->feeds_.push_back(std::move(f));
                file_feed[k] = static_cast<int>(s->feeds_.size() - 1);
            }
            Feed& f = *s->feeds_[file_feed[k]];
            f.own.reset();
            f.map = model.files()[k].map.get();
        }
        s->tensor_feed_.assign(model.tensors().size(), -1);
        for (size_t i = 0; i < model.tensors().size(); ++i) {
            s->tensor_feed_[i] = file_feed[model.tensors()[i].file_index];
        }
    } else {
        for (size_t k = 0; k < model.files().size(); ++k) {
            auto f = std::make_unique<Feed>();
            f->name = model.files()[k].path;
            f->map = model.files()[k].map.get();
            s->feeds_.push_back(std::move(f));
        }
        s->tensor_feed_.resize(model.tensors().size());
        for (size_t i = 0; i < model.tensors().size(); ++i) {
            s->tensor_feed_[i] = static_cast<int>(model.tensors()[i].file_index);
        }
    }
    const size_t n = model.tensors().size();
    s->tensor_hash_.resize(n);
    s->tensor_hex_.resize(n);
    s->tensor_done_.assign(n, 0);
    s->wanted_.assign(n, 0);
    s->digest_.assign(n, options.tensors ? 1 : 0);
    s->released_.assign(n, 0);
    for (size_t i = 0; i < n; ++i) s->feeds_[s->tensor_feed_[i]]->tensors.push_back(i);
    for (auto& f : s->feeds_) {
        std::stable_sort(f->tensors.begin(), f->tensors.end(), [&](size_t x, size_t y) {
            return model.tensors()[x].offset < model.tensors()[y].offset;
        });
        if (hashing && f->size() == 0) f->hex = to_hex(f->hash.finish());
    }
    return s;
}

ModelHashStream::~ModelHashStream() = default;

uint64_t ModelHashStream::total_bytes() const {
    uint64_t n = 0;
    for (const auto& f : feeds_) n += f->size();
    return n;
}

void ModelHashStream::want(size_t tensor, bool digest) {
    if (tensor >= wanted_.size()) return;
    wanted_[tensor] = 1;
    const Feed& f = *feeds_[tensor_feed_[tensor]];
    // A digest can only be asked for before the read position passed the tensor's start.
    if (digest && f.pos <= model_->tensors()[tensor].offset) digest_[tensor] = 1;
}

bool ModelHashStream::ready(size_t tensor) const {
    return !hashing_ || (tensor < tensor_done_.size() && tensor_done_[tensor] != 0);
}

const std::string& ModelHashStream::tensor_digest(size_t tensor) const {
    return tensor_hex_.at(tensor);
}

Status ModelHashStream::ensure(size_t tensor) {
    if (!hashing_ || ready(tensor)) return Status();
    if (finished_) return invalid_argument("hash stream of {}: already finished", model_->path());
    const TensorInfo& t = model_->tensors()[tensor];
    return feed_to(*feeds_[tensor_feed_[tensor]], t.offset + t.nbytes,
                   std::min(2, options_.threads > 0 ? options_.threads : default_thread_count()),
                   nullptr);
}

void ModelHashStream::release(size_t tensor) {
    if (tensor >= released_.size() || released_[tensor]) return;
    released_[tensor] = 1;
    if (!release_ || !ready(tensor)) return;  // not hashed yet: its pages go after hashing
    const TensorInfo& t = model_->tensors()[tensor];
    feeds_[tensor_feed_[tensor]]->map->release(t.offset, t.nbytes);
}

void ModelHashStream::release_gaps(const Feed& f, uint64_t begin, uint64_t end) const {
    uint64_t cur = begin;
    for (size_t i : f.tensors) {
        const TensorInfo& t = model_->tensors()[i];
        if (!wanted_[i] || released_[i] || t.offset + t.nbytes <= begin || t.offset >= end) continue;
        if (t.offset > cur) f.map->release(cur, t.offset - cur);
        cur = std::max(cur, t.offset + t.nbytes);
    }
    if (cur < end) f.map->release(cur, end - cur);
}

Status ModelHashStream::feed_to(Feed& f, uint64_t end, int inner_threads, Progress* progress) {
    const std::vector<TensorInfo>& ts = model_->tensors();
    end = std::min(end, f.size());
    std::span<const uint8_t> bytes = f.map->bytes();
    std::vector<std::pair<size_t, std::span<const uint8_t>>> parts;
    while (f.pos < end) {
        const uint64_t p0 = f.pos, n = std::min<uint64_t>(kPiece, end - p0), p1 = p0 + n;
        f.map->prefetch(p1, std::min<uint64_t>(kPiece, end - p1));
        parts.clear();
        for (size_t j = f.first_open; j < f.tensors.size(); ++j) {
            const size_t i = f.tensors[j];
            const TensorInfo& t = ts[i];
            if (t.offset >= p1) break;
            if (tensor_done_[i] || !digest_[i] || t.offset + t.nbytes <= p0) continue;
            const uint64_t a = std::max(p0, t.offset), b = std::min(p1, t.offset + t.nbytes);
            if (!tensor_hash_[i]) tensor_hash_[i] = std::make_unique<Sha256>();
            parts.emplace_back(i, bytes.subspan(a, b - a));
        }
        const std::span<const uint8_t> piece = bytes.subspan(p0, n);
        auto tensors_part = [&] {
            for (auto& [i, sp] : parts) tensor_hash_[i]->update(sp);
        };
        if (inner_threads >= 2 && !parts.empty()) {
            parallel_for(2, [&](size_t k) { k == 0 ? f.hash.update(piece) : tensors_part(); }, 2);
        } else {
            f.hash.update(piece);
            tensors_part();
        }
        f.pos = p1;
        for (size_t j = f.first_open; j < f.tensors.size(); ++j) {
            const size_t i = f.tensors[j];
            const TensorInfo& t = ts[i];
            if (t.offset > p1) break;
            if (tensor_done_[i] || t.offset + t.nbytes > p1) continue;
            if (digest_[i]) {
                tensor_hex_[i] = tensor_hash_[i] ? to_hex(tensor_hash_[i]->finish())
                                                 : sha256_hex(std::span<const uint8_t>());
                tensor_hash_[i].reset();
            }
            tensor_done_[i] = 1;
        }
        while (f.first_open < f.tensors.size() && tensor_done_[f.tensors[f.first_open]]) ++f.first_open;
        bytes_hashed_ += n;
        if (progress) progress->advance(n);
        if (release_) release_gaps(f, p0, p1);
    }
    if (f.pos == f.size() && f.hex.empty()) {
        f.hex = to_hex(f.hash.finish());
        // Zero-length tensors at the very end of the file.
        for (size_t i : f.tensors) {
            if (tensor_done_[i]) continue;
            if (digest_[i]) tensor_hex_[i] = sha256_hex(std::span<const uint8_t>());
            tensor_done_[i] = 1;
        }
    }
    return Status();
}

Result<ModelDigest> ModelHashStream::finish(Progress* progress) {
    if (!hashing_) return invalid_argument("hash stream of {}: hashing is off", model_->path());
    if (finished_) return invalid_argument("hash stream of {}: already finished", model_->path());
    std::vector<Feed*> todo;
    for (auto& f : feeds_) {
        if (f->pos < f->size() || f->hex.empty()) todo.push_back(f.get());
    }
    std::sort(todo.begin(), todo.end(), [](const Feed* a, const Feed* b) {
        return a->size() - a->pos > b->size() - b->pos;
    });
    const int threads = options_.threads > 0 ? options_.threads : default_thread_count();
    std::vector<Status> errs(todo.size());
    parallel_for(todo.size(), [&](size_t i) {
        errs[i] = feed_to(*todo[i], todo[i]->size(), todo.size() == 1 ? threads : 1, progress);
    }, threads, 1);
    for (const Status& e : errs) MP_TRY(e);
    finished_ = true;
    ModelDigest out;
    for (size_t i = 0; i < root_files_; ++i) {
        out.files.push_back(FileDigest{feeds_[i]->name, feeds_[i]->size(), feeds_[i]->hex});
    }
    out.root_digest = root_of(out.files);
    if (options_.tensors && model_ != nullptr) {
        for (size_t i = 0; i < model_->tensors().size(); ++i) {
            out.tensors.push_back(TensorDigest{model_->tensors()[i].name, tensor_hex_[i]});
        }
    }
    return out;
}

Result<ModelDigest> hash_path(const std::string& path, const HashOptions& options) {
    // No model: every file is a plain feed (same code path, no tensors).
    MP_ASSIGN_OR_RETURN(FileSet set, collect_files(path, options));
    ModelDigest out;
    out.files = std::move(set.files);
    uint64_t total = 0;
    for (const FileDigest& f : out.files) total += f.size;
    Progress progress("hashing", total);
    parallel_for(out.files.size(), [&](size_t i) {
        Sha256 h;
        std::span<const uint8_t> b = set.maps[i]->bytes();
        set.maps[i]->advise_sequential();
        for (uint64_t off = 0; off < b.size(); off += kPiece) {
            const uint64_t n = std::min<uint64_t>(kPiece, b.size() - off);
            h.update(b.subspan(off, n));
            progress.advance(n);
        }
        out.files[i].sha256 = to_hex(h.finish());
    }, options.threads, 1);
    progress.finish();
    out.root_digest = root_of(out.files);
    return out;
}

Result<ModelDigest> hash_model(const Model& model, const HashOptions& options) {
    MP_ASSIGN_OR_RETURN(auto stream, ModelHashStream::open(model, options, true, false));
    Progress progress("hashing", stream->total_bytes());
    MP_ASSIGN_OR_RETURN(ModelDigest d, stream->finish(&progress));
    progress.finish();
    return d;
}

}  // namespace modelprint
