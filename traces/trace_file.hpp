// TraceFile: the shared part of every file reader: reads lines, tracks file:line for errors,
// splits CSV fields, parses numbers strictly, and enforces arrival order. A format supplies
// only how to read its header and one row (see trace_format_registry.hpp).
#pragma once
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "traces/arrival_source.hpp"

namespace kunsim {

class TraceFile : public ArrivalSource {
 public:
  explicit TraceFile(std::string path);
  std::optional<TraceRequest> next() final;
  std::string describe() const override { return path_; }
  std::string where() const override { return path_ + ":" + std::to_string(line_no_); }
  std::int64_t skipped() const override { return skipped_; }

 protected:
  // One data row (already stripped of '\r'); returns false to skip it (counted), sets `out`.
  // Arrival may be in any unit the format likes; set arrival_ns relative to anything: the base
  // class rebases to the first row.
  virtual bool parse_row(std::string_view line, TraceRequest& out) = 0;
  // Called once with the first non-empty line; return true when it was a header.
  virtual bool parse_header(std::string_view line) = 0;

  [[noreturn]] void fail(const std::string& what) const;
  // Splits on commas (no quoting: none of the supported formats quote fields).
  const std::vector<std::string_view>& split_csv(std::string_view line, std::size_t expected);
  std::int64_t parse_int(std::string_view field, const char* name, std::int64_t lo, std::int64_t hi) const;
  // An instant in seconds: a finite number in [0, kMaxInputSeconds] (checked_seconds).
  SimTime parse_seconds(std::string_view field, const char* name) const;
  // Token counts: integers in [0, 10M]; a row with zero prompt or output tokens is skipped.
  bool tokens(std::string_view prompt, std::string_view output, TraceRequest& out) const;

 private:
  std::string path_;
  std::ifstream in_;
  std::string line_;
  std::int64_t line_no_ = 0;
  std::int64_t skipped_ = 0;
  bool started_ = false;
  SimTime base_ = kSimTimeZero, last_ = kSimTimeZero;
  std::vector<std::string_view> fields_;
};

}  // namespace kunsim
