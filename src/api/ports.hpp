#pragma once
// Published ports across both VMs: one host port space (router::PortAllocator), a slirp hostfwd
// per port into the VM that runs the container (BackendSet::forward_port), and the guest engine
// told to bind the same port number on its private interfaces. Reservations survive a twinboxd
// restart through the container label io.twinbox.published, re-applied when backends come up.
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "api/backends.hpp"
#include "router/port_allocator.hpp"
#include "util/result.hpp"

namespace twinbox::api {

class PortPublisher {
 public:
  explicit PortPublisher(BackendSet& backends) : backends_(backends) {}

  // Reserves and forwards every request for a container being created on `backend`, all or
  // nothing. `pending_id` names the reservation until adopt(). `holder_alive` is asked about a
  // conflicting holder: when it says the holder is gone (auto-removed), its ports are freed and
  // the reservation retried.
  Result<std::vector<router::PortReservation>> publish(
      const std::string& backend, const std::string& pending_id, const std::string& name,
      const std::vector<router::PortRequest>& requests,
      const std::function<bool(const router::PortHolder&)>& holder_alive);
  // The create succeeded: the pending reservation now belongs to `container_id`.
  void adopt(const std::string& pending_id, const std::string& container_id);
  // Removes the forwards and frees the ports of a container (or a failed pending create).
  void release(const std::string& id);
  // After a restart: makes sure `container_id` on `backend` holds `ports` (from its label) and
  // that they are forwarded. Conflicts are logged, not fatal.
  void restore(const std::string& backend, const std::string& container_id,
               const std::string& name, const std::vector<router::PortRequest>& ports);
  // Frees the ports of containers of `backend` not in `live_ids` (removed behind our back).
  void forget_missing(const std::string& backend, const std::vector<std::string>& live_ids);

  std::vector<router::PortReservation> reservations() const;

 private:
  Status forward_all(const std::vector<router::PortReservation>& held);
  void unforward_all(const std::vector<router::PortReservation>& held);

  BackendSet& backends_;
  mutable std::mutex mu_;
  router::PortAllocator alloc_;
};

}  // namespace twinbox::api
