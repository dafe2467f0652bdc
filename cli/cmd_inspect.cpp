// `modelprint inspect MODEL [--json]`: format, architecture, dimensions, parameter count, bytes
// per dtype, tied embeddings, and the tensor table (name, canonical role, dtype, shape). Every
// tensor is listed: roles inferred from shapes and structure are marked `inferred`
// (fingerprint/model/role_infer.h), and the tensors without a role are counted and named
// ("12 tensors without a role: ..."). The layer plan is printed one line per run of identical
// layers (attention kind, heads, RoPE; dense MLP width or experts, top-k and routing).
#include <cstdio>
#include <map>

#include "cli/command.h"
#include "cli/model_json.h"
#include "forensics/identity_render.h"

namespace modelprint::cli {
namespace {

struct InspectArgs {
    std::string model;
    bool json = false;
};

Status run_inspect(const InspectArgs& a) {
    MP_ASSIGN_OR_RETURN(auto model, Model::open(a.model));
    const ModelConfig& c = model->config();
    std::map<std::string, std::pair<uint64_t, uint64_t>> by_dtype;  // bytes, tensors
    for (const auto& t : model->tensors()) {
        auto& e = by_dtype[std::string(dtype_name(t.dtype))];
        e.first += t.nbytes;
        e.second += 1;
    }
    const std::vector<size_t> unroled = model->unroled_tensors();
    size_t inferred = 0;
    for (size_t i = 0; i < model->tensors().size(); ++i) inferred += model->role_inferred(i);
    if (a.json) {
        Json j;
        j["path"] = model->path();
        j["format"] = std::string(format_name(model->format()));
        j["architecture"] = std::string(arch_name(c.arch));
        j["parameters"] = model->parameter_count();
        j["weight_bytes"] = model->weight_bytes();
        j["tied_embeddings"] = c.tie_word_embeddings;
        j["config"] = config_to_json(c);
        j["plan"] = plan_to_json(*model);
        j["dtypes"] = Json::object();
        for (const auto& [name, e] : by_dtype) j["dtypes"][name] = {{"bytes", e.first}, {"tensors", e.second}};
        j["files"] = Json::array();
        for (const auto& f : model->files()) j["files"].push_back({{"name", f.rel_name}, {"size", f.map->size()}});
        j["metadata"] = model->metadata();
        j["tensors"] = Json::array();
        for (size_t i = 0; i < model->tensors().size(); ++i) {
            const auto& t = model->tensors()[i];
            std::string role = canonical_name(model->roles()[i]);
            j["tensors"].push_back({{"name", t.name},
                                    {"role", role.empty() ? Json(nullptr) : Json(role)},
                                    {"role_source", role.empty() ? Json(nullptr)
                                                    : Json(model->role_inferred(i) ? "inferred"
                                                                                   : "name")},
                                    {"dtype", std::string(dtype_name(t.dtype))},
                                    {"shape", t.shape},
                                    {"file", model->files()[t.file_index].rel_name},
                                    {"offset", t.offset},
                                    {"nbytes", t.nbytes}});
        }
        j["without_role"] = Json::array();
        for (size_t i : unroled) j["without_role"].push_back(model->tensors()[i].name);
        j["inferred_roles"] = inferred;
        print_json(j);
        return Status();
    }
    std::printf("model         %s\n", model->path().c_str());
    std::printf("format        %s (%zu file%s)\n", std::string(format_name(model->format())).c_str(),
                model->files().size(), model->files().size() == 1 ? "" : "s");
    std::printf("architecture  %s (model_type \"%s\", config from %s)\n",
                std::string(arch_name(c.arch)).c_str(), c.model_type.c_str(), c.source.c_str());
    std::printf("parameters    %s\n", group_digits(model->parameter_count()).c_str());
    std::printf("dimensions    vocab %lld, hidden %lld, layers %lld, heads %lld (kv %lld, head dim %lld), ffn %lld, context %lld\n",
                (long long)c.vocab_size, (long long)c.hidden_size, (long long)c.n_layers,
                (long long)c.n_heads, (long long)c.n_kv_heads, (long long)c.head_dim,
                (long long)c.intermediate_size, (long long)c.max_position);
    std::printf("tied head     %s\n", c.tie_word_embeddings ? "yes" : "no");
    if (model->plan_status().ok()) {
        // The layer plan, one line per run of identical layers (fingerprint/model/plan.h).
        const auto lines = describe_plan(model->plan());
        for (size_t i = 0; i < lines.size(); ++i) {
            std::printf("%s %s\n", i == 0 ? "layers       " : "             ", lines[i].c_str());
        }
    } else {
        std::printf("layers        no plan: %s\n", model->plan_status().message().c_str());
    }
    for (const auto& [name, e] : by_dtype) {
        std::printf("dtype         %-6s %s bytes in %llu tensors\n", name.c_str(),
                    group_digits(e.first).c_str(), (unsigned long long)e.second);
    }
    for (const auto& n : c.notes) std::printf("note          %s\n", n.c_str());
    std::printf("roles         %zu of %zu tensors%s\n", model->tensors().size() - unroled.size(),
                model->tensors().size(),
                inferred ? fmt::format(" ({} inferred from shapes and structure)", inferred).c_str()
                         : "");
    if (!unroled.empty()) {
        std::vector<std::string> names;
        for (size_t i : unroled) names.push_back(model->tensors()[i].name);
        std::printf("without role  %s\n", unroled_summary(names, 12).c_str());
    }
    std::printf("\n%-52s %-28s %-8s %s\n", "tensor", "role", "dtype", "shape");
    for (size_t i = 0; i < model->tensors().size(); ++i) {
        const auto& t = model->tensors()[i];
        std::string role = canonical_name(model->roles()[i]);
        if (!role.empty() && model->role_inferred(i)) role += " (inferred)";
        std::printf("%-52s %-28s %-8s %s\n", t.name.c_str(), role.empty() ? "-" : role.c_str(),
                    std::string(dtype_name(t.dtype)).c_str(), shape_string(t.shape).c_str());
    }
    return Status();
}

CommandRegistrar reg({"inspect", "Show a model's format, architecture, dimensions and tensors", 10,
                      [](CLI::App& sub) -> CommandAction {
                          auto a = std::make_shared<InspectArgs>();
                          sub.add_option("MODEL", a->model, "Model directory, .safetensors, shard index or .gguf")->required();
                          sub.add_flag("--json", a->json, "Print one JSON object");
                          return [a] { return run_inspect(*a); };
                      }});

}  // namespace
}  // namespace modelprint::cli
