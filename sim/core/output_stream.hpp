// OutputStream: one output of a run (requests.csv, timeline.csv, decisions.jsonl, ...), which the
// metrics writers fill through a FILE*. It is a file in the run's folder, or, for a caller that
// wants no files, a buffer in memory (POSIX open_memstream) read back whole with text(). The
// Python module runs in memory: nothing touches the disk until Result.save(), and the bytes are
// the ones the file would have held, because the same writers wrote them.
#pragma once
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

namespace kunsim {

class OutputStream {
 public:
  OutputStream() = default;                                     // none: get() is nullptr and the writer skips its rows
  static OutputStream file(const std::filesystem::path& path);  // InputError when it cannot be opened
  static OutputStream memory();
  ~OutputStream();
  OutputStream(OutputStream&& other) noexcept;
  OutputStream& operator=(OutputStream&& other) noexcept;

  std::FILE* get() const { return file_; }
  explicit operator bool() const { return file_ != nullptr; }
  // Everything written so far (in memory only; "" for a file).
  std::string text() const;

 private:
  // open_memstream keeps these two up to date at each flush, so they must not move with the
  // stream: they live on the heap.
  struct Buffer {
    char* data = nullptr;
    std::size_t size = 0;
  };
  void close() noexcept;
  std::FILE* file_ = nullptr;
  std::unique_ptr<Buffer> buffer_;
};

}  // namespace kunsim
