#include "sim/core/output_folder.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "sim/core/input_error.hpp"
#include "sim/core/interruption.hpp"

namespace kunsim {

namespace fs = std::filesystem;

namespace {

std::atomic<int> g_live{0};

// `.NAME.suffix` beside `path` (built by appending: GCC 12 warns falsely on "." + string).
fs::path sibling(const fs::path& path, const char* suffix) {
  std::string name(".");
  name += path.filename().string();
  name += suffix;
  return path.parent_path() / name;
}

// The longest name an output may have: the temporary sibling adds 13 characters, and most
// file systems stop at 255.
constexpr std::size_t kMaxOutputName = 240;

fs::path checked_dest(const std::string& dest) {
  if (dest.empty()) throw InputError("--out: an empty path names no output");
  fs::path p(dest);
  if (p.filename().empty()) p = p.parent_path();  // "out/run/" names "out/run"
  if (p.empty() || p.filename() == "." || p.filename() == "..")
    throw InputError(dest + ": --out must name a folder or file of its own, not . or ..");
  if (p.filename().string().size() > kMaxOutputName)
    throw InputError(dest.substr(0, 60) + "...: the output's name is " + std::to_string(p.filename().string().size()) +
                     " characters, past the limit of " + std::to_string(kMaxOutputName));
  return p;
}

// True when `inner` is `outer` or lies inside it (both made absolute, symlinks resolved).
bool within(const fs::path& inner, const fs::path& outer) {
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(inner, ec), b = fs::weakly_canonical(outer, ec);
  auto i = a.begin();
  for (auto o = b.begin(); o != b.end(); ++o, ++i) {
    if (o->empty()) break;  // a trailing separator ends the outer path
    if (i == a.end() || *i != *o) return false;
  }
  return true;
}

// Every temporary counts in g_live from its creation until it is committed or removed, so the
// signal handler knows whether there is anything to clean up.
void hold(bool& live) {
  live = true;
  g_live.fetch_add(1);
}
void let_go(bool& live) {
  live = false;
  g_live.fetch_sub(1);
}

void hold_for_tests() {
  if (!std::getenv(kHoldBeforeRenameEnv)) return;
  for (int i = 0; i < 6000 && !interrupt_requested(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace

int live_outputs() noexcept { return g_live.load(std::memory_order_relaxed); }

OutputFolder::OutputFolder(const std::string& dest, const OutputRules& rules, bool create)
    : dest_(checked_dest(dest)), owner_(create) {
  tmp_ = sibling(dest_, ".kunsim-tmp");
  if (!create) return;
  std::error_code ec;
  if (fs::exists(dest_) && !fs::is_directory(dest_))
    throw InputError(dest_.string() + ": --out names a file, not a folder");
  if (within(fs::current_path(ec), dest_))
    throw InputError(dest_.string() +
                     ": is the working folder or holds it; kunsim replaces its output folder whole, "
                     "so give --out a folder of its own");
  for (const std::string& in : rules.inputs)
    if (!in.empty() && within(in, dest_))
      throw InputError(dest_.string() + ": holds " + in +
                       ", an input of this command; kunsim replaces its output "
                       "folder whole, so give --out a folder of its own");
  if (fs::is_directory(dest_) && !fs::is_empty(dest_, ec) && !fs::exists(dest_ / kOutputMarker) && !rules.overwrite)
    throw InputError(dest_.string() +
                     ": folder is not empty and was not written by kunsim (give --overwrite to replace it)");
  // Held before the temporary exists, so a signal never finds it on disk and uncounted (the
  // handler would take the default action and leave it behind).
  hold(live_);
  fs::remove_all(tmp_, ec);
  fs::create_directories(tmp_, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove_all(tmp_, ignored);
    let_go(live_);
    throw InputError(tmp_.string() + ": cannot create output folder (" + ec.message() + ")");
  }
}

OutputFolder::~OutputFolder() {
  if (!live_) return;
  std::error_code ec;
  fs::remove_all(tmp_, ec);
  let_go(live_);
}

void OutputFolder::commit() {
  if (!owner_) return;
  {
    std::ofstream(tmp_ / kOutputMarker) << "written by kunsim; the folder is replaced whole by the next run into it\n";
  }
  hold_for_tests();
  throw_if_interrupted();  // the last point at which the old folder is still whole
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
  let_go(live_);
}

OutputFile::OutputFile(const std::string& dest) : dest_(checked_dest(dest)), tmp_(sibling(dest_, ".kunsim-tmp")) {
  std::error_code ec;
  if (fs::is_directory(dest_, ec)) throw InputError(dest_.string() + ": is a folder; --out names a file here");
  hold(live_);
}

OutputFile::~OutputFile() {
  if (!live_) return;
  std::error_code ec;
  fs::remove(tmp_, ec);
  let_go(live_);
}

void OutputFile::commit() {
  hold_for_tests();
  throw_if_interrupted();
  std::error_code ec;
  fs::rename(tmp_, dest_, ec);
  if (ec) throw InputError(dest_.string() + ": cannot write output file (" + ec.message() + ")");
  let_go(live_);
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw InputError(path.string() + ": cannot write output file");
}

void write_file_atomic(const fs::path& path, const std::string& text) {
  OutputFile file(path.string());
  write_text(file.path(), text);
  file.commit();
}

}  // namespace kunsim
