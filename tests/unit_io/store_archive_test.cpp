// Archives in and out of the content store: the docker-archive stream for `docker load`, OCI
// export/import round trips, docker 20.10 archives, and hostile archives built here with
// libarchive (each refused with a message naming the entry, and no reference added).
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "image/media_types.hpp"
#include "store/archive_io.hpp"
#include "store/content_store.hpp"
#include "store/oci_docs.hpp"
#include "util/fs.hpp"

namespace twinbox::store {
namespace {

using json = nlohmann::json;

la_ssize_t append_cb(struct archive*, void* ctx, const void* buf, size_t n) {
  static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

enum class T { File, Dir, Symlink, Hardlink, Char, Fifo };
struct TarEntry {
  TarEntry(std::string n, std::string d = "", T t = T::File, std::string l = "")
      : name(std::move(n)), data(std::move(d)), type(t), link(std::move(l)) {}
  std::string name;
  std::string data;
  T type = T::File;
  std::string link;
};

image::Descriptor desc_of(std::string_view media_type, const std::string& bytes) {
  image::Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = image::sha256_digest(bytes);
  d.size = static_cast<int64_t>(bytes.size());
  return d;
}

// A tar (optionally gzip'd) in memory.
std::string make_tar(const std::vector<TarEntry>& entries, bool gzip = false) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_open(a, &out, nullptr, append_cb, nullptr);
  for (const auto& e : entries) {
    struct archive_entry* h = archive_entry_new();
    archive_entry_set_pathname(h, e.name.c_str());
    archive_entry_set_perm(h, 0644);
    archive_entry_set_size(h, 0);
    switch (e.type) {
      case T::File:
        archive_entry_set_filetype(h, AE_IFREG);
        archive_entry_set_size(h, static_cast<la_int64_t>(e.data.size()));
        break;
      case T::Dir:
        archive_entry_set_filetype(h, AE_IFDIR);
        break;
      case T::Symlink:
        archive_entry_set_filetype(h, AE_IFLNK);
        archive_entry_set_symlink(h, e.link.c_str());
        break;
      case T::Hardlink:
        archive_entry_set_filetype(h, AE_IFREG);
        archive_entry_set_hardlink(h, e.link.c_str());
        break;
      case T::Char:
        archive_entry_set_filetype(h, AE_IFCHR);
        archive_entry_set_rdev(h, makedev(1, 3));
        break;
      case T::Fifo:
        archive_entry_set_filetype(h, AE_IFIFO);
        break;
    }
    archive_write_header(a, h);
    if (e.type == T::File && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(h);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string gzip_bytes(const std::string& data) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  archive_write_add_filter_gzip(a);
  archive_write_open(a, &out, nullptr, append_cb, nullptr);
  struct archive_entry* h = archive_entry_new();
  archive_entry_set_filetype(h, AE_IFREG);
  archive_write_header(a, h);
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(h);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// Every regular entry of a tar in memory: name -> bytes.
std::map<std::string, std::string> read_tar(const std::string& bytes) {
  std::map<std::string, std::string> out;
  struct archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
  struct archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    std::string data;
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) data.append(buf, n);
    out[archive_entry_pathname(e)] = data;
  }
  archive_read_free(a);
  return out;
}

class StoreArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/twinbox-archive-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = open_store("a");
  }
  void TearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)std::system(cmd.c_str());
  }
  std::unique_ptr<ContentStore> open_store(const std::string& name) {
    auto s = ContentStore::open(dir_ + "/" + name);
    EXPECT_TRUE(s) << s.error().message;
    return std::move(*s);
  }
  std::string write_file(const std::string& name, const std::string& bytes) {
    std::string p = dir_ + "/" + name;
    EXPECT_TRUE(fs::write_file_atomic(p, bytes));
    return p;
  }

  static image::Descriptor put(ContentStore& s, std::string_view mt, const std::string& bytes) {
    auto b = s.put_blob(bytes);
    EXPECT_TRUE(b);
    image::Descriptor d;
    d.media_type = std::string(mt);
    d.digest = b->digest;
    d.size = b->size;
    return d;
  }
  static std::string layer_tar(const std::string& arch) {
    return make_tar({{"bin/", "", T::Dir}, {"bin/busybox", "ELF for " + arch}});
  }
  static std::string config_json(const std::string& arch, const std::vector<std::string>& diffs) {
    return json({{"architecture", arch},
                 {"os", "linux"},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", diffs}}}})
        .dump();
  }
  // An image with a gzip'd layer and an uncompressed one, the way registries mix them.
  static image::Descriptor make_image(ContentStore& s, const std::string& arch) {
    std::string l1 = layer_tar(arch);
    std::string l2 = make_tar({{"etc/hostname", arch}});
    auto gz = put(s, kOciLayerGzip, gzip_bytes(l1));
    auto plain = put(s, kOciLayerTar, l2);
    auto cfg =
        put(s, image::kOciConfig,
            config_json(arch, {image::sha256_digest(l1).str(), image::sha256_digest(l2).str()}));
    auto m = put(s, image::kOciManifest, oci_manifest_json(cfg, {gz, plain}));
    m.platform = image::ManifestPlatform{"linux", arch, "", "", {}, {}};
    return m;
  }
  image::Descriptor make_multi(ContentStore& s) {
    return put(s, image::kOciIndex,
               oci_index_json({make_image(s, "amd64"), make_image(s, "arm64")}));
  }

  // A valid small OCI archive's entries (one image, fully named), to add hostile entries to.
  // `tamper` may change the descriptors and the config before the manifest is written.
  using Tamper = std::function<void(image::Descriptor& config, image::Descriptor& layer,
                                    std::vector<std::string>& diff_ids)>;
  std::vector<TarEntry> valid_oci_entries(const std::string& name = "twinbox/evil:latest",
                                          const Tamper& tamper = {}) {
    std::string layer = layer_tar("arm64");
    std::vector<std::string> diffs{image::sha256_digest(layer).str()};
    image::Descriptor l = desc_of(kOciLayerTar, layer);
    image::Descriptor c;
    if (tamper) tamper(c, l, diffs);
    std::string cfg = config_json("arm64", diffs);
    int64_t cfg_size_delta = c.size;  // tamper's config size is a delta on the real one
    c = desc_of(image::kOciConfig, cfg);
    c.size += cfg_size_delta;
    std::string m = oci_manifest_json(c, {l});
    image::Descriptor md = desc_of(image::kOciManifest, m);
    md.annotations["org.opencontainers.image.ref.name"] = name;
    return {{"oci-layout", std::string(kOciLayoutFile)},
            {"index.json", oci_index_json({md})},
            {"blobs/", "", T::Dir},
            {"blobs/sha256/", "", T::Dir},
            {"blobs/sha256/" + c.digest.hex(), cfg},
            {"blobs/sha256/" + l.digest.hex(), layer},
            {"blobs/sha256/" + md.digest.hex(), m}};
  }

  // Imports must fail with `part` in the message and leave the store without references.
  void expect_refused(const std::vector<TarEntry>& entries, const std::string& part,
                      ImportOptions opts = {}) {
    auto path = write_file("bad.tar", make_tar(entries));
    auto fresh = open_store("refuse-" + std::to_string(++refusals_));
    auto r = import_archive(*fresh, path, opts);
    ASSERT_FALSE(r) << "accepted; expected an error with: " << part;
    EXPECT_NE(r.error().message.find(part), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("import " + path), std::string::npos) << r.error().message;
    auto l = fresh->list();
    ASSERT_TRUE(l);
    EXPECT_TRUE(l->empty()) << "a reference was added by a failed import";
    EXPECT_EQ(blob_count(*fresh), 0u) << "a failed import left blobs behind: " << part;
  }

  static size_t blob_count(const ContentStore& s) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(s.root() + "/blobs/sha256", ec);
         !ec && it != std::filesystem::directory_iterator(); ++it)
      ++n;
    return n;
  }

  std::string dir_;
  std::unique_ptr<ContentStore> store_;
  int refusals_ = 0;
};

TEST_F(StoreArchiveTest, DockerArchiveHasManifestConfigAndLayersAsStored) {
  auto m = make_image(*store_, "arm64");
  auto im = image::parse_image_manifest(*store_->read_blob(m.digest));
  ASSERT_TRUE(im);
  std::string out;
  size_t calls = 0;
  auto st = write_docker_archive(*store_, m.digest,
                                 {"127.0.0.1:5000/twinbox/busybox:latest", "docker.io/library/bb"},
                                 [&](std::string_view chunk) -> Status {
                                   ++calls;
                                   out.append(chunk);
                                   return {};
                                 });
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_GT(calls, 0u);
  auto files = read_tar(out);
  ASSERT_EQ(files.size(), 4u);  // manifest.json, config, 2 layers
  auto mj = json::parse(files.at("manifest.json"));
  ASSERT_EQ(mj.size(), 1u);
  std::string cfg_name = im->config.digest.hex() + ".json";
  EXPECT_EQ(mj[0]["Config"], cfg_name);
  EXPECT_EQ(mj[0]["RepoTags"], json({"127.0.0.1:5000/twinbox/busybox:latest", "bb:latest"}));
  ASSERT_EQ(mj[0]["Layers"].size(), 2u);
  EXPECT_EQ(files.at(cfg_name), *store_->read_blob(im->config.digest));
  for (size_t i = 0; i < 2; ++i) {
    std::string name = mj[0]["Layers"][i];
    EXPECT_EQ(name, "blobs/sha256/" + im->layers[i].digest.hex());
    // Byte for byte what is stored: the gzip'd layer stays gzip'd (dockerd decompresses).
    EXPECT_EQ(files.at(name), *store_->read_blob(im->layers[i].digest));
  }
}

TEST_F(StoreArchiveTest, DockerArchiveErrors) {
  auto idx = make_multi(*store_);
  auto sink = [](std::string_view) -> Status { return {}; };
  auto r = write_docker_archive(*store_, idx.digest, {"a:1"}, sink);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("it is an index"), std::string::npos) << r.error().message;

  auto m = make_image(*store_, "s390x");
  r = write_docker_archive(*store_, m.digest, {"a@" + m.digest.str()}, sink);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("name:tag"), std::string::npos);

  // The receiver failing (the engine hung up) stops the stream with its error.
  int calls = 0;
  r = write_docker_archive(*store_, m.digest, {"a:1"}, [&](std::string_view) -> Status {
    ++calls;
    return make_error(ErrorCode::Io, "engine closed the connection");
  });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("engine closed the connection"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(calls, 1);

  auto im = image::parse_image_manifest(*store_->read_blob(m.digest));
  ASSERT_EQ(::unlink(store_->blob_path(im->layers[1].digest).c_str()), 0);
  r = write_docker_archive(*store_, m.digest, {"a:1"}, sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::NotFound);
}

TEST_F(StoreArchiveTest, ExportThenImportGivesIdenticalDigests) {
  auto idx = make_multi(*store_);
  auto single = make_image(*store_, "s390x");
  ASSERT_TRUE(store_->set_reference("127.0.0.1:5000/twinbox/busybox:latest", idx));
  ASSERT_TRUE(store_->set_reference("twinbox/s390x:1", single));
  std::string path = dir_ + "/export.tar";
  auto st = export_archive(*store_, {"127.0.0.1:5000/twinbox/busybox", "twinbox/s390x:1"}, path);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));

  auto files = read_tar(*fs::read_file(path));
  EXPECT_TRUE(files.count("oci-layout"));
  auto ij = json::parse(files.at("index.json"));
  ASSERT_EQ(ij["manifests"].size(), 2u);
  EXPECT_EQ(ij["manifests"][0]["annotations"]["io.containerd.image.name"],
            "127.0.0.1:5000/twinbox/busybox:latest");
  EXPECT_EQ(files.size(), 2u + 1 + 2 * 4 + 4);  // layout+index, index blob, 2x4, s390x's 4

  auto b = open_store("b");
  auto r = import_archive(*b, path);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->format, "oci-archive");
  ASSERT_EQ(r->images.size(), 2u);
  EXPECT_EQ(b->resolve("127.0.0.1:5000/twinbox/busybox:latest")->digest, idx.digest);
  EXPECT_EQ(b->resolve("docker.io/twinbox/s390x:1")->digest, single.digest);
  auto pa = store_->complete_platforms("127.0.0.1:5000/twinbox/busybox:latest");
  auto pb = b->complete_platforms("127.0.0.1:5000/twinbox/busybox:latest");
  ASSERT_TRUE(pa && pb);
  ASSERT_EQ(pb->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*pa)[i].manifest, (*pb)[i].manifest);
    EXPECT_EQ((*pa)[i].platform, (*pb)[i].platform);
  }
  // A gzip'd outer archive imports the same.
  auto c = open_store("c");
  auto gz = write_file("export.tar.gz", gzip_bytes(*fs::read_file(path)));
  auto rc = import_archive(*c, gz);
  ASSERT_TRUE(rc) << rc.error().message;
  EXPECT_EQ(c->resolve("127.0.0.1:5000/twinbox/busybox:latest")->digest, idx.digest);
}

TEST_F(StoreArchiveTest, FailedExportLeavesNothing) {
  std::string path = dir_ + "/never.tar";
  auto st = export_archive(*store_, {"not/there:1"}, path);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::NotFound);
  EXPECT_FALSE(fs::exists(path));
  st = export_archive(*store_, {}, path);
  ASSERT_FALSE(st);
  auto m = make_image(*store_, "amd64");
  ASSERT_TRUE(store_->set_reference("x:1", m));
  st = export_archive(*store_, {"x:1"}, dir_ + "/no/such/dir/out.tar");
  ASSERT_FALSE(st);
  EXPECT_FALSE(fs::exists(dir_ + "/no"));
}

TEST_F(StoreArchiveTest, DeliveredDockerArchiveImportsBackWithGzipLayersVerified) {
  auto m = make_image(*store_, "arm64");
  std::string out;
  ASSERT_TRUE(write_docker_archive(*store_, m.digest, {"twinbox/app:v1"},
                                   [&](std::string_view c) -> Status {
                                     out.append(c);
                                     return {};
                                   }));
  auto b = open_store("b");
  auto r = import_archive(*b, write_file("docker.tar", out));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->format, "docker-archive");
  auto d = b->resolve("twinbox/app:v1");
  ASSERT_TRUE(d);
  auto im = image::parse_image_manifest(*b->read_blob(d->digest));
  auto orig = image::parse_image_manifest(*store_->read_blob(m.digest));
  ASSERT_TRUE(im && orig);
  EXPECT_EQ(im->config.digest, orig->config.digest);
  ASSERT_EQ(im->layers.size(), 2u);
  EXPECT_EQ(im->layers[0].media_type, kOciLayerGzip);  // from the content, not the name
  EXPECT_EQ(im->layers[0].digest, orig->layers[0].digest);
  EXPECT_EQ(im->layers[1].media_type, kOciLayerTar);
  auto pl = b->complete_platforms("twinbox/app:v1");
  ASSERT_TRUE(pl);
  ASSERT_EQ(pl->size(), 1u);
  EXPECT_EQ((*pl)[0].platform, "linux/arm64");
}

// What docker 20.10's `docker save img1 img2` writes when both share their base layer: the second
// copy of the layer is a symlink to the first.
std::vector<TarEntry> docker2010_entries(const std::string& shared, const std::string& top,
                                         const std::string& cfg1, const std::string& cfg2) {
  std::string h1 = image::sha256_digest(cfg1).hex();
  std::string h2 = image::sha256_digest(cfg2).hex();
  std::string id1(64, '1'), id2(64, '2'), id3(64, '3');
  json manifest = json::array(
      {{{"Config", h1 + ".json"}, {"RepoTags", {"base:1"}}, {"Layers", {id1 + "/layer.tar"}}},
       {{"Config", h2 + ".json"},
        {"RepoTags", {"app:2", "registry.local:5000/app:2"}},
        {"Layers", {id2 + "/layer.tar", id3 + "/layer.tar"}}}});
  return {
      {h1 + ".json", cfg1},      {h2 + ".json", cfg2},
      {id1 + "/", "", T::Dir},   {id1 + "/VERSION", "1.0"},
      {id1 + "/json", "{}"},     {id1 + "/layer.tar", shared},
      {id2 + "/", "", T::Dir},   {id2 + "/layer.tar", "", T::Symlink, "../" + id1 + "/layer.tar"},
      {id3 + "/layer.tar", top}, {"manifest.json", manifest.dump()},
      {"repositories", "{}"}};
}

TEST_F(StoreArchiveTest, ImportsDocker2010ArchiveWithSymlinkedLayers) {
  std::string shared = layer_tar("amd64");
  std::string top = make_tar({{"app", "app"}});
  std::string cfg1 = config_json("amd64", {image::sha256_digest(shared).str()});
  std::string cfg2 =
      config_json("amd64", {image::sha256_digest(shared).str(), image::sha256_digest(top).str()});
  auto path = write_file("save.tar", make_tar(docker2010_entries(shared, top, cfg1, cfg2)));
  auto r = import_archive(*store_, path);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->format, "docker-archive");
  EXPECT_EQ(r->images.size(), 3u);
  auto app = store_->resolve("registry.local:5000/app:2");
  ASSERT_TRUE(app);
  EXPECT_EQ(store_->resolve("docker.io/library/app:2")->digest, app->digest);
  auto im = image::parse_image_manifest(*store_->read_blob(app->digest));
  ASSERT_TRUE(im);
  EXPECT_EQ(im->config.digest, image::sha256_digest(cfg2));
  ASSERT_EQ(im->layers.size(), 2u);
  EXPECT_EQ(im->layers[0].media_type, kOciLayerTar);
  EXPECT_EQ(im->layers[0].digest, image::sha256_digest(shared));
  EXPECT_EQ(im->layers[1].digest, image::sha256_digest(top));
  EXPECT_EQ(store_->complete_platforms("base:1")->size(), 1u);
}

TEST_F(StoreArchiveTest, DockerArchiveWithWrongDiffIdIsRefused) {
  std::string shared = layer_tar("amd64");
  std::string top = make_tar({{"app", "app"}});
  std::string cfg1 = config_json("amd64", {image::sha256_digest("something else").str()});
  std::string cfg2 =
      config_json("amd64", {image::sha256_digest(shared).str(), image::sha256_digest(top).str()});
  expect_refused(docker2010_entries(shared, top, cfg1, cfg2), "diff_ids[0]");
}

TEST_F(StoreArchiveTest, HostileArchivesAreRefused) {
  auto with = [&](TarEntry extra) {
    auto e = valid_oci_entries();
    e.push_back(std::move(extra));
    return e;
  };
  expect_refused(with({"../evil", "x"}), "archive entry \"../evil\": \"..\"");
  expect_refused(with({"blobs/../../../etc/cron.d/x", "x"}), "\"..\" in the path");
  expect_refused(with({"/etc/passwd", "x"}), "archive entry \"/etc/passwd\": absolute path");
  expect_refused(with({"blobs/sha256/link", "", T::Symlink, "../../../etc/passwd"}),
                 "symlink to \"../../../etc/passwd\" escapes the archive root");
  expect_refused(with({"blobs/abs", "", T::Symlink, "/etc/shadow"}), "points outside the archive");
  expect_refused(with({"hl", "", T::Hardlink, "../outside"}),
                 "hardlink to \"../outside\" escapes the archive root");
  expect_refused(with({"dev/null", "", T::Char}), "archive entry \"dev/null\": is a character");
  expect_refused(with({"pipe", "", T::Fifo}), "archive entry \"pipe\": is a fifo");
  auto dup = valid_oci_entries();
  dup.push_back(dup[1]);  // index.json twice: which one counts?
  expect_refused(dup, "archive entry \"index.json\": duplicate entry");
  auto dot_dup = valid_oci_entries();
  dot_dup.push_back({"./oci-layout", std::string(kOciLayoutFile)});
  expect_refused(dot_dup, "duplicate entry");

  ImportOptions small;
  small.limits.max_entry_bytes = 15000;  // the valid layer is one 10240-byte tar
  expect_refused(with({"big", std::string(20000, 'x')}),
                 "archive entry \"big\": 20000 bytes is more than the per-entry limit of 15000",
                 small);
  ImportOptions total;
  total.limits.max_total_bytes = 12000;
  expect_refused(with({"big", std::string(2500, 'x')}), "add up to more than the limit of 12000",
                 total);
  ImportOptions few;
  few.limits.max_entries = 5;
  expect_refused(valid_oci_entries(), "more than 5 entries", few);
}

// Issue 18: a sparse entry's logical size is written out in full (18 KB of archive stood for a
// 10 GiB blob); an import may not fill the store's disk.
TEST_F(StoreArchiveTest, SparseEntriesAndTheDisksFreeSpaceBoundAnImport) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax(a);
  archive_write_open(a, &out, nullptr, append_cb, nullptr);
  struct archive_entry* h = archive_entry_new();
  archive_entry_set_pathname(h, "layer.tar");
  archive_entry_set_filetype(h, AE_IFREG);
  archive_entry_set_perm(h, 0644);
  archive_entry_set_size(h, la_int64_t{10} << 30);  // 10 GiB logical
  archive_entry_sparse_add_entry(h, 0, 4096);       // 4 KiB of data
  archive_write_header(a, h);
  std::string data(4096, 'x');
  archive_write_data(a, data.data(), data.size());
  archive_entry_free(h);
  archive_write_close(a);
  archive_write_free(a);
  ASSERT_LT(out.size(), 64u * 1024) << "the test archive should be tiny";
  auto path = write_file("sparse.tar", out);
  auto fresh = open_store("sparse");
  auto r = import_archive(*fresh, path);
  ASSERT_FALSE(r) << "a sparse entry was accepted";
  EXPECT_NE(r.error().message.find("is a sparse file"), std::string::npos) << r.error().message;
  EXPECT_EQ(blob_count(*fresh), 0u);

  ImportOptions tight;
  tight.limits.keep_free_bytes = INT64_MAX / 2;  // more than any disk has: nothing fits
  expect_refused(valid_oci_entries(), "bytes the content store's disk can take", tight);
}

// Blobs written before an import fails are removed: a refused million-entry archive left
// 100 000 blobs behind. Here the layer and config are written before the manifest is missed.
TEST_F(StoreArchiveTest, AFailedImportLeavesNoBlobs) {
  auto missing = valid_oci_entries();
  missing.pop_back();  // the manifest blob
  expect_refused(missing, "the blob is not in the archive");
  ImportOptions few;
  few.limits.max_entries = 5;
  expect_refused(valid_oci_entries(), "more than 5 entries", few);
}

// An OCI archive is checked as a docker-archive is: every size its descriptors give and every
// diff_id its configs list (before, wrong sizes were stored and served to the engines).
TEST_F(StoreArchiveTest, OciArchiveSizesAndDiffIdsAreChecked) {
  using D = image::Descriptor;
  using V = std::vector<std::string>;
  expect_refused(valid_oci_entries("twinbox/x:1", [](D&, D& l, V&) { l.size += 1; }),
                 "layers[0] (sha256:");
  expect_refused(valid_oci_entries("twinbox/x:1", [](D&, D& l, V&) { l.size = 1; }),
                 "bytes but the blob has");
  expect_refused(valid_oci_entries("twinbox/x:1", [](D& c, D&, V&) { c.size = 5; }),
                 "config (sha256:");
  expect_refused(
      valid_oci_entries("twinbox/x:1",
                        [](D&, D&, V& d) { d[0] = image::sha256_digest("other").str(); }),
      "but the config's diff_ids[0] is");
  expect_refused(valid_oci_entries("twinbox/x:1", [](D&, D&, V& d) { d.push_back(d[0]); }),
                 "1 layers but the config lists 2 diff_ids");
  expect_refused(valid_oci_entries("twinbox/x:1", [](D&, D&, V& d) { d.clear(); }),
                 "1 layers but the config lists 0 diff_ids");

  // index.json's own descriptor: a size that is not the manifest's.
  auto e = valid_oci_entries();
  json idx = json::parse(e[1].data);
  idx["manifests"][0]["size"] = idx["manifests"][0]["size"].get<int64_t>() + 7;
  e[1].data = idx.dump();
  expect_refused(e, "index.json manifests[0]");

  // A child of a nested index with a wrong size.
  auto nested = valid_oci_entries();
  image::Descriptor md;
  md.media_type = std::string(image::kOciManifest);
  md.digest = image::sha256_digest(nested[6].data);
  md.size = static_cast<int64_t>(nested[6].data.size()) + 1;
  md.platform = image::ManifestPlatform{"linux", "arm64", "", "", {}, {}};
  std::string inner = oci_index_json({md});
  image::Descriptor id = desc_of(image::kOciIndex, inner);
  id.annotations["org.opencontainers.image.ref.name"] = "twinbox/nested:1";
  nested[1].data = oci_index_json({id});
  nested.push_back({"blobs/sha256/" + id.digest.hex(), inner});
  expect_refused(nested, "bytes but the blob has");

  // The untampered archive still imports.
  auto path = write_file("good.tar", make_tar(valid_oci_entries("twinbox/x:1")));
  auto r = import_archive(*store_, path);
  ASSERT_TRUE(r) << r.error().message;
}

TEST_F(StoreArchiveTest, CorruptBlobIsRefusedAndNothingReferenced) {
  auto e = valid_oci_entries();
  e[5].data += "tampered";
  expect_refused(e, "digest mismatch");
  auto missing = valid_oci_entries();
  missing.pop_back();  // the manifest blob
  expect_refused(missing, "the blob is not in the archive");
  expect_refused({{"hello.txt", "not an image"}}, "neither an OCI archive");
  auto path = write_file("garbage.tar", std::string(4096, '\x07'));
  auto r = import_archive(*store_, path);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("tar archive"), std::string::npos) << r.error().message;
}

TEST_F(StoreArchiveTest, InternalLinksAreFollowed) {
  // A hardlink/symlink between two names of the same blob stays inside the archive: allowed.
  auto e = valid_oci_entries();
  e.push_back({"blobs/sha256/alias", "", T::Symlink, "../../index.json"});
  auto path = write_file("ok.tar", make_tar(e));
  auto r = import_archive(*store_, path);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(store_->resolve("twinbox/evil:latest"));
}

TEST_F(StoreArchiveTest, TagOnlyOciArchiveNeedsName) {
  expect_refused(valid_oci_entries("latest"), "pass --name REPOSITORY");
  auto path = write_file("tagonly.tar", make_tar(valid_oci_entries("v3")));
  ImportOptions o;
  o.name = "127.0.0.1:5000/twinbox/tagged";
  auto r = import_archive(*store_, path, o);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->images.size(), 1u);
  EXPECT_EQ(r->images[0].reference, "127.0.0.1:5000/twinbox/tagged:v3");
}

TEST_F(StoreArchiveTest, ImportsTheFixtureImageLayout) {
  const char* env = std::getenv("TWINBOX_CACHE_DIR");
  std::string cache =
      env ? env : std::string(std::getenv("HOME") ? std::getenv("HOME") : "") + "/.cache/twinbox";
  std::string layout = cache + "/images/busybox";
  auto images = fs::read_file(cache + "/images/images.json");
  if (!fs::exists(layout + "/index.json") || !images) {
    GTEST_SKIP() << "no fixture layout at " << layout << " (run scripts/build-test-images)";
  }
  std::string tar = dir_ + "/busybox-oci.tar";
  std::string cmd = "tar -C '" + layout + "' -cf '" + tar + "' .";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ImportOptions o;
  o.name = "127.0.0.1:5000/twinbox/busybox";  // the layout's ref.name is just "latest"
  auto r = import_archive(*store_, tar, o);
  ASSERT_TRUE(r) << r.error().message;
  auto j = json::parse(*images);
  std::string want;
  json platforms;
  for (auto& i : j["images"]) {
    if (i["layout"] == "busybox") {
      want = i["digest"];
      platforms = i["platforms"];
    }
  }
  auto d = store_->resolve("127.0.0.1:5000/twinbox/busybox:latest");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->digest.str(), want);
  auto pl = store_->complete_platforms("127.0.0.1:5000/twinbox/busybox:latest");
  ASSERT_TRUE(pl);
  ASSERT_EQ(pl->size(), platforms.size());
  for (auto& p : *pl) EXPECT_EQ(platforms.value(p.platform, ""), p.manifest.str()) << p.platform;
}

}  // namespace
}  // namespace twinbox::store
