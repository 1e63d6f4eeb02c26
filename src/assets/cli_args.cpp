#include "assets/cli_args.hpp"

#include <algorithm>

namespace twinbox::assets {

Result<CliArgs> CliArgs::parse(const std::vector<std::string>& args) {
  CliArgs out;
  std::string key;
  for (const std::string& a : args) {
    if (a.rfind("--", 0) == 0 && a.size() > 2) {
      if (!key.empty() && out.values_[key].empty())
        return make_error(ErrorCode::InvalidArgument, "option --" + key + " needs a value");
      key = a.substr(2);
      out.values_[key];
      continue;
    }
    if (key.empty())
      return make_error(ErrorCode::InvalidArgument, "unexpected argument '" + a + "'");
    out.values_[key].push_back(a);
  }
  if (!key.empty() && out.values_[key].empty())
    return make_error(ErrorCode::InvalidArgument, "option --" + key + " needs a value");
  return out;
}

Result<std::string> CliArgs::one(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end() || it->second.empty())
    return make_error(ErrorCode::InvalidArgument, "missing --" + key);
  if (it->second.size() > 1)
    return make_error(ErrorCode::InvalidArgument, "--" + key + " given more than one value");
  return it->second.front();
}

std::vector<std::string> CliArgs::all(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

Status CliArgs::only(const std::vector<std::string>& known) const {
  for (const auto& [key, vals] : values_)
    if (std::find(known.begin(), known.end(), key) == known.end())
      return make_error(ErrorCode::InvalidArgument, "unknown option --" + key);
  return {};
}

}  // namespace twinbox::assets
