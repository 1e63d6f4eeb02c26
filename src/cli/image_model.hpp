#pragma once
// `twinbox image`, the pure half: request targets, the prewarm list format, and the text shown
// for the daemon's answers. image_cmd.cpp does the files and the socket.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace twinbox::cli {

// "/twinbox/v1/images/import" with "?name=REPO" when a repository name is given.
std::string image_import_target(const std::string& repo);
// "/twinbox/v1/images/export?reference=R1&reference=R2", each reference percent-encoded.
std::string image_export_target(const std::vector<std::string>& references);

// "sha256:" and the first 12 hex digits, as short as `docker images` shows ids; other strings
// unchanged.
std::string short_digest(std::string_view digest);
// Docker's HumanSize: decimal units, 3 significant digits ("4.26MB", "512B").
std::string human_size(uint64_t bytes);

// The `image ls` table (REFERENCE, PLATFORMS, DIGEST, SIZE) of GET /twinbox/v1/images. A
// platform whose content is not all in the store is marked "(partial)".
std::string format_image_table(const nlohmann::json& images);

// One line per prewarm result ("pulled REF" / "error REF: message"); `failed` tells which.
std::string format_prewarm_result(const nlohmann::json& line, bool* failed);

}  // namespace twinbox::cli
