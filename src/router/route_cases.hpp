#pragma once
// Routing-case files: routing rules written down as inputs -> expected backend or error, checked
// by `twinbox route test FILE` (users regression-test their routing in CI). Pure: text in, cases
// and outcomes out. The format is documented in docs/examples/routing-cases.txt and
// src/router/README.md.
#include <string>
#include <string_view>
#include <vector>

#include "router/decision_json.hpp"
#include "router/groups.hpp"
#include "router/run_decision.hpp"
#include "util/result.hpp"

namespace twinbox::router {

struct CaseExpect {
  std::string backend;  // "hv", "rosetta", "mixed" (projects); "" when an error is expected
  bool error = false;
  int status = 0;          // error: expected HTTP status, 0 = any
  std::string substring;   // error: case-insensitive substring of the message
  std::string platform;    // expect-platform (single decisions), "" = not checked
  std::string translator;  // expect-translator, "" = not checked
  std::string reason;      // expect-reason: case-insensitive substring of the reason
};

struct RouteCase {
  std::string name;
  int line = 0;  // of its `case:` line
  ExplainQuery query;
  RouteEnv env;
  std::vector<ServiceSpec> services;  // compose-service lines: a project decision when non-empty
  CaseExpect expect;
};

// Parses a case file. InvalidArgument "line N: ..." for an unknown key, a bad value, a key
// repeated in one case, or a case without `case:`/`expect:`. An empty file has no cases.
Result<std::vector<RouteCase>> parse_route_cases(std::string_view text);

struct CaseOutcome {
  bool passed = false;
  std::string expected;  // "rosetta", "error 409 containing \"declare the project\"", ...
  std::string actual;    // "rosetta linux/amd64 (translator ...): reason" or "error 503: ..."
};

CaseOutcome run_route_case(const RouteCase& c);

}  // namespace twinbox::router
