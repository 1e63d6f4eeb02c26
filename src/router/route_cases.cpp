#include "router/route_cases.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "platform/host_profile.hpp"
#include "router/platform_route.hpp"
#include "util/strings.hpp"

namespace twinbox::router {

namespace {

constexpr std::string_view kKeys =
    "case, image, image-platforms, platform, body-platform, name, profile, backends, rosetta, "
    "disabled, "
    "fallback, mixed-projects, project, pod-peer, compose-service, expect, expect-platform, "
    "expect-translator, expect-reason";

bool repeatable(std::string_view key) { return key == "pod-peer" || key == "compose-service"; }

Error at(int line, const std::string& what) {
  return make_error(ErrorCode::InvalidArgument, "line " + std::to_string(line) + ": " + what);
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  for (auto& w : split(trim(s), ' '))
    if (!trim(w).empty()) out.push_back(std::string(trim(w)));
  return out;
}

Result<bool> on_off(int line, std::string_view key, std::string_view v) {
  std::string s = to_lower(v);
  if (s == "on" || s == "true" || s == "yes" || s == "enabled") return true;
  if (s == "off" || s == "false" || s == "no" || s == "disabled") return false;
  return at(line, std::string(key) + ": \"" + std::string(v) + "\" is not on or off");
}

// A backend's name: one some host profile has (hv, rosetta, ...).
Result<std::string> backend_word(int line, std::string_view what, const std::string& w) {
  std::vector<std::string> known;
  for (const auto& prof : platform::all_profiles())
    for (const auto& b : prof.backends) {
      if (b.name == w) return w;
      if (std::find(known.begin(), known.end(), b.name) == known.end()) known.push_back(b.name);
    }
  return at(line, std::string(what) + ": backend \"" + w + "\" is not one of " + join(known, ", "));
}

Result<std::optional<std::vector<platform::Platform>>> platforms(int line, std::string_view key,
                                                                 std::string_view v) {
  auto ps = parse_platform_list(v);
  if (!ps) return at(line, std::string(key) + ": " + ps.error().message);
  return *ps;
}

// "shop" or "shop on rosetta (declared)" or "shop on hv (first container web)".
Status parse_project(int line, std::string_view v, GroupContext& g) {
  auto w = words(v);
  if (w.empty()) return at(line, "project: a name is needed");
  g.project_name = w[0];
  if (w.size() == 1) return {};
  if (w.size() < 4 || w[1] != "on")
    return at(line,
              "project: expected \"NAME\" or \"NAME on hv|rosetta (declared)\" or \"NAME "
              "on hv|rosetta (first container SERVICE)\"");
  ProjectPlacement p;
  p.name = w[0];
  TRY_ASSIGN(p.backend, backend_word(line, "project", w[2]));
  std::string rest = join(std::vector<std::string>(w.begin() + 3, w.end()), " ");
  if (rest == "(declared)") {
    p.source = PlacementSource::Declared;
  } else if (starts_with(rest, "(first container") && rest.back() == ')') {
    p.source = PlacementSource::FirstContainer;
    p.decided_by = "container " + std::string(trim(rest.substr(16, rest.size() - 17)));
  } else {
    return at(line,
              "project: after the backend, \"(declared)\" or \"(first container "
              "SERVICE)\", not \"" +
                  rest + "\"");
  }
  g.project = p;
  return {};
}

// "db on hv" or "db on hv via network_mode container:db".
Result<PodPeer> parse_peer(int line, std::string_view v) {
  auto w = words(v);
  if (w.size() < 3 || w[1] != "on")
    return at(line, "pod-peer: expected \"NAME on hv|rosetta [via RELATION]\"");
  PodPeer p;
  p.name = w[0];
  TRY_ASSIGN(p.backend, backend_word(line, "pod-peer", w[2]));
  if (w.size() > 3) {
    if (w[3] != "via" || w.size() < 5) return at(line, "pod-peer: \"via RELATION\" expected");
    p.relation = join(std::vector<std::string>(w.begin() + 4, w.end()), " ");
  } else {
    p.relation = "network_mode container:" + p.name;
  }
  return p;
}

// "web platform=linux/amd64 image-platforms=linux/amd64,linux/arm64".
Result<ServiceSpec> parse_service(int line, std::string_view v) {
  auto w = words(v);
  if (w.empty()) return at(line, "compose-service: a name is needed");
  ServiceSpec s;
  s.name = w[0];
  for (size_t i = 1; i < w.size(); ++i) {
    auto eq = w[i].find('=');
    std::string k = w[i].substr(0, eq), val = eq == std::string::npos ? "" : w[i].substr(eq + 1);
    if (k == "platform" && !val.empty()) {
      s.platform = val;
    } else if (k == "image-platforms" && !val.empty()) {
      TRY_ASSIGN(s.image_platforms, platforms(line, "compose-service " + s.name, val));
    } else {
      return at(line, "compose-service " + s.name + ": \"" + w[i] +
                          "\" is not platform=P or image-platforms=P1,P2");
    }
  }
  return s;
}

Status parse_expect(int line, std::string_view v, CaseExpect& e) {
  auto w = words(v);
  if (w.empty()) return at(line, "expect: a backend, mixed or error [STATUS] [TEXT] expected");
  if (w[0] != "error") {
    if (w[0] != "mixed" && !backend_word(line, "expect", w[0]))
      return at(line, "expect: \"" + w[0] + "\" is not a backend, mixed or error");
    if (w.size() > 1) return at(line, "expect: nothing may follow the backend");
    e.backend = w[0];
    return {};
  }
  e.error = true;
  std::string rest(trim(trim(v).substr(5)));
  if (rest.size() >= 3 && std::isdigit(static_cast<unsigned char>(rest[0])) &&
      std::isdigit(static_cast<unsigned char>(rest[1])) &&
      std::isdigit(static_cast<unsigned char>(rest[2])) && (rest.size() == 3 || rest[3] == ' ')) {
    e.status = std::stoi(rest.substr(0, 3));
    rest = std::string(trim(rest.substr(3)));
  }
  e.substring = rest;
  return {};
}

Status apply(int line, const std::string& key, const std::string& v, RouteCase& c) {
  if (key == "case") {
    c.name = v;
  } else if (key == "image") {
    c.query.image = v;
  } else if (key == "image-platforms") {
    TRY_ASSIGN(c.query.image_platforms, platforms(line, key, v));
  } else if (key == "platform") {
    c.query.platform = v;
  } else if (key == "body-platform") {
    c.query.body_platform = v;
  } else if (key == "name") {
    c.query.name = v;
  } else if (key == "profile") {
    c.env.profile = platform::find_profile(v);
    if (!c.env.profile)
      return at(line, "profile: unknown host profile \"" + v +
                          "\" (known: " + platform::profile_names_text() + ")");
  } else if (key == "backends") {
    for (const auto& w : words(v)) {
      auto eq = w.find('=');
      if (eq == std::string::npos) return at(line, "backends: \"" + w + "\" is not NAME=STATE");
      TRY_ASSIGN(std::string b, backend_word(line, "backends", w.substr(0, eq)));
      std::string state = w.substr(eq + 1);
      if (state == "absent") state.clear();
      c.env.backends.set(b, state);
    }
  } else if (key == "rosetta" || key == "disabled") {
    // `rosetta: off` is `disabled: rosetta`, as twinboxd --no-rosetta.
    std::vector<std::string> names;
    if (key == "rosetta") {
      TRY_ASSIGN(bool on, on_off(line, key, v));
      if (!on) names.push_back("rosetta");
    } else {
      std::string list = v;
      for (char& ch : list)
        if (ch == ',') ch = ' ';
      for (const auto& w : words(list)) {
        TRY_ASSIGN(std::string b, backend_word(line, key, w));
        names.push_back(b);
      }
    }
    for (auto& n : names) c.env.translator.disabled.push_back(std::move(n));
  } else if (key == "fallback") {
    c.env.translator.fallback = to_lower(v) == "none" ? "" : v;
  } else if (key == "mixed-projects") {
    TRY_ASSIGN(c.env.mixed_projects, on_off(line, key, v));
  } else if (key == "project") {
    TRY(parse_project(line, v, c.query.group));
  } else if (key == "pod-peer") {
    TRY_ASSIGN(PodPeer p, parse_peer(line, v));
    c.query.group.pod_peers.push_back(p);
  } else if (key == "compose-service") {
    TRY_ASSIGN(ServiceSpec s, parse_service(line, v));
    c.services.push_back(s);
  } else if (key == "expect") {
    TRY(parse_expect(line, v, c.expect));
  } else if (key == "expect-platform") {
    c.expect.platform = v;
  } else if (key == "expect-translator") {
    c.expect.translator = v;
  } else if (key == "expect-reason") {
    c.expect.reason = v;
  } else {
    return at(line, "unknown key \"" + key + "\" (known: " + std::string(kKeys) + ")");
  }
  return {};
}

bool icontains(std::string_view hay, std::string_view needle) {
  return to_lower(hay).find(to_lower(needle)) != std::string::npos;
}

std::string expected_text(const CaseExpect& e) {
  std::string s;
  if (e.error) {
    s = "error";
    if (e.status) s += " " + std::to_string(e.status);
    if (!e.substring.empty()) s += " containing \"" + e.substring + "\"";
  } else {
    s = e.backend;
  }
  if (!e.platform.empty()) s += ", platform " + e.platform;
  if (!e.translator.empty()) s += ", translator " + e.translator;
  if (!e.reason.empty()) s += ", reason containing \"" + e.reason + "\"";
  return s;
}

}  // namespace

Result<std::vector<RouteCase>> parse_route_cases(std::string_view text) {
  std::vector<RouteCase> out;
  std::optional<RouteCase> cur;
  std::set<std::string> seen;
  bool has_expect = false;
  auto finish = [&]() -> Status {
    if (!cur) return {};
    if (cur->name.empty()) return at(cur->line, "this case has no \"case:\" line (its name)");
    if (!has_expect) return at(cur->line, "case \"" + cur->name + "\" has no \"expect:\" line");
    out.push_back(std::move(*cur));
    cur.reset();
    return {};
  };
  auto lines = split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    int n = static_cast<int>(i) + 1;
    std::string_view l = trim(lines[i]);
    if (l.empty()) {
      TRY(finish());
      continue;
    }
    if (l[0] == '#') continue;
    auto colon = l.find(':');
    if (colon == std::string_view::npos)
      return at(n, "\"" + std::string(l) + "\" is not \"key: value\"");
    std::string key = to_lower(trim(l.substr(0, colon)));
    std::string value(trim(l.substr(colon + 1)));
    if (!cur) {
      cur.emplace();
      cur->line = n;
      seen.clear();
      has_expect = false;
    }
    if (!repeatable(key) && !seen.insert(key).second)
      return at(n, "\"" + key + "\" given twice in one case (cases are separated by a blank line)");
    if (value.empty()) return at(n, "\"" + key + "\" has no value");
    if (key == "expect") has_expect = true;
    TRY(apply(n, key, value, *cur));
  }
  TRY(finish());
  return out;
}

CaseOutcome run_route_case(const RouteCase& c) {
  CaseOutcome o;
  o.expected = expected_text(c.expect);
  const CaseExpect& e = c.expect;
  std::optional<Error> err;
  std::string backend, platform, translator, reason;
  if (!c.services.empty()) {
    std::string project =
        c.query.group.project_name.empty() ? "project" : c.query.group.project_name;
    auto d = decide_project(project, c.services, c.env);
    if (d) {
      backend = d->backend;
      reason = d->reason;
      std::vector<std::string> each;
      for (const auto& s : d->services)
        each.push_back(s.service + "=" + s.decision.backend + " " + s.decision.platform);
      platform = join(each, ", ");
    } else {
      err = d.error();
    }
  } else {
    auto x = explain(c.query, c.env);
    if (x.decision) {
      backend = x.decision->backend;
      platform = x.decision->platform;
      translator = x.decision->translator;
      reason = x.decision->reason;
    } else {
      err = x.error;
    }
  }
  if (err) {
    int status = error_code_http_status(err->code);
    o.actual = "error " + std::to_string(status) + ": " + err->message;
    o.passed = e.error && (e.status == 0 || e.status == status) &&
               (e.substring.empty() || icontains(err->message, e.substring));
    return o;
  }
  o.actual = backend + " " + platform +
             (translator.empty() ? "" : " (translator " + translator + ")") + ": " + reason;
  o.passed = !e.error && backend == e.backend && (e.platform.empty() || e.platform == platform) &&
             (e.translator.empty() || e.translator == translator) &&
             (e.reason.empty() || icontains(reason, e.reason));
  return o;
}

}  // namespace twinbox::router
