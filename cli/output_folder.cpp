#include "output_folder.hpp"

#include <fstream>

#include "sim/core/input_error.hpp"

namespace kunsim {

namespace fs = std::filesystem;

namespace {

// `.NAME.suffix` beside `path` (built by appending: GCC 12 warns falsely on "." + string).
fs::path sibling(const fs::path& path, const char* suffix) {
  std::string name(".");
  name += path.filename().string();
  name += suffix;
  return path.parent_path() / name;
}

}  // namespace

OutputFolder::OutputFolder(const std::string& dest, bool overwrite, bool create) : dest_(dest), owner_(create) {
  if (dest_.filename().empty()) dest_ = dest_.parent_path();  // "out/run/" names "out/run"
  tmp_ = sibling(dest_, ".kunsim-tmp");
  if (!create) return;
  std::error_code ec;
  if (fs::exists(dest_) && !fs::is_directory(dest_))
    throw InputError(dest_.string() + ": --out names a file, not a folder");
  if (fs::is_directory(dest_) && !fs::is_empty(dest_) && !fs::exists(dest_ / kOutputMarker) && !overwrite)
    throw InputError(dest_.string() + ": folder is not empty and was not written by kunsim (give --overwrite to replace it)");
  fs::remove_all(tmp_, ec);
  fs::create_directories(tmp_, ec);
  if (ec) throw InputError(tmp_.string() + ": cannot create output folder (" + ec.message() + ")");
}

OutputFolder::~OutputFolder() {
  if (owner_ && !committed_) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
}

void OutputFolder::commit() {
  if (!owner_) return;
  { std::ofstream(tmp_ / kOutputMarker) << "written by kunsim; the folder is replaced whole by the next run into it\n"; }
  std::error_code ec;
  const fs::path old = sibling(dest_, ".kunsim-old");
  fs::remove_all(old, ec);
  if (fs::exists(dest_)) {
    fs::rename(dest_, old, ec);
    if (ec) throw InputError(dest_.string() + ": cannot replace (" + ec.message() + ")");
  }
  fs::rename(tmp_, dest_, ec);
  if (ec) {
    std::error_code back;
    if (fs::exists(old)) fs::rename(old, dest_, back);
    throw InputError(dest_.string() + ": cannot move the new output into place (" + ec.message() + ")");
  }
  fs::remove_all(old, ec);
  committed_ = true;
}

void write_file_atomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = sibling(path, ".kunsim-tmp");
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out) throw InputError(path.string() + ": cannot write output file");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw InputError(path.string() + ": cannot write output file (" + ec.message() + ")");
}

}  // namespace kunsim
