// MappedFile: a read-only memory map of a whole file (zero-copy tensor views point into it).
// Empty files map to an empty span. The mapping lives as long as the object; views must not
// outlive it. Not thread-hostile: concurrent reads of the span are safe.
// release() gives pages back (readers that stream files larger than RAM): the bytes stay
// readable, a later read faults them in again from storage.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "fingerprint/base/status.h"

namespace modelprint {

class MappedFile {
public:
    static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::span<const uint8_t> bytes() const { return {data_, size_}; }
    uint64_t size() const { return size_; }
    const std::string& path() const { return path_; }
    // Hint the kernel that the file will be read sequentially (readahead).
    void advise_sequential() const;
    // Ask the kernel to read [offset, offset + length) ahead (MADV_WILLNEED); clamped to the file.
    void prefetch(uint64_t offset, uint64_t length) const;
    // Drop the whole pages inside [offset, offset + length) from this mapping (MADV_DONTNEED) and
    // from the page cache where no other mapping holds them (POSIX_FADV_DONTNEED). Partial pages
    // at either end are kept (a neighbour may still need them). Clamped to the file; advisory:
    // failures are ignored (the data stays correct either way).
    void release(uint64_t offset, uint64_t length) const;
    // Only the first half of release(): drop the whole pages inside the range from this mapping
    // (MADV_DONTNEED), leaving the page cache alone, so a copy made of them does not count twice
    // in the resident set and a later read is a cheap minor fault. Advisory.
    void evict(uint64_t offset, uint64_t length) const;

private:
    MappedFile() = default;
    std::string path_;
    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
};

// Read a whole (small) file into a string; kNotFound / kIoError naming the path.
Result<std::string> read_file(const std::string& path);
// Write atomically: temp file in the same directory + rename.
Status write_file_atomic(const std::string& path, std::string_view content, int mode = 0644);

}  // namespace modelprint
