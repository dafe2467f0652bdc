// `modelprint sign-model MODEL --key KEY [--signature PATH] [--ignore-paths P...]
// [--allow-symlinks]`: writes an OpenSSF Model Signing v1.0 bundle (default MODEL/model.sig) that
// `model_signing verify key MODEL --signature model.sig --public_key KEY.pub` accepts.
#include <cstdio>

#include "cli/command.h"
#include "forensics/oms.h"

namespace modelprint::cli {
namespace {

struct SignModelArgs {
    std::string model;
    std::string key;
    std::string signature;
    std::vector<std::string> ignore;
    bool allow_symlinks = false;
};

Status run_sign_model(const SignModelArgs& a) {
    MP_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::load(a.key));
    OmsSignOptions opt;
    opt.signature_path = a.signature;
    opt.ignore_paths = a.ignore;
    opt.allow_symlinks = a.allow_symlinks;
    MP_ASSIGN_OR_RETURN(SigstoreBundle bundle, oms_sign_model(a.model, key, opt));
    MP_ASSIGN_OR_RETURN(OmsStatement st, parse_oms_statement(bundle.payload, "signed statement"));
    const std::string path = a.signature.empty() ? oms_default_signature_path(a.model) : a.signature;
    std::printf("signed       %s\n", path.c_str());
    std::printf("model        %s (%zu files)\n", st.model_name.c_str(), st.resources.size());
    std::printf("root digest  %s\n", st.root_digest.c_str());
    std::printf("key hint     %s\n", bundle.key_hint.c_str());
    return Status();
}

CommandRegistrar reg({"sign-model", "Sign a model directory or file as OpenSSF Model Signing v1.0 (model.sig)", 82,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<SignModelArgs>();
                          sub.add_option("MODEL", a->model, "Model directory or file")->required();
                          sub.add_option("--key", a->key, "ECDSA private key (PEM)")->required();
                          sub.add_option("--signature", a->signature, "Output (default MODEL/model.sig)");
                          sub.add_option("--ignore-paths", a->ignore, "Relative paths to leave out");
                          sub.add_flag("--allow-symlinks", a->allow_symlinks, "Follow symbolic links");
                          return [a] { return run_sign_model(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli
