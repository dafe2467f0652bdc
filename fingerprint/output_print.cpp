// Identity-claim extraction and transcript alignment (see output_print.h).
#include "fingerprint/output_print.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace modelprint {

namespace {

struct KnownName {
    std::string_view name;
    std::string_view entity;
};

// Model and lab names people ask about in distillation disputes. Short or ambiguous words
// (e.g. "Yi", "Meta" alone) are left out to avoid matching ordinary prose.
constexpr KnownName kKnownNames[] = {
    {"ChatGPT", "openai-gpt"},     {"GPT-4", "openai-gpt"},       {"GPT-4o", "openai-gpt"},
    {"GPT-3.5", "openai-gpt"},     {"GPT-3", "openai-gpt"},       {"OpenAI", "openai-gpt"},
    {"Claude", "anthropic-claude"}, {"Anthropic", "anthropic-claude"},
    {"Llama", "meta-llama"},       {"LLaMA", "meta-llama"},       {"Meta AI", "meta-llama"},
    {"Qwen", "qwen"},              {"Tongyi", "qwen"},            {"Alibaba Cloud", "qwen"},
    {"通义千问", "qwen"},          {"通义", "qwen"},              {"阿里巴巴", "qwen"},
    {"阿里云", "qwen"},            {"DeepSeek", "deepseek"},      {"深度求索", "deepseek"},
    {"Gemini", "google-gemini"},   {"Bard", "google-gemini"},     {"Google DeepMind", "google-gemini"},
    {"谷歌", "google-gemini"},     {"Mistral", "mistral"},        {"Mixtral", "mistral"},
    {"ERNIE", "baidu-ernie"},      {"文心一言", "baidu-ernie"},   {"百度", "baidu-ernie"},
    {"ChatGLM", "zhipu-glm"},      {"智谱", "zhipu-glm"},         {"Kimi", "moonshot-kimi"},
    {"月之暗面", "moonshot-kimi"}, {"Moonshot AI", "moonshot-kimi"}, {"豆包", "bytedance-doubao"},
    {"Doubao", "bytedance-doubao"}, {"字节跳动", "bytedance-doubao"}, {"Grok", "xai-grok"},
    {"xAI", "xai-grok"},           {"Phi-3", "microsoft-phi"},    {"Gemma", "google-gemma"},
    {"零一万物", "01ai-yi"},       {"Baichuan", "baichuan"},      {"百川", "baichuan"},
};

bool is_ascii_word_char(unsigned char c) { return std::isalnum(c) || c == '_'; }

bool ascii_only(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x80) c = static_cast<char>(std::tolower(c));
    }
    return out;
}

bool contains_name(std::string_view text_lower, std::string_view text, std::string_view name) {
    if (!ascii_only(name)) return text.find(name) != std::string_view::npos;
    const std::string n = lower_ascii(name);
    size_t pos = 0;
    while ((pos = text_lower.find(n, pos)) != std::string_view::npos) {
        const bool left_ok =
            pos == 0 || !is_ascii_word_char(static_cast<unsigned char>(text_lower[pos - 1]));
        const size_t end = pos + n.size();
        const bool right_ok = end >= text_lower.size() ||
                              !is_ascii_word_char(static_cast<unsigned char>(text_lower[end]));
        if (left_ok && right_ok) return true;
        ++pos;
    }
    return false;
}

}  // namespace

size_t OutputPrint::answered() const {
    return static_cast<size_t>(std::count(present.begin(), present.end(), true));
}

std::vector<IdentityClaim> find_identity_claims(std::string_view text, size_t probe) {
    const std::string lower = lower_ascii(text);
    std::vector<IdentityClaim> out;
    std::set<std::string_view> seen;
    for (const KnownName& k : kKnownNames) {
        if (seen.count(k.entity)) continue;
        if (contains_name(lower, text, k.name)) {
            seen.insert(k.entity);
            out.push_back({probe, std::string(k.name), std::string(k.entity)});
        }
    }
    std::sort(out.begin(), out.end(),
              [](const IdentityClaim& a, const IdentityClaim& b) { return a.entity < b.entity; });
    return out;
}

std::vector<IdentityClaim> extract_claims(const ProbeSet& probes,
                                          const std::vector<std::string>& responses,
                                          const std::vector<bool>& present) {
    std::vector<IdentityClaim> out;
    for (size_t i : probes.indices_of("identity")) {
        if (i >= responses.size() || i >= present.size() || !present[i]) continue;
        auto c = find_identity_claims(responses[i], i);
        out.insert(out.end(), c.begin(), c.end());
    }
    return out;
}

Result<OutputPrint> output_print_from_transcript(const ProbeSet& probes, const Transcript& t) {
    OutputPrint p;
    p.source = t.source;
    p.probe_digest = probes.digest;
    p.responses.resize(probes.probes.size());
    p.present.assign(probes.probes.size(), false);
    for (size_t i = 0; i < probes.probes.size(); ++i) {
        auto r = t.response_for(probes.probes[i].id, probes.probes[i].prompt);
        if (r) {
            p.responses[i] = std::string(*r);
            p.present[i] = true;
        }
    }
    if (p.answered() == 0) {
        return invalid_argument(
            "transcript {}: none of its {} entries answers a probe of probe set \"{}\" ({} "
            "probes; matched by id, then by exact prompt text)",
            t.source, t.entries.size(), probes.name, probes.probes.size());
    }
    p.claims = extract_claims(probes, p.responses, p.present);
    return p;
}

std::vector<std::string> claimed_entities(const OutputPrint& p) {
    std::set<std::string> s;
    for (const auto& c : p.claims) s.insert(c.entity);
    return {s.begin(), s.end()};
}

}  // namespace modelprint
