#pragma once
// One JSON form of a run decision or its refusal, shared by `twinbox route explain` (offline)
// and twinboxd's GET /twinbox/v1/route/explain (live), so both print the same thing. Pure.
//
// A decision (HTTP 200):
//   {"backend": "rosetta", "translator": "qemu-x86_64 (binfmt POCF)", "execution": "translated",
//    "platform": "linux/amd64",
//    "reason": "no platform requested, the image offers linux/amd64: ...",
//    "profile": "apple-silicon",
//    "image": {"reference": "docker.io/library/busybox:latest",
//              "platforms": ["linux/amd64"]},          // null when unknown
//    "project": "shop"}                                 // only when one was given
// A refusal (HTTP status of the error code: 400, 404, 409, 503):
//   {"error": {"code": "Unavailable", "status": 503, "message": "backend rosetta is ..."},
//    "message": "backend rosetta is ...",               // the Docker error form, same text
//    "profile": ..., "image": {...}, "project": ...}
// "code" is one of NotFound, Conflict, InvalidArgument, Unavailable, Timeout, Io, Internal.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "router/run_decision.hpp"
#include "util/result.hpp"

namespace twinbox::router {

// What `route explain` asks. The live endpoint fills image_platforms from the image store or
// the registry, and group from the project/pod state it keeps.
struct ExplainQuery {
  std::string image;                         // as typed: "busybox", "localhost:5000/app:v1"
  std::optional<std::string> platform;       // --platform / ?platform= (wins over the body)
  std::optional<std::string> body_platform;  // a create body's platform field
  std::optional<std::vector<platform::Platform>> image_platforms;  // nullopt: unknown
  std::string name;    // container/service name for messages ("" when none)
  GroupContext group;  // project_name / project placement / pod peers
};

struct Explanation {
  std::string image;  // canonical reference, or as typed when it does not parse
  std::optional<std::vector<std::string>> image_platforms;  // normalized; nullopt: unknown
  std::string profile;
  std::string project;  // "" when none
  std::optional<RunDecision> decision;
  std::optional<Error> error;  // exactly one of decision / error is set
};

// decide_run() for the query, with the image reference validated by platform::parse_reference
// (an invalid one is the InvalidArgument error).
Explanation explain(const ExplainQuery& q, const RouteEnv& env);

// 200 for a decision, error_code_http_status() of the error otherwise.
int explanation_status(const Explanation& e);
nlohmann::json explanation_to_json(const Explanation& e);
// InvalidArgument when `text` is not JSON of explanation_to_json's shape.
Result<Explanation> explanation_from_json(std::string_view text);
// "backend: rosetta\nruns: translated\ntranslator: ...\nplatform: ...\nreason: ...\n" or
// "error (503 ...): ...".
std::string explanation_text(const Explanation& e);

// "NotFound" <-> ErrorCode::NotFound, for the JSON.
const char* error_code_id(ErrorCode c);
std::optional<ErrorCode> parse_error_code_id(std::string_view id);

}  // namespace twinbox::router
