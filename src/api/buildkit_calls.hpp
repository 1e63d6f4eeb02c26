#pragma once
// What twinboxd reads of BuildKit's control API (gRPC over the HTTP/2 connection a client opens
// with `POST /grpc`) to send every call of one build to the engine that builds it. Pure: a
// call's path, two of its headers and its first message in, the facts routing needs out. The
// protobuf fields are read with libprotobuf's wire-format reader; nothing else of the messages
// is decoded, and the bytes are forwarded unchanged.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/host_profile.hpp"
#include "router/platform_route.hpp"
#include "util/result.hpp"

namespace twinbox::api::buildkit {

// The gRPC metadata naming the build a client-side frontend's LLBBridge call belongs to, and the
// session a Control/Session call tunnels.
inline constexpr std::string_view kBuildIdHeader = "buildkit-controlapi-buildid";
inline constexpr std::string_view kSessionUuidHeader = "x-docker-expose-session-uuid";

// gRPC's length-prefixed message framing (1 byte compressed flag, 4 bytes big-endian length).
struct GrpcMessage {
  bool compressed = false;
  std::string_view bytes;
};
// The first message of a request body: nullopt while incomplete, InvalidArgument when larger
// than `max_bytes` (the caller must not wait for it).
Result<std::optional<GrpcMessage>> first_message(std::string_view body, size_t max_bytes);

enum class CallKind {
  ControlSolve,    // /moby.buildkit.v1.Control/Solve: starts build `ref`
  ControlStatus,   // /moby.buildkit.v1.Control/Status: progress of build `ref`
  ControlSession,  // /moby.buildkit.v1.Control/Session: a session tunnelled in the gRPC conn
  Bridge,          // /moby.buildkit.v1.frontend.LLBBridge/*: a client-side frontend's call
  BridgeSolve,     // LLBBridge/Solve: names the frontend's options, so the platform
  Workers,         // Control/ListWorkers and Control/Info: engine-wide questions
  DiskUsage,       // Control/DiskUsage: every engine's build cache, one answer
  Prune,           // Control/Prune: every engine's build cache, one stream of what went
  Other,           // build history, health, traces: engine-wide
};
CallKind classify(std::string_view path);
// Calls every running engine answers, merged into one answer (buildx du / prune).
bool fans_out(CallKind kind);
// Whether routing `kind` needs its first request message (the others go on their headers).
bool needs_message(CallKind kind);

struct BuildCall {
  CallKind kind = CallKind::Other;
  std::string ref;      // the build: Solve/Status Ref, a bridge call's `buildid` header
  std::string session;  // Solve: its Session; Control/Session: the session uuid header
  // The platform the build targets: Solve's FrontendAttrs["platform"] (a build whose frontend
  // runs in the engine), LLBBridge/Solve's FrontendOpt["platform"] (buildx: its frontend runs
  // in the client and forwards to the engine's). "" when the message names none.
  std::string platform;
  bool has_platform = false;
  // Control/Solve without Frontend and Definition: the frontend runs in the client (buildx's
  // `docker` driver always does this), so the platform only arrives with its LLBBridge/Solve.
  bool client_frontend = false;
};

// Reads the facts of one call. `buildid` and `session_uuid` are the request's kBuildIdHeader and
// kSessionUuidHeader headers ("" when absent); `message` is the first request
// message when needs_message(kind). InvalidArgument for a message that is not protobuf.
Result<BuildCall> read_call(std::string_view path, std::string_view buildid,
                            std::string_view session_uuid, std::string_view message);

// The backend that builds for `platform` (as a build's "platform" option names it: one platform
// or a comma-separated list; "" for none, which builds for the host's native platform in hv as
// `docker build` does). A list of several platforms is refused with how to build each one.
Result<router::PlatformChoice> backend_for_build(
    std::string_view platform, const platform::HostProfile& profile = platform::default_profile());

// One length-delimited protobuf field (tag, length, bytes): messages are concatenations of these.
std::string protobuf_field(uint32_t number, std::string_view bytes);

// `payload` as one length-prefixed, uncompressed gRPC message.
std::string grpc_frame(std::string_view payload);

// A Control/Status answer (framed gRPC message) holding one completed vertex named `text`, so
// the client's progress output shows it as a build step ("#0 twinbox: ..."): twinboxd says
// there which engine builds and why.
std::string status_note(std::string_view text, int64_t unix_seconds);

// Splits complete length-prefixed gRPC messages (frame bytes included) off the front of `buf`.
std::vector<std::string> take_messages(std::string& buf);
// One unary answer from several: protobuf concatenation merges messages (repeated fields
// append), so the payloads of DiskUsage answers become one answer listing every record.
std::string merge_unary(const std::vector<std::string>& framed_answers);

// grpc-message values are percent-encoded (gRPC over HTTP/2, "Responses").
std::string grpc_percent_encode(std::string_view text);

}  // namespace twinbox::api::buildkit
