// Fuzz target: every trace reader. The first byte picks the format; the rest is the file.
// Reading must end in requests or an InputError naming file:line, never a crash or a hang.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "sim/core/input_error.hpp"
#include "traces/trace_format_registry.hpp"
#include "traces/workload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* const formats[] = {"azure", "vidur", "burstgpt", "mooncake", "kunsim"};
  const char* format = formats[data[0] % 5];
  static const std::string path = "/tmp/kunsim-trace-fuzz-" + std::to_string(::getpid());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  try {
    // Read with rate_scale's stretch too: a scaled arrival past the limit must be refused, not wrap.
    const kunsim::Json w = {{"trace", {{"format", format}, {"path", path}}}, {"rate_scale", 1e-6}};
    auto src =
        kunsim::make_arrival_source(kunsim::workload_from_json(w, "workload", kunsim::TracePaths{}), kunsim::Rng(1));
    while (src->next()) {
    }
  } catch (const kunsim::InputError&) {
  }
  return 0;
}
