// UTF-8 and Unicode helpers of the tokenizer (internal header of fingerprint/tokenizer/).
// - sanitize_utf8: the ONE convention for invalid UTF-8 input: every maximal ill-formed
//   subpart becomes U+FFFD (Unicode 15 §3.9 "U+FFFD substitution of maximal subparts"; the same
//   rule as Python's bytes.decode("utf-8", errors="replace") and Rust's String::from_utf8_lossy).
// - byte-level alphabet of GPT-2 (bytes_to_unicode in openai/gpt-2 encoder.py).
// - NFC (UAX #15) from generated tables (nfc_tables.inc, testdata/gen/make_nfc_tables.py).
// Invariant: every function taking text assumes valid UTF-8 unless it says otherwise.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace modelprint::tok {

// True when `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);
// Replace each maximal ill-formed subpart by U+FFFD (EF BF BD); valid input is returned as is.
std::string sanitize_utf8(std::string_view s);

// Decode one code point at s[i] (s valid UTF-8); advances i.
uint32_t next_code_point(std::string_view s, size_t& i);
// Length in bytes of the UTF-8 sequence that starts with lead byte b (1 for invalid leads).
inline size_t utf8_len(uint8_t b) {
    if (b < 0x80) return 1;
    if ((b & 0xE0) == 0xC0) return 2;
    if ((b & 0xF0) == 0xE0) return 3;
    if ((b & 0xF8) == 0xF0) return 4;
    return 1;
}
void append_utf8(std::string& out, uint32_t cp);

// GPT-2 byte-level alphabet: byte -> code point, and the inverse (-1 for code points that are
// not in the alphabet).
const std::array<uint32_t, 256>& byte_to_code_point();
int byte_from_code_point(uint32_t cp);
// Map raw bytes to the byte-level string ("Ġthe" for " the").
void byte_level_encode(std::string_view bytes, std::string& out);
// Inverse: false when a code point is outside the alphabet (out is then unspecified).
bool byte_level_decode(std::string_view text, std::string& out);

// Canonical composition (NFC) of valid UTF-8 text.
std::string nfc(std::string_view s);

}  // namespace modelprint::tok
