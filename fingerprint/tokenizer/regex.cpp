// PCRE2 adapter for the tokenizer (see regex.h). Errors from PCRE2 become Status; nothing
// throws. Empty matches are skipped by advancing one code point (HF's Split drops empty
// pieces, so they never produce output).
#include "fingerprint/tokenizer/regex.h"

#include <pcre2.h>

#include "fingerprint/tokenizer/unicode.h"

namespace modelprint::tok {

struct Regex::Impl {
    pcre2_code* code = nullptr;
    ~Impl() {
        if (code != nullptr) pcre2_code_free(code);
    }
};

Regex::~Regex() = default;

Result<std::shared_ptr<const Regex>> Regex::compile(std::string_view pattern,
                                                    std::string_view what) {
    int err = 0;
    PCRE2_SIZE err_off = 0;
    pcre2_code* code =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                      PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C, &err, &err_off, nullptr);
    if (code == nullptr) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(err, buf, sizeof(buf));
        return invalid_argument("{}: regex '{}' does not compile at offset {}: {}", what, pattern,
                                err_off, reinterpret_cast<const char*>(buf));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // optional: falls back to the interpreter
    std::shared_ptr<Regex> re(new Regex());
    re->impl_ = std::make_unique<Impl>();
    re->impl_->code = code;
    re->pattern_ = std::string(pattern);
    return std::shared_ptr<const Regex>(std::move(re));
}

Result<std::vector<std::pair<size_t, size_t>>> Regex::find_all(std::string_view subject) const {
    std::vector<std::pair<size_t, size_t>> out;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
    if (md == nullptr) return internal_error("regex '{}': out of memory for match data", pattern_);
    const auto* s = reinterpret_cast<PCRE2_SPTR>(subject.data());
    size_t pos = 0;
    Status status;
    while (pos <= subject.size()) {
        const int rc =
            pcre2_match(impl_->code, s, subject.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR buf[256];
            pcre2_get_error_message(rc, buf, sizeof(buf));
            status = internal_error("regex '{}' failed at byte {}: {}", pattern_, pos,
                                    reinterpret_cast<const char*>(buf));
            break;
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t b = ov[0], e = ov[1];
        if (e > b) {
            out.emplace_back(b, e);
            pos = e;
        } else {
            if (b >= subject.size()) break;
            pos = b + utf8_len(static_cast<uint8_t>(subject[b]));
        }
    }
    pcre2_match_data_free(md);
    if (!status.ok()) return status;
    return out;
}

std::string regex_escape(std::string_view literal) {
    std::string out;
    out.reserve(literal.size() + 4);
    for (char c : literal) {
        if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    return out;
}

}  // namespace modelprint::tok
