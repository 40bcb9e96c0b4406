#include "sim/metrics/perfetto_trace.hpp"

namespace kunsim {
namespace {
double us(std::int64_t ns) { return static_cast<double>(ns) / 1000.0; }
}  // namespace

PerfettoTrace::PerfettoTrace(std::FILE* out) : out_(out) {
  if (!out_) return;
  std::fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", out_);
  for (auto [pid, name] : {std::pair{1, "engines"}, std::pair{2, "links"}, std::pair{3, "decisions"}})
    event({{"ph", "M"}, {"name", "process_name"}, {"pid", pid}, {"tid", 0}, {"args", {{"name", name}}}});
}

PerfettoTrace::~PerfettoTrace() {
  if (out_) std::fputs("\n]}\n", out_);
}

void PerfettoTrace::event(const nlohmann::json& e) {
  if (!out_) return;
  if (!first_) std::fputs(",\n", out_);
  first_ = false;
  const std::string s = e.dump();
  std::fwrite(s.data(), 1, s.size(), out_);
}

void PerfettoTrace::name_track(int pid, int tid, const std::string& name, std::set<int>& named) {
  if (named.insert(tid).second)
    event({{"ph", "M"}, {"name", "thread_name"}, {"pid", pid}, {"tid", tid}, {"args", {{"name", name}}}});
}

void PerfettoTrace::work(int engine, const std::string& engine_name, SimTime start, SimTime end, std::int64_t steps,
                         int decodes, std::int64_t prefill_tokens) {
  if (!out_) return;
  name_track(1, engine, engine_name, engines_);
  event({{"ph", "X"},
         {"pid", 1},
         {"tid", engine},
         {"name", steps > 1 ? "decode x" + std::to_string(steps) : (prefill_tokens > 0 ? "iteration" : "decode")},
         {"ts", us(start.ns())},
         {"dur", us((end - start).ns())},
         {"args", {{"steps", steps}, {"decodes", decodes}, {"prefill_tokens", prefill_tokens}}}});
}

void PerfettoTrace::transfer(int link, const std::string& link_name, SimTime start, SimTime end, std::int64_t bytes) {
  if (!out_) return;
  name_track(2, link, link_name, links_);
  event({{"ph", "X"},
         {"pid", 2},
         {"tid", link},
         {"name", "transfer"},
         {"ts", us(start.ns())},
         {"dur", us((end - start).ns())},
         {"args", {{"bytes", bytes}}}});
}

void PerfettoTrace::decision(const nlohmann::json& row) {
  if (!out_) return;
  event({{"ph", "i"},
         {"pid", 3},
         {"tid", 0},
         {"s", "g"},
         {"name", row.value("kind", std::string("decision"))},
         {"ts", us(row.value("t_ns", std::int64_t{0}))},
         {"args", row}});
}

}  // namespace kunsim
