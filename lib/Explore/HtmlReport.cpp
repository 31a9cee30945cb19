//===- HtmlReport.cpp - the explorer's self-contained HTML page -----------===//
//
// One card per candidate, side by side: the predicted step time split into
// compute and each collective kind, the memory per device against the
// device's capacity, and the mesh drawn as a grid of devices with the
// tensor dimensions each axis splits. Inline CSS and SVG only.
//
//===----------------------------------------------------------------------===//

#include "switchyard/Compiler/Explore.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace switchyard;

namespace {

std::string escape(llvm::StringRef text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string seconds(double s) {
  if (s < 1e-3)
    return llvm::formatv("{0:F1} µs", s * 1e6);
  if (s < 1)
    return llvm::formatv("{0:F2} ms", s * 1e3);
  return llvm::formatv("{0:F2} s", s);
}

std::string bytes(double b) {
  if (b < 1024 * 1024)
    return llvm::formatv("{0:F1} KiB", b / 1024);
  if (b < 1024.0 * 1024 * 1024)
    return llvm::formatv("{0:F1} MiB", b / (1024.0 * 1024));
  return llvm::formatv("{0:F2} GiB", b / (1024.0 * 1024 * 1024));
}

/// The colours of the time segments.
const char *colourOf(llvm::StringRef part) {
  return llvm::StringSwitch<const char *>(part)
      .Case("compute", "#4c78a8")
      .Case("all_reduce", "#f58518")
      .Case("all_gather", "#54a24b")
      .Case("reduce_scatter", "#b279a2")
      .Case("all_to_all", "#e45756")
      .Default("#9d755d");
}

/// (axis name, size) of a Mesh TF mesh string.
llvm::SmallVector<std::pair<std::string, int64_t>>
parseMesh(llvm::StringRef mesh) {
  llvm::SmallVector<std::pair<std::string, int64_t>> axes;
  llvm::SmallVector<llvm::StringRef> parts;
  mesh.split(parts, ',', -1, false);
  for (llvm::StringRef part : parts) {
    auto [name, size] = part.split(':');
    int64_t value = 1;
    size.getAsInteger(10, value);
    axes.push_back({name.str(), value});
  }
  return axes;
}

/// The devices as a grid: the last axis across, the one before it down, and
/// so on alternating, coloured by the first axis.
void renderMesh(llvm::raw_ostream &os, const Candidate &candidate,
                const HardwareProfile &hardware) {
  auto axes = parseMesh(candidate.mesh);
  int64_t rows = 1, cols = 1;
  auto across = [&](size_t i) { return (axes.size() - 1 - i) % 2 == 0; };
  for (size_t i = 0; i < axes.size(); ++i)
    (across(i) ? cols : rows) *= axes[i].second;
  int64_t devices = rows * cols;
  int cell = devices <= 16 ? 28 : devices <= 64 ? 16 : 8;
  int width = cols * cell + 2, height = rows * cell + 2;
  // Colour by the coordinate on the first axis, so its groups stand out.
  int64_t stride0 = devices / (axes.empty() ? 1 : axes[0].second);
  os << llvm::formatv("<svg class=\"mesh\" width=\"{0}\" height=\"{1}\" "
                      "viewBox=\"0 0 {0} {1}\" role=\"img\" aria-label=\"mesh "
                      "{2}\">",
                      width, height, escape(candidate.mesh));
  for (int64_t device = 0; device < devices; ++device) {
    // Coordinates of `device`, row-major over the axes.
    llvm::SmallVector<int64_t> coord(axes.size());
    int64_t rest = device;
    for (int i = static_cast<int>(axes.size()) - 1; i >= 0; --i) {
      coord[i] = rest % axes[i].second;
      rest /= axes[i].second;
    }
    int64_t row = 0, col = 0;
    for (size_t i = 0; i < axes.size(); ++i) {
      int64_t &target = across(i) ? col : row;
      target = target * axes[i].second + coord[i];
    }
    int hue = axes.empty() ? 210 : static_cast<int>(device / stride0 * 300 /
                                                      std::max<int64_t>(
                                                          1, axes[0].second));
    os << llvm::formatv("<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" "
                        "height=\"{2}\" fill=\"hsl({3},55%,78%)\" "
                        "stroke=\"#fff\"><title>device {4}</title></rect>",
                        1 + col * cell, 1 + row * cell, cell, hue, device);
    if (cell >= 16)
      os << llvm::formatv("<text x=\"{0}\" y=\"{1}\" font-size=\"{2}\" "
                          "text-anchor=\"middle\">{3}</text>",
                          1 + col * cell + cell / 2,
                          1 + row * cell + cell * 2 / 3, cell / 2 - 1, device);
  }
  os << "</svg>\n<table class=\"axes\"><tr><th>axis</th><th>size</th>"
        "<th>link</th><th>splits</th></tr>\n";
  int64_t stride = devices;
  for (const auto &[name, size] : axes) {
    stride /= size;
    std::string dims;
    for (const auto &[dim, axis] : candidate.rules)
      if (axis == name)
        dims += (dims.empty() ? "" : ", ") + dim;
    os << "<tr><td>" << escape(name) << "</td><td>" << size << "</td><td>"
       << escape(hardware.linkFor(stride, size).name) << "</td><td>"
       << (dims.empty() ? "<i>nothing</i>" : escape(dims)) << "</td></tr>\n";
  }
  os << "</table>\n";
}

} // namespace

std::string switchyard::renderHtmlReport(llvm::ArrayRef<Candidate> candidates,
                                         const HardwareProfile &hardware,
                                         llvm::StringRef model,
                                         int64_t devices) {
  std::string text;
  llvm::raw_string_ostream os(text);
  double maxSeconds = 0, maxBytes = 0;
  int64_t memory = hardware.memoryPerDevice(devices);
  for (const Candidate &c : candidates) {
    maxSeconds = std::max(maxSeconds, c.totalSeconds);
    maxBytes = std::max<double>(maxBytes, c.peakBytes);
  }
  // The capacity joins the scale only when it is near the peaks; far above
  // them it would shrink every bar to nothing.
  bool capacityOnScale = memory <= 4 * maxBytes;
  if (capacityOnScale)
    maxBytes = std::max<double>(maxBytes, memory);
  os << R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>switchyard explore: )"
     << escape(model) << R"(</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 4px} .sub{color:#555;margin-bottom:16px}
.cards{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.card{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px 14px;width:330px}
.card h2{font-size:15px;margin:0 0 2px} .rank{color:#888;font-weight:normal}
code{font-size:12px;background:#f0f0f0;padding:1px 4px;border-radius:3px;word-break:break-all}
.total{font-size:22px;font-weight:600;margin:6px 0}
.bar{display:flex;height:18px;background:#eee;border-radius:3px;overflow:hidden;margin:4px 0}
.bar div{height:100%} .legend span{display:inline-block;margin-right:10px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
.mem{position:relative;height:18px;background:#eee;border-radius:3px;margin:4px 0}
.mem div{position:absolute;top:0;height:100%}
.cap{position:absolute;top:-3px;bottom:-3px;width:2px;background:#222}
.nofit{color:#fff;background:#c0392b;border-radius:3px;padding:1px 6px;font-size:12px}
.fit{color:#fff;background:#2e8b57;border-radius:3px;padding:1px 6px;font-size:12px}
h3{font-size:13px;margin:12px 0 2px;color:#444}
table.axes{border-collapse:collapse;font-size:12px;margin-top:6px}
table.axes td,table.axes th{border-bottom:1px solid #eee;padding:2px 8px 2px 0;text-align:left}
svg.mesh{display:block;margin-top:4px}
</style></head><body>
)";
  os << "<h1>Layouts for <code>" << escape(model) << "</code> on " << devices
     << " device" << (devices == 1 ? "" : "s") << "</h1>\n<div class=\"sub\">"
     << "Hardware profile <b>" << escape(hardware.name) << "</b>: "
     << escape(hardware.description)
     << ". Times are predicted per step and per device.</div>\n"
     << "<div class=\"cards\">\n";
  for (auto [index, c] : llvm::enumerate(candidates)) {
    os << "<div class=\"card\"><h2><span class=\"rank\">#" << index + 1
       << "</span> mesh <code>" << escape(c.mesh) << "</code></h2>"
       << "<div>rules <code>"
       << escape(c.layout.empty() ? "(all replicated)" : c.layout)
       << "</code></div>\n<div class=\"total\">" << seconds(c.totalSeconds)
       << " <span class=\"" << (c.fits ? "fit\">fits" : "nofit\">does not fit")
       << "</span></div>\n<h3>time</h3><div class=\"bar\">";
    llvm::SmallVector<std::pair<std::string, double>> parts = {
        {"compute", c.computeSeconds}};
    llvm::SmallVector<std::string> kinds;
    for (const auto &entry : c.collectives)
      kinds.push_back(entry.getKey().str());
    llvm::sort(kinds);
    for (const std::string &kind : kinds)
      if (c.collectives.lookup(kind).seconds > 0)
        parts.push_back({kind, c.collectives.lookup(kind).seconds});
    for (const auto &[part, s] : parts)
      os << llvm::formatv("<div style=\"width:{0:F2}%;background:{1}\" "
                          "title=\"{2}: {3}\"></div>",
                          100 * s / maxSeconds, colourOf(part), part,
                          seconds(s));
    os << "</div><div class=\"legend\">";
    for (const auto &[part, s] : parts)
      os << "<span><i style=\"background:" << colourOf(part) << "\"></i>"
         << part << " " << seconds(s) << "</span>";
    os << "</div>\n<h3>memory per device: " << bytes(c.peakBytes) << " of "
       << bytes(memory) << "</h3><div class=\"mem\">"
       << llvm::formatv("<div style=\"left:0;width:{0:F2}%;background:#72b7b2\" "
                        "title=\"weights and inputs {1}\"></div>",
                        100 * c.residentBytes / maxBytes,
                        bytes(c.residentBytes))
       << llvm::formatv("<div style=\"left:{0:F2}%;width:{1:F2}%;background:"
                        "#eeca3b\" title=\"activations {2}\"></div>",
                        100 * c.residentBytes / maxBytes,
                        100 * (c.peakBytes - c.residentBytes) / maxBytes,
                        bytes(c.peakBytes - c.residentBytes))
       << (capacityOnScale
               ? llvm::formatv("<div class=\"cap\" style=\"left:{0:F2}%\" "
                               "title=\"device memory {1}\"></div>",
                               std::min(99.5, 100 * memory / maxBytes),
                               bytes(memory))
                     .str()
               : std::string())
       << "</div><div class=\"legend\"><span><i style=\"background:#72b7b2\">"
          "</i>weights and inputs "
       << bytes(c.residentBytes)
       << "</span><span><i style=\"background:#eeca3b\"></i>activations "
       << bytes(c.peakBytes - c.residentBytes)
       << (capacityOnScale
               ? "</span><span><i style=\"background:#222\"></i>capacity"
               : "</span><span>capacity off the scale")
       << "</span>"
       << "</div>\n<h3>" << llvm::formatv("{0:F3}", c.flops / 1e9)
       << " GFLOP per device</h3>\n<h3>mesh</h3>";
    renderMesh(os, c, hardware);
    os << "</div>\n";
  }
  os << "</div></body></html>\n";
  return text;
}
