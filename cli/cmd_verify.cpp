// `modelprint verify [FILE] [--pub PUB] [--model DIR]`: checks a signed report or an OpenSSF
// Model Signing `model.sig` offline. Exit 0 and "verified" when valid; exit 3 with the reason
// (key hint, signature/payload, or model digests) otherwise.
//  - FILE defaults to DIR/model.sig when only --model is given.
//  - The public key is --pub, else the store's known key whose hint the bundle names.
//  - An OMS bundle (predicateType https://model_signing/signature/v1.0) needs --model: every file
//    is re-hashed and compared with the signed manifest.
//  - A modelprint report with --model: the model's root digest must be one of its subjects.
#include <cstdio>
#include <filesystem>

#include "cli/command.h"
#include "db/store.h"
#include "fingerprint/base/json.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/model/hash.h"
#include "forensics/oms.h"
#include "forensics/report.h"

namespace modelprint::cli {
namespace {

struct VerifyArgs {
    std::string file;
    std::string pub;
    std::string model;
};

Result<PublicKey> resolve_key(const VerifyArgs& a, const std::string& hint) {
    if (!a.pub.empty()) return PublicKey::load(a.pub);
    const std::string db = resolve_db_path();
    std::error_code ec;
    if (hint.empty() || !std::filesystem::exists(db, ec)) {
        return invalid_argument("no public key: pass --pub PUB (the bundle names key {} and no "
                                "store at {} knows it)", hint.empty() ? "(none)" : hint, db);
    }
    MP_ASSIGN_OR_RETURN(auto store, Store::open(db, StoreOptions{.read_only = true}));
    auto rec = store->get_key(hint);
    if (!rec.ok()) {
        return invalid_argument("no public key: pass --pub PUB (key {} is not among the store's "
                                "known keys)", hint);
    }
    return PublicKey::from_pem(rec->public_pem, "stored key " + hint.substr(0, 16));
}

Status run_verify(VerifyArgs a) {
    if (a.file.empty()) {
        if (a.model.empty()) return invalid_argument("verify needs FILE or --model DIR");
        a.file = oms_default_signature_path(a.model);
    }
    MP_ASSIGN_OR_RETURN(std::string text, read_file(a.file));
    MP_ASSIGN_OR_RETURN(Json j, parse_json(text, a.file));
    if (!j.is_object() || !j.contains("dsseEnvelope")) {
        return verification_failed("{}: not signed (no DSSE envelope); nothing to verify", a.file);
    }
    MP_ASSIGN_OR_RETURN(SigstoreBundle bundle, parse_bundle(text, a.file));
    MP_ASSIGN_OR_RETURN(PublicKey key, resolve_key(a, bundle.key_hint));

    // Which kind of statement? Decide from the payload after the signature check.
    MP_TRY(verify_dsse(bundle, key).with_context(a.file));
    auto payload = parse_json(bundle.payload, "payload");
    if (!payload.ok()) {
        return verification_failed("{}: payload is not JSON: {}", a.file, payload.status().message());
    }
    const std::string ptype = payload->is_object() && payload->contains("predicateType") &&
                                      (*payload)["predicateType"].is_string()
                                  ? (*payload)["predicateType"].get<std::string>()
                                  : "";
    if (ptype == kOmsPredicateType) {
        if (a.model.empty()) {
            return invalid_argument("{}: is an OpenSSF model signature; pass --model DIR to check "
                                    "the model files against it", a.file);
        }
        MP_ASSIGN_OR_RETURN(OmsVerifyResult r, oms_verify_model(a.model, bundle, key, a.file));
        std::printf("verified: model signature %s\n", a.file.c_str());
        std::printf("  model        %s (%zu files re-hashed)\n", r.statement.model_name.c_str(),
                    r.files_checked);
        std::printf("  root digest  %s\n", r.statement.root_digest.c_str());
        std::printf("  key          %s %s\n", std::string(key_type_name(key.type())).c_str(),
                    key.hint().c_str());
        return Status();
    }
    MP_ASSIGN_OR_RETURN(ParsedReport rep, parse_report(text, a.file));
    MP_TRY(verify_report(rep, key));
    std::string matched;
    if (!a.model.empty()) {
        HashOptions opt;
        opt.tensors = false;
        MP_ASSIGN_OR_RETURN(ModelDigest d, hash_path(a.model, opt));
        MP_TRY(check_report_subject(rep, d.root_digest).with_context(a.file));
        matched = d.root_digest;
    }
    std::printf("verified: report %s\n", a.file.c_str());
    std::printf("  predicate    %s\n", rep.predicate_type.c_str());
    for (const auto& s : rep.subjects) {
        std::printf("  subject      %s  %s%s\n", s.sha256.c_str(), s.name.c_str(),
                    s.sha256 == matched ? "  (matches --model)" : "");
    }
    std::printf("  key          %s %s\n", std::string(key_type_name(key.type())).c_str(),
                key.hint().c_str());
    return Status();
}

CommandRegistrar reg({"verify", "Verify a signed report or an OpenSSF model.sig offline", 83,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<VerifyArgs>();
                          sub.add_option("FILE", a->file, "Signed report bundle or model.sig");
                          sub.add_option("--pub", a->pub, "Public key (SPKI PEM); default: the store's known key");
                          sub.add_option("--model", a->model, "Model directory/file the signature must cover");
                          return [a] { return run_verify(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli
