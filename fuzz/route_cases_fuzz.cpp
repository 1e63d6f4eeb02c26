// Routing-case files (`twinbox route test FILE`): parsed, then every case decided.
#include "fuzz_input.hpp"
#include "router/route_cases.hpp"

using namespace twinbox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto cases = router::parse_route_cases(fuzz::as_text(data, size));
  if (!cases) return 0;
  for (const auto& c : *cases) (void)router::run_route_case(c);
  return 0;
}
