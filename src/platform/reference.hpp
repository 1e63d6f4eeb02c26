#pragma once
// Image references with Docker's normalization (distribution/reference's ParseNormalizedNamed
// plus TagNameOnly): "busybox" -> docker.io/library/busybox:latest, "user/img" ->
// docker.io/user/img:latest, "localhost:5000/team/app:v2", "alpine@sha256:<64 hex>". Pure.
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace twinbox::platform {

struct Reference {
  std::string domain;  // "docker.io", "localhost:5000", "[::1]:5000"
  std::string path;    // "library/busybox", "team/app"
  std::string tag;     // "latest" when neither a tag nor a digest was given; "" with a digest only
  std::string digest;  // "" or "sha256:<64 hex>"

  // "docker.io/library/busybox".
  std::string name() const;
  // How docker displays the name: "busybox", "user/img", "localhost:5000/team/app".
  std::string familiar_name() const;
  // Fully qualified: "docker.io/library/busybox:latest", "...:1.36@sha256:...".
  std::string canonical() const;
  // How docker displays it: "busybox:latest", "user/img@sha256:...".
  std::string familiar() const;
  bool operator==(const Reference&) const = default;
};

// Parses and normalizes `s` ("name[:tag][@digest]"); when both a tag and a digest are given both
// are kept (the digest decides what is pulled, the tag is kept for display). InvalidArgument
// starting "invalid reference format" like dockerd, saying what is wrong and showing valid forms.
Result<Reference> parse_reference(std::string_view s);

// "algorithm:hex" with an OCI-registered algorithm (sha256, sha512; like image::Digest) and
// lower-case hex of its length. InvalidArgument saying what is wrong.
Status validate_digest(std::string_view digest);

}  // namespace twinbox::platform
