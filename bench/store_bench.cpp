// store_bench (issue 24), in the same run:
//  - what storing a pulled layer costs in the content store (write, SHA-256 while it streams,
//    fsync, rename) against the disk alone (the same bytes written in the same chunks, fsync,
//    rename, no hash): pulls at the speed of the disk;
//  - a create in the workload registry (RegistryStore::update appending to its journal) with
//    10, 1 000 and 10 000 workloads, against the same at 10; and what the snapshot rewritten
//    whole on every create (the registry before its journal) costs at each size.
//   build/bench/store_bench [MIB] [RUNS] [DIR]   (default 256 MiB, 5 runs, a temp dir in /var/tmp)
// Prints one tab-separated row per figure: metric, twinbox, floor, ratio, goal (bench/store.sh
// turns them into table rows). Not run by ctest.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "image/digest.hpp"
#include "router/registry_store.hpp"
#include "store/content_store.hpp"
#include "util/fs.hpp"

using namespace twinbox;
using Clock = std::chrono::steady_clock;

namespace {

// libcurl hands a body over in chunks of at most CURL_MAX_WRITE_SIZE (16 KiB).
constexpr size_t kChunk = 16 * 1024;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void die(const std::string& what) {
  std::fprintf(stderr, "store_bench: %s\n", what.c_str());
  std::exit(1);
}

// The disk alone: what any store of these bytes must pay. With `writeback`, writeback is started
// every 8 MiB as the store does (sync_file_range); the floor is the faster of the two.
double write_plain(const std::string& dir, const std::string& data, bool writeback) {
  std::string tmp = dir + "/plain.tmp";
  std::string dst = dir + "/plain";
  auto t0 = Clock::now();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + tmp);
  for (size_t off = 0; off < data.size(); off += kChunk) {
    size_t n = std::min(kChunk, data.size() - off);
    if (::write(fd, data.data() + off, n) != static_cast<ssize_t>(n)) die("write " + tmp);
    size_t end = off + n;
    if (writeback && end % (8 << 20) == 0) {
      ::sync_file_range(fd, static_cast<off_t>(end - (8 << 20)), 8 << 20, SYNC_FILE_RANGE_WRITE);
    }
  }
  if (::fsync(fd) != 0) die("fsync " + tmp);
  ::close(fd);
  if (::rename(tmp.c_str(), dst.c_str()) != 0) die("rename " + tmp);
  double s = seconds_since(t0);
  ::unlink(dst.c_str());
  return s;
}

double ingest(store::ContentStore& cs, const image::Digest& d, const std::string& data) {
  auto t0 = Clock::now();
  auto w = cs.ingest(d, static_cast<int64_t>(data.size()));
  if (!w) die("ingest: " + w.error().message);
  for (size_t off = 0; off < data.size(); off += kChunk) {
    size_t n = std::min(kChunk, data.size() - off);
    if (auto s = (*w)->write(std::string_view(data.data() + off, n)); !s) {
      die("write: " + s.error().message);
    }
  }
  if (auto s = (*w)->commit(); !s) die("commit: " + s.error().message);
  double s = seconds_since(t0);
  ::unlink(cs.blob_path(d).c_str());
  return s;
}

double hash_only(const std::string& data) {
  auto t0 = Clock::now();
  image::Sha256 h;
  for (size_t off = 0; off < data.size(); off += kChunk) {
    h.update(data.data() + off, std::min(kChunk, data.size() - off));
  }
  static volatile uint8_t sink;  // keeps the work
  sink = h.final()[0];
  (void)sink;
  return seconds_since(t0);
}

// Mean ms of one container create in a persisted registry of `n` workloads: `creates` updates
// each recording a new container (each followed, untimed, by one forgetting it, so the registry
// stays at n), over enough of them to include the journal's compactions. With `whole`, the
// snapshot is written whole on each create instead (the registry before its journal).
double registry_create_ms(const std::string& dir, int n, int creates, bool whole) {
  std::string path = dir + "/reg-" + std::to_string(n) + (whole ? "-whole" : "") + ".json";
  router::RegistryStore store(path);
  if (auto s = store.load(); !s) die("registry load: " + s.error().message);
  auto id = [](int k) {
    std::string s = std::to_string(k);
    return std::string(64 - s.size(), 'c') + s;
  };
  if (auto s = store.update([&](router::WorkloadRegistry& r) {
        for (int k = 0; k < n; k++)
          r.record_container({id(k), k % 2 ? "hv" : "rosetta", "w" + std::to_string(k), "p"});
        return true;
      });
      !s) {
    die("registry fill: " + s.error().message);
  }
  double total = 0;
  for (int i = 0; i < creates; i++) {
    router::ContainerRecord c{id(n + 1 + i), "hv", "new" + std::to_string(i), ""};
    auto t0 = Clock::now();
    if (whole) {
      std::string text;
      store.read([&](const router::WorkloadRegistry& r) {
        router::WorkloadRegistry copy = r;
        copy.record_container(c);
        text = copy.to_json();
        return 0;
      });
      if (auto s = fs::write_file_atomic(path + ".whole", text, 0600); !s) die(s.error().message);
    } else if (auto s = store.update([&](router::WorkloadRegistry& r) {
                 r.record_container(c);
                 return true;
               });
               !s) {
      die("registry create: " + s.error().message);
    }
    total += seconds_since(t0);
    if (!whole) {
      (void)store.update([&](router::WorkloadRegistry& r) { return r.forget_container(c.id); });
    }
  }
  return total * 1000 / creates;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 256;
  int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  std::string dir;
  bool own_dir = argc <= 3;
  if (own_dir) {
    char tmpl[] = "/var/tmp/tbstore.XXXXXX";
    if (!::mkdtemp(tmpl)) die("mkdtemp");
    dir = tmpl;
  } else {
    dir = argv[3];
  }
  if (mib == 0 || runs <= 0) die("usage: store_bench [MIB] [RUNS] [DIR]");

  // Incompressible bytes (xorshift), like a compressed layer.
  std::string data(mib << 20, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i + 8 <= data.size(); i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(data.data() + i, &x, 8);
  }
  image::Digest d = image::sha256_digest(data);
  auto cs = store::ContentStore::open(dir + "/content");
  if (!cs) die("open store: " + cs.error().message);

  std::vector<double> plain, plain_wb, stored, hashed;
  for (int i = 0; i < runs; ++i) {  // interleaved, so drift hits both sides
    plain.push_back(write_plain(dir, data, false));
    plain_wb.push_back(write_plain(dir, data, true));
    stored.push_back(ingest(**cs, d, data));
    hashed.push_back(hash_only(data));
  }
  double s = median(stored), h = median(hashed);
  double p = std::min(median(plain), median(plain_wb));
  std::fprintf(stderr, "store_bench: disk alone %.3f s, with writeback every 8 MiB %.3f s\n",
               median(plain), median(plain_wb));
  double mb = static_cast<double>(data.size()) / 1e6;
  // No goal: the hash runs on the writing thread, so this is the disk plus one SHA-256 pass at
  // best; the goals are pull.sh's (against skopeo, which pays the same hash).
  std::printf(
      "store a %zu MiB layer (write, SHA-256, fsync, rename) vs the disk alone "
      "(s)\t%.3f\t%.3f\t%.2f\t-\n",
      mib, s, p, s / p);
  std::printf("SHA-256 alone, 16 KiB updates (MB/s)\t%.0f\t-\t-\t-\n", mb / h);

  // The workload registry. Creates at each size: enough that the journal is compacted at
  // least once at every size (it folds after max(1024, records) lines; a create and its
  // forget are two).
  const int sizes[] = {10, 1000, 10000};
  double journal_ms[3], whole_ms[3];
  for (int k = 0; k < 3; k++) {
    int creates = std::max(600, sizes[k] / 2 + 100);
    journal_ms[k] = registry_create_ms(dir, sizes[k], creates, false);
    whole_ms[k] = registry_create_ms(dir, sizes[k], 100, true);
    std::fprintf(stderr,
                 "store_bench: registry of %d: create %.3f ms (journal, %d creates), %.3f ms "
                 "(snapshot rewritten whole)\n",
                 sizes[k], journal_ms[k], creates, whole_ms[k]);
  }
  for (int k = 1; k < 3; k++) {
    std::printf("registry create at %d workloads vs at 10 (ms)\t%.3f\t%.3f\t%.2f\t<= 1.1\n",
                sizes[k], journal_ms[k], journal_ms[0], journal_ms[k] / journal_ms[0]);
  }
  std::printf(
      "registry create at 10 000, the snapshot rewritten whole (before) vs at 10 (ms)"
      "\t%.3f\t%.3f\t%.2f\t-\n",
      whole_ms[2], whole_ms[0], whole_ms[2] / whole_ms[0]);
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
