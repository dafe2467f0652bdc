// DSSE / Sigstore bundle v0.3 reading and writing (see dsse.h). Base64 per RFC 4648 §4 and §5.
#include "forensics/dsse.h"

#include <array>

#include "fingerprint/base/json.h"
#include "fingerprint/base/sha256.h"

namespace modelprint {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// -1: invalid; 0..63 value. '+' and '-' both 62, '/' and '_' both 63 (both alphabets).
constexpr std::array<int8_t, 256> make_table() {
    std::array<int8_t, 256> t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(kB64[i])] = static_cast<int8_t>(i);
    t['-'] = 62;
    t['_'] = 63;
    return t;
}
constexpr std::array<int8_t, 256> kB64Table = make_table();

Result<std::string> get_string(const Json& obj, const char* key, std::string_view what,
                               std::string_view where) {
    auto it = obj.find(key);
    if (it == obj.end()) return corrupt_data("{}: {} has no \"{}\"", what, where, key);
    if (!it->is_string()) return corrupt_data("{}: {}.{} is not a string", what, where, key);
    return it->get<std::string>();
}

}  // namespace

std::string base64_encode(std::span<const uint8_t> b) {
    std::string out;
    out.reserve((b.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= b.size(); i += 3) {
        const uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8) | b[i + 2];
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += kB64[v & 63];
    }
    const size_t rest = b.size() - i;
    if (rest == 1) {
        const uint32_t v = uint32_t{b[i]} << 16;
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += "==";
    } else if (rest == 2) {
        const uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8);
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

std::string base64_encode(std::string_view bytes) {
    return base64_encode(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

Result<std::string> base64_decode(std::string_view text, std::string_view what) {
    size_t n = text.size();
    size_t pad = 0;
    while (n > 0 && text[n - 1] == '=' && pad < 2) {
        --n;
        ++pad;
    }
    if (pad > 0 && text.size() % 4 != 0) {
        return corrupt_data("{}: base64 of length {} has padding but is not a multiple of 4",
                            what, text.size());
    }
    if (n % 4 == 1) {
        return corrupt_data("{}: base64 of {} symbols cannot encode whole bytes", what, n);
    }
    std::string out;
    out.reserve(n / 4 * 3 + 2);
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; ++i) {
        const int8_t v = kB64Table[static_cast<uint8_t>(text[i])];
        if (v < 0) {
            return corrupt_data("{}: invalid base64 character 0x{:02x} at offset {}", what,
                                static_cast<uint8_t>(text[i]), i);
        }
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    return out;
}

std::string dsse_pae(std::string_view payload_type, std::string_view payload) {
    return fmt::format("DSSEv1 {} {} {} ", payload_type.size(), payload_type, payload.size()) +
           std::string(payload);
}

std::string write_bundle(const SigstoreBundle& b) {
    OrderedJson sigs = OrderedJson::array();
    for (const auto& s : b.signatures) {
        OrderedJson one;
        one["sig"] = base64_encode(s.sig);
        one["keyid"] = s.keyid;
        sigs.push_back(std::move(one));
    }
    OrderedJson j;
    j["mediaType"] = b.media_type;
    j["verificationMaterial"]["publicKey"]["hint"] = b.key_hint;
    j["verificationMaterial"]["tlogEntries"] = OrderedJson::array();
    j["dsseEnvelope"]["payload"] = base64_encode(b.payload);
    j["dsseEnvelope"]["payloadType"] = b.payload_type;
    j["dsseEnvelope"]["signatures"] = std::move(sigs);
    return j.dump(2) + "\n";
}

Result<SigstoreBundle> parse_bundle(std::string_view text, std::string_view what) {
    MP_ASSIGN_OR_RETURN(Json j, parse_json(text, what));
    if (!j.is_object()) return corrupt_data("{}: bundle is not a JSON object", what);
    SigstoreBundle b;
    MP_ASSIGN_OR_RETURN(b.media_type, get_string(j, "mediaType", what, "bundle"));
    if (b.media_type != kBundleMediaType) {
        return unsupported("{}: bundle mediaType '{}' is not '{}'", what, b.media_type,
                           kBundleMediaType);
    }
    if (auto vm = j.find("verificationMaterial"); vm != j.end()) {
        if (!vm->is_object()) return corrupt_data("{}: verificationMaterial is not an object", what);
        if (auto pk = vm->find("publicKey"); pk != vm->end()) {
            if (!pk->is_object()) return corrupt_data("{}: publicKey is not an object", what);
            if (pk->contains("hint")) {
                MP_ASSIGN_OR_RETURN(b.key_hint, get_string(*pk, "hint", what, "publicKey"));
            }
        }
    }
    auto env = j.find("dsseEnvelope");
    if (env == j.end()) {
        return unsupported("{}: bundle has no dsseEnvelope (only DSSE bundles are supported)", what);
    }
    if (!env->is_object()) return corrupt_data("{}: dsseEnvelope is not an object", what);
    MP_ASSIGN_OR_RETURN(std::string payload64, get_string(*env, "payload", what, "dsseEnvelope"));
    MP_ASSIGN_OR_RETURN(b.payload, base64_decode(payload64, fmt::format("{} payload", what)));
    MP_ASSIGN_OR_RETURN(b.payload_type, get_string(*env, "payloadType", what, "dsseEnvelope"));
    auto sigs = env->find("signatures");
    if (sigs == env->end() || !sigs->is_array()) {
        return corrupt_data("{}: dsseEnvelope.signatures is missing or not an array", what);
    }
    if (sigs->empty()) return unsupported("{}: dsseEnvelope has no signatures", what);
    for (size_t i = 0; i < sigs->size(); ++i) {
        const Json& s = (*sigs)[i];
        const std::string where = fmt::format("signatures[{}]", i);
        if (!s.is_object()) return corrupt_data("{}: {} is not an object", what, where);
        DsseSignature d;
        MP_ASSIGN_OR_RETURN(std::string sig64, get_string(s, "sig", what, where));
        MP_ASSIGN_OR_RETURN(d.sig, base64_decode(sig64, fmt::format("{} {}", what, where)));
        if (s.contains("keyid")) {
            MP_ASSIGN_OR_RETURN(d.keyid, get_string(s, "keyid", what, where));
        }
        b.signatures.push_back(std::move(d));
    }
    return b;
}

Result<SigstoreBundle> sign_dsse(std::string payload, std::string_view payload_type,
                                 const PrivateKey& key) {
    SigstoreBundle b;
    b.payload = std::move(payload);
    b.payload_type = std::string(payload_type);
    const std::string pae = dsse_pae(b.payload_type, b.payload);
    MP_ASSIGN_OR_RETURN(std::vector<uint8_t> sig,
                        key.sign({reinterpret_cast<const uint8_t*>(pae.data()), pae.size()}));
    b.signatures.push_back({std::string(sig.begin(), sig.end()), ""});
    const PublicKey pub = key.public_key();
    if (pub.pem().empty()) return internal_error("deriving the public key failed");
    b.key_hint = pub.hint();
    return b;
}

Status verify_dsse(const SigstoreBundle& b, const PublicKey& key) {
    const std::string hint = key.hint();
    if (!b.key_hint.empty() && b.key_hint != hint) {
        return verification_failed(
            "key hint mismatch: the bundle names public key {} but the given public key is {}",
            b.key_hint, hint);
    }
    if (b.signatures.empty()) return verification_failed("signature missing: envelope has none");
    const std::string pae = dsse_pae(b.payload_type, b.payload);
    const std::string& sig = b.signatures.front().sig;
    Status s = key.verify({reinterpret_cast<const uint8_t*>(pae.data()), pae.size()},
                          {reinterpret_cast<const uint8_t*>(sig.data()), sig.size()});
    if (!s.ok()) {
        return verification_failed(
            "signature does not match the payload: the payload ({} bytes, sha256 {}) or the "
            "signature was altered, or it was made by another key; {}",
            b.payload.size(), sha256_hex(b.payload), s.message());
    }
    return Status();
}

}  // namespace modelprint
