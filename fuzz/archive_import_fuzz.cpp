// An uploaded image archive (docker load, twinbox image import): OCI or docker-archive, plain or
// compressed, imported into a content store under small limits. Whatever the outcome, a failed
// import leaves no blob and no reference behind.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_input.hpp"
#include "store/archive_io.hpp"
#include "store/content_store.hpp"

using namespace twinbox;

namespace {

std::string scratch_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp ? tmp : "/tmp") + "/twinbox-fuzz-import." + std::to_string(::getpid());
}

size_t blob_count(const std::string& root) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(root + "/blobs/sha256", ec);
       !ec && it != std::filesystem::directory_iterator(); ++it)
    ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = scratch_dir();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  std::string archive = dir + "/in.tar";
  {
    std::ofstream out(archive, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto store = store::ContentStore::open(dir + "/store");
  if (!store) std::abort();
  store::ImportOptions opts;
  opts.name = "fuzz/image:latest";
  opts.limits.max_entry_bytes = 8 << 20;
  opts.limits.max_total_bytes = 32 << 20;
  opts.limits.max_entries = 256;
  opts.limits.max_metadata_bytes = 1 << 20;
  opts.limits.keep_free_bytes = 0;
  auto r = store::import_archive(**store, archive, opts);
  if (!r) {
    auto l = (*store)->list();
    if (!l || !l->empty()) std::abort();           // a failed import added a reference
    if (blob_count(dir + "/store")) std::abort();  // or left a blob
  }
  std::filesystem::remove_all(dir, ec);
  return 0;
}
