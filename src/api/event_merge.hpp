#pragma once
// GET /events from both engines as one stream in time order, pure: each engine's bytes go in,
// whole events come out sorted by timeNano. An event leaves once every engine still streaming
// has sent one at least as recent (nothing older can come), or once it has waited `hold` (a
// quiet engine must not stall the other's live events).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace twinbox::api {

class EventMerger {
 public:
  // A line longer than this is dropped (and counted): no engine event comes close.
  static constexpr size_t kMaxLine = 1u << 20;

  explicit EventMerger(const std::vector<std::string>& sources);
  // Bytes of `source`'s body; every complete line is an event (its JSON timeNano, else time).
  void feed(const std::string& source, std::string_view bytes, int64_t now_ns);
  // `source` ended (its stream closed or failed): it holds nothing back any more.
  void close(const std::string& source);
  // The events that may go now, oldest first, each a line with its newline.
  std::vector<std::string> ready(int64_t now_ns, int64_t hold_ns);
  bool finished() const;  // every source closed and nothing left
  size_t dropped() const { return dropped_; }

 private:
  struct Source {
    std::string partial;
    int64_t latest = INT64_MIN;  // the newest timeNano it sent
    bool open = true;
  };
  struct Pending {
    int64_t time_nano;
    int64_t arrived_ns;
    std::string line;
  };
  std::map<std::string, Source> sources_;
  std::multimap<int64_t, Pending> pending_;  // by timeNano
  size_t dropped_ = 0;
};

}  // namespace twinbox::api
