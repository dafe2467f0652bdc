// `modelprint fingerprint MODEL [--probes SET] [--device auto|cpu|cuda] [--json]`: computes the
// model's behaviour fingerprint on a probe set (greedy continuations, top-k next-token
// log-probabilities, per-layer mean hidden states, identity claims; fingerprint/logit_print.h)
// and stores it in the database (kind "behavior", keyed by the model's OMS root digest, the
// probe-set digest and the engine) for later comparisons. An existing fingerprint of the same
// key is reused unless --force. --transcript-out writes the answers as a transcript JSONL.
// --watermark KEY.json: the continuations are generated under the green-list watermark
// (fingerprint/watermark.h, the same logits processor as `generate --watermark`, on the CPU and
// the CUDA engine); the result is then not the model's own behaviour, so the store is neither
// read nor written, and outputs carry the key's commitment only, never the key.
// Not here: weight fingerprints (issue 5) and comparisons (`modelprint compare`).
#include <chrono>
#include <cstdio>

#include "cli/command.h"
#include "cli/model_json.h"
#include "db/store.h"
#include "fingerprint/base/mmap_file.h"
#include "fingerprint/engine/backend.h"
#include "fingerprint/logit_print.h"
#include "fingerprint/model/hash.h"
#include "fingerprint/tokenizer/tokenizer.h"
#include "fingerprint/transcript.h"
#include "fingerprint/watermark.h"

namespace modelprint::cli {
namespace {

constexpr const char* kKind = "behavior";

struct FingerprintArgs {
    std::string model;
    std::string probes = "default";
    std::string device = "auto";
    std::string chat_template = "auto";
    std::string transcript_out;
    int top_k = 16;
    bool json = false;
    bool no_store = false;
    bool force = false;
    std::string watermark;
};

Status run_fingerprint(const FingerprintArgs& a) {
    MP_ASSIGN_OR_RETURN(ProbeSet probes, load_probe_set(a.probes));
    MP_ASSIGN_OR_RETURN(DeviceKind device, parse_device(a.device));
    MP_ASSIGN_OR_RETURN(auto model, Model::open(a.model));
    HashOptions hopt;
    hopt.tensors = false;
    MP_ASSIGN_OR_RETURN(ModelDigest digest, hash_model(*model, hopt));
    MP_ASSIGN_OR_RETURN(auto tok, load_model_tokenizer(*model));
    MP_ASSIGN_OR_RETURN(auto backend, make_backend(*model, device));
    std::shared_ptr<const GreenLists> lists;
    if (!a.watermark.empty()) {
        MP_ASSIGN_OR_RETURN(WatermarkKey key, load_watermark_key(a.watermark));
        MP_ASSIGN_OR_RETURN(GreenLists g, GreenLists::create(key, model->config().vocab_size));
        lists = std::make_shared<const GreenLists>(std::move(g));
        if (!a.no_store) {
            std::fprintf(stderr,
                         "modelprint: --watermark: the watermarked answers are not the model's "
                         "own fingerprint; the store is not used\n");
        }
    }

    std::unique_ptr<Store> store;
    std::optional<BehaviorPrint> print;
    bool reused = false;
    if (!a.no_store && !lists) {
        MP_ASSIGN_OR_RETURN(store, Store::open(resolve_db_path()));
        if (!a.force) {
            auto rec = store->get_fingerprint(digest.root_digest, kKind, probes.digest,
                                              backend->name());
            if (rec.ok()) {
                auto p = parse_behavior_print(rec->blob, probes,
                                              fmt::format("stored fingerprint of {}", a.model));
                if (p.ok()) {
                    print = std::move(p).value();
                    reused = true;
                }
            } else if (rec.status().code() != StatusCode::kNotFound) {
                return rec.status();
            }
        }
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (!print) {
        BehaviorPrintOptions opt;
        opt.top_k = a.top_k;
        opt.chat_template = a.chat_template;
        opt.progress = !global_options().quiet;
        if (lists) {
            opt.logits_processor = [lists](std::span<const int32_t> ids, std::span<float> logits) {
                lists->apply(ids, logits);
            };
        }
        MP_ASSIGN_OR_RETURN(BehaviorPrint bp,
                            compute_behavior_print(*model, *backend, *tok, probes, opt));
        print = std::move(bp);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::vector<uint8_t> blob = serialize_behavior_print(*print);
    if (store && !reused) {
        MP_TRY(store->upsert_model({digest.root_digest, model->path(), model->config().model_type,
                                    static_cast<int64_t>(model->parameter_count()), model->path(), "", ""}));
        FingerprintRecord rec;
        rec.model_digest = digest.root_digest;
        rec.kind = kKind;
        rec.spec_digest = probes.digest;
        rec.engine = print->engine;
        rec.blob = blob;
        MP_TRY(store->put_fingerprint(rec).status());
    }
    if (!a.transcript_out.empty()) {
        Transcript t;
        for (size_t i = 0; i < probes.probes.size(); ++i) {
            // A probe the model's context cannot answer (logit_print.h "Truncation") has none.
            if (i < print->outputs.present.size() && !print->outputs.present[i]) continue;
            TranscriptEntry e;
            e.id = probes.probes[i].id;
            e.prompt = probes.probes[i].prompt;
            e.response = print->outputs.responses[i];
            t.entries.push_back(std::move(e));
        }
        MP_TRY(write_file_atomic(a.transcript_out, transcript_to_jsonl(t)));
    }
    int64_t prompt_tokens = 0;
    for (const auto& tr : print->logits.probes) prompt_tokens += tr.length();
    const auto claims = claimed_entities(print->outputs);
    if (a.json) {
        Json j;
        j["model"] = model->path();
        j["root_digest"] = digest.root_digest;
        j["kind"] = kKind;
        j["probe_set"] = {{"name", probes.name}, {"version", probes.version},
                          {"digest", probes.digest}, {"probes", probes.probes.size()}};
        j["engine"] = print->engine;
        j["tokenizer"] = print->tokenizer;
        j["chat_format"] = print->chat_format;
        j["top_k"] = print->logits.top_k;
        j["layers"] = print->logits.layers;
        j["hidden_size"] = print->logits.hidden_size;
        j["prompt_tokens"] = prompt_tokens;
        j["blob_bytes"] = blob.size();
        j["stored"] = store != nullptr;
        j["reused"] = reused;
        j["seconds"] = reused ? 0.0 : secs;
        // Probes fingerprinted per second (null when the fingerprint came from the store).
        j["probes_per_s"] = reused || secs <= 0.0 ? Json() : Json(static_cast<double>(probes.probes.size()) / secs);
        j["identity_claims"] = claims;
        if (lists) j["watermark_key_commitment"] = watermark_key_commitment(lists->key());
        Json rs = Json::array();
        for (size_t i = 0; i < probes.probes.size(); ++i) {
            rs.push_back({{"id", probes.probes[i].id}, {"response", print->outputs.responses[i]}});
        }
        j["responses"] = rs;
        print_json(j);
        return Status();
    }
    std::printf("model        %s\n", model->path().c_str());
    std::printf("root_digest  %s\n", digest.root_digest.c_str());
    std::printf("probe set    %s v%d (%zu probes, digest %s)\n",
                probes.name.empty() ? a.probes.c_str() : probes.name.c_str(), probes.version,
                probes.probes.size(), probes.digest.c_str());
    std::printf("engine       %s, tokenizer %s, chat format %s\n", print->engine.c_str(),
                print->tokenizer.c_str(), print->chat_format.c_str());
    std::printf("fingerprint  top-%d log-probs at %lld prompt positions, %lld layers x %lld mean "
                "hidden states, %zu bytes%s\n",
                print->logits.top_k, static_cast<long long>(prompt_tokens),
                static_cast<long long>(print->logits.layers),
                static_cast<long long>(print->logits.hidden_size), blob.size(),
                reused ? " (reused from the store)" : store ? " (stored)" : "");
    if (!reused) {
        std::printf("time         %.2f s (%.1f probes/s)\n", secs,
                    static_cast<double>(probes.probes.size()) / std::max(secs, 1e-9));
    }
    std::string cl;
    for (const auto& c : claims) cl += (cl.empty() ? "" : ", ") + c;
    if (lists) {
        std::printf("watermark    answers generated under the key with commitment sha256:%s\n",
                    watermark_key_commitment(lists->key()).c_str());
    }
    std::printf("identity     %s\n", cl.empty() ? "no model or lab named in identity answers" : cl.c_str());
    const size_t show = std::min<size_t>(probes.probes.size(), 5);
    for (size_t i = 0; i < show; ++i) {
        std::string r = print->outputs.responses[i];
        for (char& ch : r) {
            if (ch == '\n') ch = ' ';
        }
        if (r.size() > 90) r = r.substr(0, 90) + "...";
        std::printf("  %-16s %s\n", probes.probes[i].id.c_str(), r.c_str());
    }
    return Status();
}

CommandRegistrar reg({"fingerprint",
                      "Compute and store a model's behaviour fingerprint on a probe set", 40,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<FingerprintArgs>();
                          sub.add_option("MODEL", a->model, "Model directory or file")->required();
                          sub.add_option("--probes", a->probes,
                                         "Probe set: \"default\" or a JSONL file");
                          sub.add_option("--device", a->device, "auto, cpu or cuda");
                          sub.add_option("--top-k", a->top_k, "Log-probabilities kept per position")
                              ->check(CLI::Range(1, 1024));
                          sub.add_option("--chat-template", a->chat_template,
                                         "auto, none, chatml, llama3, llama2, mistral, deepseek");
                          sub.add_option("--transcript-out", a->transcript_out,
                                         "Also write the answers as a transcript JSONL");
                          sub.add_flag("--json", a->json, "Print one JSON object");
                          sub.add_flag("--no-store", a->no_store, "Do not open the database");
                          sub.add_flag("--force", a->force, "Recompute even if stored");
                          sub.add_option("--watermark", a->watermark,
                                         "Watermark the answers with this key (watermark keygen; "
                                         "not stored)");
                          return [a] { return run_fingerprint(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli
