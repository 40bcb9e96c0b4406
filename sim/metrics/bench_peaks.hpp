// BenchPeaks: vllm bench serve's peaks, accumulated as requests end: the most output tokens in a
// one-second bucket, and the most completed requests active in one. A run keeps a few numbers
// per second of its span, where a record per completed request (32 bytes) was a third of a
// 10M-request run's memory.
//
// vLLM counts the buckets from the first completed request's start. A request's start is its
// arrival, and ids are given in arrival order, so that origin is the start of the completed
// request with the lowest id, and it is final once every request with a lower id has ended
// (failed, aborted or left unfinished). Until then completed requests wait in a buffer: in
// practice the first second or so of a run. Spans are added in completion order either way,
// so every sum is the one a single pass over all records would give.
//
// vLLM buckets each token at its own time; kunsim keeps no per-token times, so a request's
// tokens after its first are spread evenly up to its end.
#pragma once
#include <cstdint>
#include <vector>

namespace kunsim {

class BenchPeaks {
 public:
  struct Peaks {
    double output_tokens_per_s = 0;
    std::int64_t concurrent_requests = 0;
  };
  // A completed request (times in seconds as its client saw them): sent, first token, done.
  void completed(std::uint64_t id, double start, double first, double end, int tokens);
  // A request that ended without completing.
  void ended(std::uint64_t id);
  Peaks peaks() const;

 private:
  struct Span {
    double start, first, end;
    int tokens;
  };
  struct Buckets {
    double t0 = 0;
    std::vector<double> tokens;
    std::vector<std::int64_t> active;  // a difference array
    void add(const Span& s);
    Peaks peaks() const;
  };
  void ended_id(std::uint64_t id);
  void settle();  // the origin is final: the buffer goes into the buckets
  bool settled_ = false;
  Buckets buckets_;
  // Until settled: the completed spans, the lowest completed id, and which ids have ended.
  std::vector<Span> pending_;
  std::uint64_t origin_id_ = UINT64_MAX;
  double origin_start_ = 0;
  std::uint64_t lowest_open_ = 0;  // every id below has ended
  std::vector<char> ended_;        // by id - lowest_open_
};

}  // namespace kunsim
