// OutputFolder and OutputFile: the one way kunsim writes what a user asked for (a run's folder,
// a sweep's, a plan's, an imported profile, a report page, a trace-stats profile), made atomic.
// Everything is written into a temporary sibling (`.NAME.kunsim-tmp`), and commit() renames it
// into place whole. So a folder from an earlier run is replaced with no stale file left in it,
// and a failed or interrupted command leaves the old output as it was and no temporary behind:
// the destructor removes it on every exit path, and a signal is turned into an exception
// (sim/core/interruption.hpp) so that the destructor runs.
//
// What a folder may replace: kunsim marks its folders with a `.kunsim-output` file; a non-empty
// folder without the mark is not kunsim's to replace, and is refused (exit 2) unless the user
// says --overwrite. Never replaced, even with --overwrite: the working folder or one that holds
// it, and a folder holding one of the command's inputs (the scenario, its trace). A single
// file replaces the file of that name, as any tool writing a named file does, never a folder.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace kunsim {

struct OutputRules {
  bool overwrite = false;           // --overwrite: replace a non-empty folder kunsim did not write
  std::vector<std::string> inputs;  // what the command reads: a folder holding one is never replaced
};

class OutputFolder {
 public:
  // Checks `dest` against the rules and prepares the temporary folder. With `create` false (MPI
  // ranks other than 0), only the paths are worked out: rank 0 prepares and commits.
  OutputFolder(const std::string& dest, const OutputRules& rules, bool create = true);
  ~OutputFolder();  // removes the temporary folder unless committed
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  const std::filesystem::path& path() const { return tmp_; }  // where to write
  const std::filesystem::path& dest() const { return dest_; }
  void commit();

 private:
  std::filesystem::path dest_, tmp_;
  bool owner_ = true, live_ = false;
};

class OutputFile {
 public:
  explicit OutputFile(const std::string& dest);
  ~OutputFile();  // removes the temporary file unless committed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::filesystem::path& path() const { return tmp_; }  // where to write
  void commit();

 private:
  std::filesystem::path dest_, tmp_;
  bool live_ = false;
};

inline constexpr const char* kOutputMarker = ".kunsim-output";

// Writes `text` to `path` through an OutputFile: for a file that is an output of its own.
void write_file_atomic(const std::filesystem::path& path, const std::string& text);
// Writes `text` to `path` directly: for a file inside an OutputFolder's path(), which is
// atomic as a whole. InputError when it cannot be written.
void write_text(const std::filesystem::path& path, const std::string& text);

// Temporaries now held (not yet committed or removed). A signal handler that finds none has
// nothing to clean up and can let the signal end the process at once.
int live_outputs() noexcept;

// Tests only: with KUNSIM_TEST_HOLD_BEFORE_RENAME set, commit() waits (up to 60 s) for a signal
// before its rename, so a test can interrupt a writer at that point without racing it.
inline constexpr const char* kHoldBeforeRenameEnv = "KUNSIM_TEST_HOLD_BEFORE_RENAME";

}  // namespace kunsim
