#pragma once
// Docker API JSON handled by twinbox itself, pure: error bodies, the platform field and labels
// of a container-create body. Parsing never throws (json::parse(s, nullptr, false)).
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "router/port_allocator.hpp"
#include "util/result.hpp"

namespace twinbox::api {

// Key order is kept so rewritten bodies read like the client's.
using Json = nlohmann::ordered_json;

// Serializes without throwing (invalid UTF-8 is replaced).
std::string dump_json(const Json& j);
// Docker's error body: {"message":"..."}.
std::string error_body(std::string_view message);

// The "platform" (or "Platform") string field of a create body, if any.
std::optional<std::string> create_body_platform(std::string_view body);

using Labels = std::vector<std::pair<std::string, std::string>>;

// Adds `labels` to the create body's Labels object (creating it when absent or null; twinbox's
// labels replace same-named ones). InvalidArgument when the body is not a JSON object or its
// Labels is neither an object nor null.
Result<std::string> add_create_labels(std::string_view body, const Labels& labels);

// The labels twinbox puts on every container it creates.
// Adds "name:ip" to HostConfig.ExtraHosts unless the body already maps `name` (the user's
// --add-host wins). InvalidArgument when HostConfig or ExtraHosts has the wrong type.
Result<std::string> add_extra_host(std::string_view body, std::string_view name,
                                   std::string_view ip);

Labels routing_labels(std::string_view backend, std::string_view execution,
                      std::string_view translator, std::string_view platform,
                      std::string_view reason);

// A host path a container create body bind-mounts.
struct BindSource {
  std::string path;          // as the client gave it
  bool from_mounts = false;  // HostConfig.Mounts (--mount type=bind) rather than Binds (-v)
};

// What routing needs from a container-create body.
struct CreateFacts {
  std::string image;                       // "Image"
  std::optional<std::string> platform;     // "platform" / "Platform"
  std::string project;                     // Labels["com.docker.compose.project"]
  std::string service;                     // Labels["com.docker.compose.service"]
  std::vector<router::PortRequest> ports;  // HostConfig.PortBindings
  // HostConfig.Binds entries with an absolute source ("/src:/dst[:opts]"; others name volumes)
  // and HostConfig.Mounts of Type "bind".
  std::vector<BindSource> binds;
};
// InvalidArgument naming the field when the body is not a create body twinbox can route.
Result<CreateFacts> parse_create_facts(std::string_view body);

// Paths of the utility VM itself a container may bind-mount though they are not shared from
// the host (as Docker Desktop's VM serves them): the engine's socket, /proc, /sys, /dev, the
// guest's kernel modules and clock.
bool is_vm_path(std::string_view normal_path);

// Refuses (InvalidArgument, "Mounts denied: ...", what to do) a bind source that is neither a
// VM path nor inside one of `shared` (normal absolute paths): in the VM it would be an empty
// directory, not the user's files. `resolve` gives a source's real path on the host ("" when it
// does not exist): a symlink that leads out of the shares is refused too. Relative sources
// (compose resolves its own; the API has none) are refused as dockerd refuses them. A source
// inside one of `withheld` (twinbox's own state: the VMs' disks, the socket, the registry),
// though shared, is refused too: a container writing there would corrupt the running VMs.
Status check_bind_sources(const std::vector<BindSource>& binds,
                          const std::vector<std::string>& shared,
                          const std::vector<std::string>& withheld,
                          const std::function<std::string(const std::string&)>& resolve);

// Replaces HostConfig.PortBindings with what the guest engine must bind: every reservation's
// host port on all guest interfaces (the VM is private; the host side is the forward).
Result<std::string> rewrite_port_bindings(std::string_view body,
                                          const std::vector<router::PortReservation>& held);

// The label that remembers the host side of published ports across restarts, proto:ip:host:
// container: "tcp:127.0.0.1:8080:80,udp:0.0.0.0:5353:53" (guest port = host port).
inline constexpr std::string_view kPublishedLabel = "io.twinbox.published";
std::string published_label(const std::vector<router::PortReservation>& held);
// Entries that do not parse are skipped: the label is twinbox's own.
std::vector<router::PortRequest> parse_published_label(std::string_view label);

// The label that keeps HostConfig.PortBindings as the client sent it (the guest is given the
// rewritten one), so inspect shows what was asked: {"80/tcp":[{"HostIp":"127.0.0.1",...}]}.
inline constexpr std::string_view kAskedPortsLabel = "io.twinbox.port-bindings";
// The create body's PortBindings as compact JSON ("{}" when none).
std::string asked_ports_label(std::string_view create_body);

// What the user asked and what the host binds, in place of what the guest engine bound (all its
// interfaces, the assigned port): a container inspect answer's HostConfig.PortBindings (as asked)
// and NetworkSettings.Ports (the host address and port of each forward), from its labels.
void show_host_ports_in_inspect(Json& inspect);
// The same for one entry of GET /containers/json: Ports[] name the host address and port.
void show_host_ports_in_listing(Json& container);

// "os/arch[/variant]" of an image inspect answer (Os defaults to linux); nullopt without an
// Architecture.
std::optional<std::string> image_inspect_platform(const Json& inspect);

// Reads a string/integer field without throwing; nullopt when missing or of another type.
std::optional<std::string> json_string(const Json& j, std::string_view key);
std::optional<int64_t> json_int(const Json& j, std::string_view key);

}  // namespace twinbox::api
