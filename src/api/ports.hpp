#pragma once
// Published ports across both VMs: one host port space (router::PortAllocator), a slirp hostfwd
// per port into the VM that runs the container (BackendSet::forward_port), and the guest engine
// told to bind the same port number on its private interfaces. Reservations survive a twinboxd
// restart through the container label io.twinbox.published, re-applied when backends come up.
//
// As in one dockerd, a host port conflicts only between running containers: a container that is
// not running yields its ports to a create or start that asks for them (and takes them back at its
// own start), and a create whose ports a running container holds is created without them; its
// start then fails as dockerd's does ("port is already allocated").
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api/backends.hpp"
#include "router/port_allocator.hpp"
#include "util/result.hpp"

namespace twinbox::api {

enum class HolderState { Running, Stopped, Gone };

class PortPublisher {
 public:
  // Asked about a container holding a port another one wants (a request to its engine).
  using StateOf = std::function<HolderState(const router::PortHolder&)>;

  explicit PortPublisher(BackendSet& backends) : backends_(backends) {}

  // Assigns the host ports of a container being created on `backend` (`pending_id` until
  // adopt()) and holds and forwards them, all or nothing, unless a running container holds one:
  // then the ports are only assigned, and the container's start claims them.
  Result<std::vector<router::PortReservation>> publish(
      const std::string& backend, const std::string& pending_id, const std::string& name,
      const std::vector<router::PortRequest>& requests, const StateOf& state_of);
  // The create succeeded: the pending ports now belong to `container_id`.
  void adopt(const std::string& pending_id, const std::string& container_id);
  // Before a start or restart: a container that yielded its ports (or never held them) takes them
  // back. A running holder of one of them is dockerd's 500 "port is already allocated".
  Status claim(const std::string& container_id, const StateOf& state_of);
  // Removes the forwards and forgets the ports of a container (or a failed pending create).
  void release(const std::string& id);
  // After a restart of twinboxd or of the VM: `container_id` on `backend` has `ports` (from its
  // label); a running one holds and forwards them again (forwards them again when it still holds
  // them); a stopped one's leftover forwards go. Conflicts are logged, not fatal.
  void restore(const std::string& backend, const std::string& container_id, const std::string& name,
               const std::vector<router::PortRequest>& ports, bool running);
  // Forgets the ports of containers of `backend` not in `live_ids` (removed behind our back),
  // a listing asked for after mark() said `listed_at`: containers given ports since are newer.
  void forget_missing(const std::string& backend, const std::vector<std::string>& live_ids,
                      uint64_t listed_at);
  uint64_t mark() const;

  // What is held (and forwarded) now.
  std::vector<router::PortReservation> reservations() const;
  // What a container was given, held or not (empty when it publishes nothing).
  std::vector<router::PortReservation> ports_of(const std::string& container_id) const;

 private:
  struct Entry {
    router::PortHolder holder;
    std::vector<router::PortReservation> ports;  // assigned numbers
    uint64_t given_at = 0;                       // writes_ when given
  };
  // Reserves and forwards `requests` for `holder`; non-running holders in the way yield. A
  // conflict with a running holder is returned as Conflict naming it.
  Result<std::vector<router::PortReservation>> hold(
      const router::PortHolder& holder, const std::vector<router::PortRequest>& requests,
      const StateOf& state_of);
  // Assigned numbers without holding them (a running container holds one of the ports).
  Result<std::vector<router::PortReservation>> assign_only(
      const router::PortHolder& holder, const std::vector<router::PortRequest>& requests);
  // Stops forwarding and frees a container's ports; `forget` also drops what it was given.
  void unhold(const std::string& id, bool forget);
  Status forward_all(const std::vector<router::PortReservation>& held);
  void unforward_all(const std::vector<router::PortReservation>& held);

  BackendSet& backends_;
  mutable std::mutex mu_;
  router::PortAllocator alloc_;
  std::map<std::string, Entry> given_;  // container (or pending) id -> its ports
  uint64_t writes_ = 0;
};

}  // namespace twinbox::api
