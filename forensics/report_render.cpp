// Markdown and HTML renderings of a report statement (see report.h for the predicate members
// recognised). HTML is one self-contained page: inline CSS, inline SVG (heatmaps coloured with
// the viridis colour map, matplotlib's _cm_listed.py sampled at 5 stops and linearly
// interpolated; histograms of background distributions with the observed value as a red line).
// Every string from the document is escaped; decimals that do not parse are shown as text and
// drawn as grey cells. Not here: computing anything.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "fingerprint/base/json.h"
#include "forensics/report.h"

namespace modelprint {
namespace {

// "comparison" is the whole comparison document: signed with the rest, rendered through the
// sections, heatmaps and distributions built from it (never as a JSON dump).
const char* const kKnown[] = {"verdict", "models", "heatmaps", "distributions", "sections",
                              "created_at", "generator", "comparison"};

bool is_known(const std::string& k) {
    for (const char* s : kKnown) {
        if (k == s) return true;
    }
    return false;
}

std::string text_of(const Json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "";
    return v.dump();
}

std::string field(const Json& o, const char* key) {
    if (!o.is_object()) return "";
    auto it = o.find(key);
    return it == o.end() ? "" : text_of(*it);
}

double decimal(const Json& v) {
    if (v.is_number()) return v.get<double>();
    if (!v.is_string()) return std::nan("");
    const std::string s = v.get<std::string>();
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    return (end != s.c_str() && *end == '\0') ? d : std::nan("");
}

std::string html_escape(std::string_view s) {
    std::string o;
    o.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            case '\'': o += "&#39;"; break;
            default: o += c;
        }
    }
    return o;
}

std::string md_escape(std::string_view s) {
    std::string o;
    for (char c : s) {
        if (c == '|' || c == '*' || c == '_' || c == '`' || c == '<' || c == '>') o += '\\';
        if (c == '\n') {
            o += ' ';
            continue;
        }
        o += c;
    }
    return o;
}

struct Doc {
    Json statement;
    Json predicate;
    std::string kind;  // "comparison" / "audit" / other
};

Result<Doc> load(std::string_view statement_json) {
    MP_ASSIGN_OR_RETURN(Json j, parse_json(statement_json, "report statement"));
    if (!j.is_object() || !j.contains("predicate") || !j["predicate"].is_object()) {
        return corrupt_data("report statement has no predicate object");
    }
    Doc d;
    d.statement = j;
    d.predicate = j["predicate"];
    const std::string pt = field(j, "predicateType");
    d.kind = pt == kAuditPredicateType ? "audit" : pt == kComparisonPredicateType ? "comparison"
                                                                                 : "attestation";
    return d;
}

// Viridis at t in [0,1].
std::string viridis(double t) {
    static const double kStops[5][3] = {
        {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    if (!std::isfinite(t)) return "#bbbbbb";
    t = std::clamp(t, 0.0, 1.0) * 4.0;
    const int i = std::min(3, static_cast<int>(t));
    const double f = t - i;
    int rgb[3];
    for (int c = 0; c < 3; ++c) {
        rgb[c] = static_cast<int>(std::lround(kStops[i][c] + f * (kStops[i + 1][c] - kStops[i][c])));
    }
    return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

std::string svg_heatmap(const Json& h) {
    const Json& values = h.contains("values") && h["values"].is_array() ? h["values"] : Json::array();
    const size_t rows = values.size();
    size_t cols = 0;
    for (const Json& r : values) cols = std::max(cols, r.is_array() ? r.size() : size_t{0});
    if (rows == 0 || cols == 0) return "<p><em>(empty heatmap)</em></p>";
    double lo = h.contains("min") ? decimal(h["min"]) : std::nan("");
    double hi = h.contains("max") ? decimal(h["max"]) : std::nan("");
    if (!std::isfinite(lo) || !std::isfinite(hi)) {
        double mn = INFINITY, mx = -INFINITY;
        for (const Json& r : values) {
            for (const Json& v : r) {
                const double x = decimal(v);
                if (std::isfinite(x)) {
                    mn = std::min(mn, x);
                    mx = std::max(mx, x);
                }
            }
        }
        if (!std::isfinite(lo)) lo = std::isfinite(mn) ? mn : 0.0;
        if (!std::isfinite(hi)) hi = std::isfinite(mx) ? mx : 1.0;
    }
    const double span = hi > lo ? hi - lo : 1.0;
    const int cell = static_cast<int>(std::clamp<size_t>(560 / cols, 6, 28));
    const int left = 90, top = 10, legend = 70;
    const int w = left + static_cast<int>(cols) * cell + legend;
    const int hgt = top + static_cast<int>(rows) * cell + 50;
    const Json xl = h.value("x_labels", Json::array());
    const Json yl = h.value("y_labels", Json::array());
    std::string s = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" "
        "font-family=\"sans-serif\" font-size=\"10\">",
        w, hgt);
    for (size_t r = 0; r < rows; ++r) {
        const Json& row = values[r];
        for (size_t c = 0; c < cols; ++c) {
            const Json v = row.is_array() && c < row.size() ? row[c] : Json();
            const double x = decimal(v);
            s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
                             "<title>{} / {}: {}</title></rect>",
                             left + static_cast<int>(c) * cell, top + static_cast<int>(r) * cell,
                             cell, cell, viridis((x - lo) / span),
                             html_escape(r < yl.size() ? text_of(yl[r]) : std::to_string(r)),
                             html_escape(c < xl.size() ? text_of(xl[c]) : std::to_string(c)),
                             html_escape(text_of(v)));
        }
    }
    const size_t ystep = std::max<size_t>(1, (rows * 12 + rows * cell - 1) / (rows * cell));
    for (size_t r = 0; r < rows; r += ystep) {
        s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", left - 4,
                         top + static_cast<int>(r) * cell + cell / 2 + 3,
                         html_escape(r < yl.size() ? text_of(yl[r]) : std::to_string(r)));
    }
    const size_t xstep = std::max<size_t>(1, (cols * 24 + cols * cell - 1) / (cols * cell));
    for (size_t c = 0; c < cols; c += xstep) {
        s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                         left + static_cast<int>(c) * cell + cell / 2,
                         top + static_cast<int>(rows) * cell + 12,
                         html_escape(c < xl.size() ? text_of(xl[c]) : std::to_string(c)));
    }
    const int gx = left + static_cast<int>(cols) * cell + 16, gh = static_cast<int>(rows) * cell;
    for (int i = 0; i < 20; ++i) {
        s += fmt::format("<rect x=\"{}\" y=\"{:.1f}\" width=\"12\" height=\"{:.1f}\" fill=\"{}\"/>",
                         gx, top + gh - (i + 1) * gh / 20.0, gh / 20.0 + 0.5, viridis(i / 19.0));
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\">{:.3g}</text>", gx + 15, top + 8, hi);
    s += fmt::format("<text x=\"{}\" y=\"{}\">{:.3g}</text>", gx + 15, top + gh, lo);
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                     left + static_cast<int>(cols) * cell / 2, hgt - 8,
                     html_escape(field(h, "x_label")));
    s += fmt::format("<text x=\"12\" y=\"{}\" transform=\"rotate(-90 12 {})\" "
                     "text-anchor=\"middle\">{}</text>",
                     top + gh / 2, top + gh / 2, html_escape(field(h, "y_label")));
    return s + "</svg>";
}

struct BackgroundStats {
    size_t n = 0;
    double mean = 0, sd = 0, lo = 0, hi = 0;
    double frac_ge = 0;  // fraction of background >= observed
};

BackgroundStats stats_of(const Json& bg, double observed) {
    BackgroundStats st;
    std::vector<double> xs;
    if (bg.is_array()) {
        for (const Json& v : bg) {
            const double x = decimal(v);
            if (std::isfinite(x)) xs.push_back(x);
        }
    }
    st.n = xs.size();
    if (xs.empty()) return st;
    double sum = 0;
    for (double x : xs) sum += x;
    st.mean = sum / xs.size();
    double ss = 0;
    size_t ge = 0;
    for (double x : xs) {
        ss += (x - st.mean) * (x - st.mean);
        ge += x >= observed ? 1 : 0;
    }
    st.sd = xs.size() > 1 ? std::sqrt(ss / (xs.size() - 1)) : 0.0;
    st.lo = *std::min_element(xs.begin(), xs.end());
    st.hi = *std::max_element(xs.begin(), xs.end());
    st.frac_ge = static_cast<double>(ge) / xs.size();
    return st;
}

std::string svg_histogram(const Json& d) {
    const double obs = d.contains("observed") ? decimal(d["observed"]) : std::nan("");
    std::vector<double> xs;
    if (d.contains("background") && d["background"].is_array()) {
        for (const Json& v : d["background"]) {
            const double x = decimal(v);
            if (std::isfinite(x)) xs.push_back(x);
        }
    }
    if (xs.empty() && !std::isfinite(obs)) return "<p><em>(no values)</em></p>";
    double lo = xs.empty() ? obs : *std::min_element(xs.begin(), xs.end());
    double hi = xs.empty() ? obs : *std::max_element(xs.begin(), xs.end());
    if (std::isfinite(obs)) {
        lo = std::min(lo, obs);
        hi = std::max(hi, obs);
    }
    if (hi <= lo) {
        lo -= 0.5;
        hi += 0.5;
    }
    const double pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    constexpr int kBins = 24, kW = 480, kH = 140, kLeft = 30, kTop = 16;
    std::vector<int> counts(kBins, 0);
    for (double x : xs) {
        const int b = std::clamp(static_cast<int>((x - lo) / (hi - lo) * kBins), 0, kBins - 1);
        ++counts[b];
    }
    const int cmax = std::max(1, *std::max_element(counts.begin(), counts.end()));
    std::string s = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" "
        "font-family=\"sans-serif\" font-size=\"10\">",
        kLeft + kW + 20, kTop + kH + 30);
    const double bw = static_cast<double>(kW) / kBins;
    for (int b = 0; b < kBins; ++b) {
        const double bh = static_cast<double>(counts[b]) / cmax * kH;
        s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                         "fill=\"#8da0cb\"><title>{} background values</title></rect>",
                         kLeft + b * bw, kTop + kH - bh, bw - 1, bh, counts[b]);
    }
    s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\"/>", kLeft,
                     kTop + kH, kLeft + kW, kTop + kH);
    s += fmt::format("<text x=\"{}\" y=\"{}\">{:.4g}</text>", kLeft, kTop + kH + 12, lo);
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.4g}</text>", kLeft + kW,
                     kTop + kH + 12, hi);
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{} (background n = {})</text>",
                     kLeft + kW / 2, kTop + kH + 26, html_escape(field(d, "statistic")), xs.size());
    if (std::isfinite(obs)) {
        const double x = kLeft + (obs - lo) / (hi - lo) * kW;
        s += fmt::format("<line x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#d62728\" "
                         "stroke-width=\"2\"/><text x=\"{:.1f}\" y=\"{}\" fill=\"#d62728\" "
                         "text-anchor=\"middle\">observed {}</text>",
                         x, kTop - 2, x, kTop + kH, x, kTop - 4, html_escape(field(d, "observed")));
    }
    return s + "</svg>";
}

// A text histogram of a distribution's background with the observed value's bin marked, for
// the Markdown rendering (a fenced block; Markdown has no inline graphics).
std::string text_histogram(const Json& d) {
    const double obs = d.contains("observed") ? decimal(d["observed"]) : std::nan("");
    std::vector<double> xs;
    if (d.contains("background") && d["background"].is_array()) {
        for (const Json& v : d["background"]) {
            const double x = decimal(v);
            if (std::isfinite(x)) xs.push_back(x);
        }
    }
    if (!std::isfinite(obs)) return "";
    double lo = obs, hi = obs;
    for (double x : xs) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
    }
    if (hi <= lo) {
        lo -= 0.5;
        hi += 0.5;
    }
    constexpr int kBins = 12, kWidth = 40;
    std::vector<int> counts(kBins, 0);
    auto bin = [&](double x) {
        return std::clamp(static_cast<int>((x - lo) / (hi - lo) * kBins), 0, kBins - 1);
    };
    for (double x : xs) ++counts[bin(x)];
    const int cmax = std::max(1, *std::max_element(counts.begin(), counts.end()));
    std::string s = "```\n";
    for (int b = 0; b < kBins; ++b) {
        const double from = lo + (hi - lo) * b / kBins;
        const int len = counts[b] * kWidth / cmax;
        s += fmt::format("{:>10.4g} | {:<{}} {}{}\n", from, std::string(len, '#'), kWidth,
                         counts[b], bin(obs) == b ? "  <- observed " + field(d, "observed") : "");
    }
    return s + fmt::format("(background n = {})\n```\n\n", xs.size());
}

// ---- shared tabular views

using Table = std::pair<std::vector<std::string>, std::vector<std::vector<std::string>>>;

Table subjects_table(const Doc& d) {
    Table t{{"name", "sha256"}, {}};
    for (const Json& s : d.statement.value("subject", Json::array())) {
        t.second.push_back({field(s, "name"), s.contains("digest") ? field(s["digest"], "sha256") : ""});
    }
    return t;
}

Table models_table(const Json& models) {
    Table t{{"role", "name", "architecture", "parameters", "root digest"}, {}};
    for (const Json& m : models) {
        t.second.push_back({field(m, "role"), field(m, "name"), field(m, "architecture"),
                            field(m, "parameters"), field(m, "root_digest")});
    }
    return t;
}

Table distributions_table(const Json& ds) {
    Table t{{"statistic", "observed", "background n", "background mean ± sd",
             "share of background ≥ observed", "p-value"}, {}};
    for (const Json& d : ds) {
        const double obs = d.contains("observed") ? decimal(d["observed"]) : std::nan("");
        const BackgroundStats st = stats_of(d.value("background", Json::array()), obs);
        t.second.push_back({field(d, "statistic").empty() ? field(d, "title") : field(d, "statistic"),
                            field(d, "observed"), std::to_string(st.n),
                            st.n ? fmt::format("{:.4g} ± {:.2g}", st.mean, st.sd) : "",
                            st.n ? fmt::format("{:.3f}", st.frac_ge) : "", field(d, "p_value")});
    }
    return t;
}

Table section_table(const Json& sec) {
    Table t;
    for (const Json& c : sec.value("columns", Json::array())) t.first.push_back(text_of(c));
    for (const Json& r : sec.value("rows", Json::array())) {
        std::vector<std::string> row;
        if (r.is_array()) {
            for (const Json& v : r) row.push_back(text_of(v));
        } else {
            row.push_back(text_of(r));
        }
        t.second.push_back(std::move(row));
    }
    return t;
}

Table other_table(const Json& pred) {
    Table t{{"field", "value"}, {}};
    for (auto it = pred.begin(); it != pred.end(); ++it) {
        if (is_known(it.key())) continue;
        t.second.push_back({it.key(), text_of(*it)});
    }
    return t;
}

std::string md_table(const Table& t) {
    if (t.first.empty() && t.second.empty()) return "";
    size_t ncol = t.first.size();
    for (const auto& r : t.second) ncol = std::max(ncol, r.size());
    std::string s = "|";
    for (size_t c = 0; c < ncol; ++c) s += " " + md_escape(c < t.first.size() ? t.first[c] : "") + " |";
    s += "\n|";
    for (size_t c = 0; c < ncol; ++c) s += " --- |";
    s += "\n";
    for (const auto& r : t.second) {
        s += "|";
        for (size_t c = 0; c < ncol; ++c) s += " " + md_escape(c < r.size() ? r[c] : "") + " |";
        s += "\n";
    }
    return s + "\n";
}

std::string html_table(const Table& t) {
    std::string s = "<table><thead><tr>";
    for (const auto& h : t.first) s += "<th>" + html_escape(h) + "</th>";
    s += "</tr></thead><tbody>";
    for (const auto& r : t.second) {
        s += "<tr>";
        for (const auto& v : r) s += "<td>" + html_escape(v) + "</td>";
        s += "</tr>";
    }
    return s + "</tbody></table>\n";
}

std::string title_of(const Doc& d) {
    return fmt::format("modelprint {} report", d.kind);
}

}  // namespace

Result<std::string> render_report_markdown(std::string_view statement_json) {
    MP_ASSIGN_OR_RETURN(Doc d, load(statement_json));
    const Json& p = d.predicate;
    std::string s = "# " + title_of(d) + "\n\n";
    s += fmt::format("- predicate type: `{}`\n- created: {}\n- generator: {}\n\n",
                     field(d.statement, "predicateType"), md_escape(field(p, "created_at")),
                     md_escape(field(p, "generator")));
    if (p.contains("verdict") && p["verdict"].is_object()) {
        const Json& v = p["verdict"];
        s += "## Verdict\n\n";
        s += fmt::format("**{}**", md_escape(field(v, "label")));
        if (!field(v, "subtype").empty()) s += fmt::format(" ({})", md_escape(field(v, "subtype")));
        if (!field(v, "confidence").empty()) {
            s += fmt::format(", confidence {}", md_escape(field(v, "confidence")));
        }
        s += "\n\n";
        if (!field(v, "basis").empty()) s += fmt::format("Basis: {}\n\n", md_escape(field(v, "basis")));
        if (!field(v, "decided_by").empty()) {
            s += fmt::format("Decided by: {}\n\n", md_escape(field(v, "decided_by")));
        }
        if (!field(v, "summary").empty()) s += md_escape(field(v, "summary")) + "\n\n";
    }
    s += "## Subjects\n\n" + md_table(subjects_table(d));
    if (p.contains("models") && p["models"].is_array()) {
        s += "## Models\n\n" + md_table(models_table(p["models"]));
    }
    if (p.contains("heatmaps") && p["heatmaps"].is_array()) {
        for (const Json& h : p["heatmaps"]) {
            s += "## " + md_escape(field(h, "title").empty() ? "Heatmap" : field(h, "title")) + "\n\n";
            Table t;
            t.first.push_back(field(h, "y_label") + " \\ " + field(h, "x_label"));
            for (const Json& x : h.value("x_labels", Json::array())) t.first.push_back(text_of(x));
            const Json yl = h.value("y_labels", Json::array());
            const Json vals = h.value("values", Json::array());
            for (size_t r = 0; r < vals.size(); ++r) {
                std::vector<std::string> row{r < yl.size() ? text_of(yl[r]) : std::to_string(r)};
                if (vals[r].is_array()) {
                    for (const Json& v : vals[r]) row.push_back(text_of(v));
                }
                t.second.push_back(std::move(row));
            }
            s += md_table(t);
        }
    }
    if (p.contains("distributions") && p["distributions"].is_array()) {
        s += "## Decisive statistics against their null distributions\n\n" +
             md_table(distributions_table(p["distributions"]));
        for (const Json& dd : p["distributions"]) {
            s += "### " + md_escape(field(dd, "title").empty() ? field(dd, "statistic")
                                                              : field(dd, "title")) + "\n\n";
            if (!field(dd, "note").empty()) s += md_escape(field(dd, "note")) + "\n\n";
            s += text_histogram(dd);
        }
    }
    if (p.contains("sections") && p["sections"].is_array()) {
        for (const Json& sec : p["sections"]) {
            s += "## " + md_escape(field(sec, "title")) + "\n\n";
            if (!field(sec, "text").empty()) s += md_escape(field(sec, "text")) + "\n\n";
            s += md_table(section_table(sec));
        }
    }
    const Table other = other_table(p);
    if (!other.second.empty()) s += "## Other fields\n\n" + md_table(other);
    return s;
}

Result<std::string> render_report_html(std::string_view statement_json) {
    MP_ASSIGN_OR_RETURN(Doc d, load(statement_json));
    const Json& p = d.predicate;
    std::string s =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>" + html_escape(title_of(d)) + "</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;"
        "color:#222}h1{font-size:1.6em}h2{font-size:1.2em;border-bottom:1px solid #ddd;"
        "padding-bottom:.2em;margin-top:1.6em}table{border-collapse:collapse;margin:.5em 0;"
        "font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;"
        "vertical-align:top}th{background:#f3f3f3}td{font-family:ui-monospace,monospace;"
        "word-break:break-all}.verdict{font-size:1.3em;padding:.6em 1em;border-radius:6px;"
        "background:#eef3ff;display:inline-block}.meta{color:#666;font-size:.9em}"
        ".label-identical,.label-derived,.label-distilled{background:#ffecec}"
        ".label-independent{background:#ecffef}figure{margin:1em 0}"
        "figcaption{font-size:.9em;color:#444}</style></head><body>\n";
    s += "<h1>" + html_escape(title_of(d)) + "</h1>\n";
    s += fmt::format("<p class=\"meta\">predicate type <code>{}</code> · created {} · {}</p>\n",
                     html_escape(field(d.statement, "predicateType")),
                     html_escape(field(p, "created_at")), html_escape(field(p, "generator")));
    if (p.contains("verdict") && p["verdict"].is_object()) {
        const Json& v = p["verdict"];
        s += "<h2>Verdict</h2>\n";
        s += fmt::format("<div class=\"verdict label-{}\"><strong>{}</strong>",
                         html_escape(field(v, "label")), html_escape(field(v, "label")));
        if (!field(v, "subtype").empty()) s += " (" + html_escape(field(v, "subtype")) + ")";
        if (!field(v, "confidence").empty()) {
            s += ", confidence " + html_escape(field(v, "confidence"));
        }
        s += "</div>\n";
        if (!field(v, "basis").empty()) s += "<p>Basis: " + html_escape(field(v, "basis")) + "</p>\n";
        if (!field(v, "decided_by").empty()) {
            s += "<p>Decided by: " + html_escape(field(v, "decided_by")) + "</p>\n";
        }
        if (!field(v, "summary").empty()) s += "<p>" + html_escape(field(v, "summary")) + "</p>\n";
    }
    s += "<h2>Subjects</h2>\n" + html_table(subjects_table(d));
    if (p.contains("models") && p["models"].is_array()) {
        s += "<h2>Models</h2>\n" + html_table(models_table(p["models"]));
    }
    if (p.contains("heatmaps") && p["heatmaps"].is_array()) {
        for (const Json& h : p["heatmaps"]) {
            const std::string t = field(h, "title").empty() ? "Heatmap" : field(h, "title");
            s += "<h2>" + html_escape(t) + "</h2>\n<figure>" + svg_heatmap(h) +
                 "<figcaption>" + html_escape(t) + "</figcaption></figure>\n";
        }
    }
    if (p.contains("distributions") && p["distributions"].is_array()) {
        s += "<h2>Decisive statistics against their null distributions</h2>\n" +
             html_table(distributions_table(p["distributions"]));
        for (const Json& dd : p["distributions"]) {
            s += "<figure>" + svg_histogram(dd) + "<figcaption>" +
                 html_escape(field(dd, "title").empty() ? field(dd, "statistic") : field(dd, "title"));
            if (!field(dd, "note").empty()) s += " — " + html_escape(field(dd, "note"));
            s += "</figcaption></figure>\n";
        }
    }
    if (p.contains("sections") && p["sections"].is_array()) {
        for (const Json& sec : p["sections"]) {
            s += "<h2>" + html_escape(field(sec, "title")) + "</h2>\n";
            if (!field(sec, "text").empty()) s += "<p>" + html_escape(field(sec, "text")) + "</p>\n";
            s += html_table(section_table(sec));
        }
    }
    const Table other = other_table(p);
    if (!other.second.empty()) s += "<h2>Other fields</h2>\n" + html_table(other);
    s += "</body></html>\n";
    return s;
}

}  // namespace modelprint
