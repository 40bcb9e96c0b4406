// OutputFolder: the folder a run, sweep or plan writes, made atomic. Everything is written into
// a temporary sibling (`.NAME.kunsim-tmp`), and commit() swaps it into place whole, so a
// folder from an earlier kunsim run is replaced with no stale file left in it, and a failed run
// leaves nothing new behind and an existing folder untouched. kunsim marks its folders with a
// `.kunsim-output` file; a non-empty folder without the mark is not kunsim's to replace, and is
// refused (exit 2) unless the user says --overwrite.
#pragma once
#include <filesystem>
#include <string>

namespace kunsim {

class OutputFolder {
 public:
  // Checks `dest` and prepares the temporary folder. With `create` false (MPI ranks other than
  // 0), only the paths are worked out: rank 0 prepares and commits.
  OutputFolder(const std::string& dest, bool overwrite, bool create = true);
  ~OutputFolder();  // removes the temporary folder unless committed
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  const std::filesystem::path& path() const { return tmp_; }  // where to write
  const std::filesystem::path& dest() const { return dest_; }
  void commit();

 private:
  std::filesystem::path dest_, tmp_;
  bool owner_ = true, committed_ = false;
};

inline constexpr const char* kOutputMarker = ".kunsim-output";

// Writes `text` to `path` atomically: a temporary file beside it, then a rename.
void write_file_atomic(const std::filesystem::path& path, const std::string& text);

}  // namespace kunsim
