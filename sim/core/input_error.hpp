// InputError: bad input from the user (scenario, trace, CLI). The CLI maps it to exit code 2.
// The message always names where the problem is: a JSON path (`cluster.gpus_per_node`) or a
// file:line, so the user can fix it without reading kunsim's code.
#pragma once
#include <stdexcept>
#include <string>

namespace kunsim {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace kunsim
