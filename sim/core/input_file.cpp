#include "sim/core/input_file.hpp"

#include <filesystem>

#include "sim/core/input_error.hpp"

namespace kunsim {

namespace fs = std::filesystem;

std::string not_a_regular_file(const std::string& path) {
  std::error_code ec;
  // status() follows symlinks and opens nothing: a FIFO is named, never waited on.
  switch (fs::status(path, ec).type()) {
    case fs::file_type::regular:
      return "";
    case fs::file_type::not_found:
      return kDoesNotExist;
    case fs::file_type::directory:
      return "is a folder";
    case fs::file_type::fifo:
      return "is a FIFO (a named pipe)";
    case fs::file_type::character:
    case fs::file_type::block:
      return "is a device";
    case fs::file_type::socket:
      return "is a socket";
    default:
      return ec ? "cannot be read (" + ec.message() + ")" : "is not a regular file";
  }
}

std::ifstream open_input_file(const std::string& path, const std::string& what, std::uintmax_t max_bytes) {
  if (const std::string why = not_a_regular_file(path); !why.empty()) {
    if (why == kDoesNotExist) throw InputError(path + ": " + what + " file not found");
    throw InputError(path + ": " + why + ", not a " + what + " file");
  }
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (max_bytes && !ec && size > max_bytes)
    throw InputError(path + ": " + what + " file is " + std::to_string(size >> 20) + " MiB, past the limit of " +
                     std::to_string(max_bytes >> 20) + " MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open " + what + " file");
  return in;
}

}  // namespace kunsim
