// Behaviour vectors of models and transcripts (see behavior_source.h).
#include "cli/behavior_source.h"

#include "db/store.h"
#include "fingerprint/behavior_vector.h"
#include "fingerprint/logit_print.h"
#include "fingerprint/model/arch.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/model/model.h"
#include "fingerprint/probes/probe_set.h"
#include "fingerprint/transcript.h"

namespace modelprint::cli {

bool is_transcript_path(const std::string& path) {
    return path.size() > 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
}

Result<BehaviorVectorOf> behavior_vector_of(const std::string& path, const std::string& probes_name,
                                            Store& store) {
    MP_ASSIGN_OR_RETURN(ProbeSet probes, load_probe_set(probes_name));
    BehaviorVectorOf out;
    out.path = path;
    out.spec = behavior_vector_spec(probes.digest);
    HashOptions hopt;
    hopt.tensors = false;
    if (is_transcript_path(path)) {
        MP_ASSIGN_OR_RETURN(ModelDigest digest, hash_path(path, hopt));
        MP_ASSIGN_OR_RETURN(Transcript t, load_transcript(path));
        MP_ASSIGN_OR_RETURN(OutputPrint print, output_print_from_transcript(probes, t));
        out.root_digest = digest.root_digest;
        out.arch = "transcript";
        MP_ASSIGN_OR_RETURN(out.vector, behavior_index_vector(print));
        return out;
    }
    MP_ASSIGN_OR_RETURN(auto model, Model::open(path));
    MP_ASSIGN_OR_RETURN(ModelDigest digest, hash_model(*model, hopt));
    out.root_digest = digest.root_digest;
    out.arch = std::string(arch_name(model->config().arch));
    out.parameters = static_cast<int64_t>(model->parameter_count());
    MP_ASSIGN_OR_RETURN(auto stored, store.list_fingerprints("behavior"));
    for (const FingerprintRecord& f : stored) {
        if (f.model_digest != out.root_digest || f.spec_digest != probes.digest) continue;
        MP_ASSIGN_OR_RETURN(
            BehaviorPrint print,
            parse_behavior_print(f.blob, probes, "stored behaviour fingerprint of " + path));
        MP_ASSIGN_OR_RETURN(out.vector, behavior_index_vector(print.outputs));
        return out;
    }
    return failed_precondition(
        "{}: no behaviour fingerprint stored for root digest {} on probe set "
        "{} ({}); run `modelprint fingerprint {} --probes {}` first",
        path, out.root_digest, probes.name, probes.digest.substr(0, 12), path, probes_name);
}

}  // namespace modelprint::cli
