#pragma once
// Option parsing for twinbox-assets: "--key value" pairs; a key may take several values
// ("--module a b --module c"). Anything not after a "--key" is an error.
#include <map>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace twinbox::assets {

class CliArgs {
 public:
  static Result<CliArgs> parse(const std::vector<std::string>& args);

  // The one value of --key. InvalidArgument when missing or given more than once.
  Result<std::string> one(const std::string& key) const;
  // All values of --key (empty when absent).
  std::vector<std::string> all(const std::string& key) const;
  // InvalidArgument naming the first key not in `known`.
  Status only(const std::vector<std::string>& known) const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace twinbox::assets
