// Fuzz target: the scenario parser and validator. Any input must end in a valid Scenario or an
// InputError; a crash, a hang or any other exception is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "run/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const kunsim::Json j = kunsim::parse_json_text(text, "fuzz.json");
    kunsim::scenario_from_json(j, kunsim::TracePaths{});
  } catch (const kunsim::InputError&) {
  }
  return 0;
}
