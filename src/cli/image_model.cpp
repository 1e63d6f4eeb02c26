#include "cli/image_model.hpp"

#include <algorithm>
#include <cstdio>

#include "util/strings.hpp"

namespace twinbox::cli {

using json = nlohmann::json;

std::string image_import_target(const std::string& repo) {
  std::string t = "/twinbox/v1/images/import";
  if (!repo.empty()) t += "?name=" + url_encode(repo);
  return t;
}

std::string image_export_target(const std::vector<std::string>& references) {
  std::string t = "/twinbox/v1/images/export";
  char sep = '?';
  for (const auto& r : references) {
    t += sep;
    t += "reference=" + url_encode(r);
    sep = '&';
  }
  return t;
}

std::string short_digest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (!starts_with(digest, kPrefix) || digest.size() < kPrefix.size() + 12)
    return std::string(digest);
  return std::string(digest.substr(0, kPrefix.size() + 12));
}

std::string human_size(uint64_t bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double size = static_cast<double>(bytes);
  size_t u = 0;
  while (size >= 1000.0 && u + 1 < std::size(units)) {
    size /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%s", size, units[u]);
  return buf;
}

std::string format_image_table(const json& images) {
  struct Row {
    std::string ref, platforms, digest, size;
  };
  std::vector<Row> rows;
  rows.push_back({"REFERENCE", "PLATFORMS", "DIGEST", "SIZE"});
  if (images.is_array()) {
    for (const auto& img : images) {
      if (!img.is_object()) continue;
      Row r;
      r.ref = img.value("reference", std::string("<none>"));
      std::vector<std::string> plats;
      for (const auto& p : img.value("platforms", json::array())) {
        if (!p.is_object()) continue;
        std::string s = p.value("platform", std::string("?"));
        if (!p.value("complete", true)) s += "(partial)";
        plats.push_back(std::move(s));
      }
      r.platforms = plats.empty() ? "-" : join(plats, ",");
      r.digest = short_digest(img.value("digest", std::string()));
      auto sz = img.find("size");
      r.size = sz != img.end() && sz->is_number_unsigned() ? human_size(sz->get<uint64_t>())
                                                           : std::string("-");
      rows.push_back(std::move(r));
    }
  }
  size_t w_ref = 0, w_plat = 0, w_dig = 0;
  for (const auto& r : rows) {
    w_ref = std::max(w_ref, r.ref.size());
    w_plat = std::max(w_plat, r.platforms.size());
    w_dig = std::max(w_dig, r.digest.size());
  }
  auto pad = [](std::string s, size_t w) {
    s.resize(std::max(s.size(), w), ' ');
    return s;
  };
  std::string out;
  for (const auto& r : rows)
    out += pad(r.ref, w_ref) + "   " + pad(r.platforms, w_plat) + "   " + pad(r.digest, w_dig) +
           "   " + r.size + "\n";
  return out;
}

std::string format_prewarm_result(const json& line, bool* failed) {
  std::string ref = line.is_object() ? line.value("reference", std::string("?")) : "?";
  std::string status = line.is_object() ? line.value("status", std::string()) : "";
  *failed = status != "pulled";
  if (!*failed) return "pulled " + ref;
  std::string msg = line.is_object() ? line.value("message", std::string()) : line.dump();
  if (msg.empty()) msg = status.empty() ? "no status in the answer" : status;
  return "error  " + ref + ": " + msg;
}

}  // namespace twinbox::cli
