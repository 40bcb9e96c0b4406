#include "sim/core/output_stream.hpp"

#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "sim/core/input_error.hpp"

namespace kunsim {

OutputStream OutputStream::file(const std::filesystem::path& path) {
  OutputStream s;
  s.file_ = std::fopen(path.c_str(), "wb");
  if (!s.file_) throw InputError(path.string() + ": cannot write output file");
  return s;
}

OutputStream OutputStream::memory() {
  OutputStream s;
  s.buffer_ = std::make_unique<Buffer>();
  s.file_ = open_memstream(&s.buffer_->data, &s.buffer_->size);
  if (!s.file_) throw std::runtime_error("output stream: open_memstream failed (out of memory)");
  return s;
}

OutputStream::~OutputStream() { close(); }

OutputStream::OutputStream(OutputStream&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)), buffer_(std::move(other.buffer_)) {}

OutputStream& OutputStream::operator=(OutputStream&& other) noexcept {
  if (this != &other) {
    close();
    file_ = std::exchange(other.file_, nullptr);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

std::string OutputStream::text() const {
  if (!buffer_) return {};
  std::fflush(file_);  // brings data and size up to date
  return std::string(buffer_->data, buffer_->size);
}

void OutputStream::close() noexcept {
  if (file_) std::fclose(file_);
  file_ = nullptr;
  if (buffer_) std::free(buffer_->data);  // the stream's own allocation (open_memstream)
  buffer_.reset();
}

}  // namespace kunsim
