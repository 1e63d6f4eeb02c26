#include "util/result.hpp"

namespace twinbox {

const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::NotFound:
      return "not found";
    case ErrorCode::Conflict:
      return "conflict";
    case ErrorCode::InvalidArgument:
      return "invalid argument";
    case ErrorCode::Unavailable:
      return "unavailable";
    case ErrorCode::Timeout:
      return "timeout";
    case ErrorCode::Io:
      return "i/o error";
    case ErrorCode::Internal:
      return "internal error";
  }
  return "error";
}

int error_code_http_status(ErrorCode c) {
  switch (c) {
    case ErrorCode::NotFound:
      return 404;
    case ErrorCode::Conflict:
      return 409;
    case ErrorCode::InvalidArgument:
      return 400;
    case ErrorCode::Unavailable:
      return 503;
    case ErrorCode::Timeout:
      return 504;
    case ErrorCode::Io:
    case ErrorCode::Internal:
      return 500;
  }
  return 500;
}

}  // namespace twinbox
