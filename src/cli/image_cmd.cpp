#include "cli/image_cmd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cli/compose_model.hpp"
#include "cli/image_model.hpp"
#include "cli/stream_client.hpp"
#include "store/prewarm.hpp"
#include "util/fd.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace twinbox::cli {

using json = nlohmann::json;

namespace {

const char* kImageUsage =
    "usage: twinbox image COMMAND  (the host content store shared by both VMs)\n"
    "  import FILE [--name REPO]   load an OCI or docker archive (FILE - = stdin)\n"
    "  export -o FILE REF...       write REFs as one OCI archive (-o - = stdout)\n"
    "  ls [--json]                 list the images in the store\n"
    "  rm REF...                   forget REFs (their blobs go at the next prune)\n"
    "  prune                       remove blobs no image references\n"
    "  prewarm FILE                pull every reference listed in FILE (one a line, # comments)\n";

int usage() {
  std::fputs(kImageUsage, stderr);
  return 2;
}

int fail(const std::string& doing, const std::string& why) {
  std::fprintf(stderr, "twinbox: %s: %s\n", doing.c_str(), why.c_str());
  return 1;
}

// The daemon's JSON answer to a call that must return 200, or the line to print.
Result<json> json_answer(const Result<CallResult>& r) {
  if (!r) return r.error();
  if (r->status < 200 || r->status >= 300)
    return make_error(ErrorCode::Io, daemon_message(r->status, r->body));
  auto j = parse_json<json>(r->body);
  if (j.is_discarded())
    return make_error(ErrorCode::Io,
                      "twinboxd answered something that is not JSON: " + r->body.substr(0, 200));
  return j;
}

int cmd_import(const std::string& sock, const std::vector<std::string>& args) {
  std::string file, repo;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--name" && i + 1 < args.size())
      repo = args[++i];
    else if (file.empty() && (args[i] == "-" || args[i][0] != '-'))
      file = args[i];
    else
      return usage();
  }
  if (file.empty()) return usage();
  std::string doing = "importing " + (file == "-" ? std::string("stdin") : file);
  Fd owned;
  int fd = 0;
  if (file != "-") {
    owned = Fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned.valid()) return fail(doing, std::strerror(errno));
    fd = owned.get();
  }
  RequestBody body;
  body.fd = fd;
  body.content_type = "application/x-tar";
  auto j = json_answer(call(sock, "POST", image_import_target(repo), body));
  if (!j) return fail(doing, j.error().message);
  for (const auto& ref : j->value("references", json::array()))
    if (ref.is_string()) std::printf("imported %s\n", ref.get<std::string>().c_str());
  uint64_t bytes = j->value("bytes", uint64_t{0});
  std::printf("%llu blobs, %s\n", static_cast<unsigned long long>(j->value("blobs", uint64_t{0})),
              human_size(bytes).c_str());
  return 0;
}

int cmd_export(const std::string& sock, const std::vector<std::string>& args) {
  std::string out;
  std::vector<std::string> refs;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "-o" || args[i] == "--output") && i + 1 < args.size())
      out = args[++i];
    else if (args[i][0] != '-')
      refs.push_back(args[i]);
    else
      return usage();
  }
  if (out.empty() || refs.empty()) return usage();
  std::string doing = "exporting to " + out;
  bool to_stdout = out == "-";
  if (to_stdout && ::isatty(1))
    return fail(doing, "refusing to write an archive to a terminal (use -o FILE)");
  // The archive appears under its name only once complete: a reader never sees half of one.
  std::string tmp = out + ".tmp";
  Fd owned;
  int fd = 1;
  if (!to_stdout) {
    owned = Fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!owned.valid()) return fail(doing, tmp + ": " + std::strerror(errno));
    fd = owned.get();
  }
  auto discard = [&](const std::string& why) {
    if (!to_stdout) {
      owned.reset();
      ::unlink(tmp.c_str());
    }
    return fail(doing, why);
  };
  uint64_t written = 0;
  auto r = call(sock, "GET", image_export_target(refs), {}, [&](std::string_view piece) {
    written += piece.size();
    return write_all(fd, piece);
  });
  if (!r) return discard(r.error().message);
  if (r->status != 200) return discard(daemon_message(r->status, r->body));
  if (written == 0) return discard("twinboxd sent an empty archive");
  if (!to_stdout) {
    if (::fsync(fd) != 0) return discard(std::string("fsync: ") + std::strerror(errno));
    owned.reset();
    if (::rename(tmp.c_str(), out.c_str()) != 0) {
      std::string why = std::string("rename: ") + std::strerror(errno);
      ::unlink(tmp.c_str());
      return fail(doing, why);
    }
    std::fprintf(stderr, "twinbox: wrote %s (%s)\n", out.c_str(), human_size(written).c_str());
  }
  return 0;
}

int cmd_ls(const std::string& sock, const std::vector<std::string>& args) {
  bool as_json = false;
  for (const auto& a : args) {
    if (a == "--json")
      as_json = true;
    else
      return usage();
  }
  auto j = json_answer(call(sock, "GET", "/twinbox/v1/images"));
  if (!j) return fail("listing images", j.error().message);
  if (as_json)
    std::printf("%s\n", j->dump(2).c_str());
  else
    std::fputs(format_image_table(*j).c_str(), stdout);
  return 0;
}

int cmd_prune(const std::string& sock, const std::vector<std::string>& args) {
  if (!args.empty()) return usage();
  auto j = json_answer(call(sock, "POST", "/twinbox/v1/images/prune"));
  if (!j) return fail("pruning the image store", j.error().message);
  std::printf("removed %llu blobs, freed %s\n",
              static_cast<unsigned long long>(j->value("blobs_removed", uint64_t{0})),
              human_size(j->value("bytes_freed", uint64_t{0})).c_str());
  return 0;
}

int cmd_rm(const std::string& sock, const std::vector<std::string>& args) {
  if (args.empty()) return usage();
  int status = 0;
  for (const auto& ref : args) {
    auto r = call(sock, "DELETE", "/twinbox/v1/images?reference=" + url_encode(ref));
    if (!r || r->status != 204) {
      status = fail("removing " + ref + " from the image store",
                    r ? daemon_message(r->status, r->body) : r.error().message);
      continue;
    }
    std::printf("untagged %s\n", ref.c_str());
  }
  return status;
}

int cmd_prewarm(const std::string& sock, const std::vector<std::string>& args) {
  if (args.size() != 1) return usage();
  const std::string& file = args[0];
  std::string doing = "prewarming from " + (file == "-" ? std::string("stdin") : file);
  auto text = file == "-" ? read_to_eof(0) : fs::read_file(file);
  if (!text) return fail(doing, text.error().message);
  // The store's parser: the daemon and the CLI agree on what a prewarm list is.
  auto parsed = store::parse_prewarm_list(*text);
  if (!parsed) return fail(doing, parsed.error().message);
  if (parsed->empty())
    return fail(doing, "the list holds no image reference (one per line, '#' for comments)");
  std::vector<std::string> refs;
  for (const auto& r : *parsed) refs.push_back(r.canonical());
  RequestBody body;
  body.data = json{{"references", refs}}.dump();
  body.content_type = "application/json";
  std::string partial;
  size_t results = 0, failures = 0;
  auto line_out = [&](std::string_view line) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    bool failed = true;
    auto j = parse_json<json>(line);
    std::string text = j.is_discarded() ? "error  " + std::string(line) + ": not a JSON line"
                                        : format_prewarm_result(j, &failed);
    ++results;
    if (failed) ++failures;
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
  };
  auto r = call(sock, "POST", "/twinbox/v1/images/prewarm", body, [&](std::string_view piece) {
    partial.append(piece);
    size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      line_out(std::string_view(partial).substr(0, nl));
      partial.erase(0, nl + 1);
    }
    return Status{};
  });
  if (!r) return fail(doing, r.error().message);
  if (r->status != 200) return fail(doing, daemon_message(r->status, r->body));
  line_out(partial);
  if (results < refs.size())
    return fail(doing, "twinboxd answered for " + std::to_string(results) + " of " +
                           std::to_string(refs.size()) + " references");
  if (failures > 0)
    return fail(doing, std::to_string(failures) + " of " + std::to_string(refs.size()) +
                           " references failed");
  return 0;
}

}  // namespace

int cmd_image(const std::string& socket_path, const std::vector<std::string>& args) {
  if (args.empty()) return usage();
  const std::string& sub = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "import") return cmd_import(socket_path, rest);
  if (sub == "export") return cmd_export(socket_path, rest);
  if (sub == "ls") return cmd_ls(socket_path, rest);
  if (sub == "prune") return cmd_prune(socket_path, rest);
  if (sub == "rm") return cmd_rm(socket_path, rest);
  if (sub == "prewarm") return cmd_prewarm(socket_path, rest);
  if (sub == "-h" || sub == "--help") {
    std::fputs(kImageUsage, stdout);
    return 0;
  }
  std::fprintf(stderr, "twinbox image: unknown command '%s'\n", sub.c_str());
  return usage();
}

}  // namespace twinbox::cli
