#include "api/event_merge.hpp"

#include <algorithm>

#include "api/docker_json.hpp"
#include "util/json.hpp"

namespace twinbox::api {

namespace {

int64_t time_of(std::string_view line) {
  auto j = parse_json<Json>(line);
  if (auto ns = json_int(j, "timeNano")) return *ns;
  if (auto s = json_int(j, "time")) return *s * 1000000000;
  return 0;
}

}  // namespace

EventMerger::EventMerger(const std::vector<std::string>& sources) {
  for (const auto& s : sources) sources_[s];
}

void EventMerger::feed(const std::string& source, std::string_view bytes, int64_t now_ns) {
  auto it = sources_.find(source);
  if (it == sources_.end()) return;
  Source& src = it->second;
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view piece = bytes.substr(0, nl);
    if (src.partial.size() + piece.size() > kMaxLine) {
      // Too long to be an event: skip it up to its newline.
      if (!src.partial.empty() || !piece.empty()) ++dropped_;
      src.partial.clear();
      src.partial.shrink_to_fit();
      if (nl == std::string_view::npos) {
        src.partial = std::string(1, '\0');  // marks "inside a dropped line"
        return;
      }
      bytes.remove_prefix(nl + 1);
      continue;
    }
    if (nl == std::string_view::npos) {
      src.partial.append(piece);
      return;
    }
    std::string line = std::move(src.partial);
    src.partial.clear();
    line.append(piece);
    bytes.remove_prefix(nl + 1);
    if (!line.empty() && line[0] == '\0') continue;  // the end of a dropped line
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    int64_t t = time_of(line);
    src.latest = std::max(src.latest, t);
    line.push_back('\n');
    pending_.emplace(t, Pending{t, now_ns, std::move(line)});
  }
}

void EventMerger::close(const std::string& source) {
  auto it = sources_.find(source);
  if (it == sources_.end()) return;
  it->second.open = false;
  it->second.partial.clear();
}

std::vector<std::string> EventMerger::ready(int64_t now_ns, int64_t hold_ns) {
  // Nothing older than the least recent open source's newest event can still come.
  int64_t safe = INT64_MAX;
  for (const auto& [name, s] : sources_)
    if (s.open) safe = std::min(safe, s.latest);
  std::vector<std::string> out;
  // The oldest first; an event held longer than `hold` goes, and so does everything older.
  int64_t cut = safe;
  for (const auto& [t, p] : pending_)
    if (now_ns - p.arrived_ns >= hold_ns) cut = std::max(cut, t);
  while (!pending_.empty() && pending_.begin()->first <= cut) {
    out.push_back(std::move(pending_.begin()->second.line));
    pending_.erase(pending_.begin());
  }
  return out;
}

bool EventMerger::finished() const {
  if (!pending_.empty()) return false;
  return std::none_of(sources_.begin(), sources_.end(),
                      [](const auto& kv) { return kv.second.open; });
}

}  // namespace twinbox::api
