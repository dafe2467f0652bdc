// `modelprint keygen --out NAME [--key-type ecdsa-p256|ed25519] [--label TEXT]`: writes NAME
// (private key, PEM PKCS#8, mode 0600) and NAME.pub (SPKI PEM), never overwriting, and records
// the public key in the store's known keys (by its hint) so `verify` can find it without --pub.
// A store that cannot be opened only gives a warning: the key files are the result.
#include <cstdio>

#include "cli/command.h"
#include "db/store.h"
#include "forensics/sign.h"

namespace modelprint::cli {
namespace {

struct KeygenArgs {
    std::string out;
    std::string key_type = "ecdsa-p256";
    std::string label;
    bool no_db = false;
};

Status run_keygen(const KeygenArgs& a) {
    MP_ASSIGN_OR_RETURN(KeyType type, parse_key_type(a.key_type));
    MP_ASSIGN_OR_RETURN(KeyFiles files, generate_key_files(type, a.out));
    std::printf("private key  %s  (PEM PKCS#8, mode 0600)\n", files.private_path.c_str());
    std::printf("public key   %s  (SPKI PEM)\n", files.public_path.c_str());
    std::printf("key type     %s\n", std::string(key_type_name(files.type)).c_str());
    std::printf("key hint     %s\n", files.hint.c_str());
    if (a.no_db) return Status();
    Status s;
    auto pub = PublicKey::load(files.public_path);
    auto store = Store::open(resolve_db_path());
    if (!pub.ok()) {
        s = pub.status();
    } else if (!store.ok()) {
        s = store.status();
    } else {
        s = (*store)->put_key({files.hint, std::string(key_type_name(files.type)), pub->pem(),
                               a.label.empty() ? a.out : a.label, ""});
    }
    if (!s.ok()) {
        std::fprintf(stderr, "modelprint: warning: key not recorded in the store: %s\n",
                     s.message().c_str());
    }
    return Status();
}

CommandRegistrar reg({"keygen", "Generate a signing key pair (ECDSA P-256 by default, or Ed25519)", 80,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<KeygenArgs>();
                          sub.add_option("--out", a->out, "Private key path; the public key goes to PATH.pub")
                              ->required();
                          sub.add_option("--key-type", a->key_type, "ecdsa-p256 (default) or ed25519");
                          sub.add_option("--label", a->label, "Label recorded with the key in the store");
                          sub.add_flag("--no-db", a->no_db, "Do not record the public key in the store");
                          return [a] { return run_keygen(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli
