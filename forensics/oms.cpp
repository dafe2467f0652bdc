// OpenSSF Model Signing v1.0 sign/verify (see oms.h). Reference: sigstore/model-transparency
// src/model_signing/_signing/signing.py (Payload, dsse_payload_to_manifest),
// _signing/sign_ec_key.py (hint, ECDSA over PAE), verifying.py (manifest comparison).
#include "forensics/oms.h"

#include <filesystem>
#include <map>

#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/base/sha256.h"

namespace fs = std::filesystem;

namespace modelprint {
namespace {

const std::vector<std::string> kGitPaths = {".git", ".gitattributes", ".github", ".gitignore"};

// The signature's path relative to the model directory when it lies inside it, else "".
std::string signature_rel(const std::string& model_path, const std::string& sig_path) {
    if (sig_path.empty()) return "";
    std::error_code ec;
    if (!fs::is_directory(model_path, ec)) return "";
    const fs::path root = fs::weakly_canonical(model_path, ec);
    const fs::path sig = fs::weakly_canonical(sig_path, ec);
    if (ec) return "";
    const fs::path rel = sig.lexically_relative(root);
    const std::string r = rel.generic_string();
    if (r.empty() || r == "." || r.starts_with("..")) return "";
    return r;
}

std::string model_name_of(const std::string& model_path) {
    fs::path p = fs::path(model_path).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    std::string name = p.filename().string();
    if (name.empty() || name == ".") {
        std::error_code ec;
        name = fs::weakly_canonical(model_path, ec).filename().string();
    }
    return name;
}

Result<std::string> str_field(const Json& o, const char* key, std::string_view what,
                              std::string_view where) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_string()) {
        return corrupt_data("{}: {}.{} is missing or not a string", what, where, key);
    }
    return it->get<std::string>();
}

bool is_hex64(const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace

std::string oms_default_signature_path(const std::string& model_path) {
    std::error_code ec;
    if (fs::is_directory(model_path, ec)) return (fs::path(model_path) / "model.sig").string();
    return model_path + ".sig";
}

std::string oms_statement_json(const ModelDigest& digest, const std::string& model_name,
                               const std::vector<std::string>& ignore_paths, bool allow_symlinks) {
    Json resources = Json::array();
    for (const FileDigest& f : digest.files) {
        resources.push_back({{"name", f.name}, {"algorithm", "sha256"}, {"digest", f.sha256}});
    }
    Json j;
    j["_type"] = kInTotoStatementType;
    j["subject"] = Json::array({{{"name", model_name},
                                 {"digest", {{"sha256", digest.root_digest}}}}});
    j["predicateType"] = kOmsPredicateType;
    j["predicate"]["serialization"] = {{"method", "files"},
                                       {"hash_type", "sha256"},
                                       {"allow_symlinks", allow_symlinks},
                                       {"ignore_paths", ignore_paths}};
    j["predicate"]["resources"] = std::move(resources);
    return canonical_json(j);
}

Result<OmsStatement> parse_oms_statement(std::string_view payload, std::string_view what) {
    MP_ASSIGN_OR_RETURN(Json j, parse_json(payload, what));
    if (!j.is_object()) return corrupt_data("{}: statement is not a JSON object", what);
    MP_ASSIGN_OR_RETURN(std::string type, str_field(j, "_type", what, "statement"));
    if (type != kInTotoStatementType) {
        return unsupported("{}: statement _type '{}' is not '{}'", what, type, kInTotoStatementType);
    }
    MP_ASSIGN_OR_RETURN(std::string ptype, str_field(j, "predicateType", what, "statement"));
    if (ptype != kOmsPredicateType) {
        return unsupported("{}: predicateType '{}' is not '{}'", what, ptype, kOmsPredicateType);
    }
    auto subj = j.find("subject");
    if (subj == j.end() || !subj->is_array() || subj->size() != 1) {
        return corrupt_data("{}: statement must have exactly one subject", what);
    }
    OmsStatement st;
    const Json& s0 = (*subj)[0];
    if (!s0.is_object() || !s0.contains("digest") || !s0["digest"].is_object()) {
        return corrupt_data("{}: subject[0] has no digest object", what);
    }
    MP_ASSIGN_OR_RETURN(st.model_name, str_field(s0, "name", what, "subject[0]"));
    MP_ASSIGN_OR_RETURN(st.root_digest, str_field(s0["digest"], "sha256", what, "subject[0].digest"));
    auto pred = j.find("predicate");
    if (pred == j.end() || !pred->is_object()) return corrupt_data("{}: no predicate object", what);
    auto ser = pred->find("serialization");
    if (ser == pred->end() || !ser->is_object()) {
        return corrupt_data("{}: predicate has no serialization object", what);
    }
    MP_ASSIGN_OR_RETURN(std::string method, str_field(*ser, "method", what, "serialization"));
    if (method != "files") {
        return unsupported("{}: serialization method '{}' is not supported (only \"files\")", what,
                           method);
    }
    MP_ASSIGN_OR_RETURN(std::string hash_type, str_field(*ser, "hash_type", what, "serialization"));
    if (hash_type != "sha256") {
        return unsupported("{}: hash_type '{}' is not supported (only sha256)", what, hash_type);
    }
    if (auto a = ser->find("allow_symlinks"); a != ser->end()) {
        if (!a->is_boolean()) return corrupt_data("{}: allow_symlinks is not a boolean", what);
        st.allow_symlinks = a->get<bool>();
    }
    if (auto ig = ser->find("ignore_paths"); ig != ser->end()) {
        if (!ig->is_array()) return corrupt_data("{}: ignore_paths is not an array", what);
        for (const Json& p : *ig) {
            if (!p.is_string()) return corrupt_data("{}: ignore_paths holds a non-string", what);
            st.ignore_paths.push_back(p.get<std::string>());
        }
    }
    auto res = pred->find("resources");
    if (res == pred->end() || !res->is_array()) {
        return corrupt_data("{}: predicate.resources is missing or not an array", what);
    }
    Sha256 root;
    for (size_t i = 0; i < res->size(); ++i) {
        const Json& r = (*res)[i];
        const std::string where = fmt::format("resources[{}]", i);
        if (!r.is_object()) return corrupt_data("{}: {} is not an object", what, where);
        FileDigest f;
        MP_ASSIGN_OR_RETURN(f.name, str_field(r, "name", what, where));
        MP_ASSIGN_OR_RETURN(std::string alg, str_field(r, "algorithm", what, where));
        MP_ASSIGN_OR_RETURN(f.sha256, str_field(r, "digest", what, where));
        if (alg != "sha256") {
            return unsupported("{}: {} algorithm '{}' is not sha256", what, where, alg);
        }
        if (!is_hex64(f.sha256)) {
            return corrupt_data("{}: {} digest '{}' is not 64 lowercase hex digits", what, where,
                                f.sha256);
        }
        Digest d{};
        for (size_t k = 0; k < 32; ++k) {
            d[k] = static_cast<uint8_t>(std::stoi(f.sha256.substr(2 * k, 2), nullptr, 16));
        }
        root.update(std::span<const uint8_t>(d));
        st.resources.push_back(std::move(f));
    }
    const std::string computed = to_hex(root.finish());
    if (computed != st.root_digest) {
        return verification_failed(
            "{}: payload inconsistent: subject digest is {} but the resources hash to {}", what,
            st.root_digest, computed);
    }
    return st;
}

Result<SigstoreBundle> oms_sign_model(const std::string& model_path, const PrivateKey& key,
                                      const OmsSignOptions& options) {
    if (key.type() == KeyType::kEd25519) {
        return invalid_argument("{}: OpenSSF model_signing verifies ECDSA keys only (P-256, P-384, "
                                "P-521), not Ed25519", model_path);
    }
    const std::string sig_path = options.signature_path.empty()
                                     ? oms_default_signature_path(model_path)
                                     : options.signature_path;
    std::vector<std::string> ignore = kGitPaths;
    const std::string rel = signature_rel(model_path, sig_path);
    if (!rel.empty()) ignore.push_back(rel);
    ignore.insert(ignore.end(), options.ignore_paths.begin(), options.ignore_paths.end());

    HashOptions hopt;
    hopt.threads = options.threads;
    hopt.tensors = false;
    hopt.allow_symlinks = options.allow_symlinks;
    hopt.signature_name = rel;
    hopt.ignore_paths = options.ignore_paths;
    MP_ASSIGN_OR_RETURN(ModelDigest digest, hash_path(model_path, hopt));
    const std::string payload =
        oms_statement_json(digest, model_name_of(model_path), ignore, options.allow_symlinks);
    MP_ASSIGN_OR_RETURN(SigstoreBundle bundle,
                        sign_dsse(payload, kInTotoPayloadType, key));
    MP_TRY(write_file_atomic(sig_path, write_bundle(bundle), 0644));
    return bundle;
}

Result<OmsVerifyResult> oms_verify_model(const std::string& model_path,
                                         const SigstoreBundle& bundle, const PublicKey& key,
                                         const std::string& signature_path, int threads) {
    MP_TRY(verify_dsse(bundle, key));
    if (bundle.payload_type != kInTotoPayloadType) {
        return verification_failed("payload type '{}' is not '{}'", bundle.payload_type,
                                   kInTotoPayloadType);
    }
    OmsVerifyResult out;
    MP_ASSIGN_OR_RETURN(out.statement, parse_oms_statement(bundle.payload, "model signature payload"));
    const OmsStatement& st = out.statement;

    HashOptions hopt;
    hopt.threads = threads;
    hopt.tensors = false;
    hopt.allow_symlinks = st.allow_symlinks;
    hopt.signature_name = signature_rel(model_path, signature_path);
    hopt.ignore_paths = st.ignore_paths;
    MP_ASSIGN_OR_RETURN(ModelDigest actual, hash_path(model_path, hopt));

    std::map<std::string, std::string> signed_files;
    for (const FileDigest& f : st.resources) signed_files[f.name] = f.sha256;
    for (const FileDigest& f : actual.files) {
        auto it = signed_files.find(f.name);
        if (it == signed_files.end()) {
            return verification_failed("model file '{}' is not covered by the signature", f.name);
        }
        if (it->second != f.sha256) {
            return verification_failed("model file '{}' was modified: signed sha256 {}, file has {}",
                                       f.name, it->second, f.sha256);
        }
        signed_files.erase(it);
    }
    if (!signed_files.empty()) {
        return verification_failed("model file '{}' is signed but missing",
                                   signed_files.begin()->first);
    }
    if (actual.root_digest != st.root_digest) {
        return verification_failed("model root digest {} differs from the signed {}",
                                   actual.root_digest, st.root_digest);
    }
    out.files_checked = actual.files.size();
    return out;
}

}  // namespace modelprint
