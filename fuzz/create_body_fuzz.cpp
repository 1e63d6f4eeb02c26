// The JSON bodies twinboxd reads from clients: a container create (image, platform, labels,
// PortBindings), the labels, extra host and port bindings it rewrites into it, and a
// port-binding map.
#include <nlohmann/json.hpp>

#include "api/docker_json.hpp"
#include "fuzz_input.hpp"
#include "router/port_allocator.hpp"
#include "util/json.hpp"

using namespace twinbox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = fuzz::as_text(data, size);
  auto facts = api::parse_create_facts(in);
  (void)api::add_create_labels(in, {{"io.twinbox.backend", "hv"}});
  (void)api::add_extra_host(in, "host.docker.internal", "10.0.2.2");
  std::vector<router::PortReservation> held(1);
  held[0].request = router::PortRequest{"127.0.0.1", 8080, 80, "tcp"};
  (void)api::rewrite_port_bindings(in, held);
  (void)api::parse_published_label(in);
  auto j = parse_json<nlohmann::json>(in);
  if (!j.is_discarded()) (void)router::parse_port_bindings(j);
  auto oj = parse_json<api::Json>(in);
  if (!oj.is_discarded()) (void)api::image_inspect_platform(oj);
  return 0;
}
