// InputFile: the one way kunsim opens a file a user gave it (scenario, sweep, trace, profile,
// decision log, measured table). Only a regular file is read. A folder, a FIFO, a device or a
// socket is refused at once with what it is (exit 2), since reading one would hang (a FIFO with
// no writer) or never end (/dev/zero). JSON documents are read whole, so they have a size cap;
// line-oriented files (traces, tables) are streamed and need none.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>

namespace kunsim {

// The largest JSON document kunsim reads (scenario, sweep, profile): 64 MiB. The largest shipped
// one is under 1 MiB; a measured profile of every op and shape is a few MiB.
inline constexpr std::uintmax_t kMaxJsonDocumentBytes = std::uintmax_t{64} << 20;

// `path` opened for binary reading. InputError "PATH: WHAT not found" when it does not exist,
// "PATH: is a folder, not a WHAT file" (or a FIFO, a device, ...) when it is not a regular file,
// and "PATH: WHAT file is N MiB, past the limit of M MiB" past `max_bytes` (0: no cap).
std::ifstream open_input_file(const std::string& path, const std::string& what, std::uintmax_t max_bytes = 0);

// "" for a regular file (after symlinks), else what `path` is: kDoesNotExist, "is a folder",
// "is a FIFO", "is a device", "is a socket", "is not a regular file".
inline constexpr const char* kDoesNotExist = "does not exist";
std::string not_a_regular_file(const std::string& path);

}  // namespace kunsim
