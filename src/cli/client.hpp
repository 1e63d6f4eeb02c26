#pragma once
// Requests to twinboxd's socket: api::engine_request (the same client twinboxd uses towards the
// guest engines) with a hint when nobody answers.
#include <string>

#include "api/engine_client.hpp"
#include "util/result.hpp"

namespace twinbox::cli {

using Response = api::EngineResponse;

Result<Response> request(const std::string& socket_path, const std::string& method,
                         const std::string& path);

}  // namespace twinbox::cli
