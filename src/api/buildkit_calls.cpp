#include "api/buildkit_calls.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <functional>

#include "image/digest.hpp"
#include "util/strings.hpp"

namespace twinbox::api::buildkit {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

constexpr std::string_view kControl = "/moby.buildkit.v1.Control/";
constexpr std::string_view kBridge = "/moby.buildkit.v1.frontend.LLBBridge/";

// Calls `on_bytes(field, bytes)` for every length-delimited field of `msg` and skips the rest.
// False when `msg` is not well-formed protobuf.
bool each_bytes_field(std::string_view msg,
                      const std::function<void(uint32_t, std::string_view)>& on_bytes) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(msg.data()), static_cast<int>(msg.size()));
  while (true) {
    uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage();
    uint32_t field = WireFormatLite::GetTagFieldNumber(tag);
    if (WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return false;
      continue;
    }
    uint32_t len = 0;
    if (!in.ReadVarint32(&len)) return false;
    int at = in.CurrentPosition();
    if (len > msg.size() - static_cast<size_t>(at)) return false;
    on_bytes(field, msg.substr(static_cast<size_t>(at), len));
    if (!in.Skip(static_cast<int>(len))) return false;
  }
}

// A map<string,string> entry: key is field 1, value field 2.
bool map_entry(std::string_view entry, std::string& key, std::string& value) {
  return each_bytes_field(entry, [&](uint32_t f, std::string_view b) {
    if (f == 1) key = b;
    if (f == 2) value = b;
  });
}

}  // namespace

Result<std::optional<GrpcMessage>> first_message(std::string_view body, size_t max_bytes) {
  if (body.size() < 5) return std::optional<GrpcMessage>{};
  uint32_t len = (static_cast<uint32_t>(static_cast<uint8_t>(body[1])) << 24) |
                 (static_cast<uint32_t>(static_cast<uint8_t>(body[2])) << 16) |
                 (static_cast<uint32_t>(static_cast<uint8_t>(body[3])) << 8) |
                 static_cast<uint32_t>(static_cast<uint8_t>(body[4]));
  if (len > max_bytes)
    return make_error(ErrorCode::InvalidArgument,
                      "a BuildKit request message of " + std::to_string(len) +
                          " bytes is larger than the " + std::to_string(max_bytes) +
                          " bytes twinboxd reads to route a build");
  if (body.size() < 5 + static_cast<size_t>(len)) return std::optional<GrpcMessage>{};
  return std::optional<GrpcMessage>{GrpcMessage{body[0] != 0, body.substr(5, len)}};
}

CallKind classify(std::string_view path) {
  if (starts_with(path, kBridge))
    return path.substr(kBridge.size()) == "Solve" ? CallKind::BridgeSolve : CallKind::Bridge;
  if (!starts_with(path, kControl)) return CallKind::Other;
  auto m = path.substr(kControl.size());
  if (m == "Solve") return CallKind::ControlSolve;
  if (m == "Status") return CallKind::ControlStatus;
  if (m == "Session") return CallKind::ControlSession;
  if (m == "ListWorkers" || m == "Info") return CallKind::Workers;
  if (m == "DiskUsage") return CallKind::DiskUsage;
  if (m == "Prune") return CallKind::Prune;
  return CallKind::Other;
}

bool fans_out(CallKind kind) { return kind == CallKind::DiskUsage || kind == CallKind::Prune; }

std::vector<std::string> take_messages(std::string& buf) {
  std::vector<std::string> out;
  size_t at = 0;
  while (buf.size() - at >= 5) {
    auto m = first_message(std::string_view(buf).substr(at), buf.size());
    if (!m || !*m) break;
    size_t n = 5 + (*m)->bytes.size();
    out.emplace_back(buf.substr(at, n));
    at += n;
  }
  buf.erase(0, at);
  return out;
}

std::string merge_unary(const std::vector<std::string>& framed_answers) {
  std::string payload;
  for (auto& a : framed_answers) {
    std::string rest = a;
    for (auto& m : take_messages(rest)) payload += m.substr(5);
  }
  return grpc_frame(payload);
}

std::string grpc_frame(std::string_view payload) {
  std::string framed(5, '\0');
  auto n = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) framed[1 + i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
  framed += payload;
  return framed;
}

bool needs_message(CallKind kind) {
  return kind == CallKind::ControlSolve || kind == CallKind::ControlStatus ||
         kind == CallKind::BridgeSolve;
}

Result<BuildCall> read_call(std::string_view path, std::string_view buildid,
                            std::string_view session_uuid, std::string_view message) {
  BuildCall c;
  c.kind = classify(path);
  bool ok = true;
  auto platform_of = [&](std::string_view entry) {
    std::string k, v;
    if (!map_entry(entry, k, v)) ok = false;
    if (k == "platform") {
      c.platform = trim(v);
      c.has_platform = !c.platform.empty();
    }
  };
  switch (c.kind) {
    case CallKind::ControlSolve: {
      bool frontend = false, definition = false;
      ok = each_bytes_field(message,
                            [&](uint32_t f, std::string_view b) {
                              if (f == 1) c.ref = b;
                              if (f == 2) definition = !b.empty();
                              if (f == 5) c.session = b;
                              if (f == 6) frontend = !b.empty();
                              if (f == 7) platform_of(b);
                            }) &&
           ok;
      c.client_frontend = !frontend && !definition;
      break;
    }
    case CallKind::ControlStatus:
      ok = each_bytes_field(message, [&](uint32_t f, std::string_view b) {
        if (f == 1) c.ref = b;
      });
      break;
    case CallKind::BridgeSolve:
      c.ref = buildid;
      ok = each_bytes_field(message,
                            [&](uint32_t f, std::string_view b) {
                              if (f == 3) platform_of(b);
                            }) &&
           ok;
      break;
    case CallKind::Bridge:
      c.ref = buildid;
      break;
    case CallKind::ControlSession:
      c.session = session_uuid;
      break;
    default:
      break;
  }
  if (!ok)
    return make_error(ErrorCode::InvalidArgument, "twinboxd could not read the BuildKit request " +
                                                      std::string(path) +
                                                      ": its message is not protobuf");
  return c;
}

Result<router::PlatformChoice> backend_for_build(std::string_view platform,
                                                 const platform::HostProfile& profile) {
  std::vector<std::string> platforms;
  for (auto& p : split(platform, ','))
    if (!trim(p).empty()) platforms.emplace_back(trim(p));
  if (platforms.size() > 1) {
    std::string each;
    for (auto& p : platforms) each += (each.empty() ? "" : " and ") + ("--platform " + p);
    return make_error(
        ErrorCode::InvalidArgument,
        "twinbox builds one platform per build, each in the VM that runs it natively: build " +
            std::string(platform) + " as separate builds (" + each +
            "), or use a buildx builder with the docker-container driver for one multi-platform "
            "image");
  }
  std::optional<std::string> one;
  if (!platforms.empty()) one = platforms.front();
  auto choice = router::choose_platform(one, std::nullopt, profile);
  if (choice && one) choice->reason = "build for " + choice->platform + ": " + choice->reason;
  return choice;
}

namespace {
// Protobuf writing: a length-delimited field, a varint field.
void put_bytes(google::protobuf::io::CodedOutputStream& out, uint32_t field, std::string_view b) {
  out.WriteTag(
      WireFormatLite::MakeTag(static_cast<int>(field), WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  out.WriteVarint32(static_cast<uint32_t>(b.size()));
  out.WriteRaw(b.data(), static_cast<int>(b.size()));
}
template <class Fill>
std::string message(Fill fill) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream sink(&bytes);
    google::protobuf::io::CodedOutputStream out(&sink);
    fill(out);
  }
  return bytes;
}
}  // namespace

std::string protobuf_field(uint32_t number, std::string_view bytes) {
  return message([&](auto& out) { put_bytes(out, number, bytes); });
}

std::string status_note(std::string_view text, int64_t unix_seconds) {
  // google.protobuf.Timestamp: seconds = 1.
  auto when = message([&](auto& out) {
    out.WriteTag(WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_VARINT));
    out.WriteVarint64(static_cast<uint64_t>(unix_seconds));
  });
  // Vertex: digest 1, name 3, started 5, completed 6.
  auto vertex = message([&](auto& out) {
    put_bytes(out, 1, image::sha256_digest(text).str());
    put_bytes(out, 3, text);
    put_bytes(out, 5, when);
    put_bytes(out, 6, when);
  });
  // StatusResponse: vertexes 1.
  auto status = message([&](auto& out) { put_bytes(out, 1, vertex); });
  return grpc_frame(status);
}

std::string grpc_percent_encode(std::string_view text) {
  return percent_encode(text, [](unsigned char c) { return c >= 0x20 && c <= 0x7e && c != '%'; });
}

}  // namespace twinbox::api::buildkit
