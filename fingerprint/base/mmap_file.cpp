// MappedFile and small file helpers over POSIX open/mmap.
#include "fingerprint/base/mmap_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace modelprint {

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return not_found("{}: no such file", path);
        return io_error("{}: cannot open: {}", path, std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        return io_error("{}: cannot stat: {}", path, std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return invalid_argument("{}: not a regular file", path);
    }
    std::unique_ptr<MappedFile> f(new MappedFile());
    f->path_ = path;
    f->size_ = static_cast<uint64_t>(st.st_size);
    if (f->size_ > 0) {
        void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            ::close(fd);
            return io_error("{}: cannot mmap {} bytes: {}", path, f->size_, std::strerror(e));
        }
        f->data_ = static_cast<const uint8_t*>(p);
    }
    ::close(fd);
    return f;
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void MappedFile::advise_sequential() const {
    if (data_ != nullptr) {
        ::madvise(const_cast<uint8_t*>(data_), size_, MADV_SEQUENTIAL | MADV_WILLNEED);
    }
}

void MappedFile::prefetch(uint64_t offset, uint64_t length) const {
    if (data_ == nullptr || offset >= size_) return;
    length = std::min(length, size_ - offset);
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t begin = offset / page * page;
    ::madvise(const_cast<uint8_t*>(data_) + begin, offset + length - begin, MADV_WILLNEED);
}

void MappedFile::release(uint64_t offset, uint64_t length) const {
    if (data_ == nullptr || offset >= size_) return;
    length = std::min(length, size_ - offset);
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t begin = (offset + page - 1) / page * page;
    const uint64_t end = (offset + length) == size_ ? size_ : (offset + length) / page * page;
    if (end <= begin) return;
    // The mapping's length need not be page-aligned at the end; madvise rounds up within it.
    ::madvise(const_cast<uint8_t*>(data_) + begin, end - begin, MADV_DONTNEED);
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ::posix_fadvise(fd, static_cast<off_t>(begin), static_cast<off_t>(end - begin),
                    POSIX_FADV_DONTNEED);
    ::close(fd);
}

void MappedFile::evict(uint64_t offset, uint64_t length) const {
    if (data_ == nullptr || offset >= size_) return;
    length = std::min(length, size_ - offset);
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t begin = (offset + page - 1) / page * page;
    const uint64_t end = (offset + length) == size_ ? size_ : (offset + length) / page * page;
    if (end <= begin) return;
    ::madvise(const_cast<uint8_t*>(data_) + begin, end - begin, MADV_DONTNEED);
}

Result<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) return not_found("{}: no such file", path);
        return io_error("{}: cannot open for reading", path);
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return io_error("{}: read failed", path);
    return ss.str();
}

Status write_file_atomic(const std::string& path, std::string_view content, int mode) {
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return io_error("{}: cannot create: {}", tmp, std::strerror(errno));
    size_t off = 0;
    while (off < content.size()) {
        ssize_t w = ::write(fd, content.data() + off, content.size() - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return io_error("{}: write failed: {}", tmp, std::strerror(e));
        }
        off += static_cast<size_t>(w);
    }
    ::fchmod(fd, mode);
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        ::unlink(tmp.c_str());
        return io_error("{}: fsync/close failed", tmp);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return io_error("{}: rename failed: {}", path, std::strerror(e));
    }
    return Status();
}

}  // namespace modelprint
