#include "traces/trace_file.hpp"

#include <charconv>

#include "sim/core/input_error.hpp"
#include "sim/core/input_file.hpp"

namespace kunsim {

TraceFile::TraceFile(std::string path) : path_(std::move(path)), in_(open_input_file(path_, "trace")) {}

void TraceFile::fail(const std::string& what) const { throw InputError(where() + ": " + what); }

const std::vector<std::string_view>& TraceFile::split_csv(std::string_view line, std::size_t expected) {
  fields_.clear();
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    fields_.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (fields_.size() != expected)
    fail("expected " + std::to_string(expected) + " comma-separated fields, got " + std::to_string(fields_.size()));
  return fields_;
}

std::int64_t TraceFile::parse_int(std::string_view f, const char* name, std::int64_t lo, std::int64_t hi) const {
  while (!f.empty() && f.front() == ' ') f.remove_prefix(1);
  while (!f.empty() && f.back() == ' ') f.remove_suffix(1);
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
  if (ec != std::errc() || p != f.data() + f.size() || v < lo || v > hi)
    fail(std::string(name) + ": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
         "], got \"" + std::string(f.substr(0, 40)) + "\"");
  return v;
}

SimTime TraceFile::parse_seconds(std::string_view f, const char* name) const {
  while (!f.empty() && f.front() == ' ') f.remove_prefix(1);
  while (!f.empty() && f.back() == ' ') f.remove_suffix(1);
  double v = 0;
  const auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
  const auto t = ec == std::errc() && p == f.data() + f.size() ? checked_seconds(v) : std::nullopt;
  if (!t)
    fail(std::string(name) + ": expected a finite number in [0, 1e9], got \"" + std::string(f.substr(0, 40)) + "\"");
  return kSimTimeZero + *t;
}

bool TraceFile::tokens(std::string_view prompt, std::string_view output, TraceRequest& out) const {
  out.prompt = static_cast<int>(parse_int(prompt, "prompt tokens", 0, 10'000'000));
  out.output = static_cast<int>(parse_int(output, "output tokens", 0, 10'000'000));
  return out.prompt > 0 && out.output > 0;
}

std::optional<TraceRequest> TraceFile::next() {
  while (std::getline(in_, line_)) {
    ++line_no_;
    std::string_view line(line_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.find('\0') != std::string_view::npos) fail("binary data (NUL byte) in a text trace");
    if (!started_ && line_no_ == 1 && line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF)
      line.remove_prefix(3);  // UTF-8 byte order mark
    if (!started_ && line_no_ <= 1 && parse_header(line)) continue;
    TraceRequest r;
    const bool keep = parse_row(line, r);
    if (!started_) {
      started_ = true;
      base_ = last_ = r.arrival;
    }
    // Every format's arrivals are >= 0 ns, so this difference cannot wrap; it must fit the limit.
    if (r.arrival - base_ > kMaxInputSpan)
      fail("arrival " + std::to_string(ns_to_seconds(r.arrival - base_)) +
           " s after the first row is past the longest trace kunsim takes (1e9 s, about 31.7 years)");
    if (r.arrival < last_)
      fail("arrival time goes back (" + std::to_string(ns_to_seconds(r.arrival - base_)) + " s after " +
           std::to_string(ns_to_seconds(last_ - base_)) + " s): traces must be in arrival order");
    last_ = r.arrival;
    if (!keep) {
      ++skipped_;
      continue;
    }
    r.arrival = kSimTimeZero + (r.arrival - base_);
    return r;
  }
  if (in_.bad()) fail("read error");
  if (line_no_ == 0) throw InputError(path_ + ": empty trace file");
  return std::nullopt;
}

}  // namespace kunsim
