#include "traces/workload.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "sim/core/input_file.hpp"
#include "traces/trace_format_registry.hpp"

namespace kunsim {
namespace {

namespace fs = std::filesystem;

// Window, rate scale and request cap over a file trace.
class ShapedTrace final : public ArrivalSource {
 public:
  ShapedTrace(std::unique_ptr<ArrivalSource> inner, const WorkloadSpec& s) : inner_(std::move(inner)), s_(s) {}
  std::optional<TraceRequest> next() override {
    if (s_.max_requests && emitted_ >= *s_.max_requests) return std::nullopt;
    const SimTime start = at_seconds(s_.window_start_s);
    const SimTime stop = s_.window_duration_s ? start + seconds_to_ns(*s_.window_duration_s) : kSimTimeMax;
    while (auto r = inner_->next()) {
      if (r->arrival < start) continue;
      if (r->arrival >= stop) return std::nullopt;
      const double scaled_ns = static_cast<double>((r->arrival - start).ns()) / s_.rate_scale;
      if (scaled_ns > static_cast<double>(kMaxInputSpan.ns()))
        throw InputError("workload.rate_scale: " + format_number(s_.rate_scale) + " stretches the arrival at " +
                         inner_->where() + " to " + format_number(scaled_ns * 1e-9) +
                         " s, past the longest run kunsim takes (1e9 s)");
      r->arrival = kSimTimeZero + round_ns(scaled_ns);
      ++emitted_;
      return r;
    }
    return std::nullopt;
  }
  std::string describe() const override { return inner_->describe(); }
  std::string where() const override { return inner_->where(); }
  std::int64_t skipped() const override { return inner_->skipped(); }

 private:
  std::unique_ptr<ArrivalSource> inner_;
  const WorkloadSpec s_;  // a copy: the source may outlive the spec it was made from
  std::int64_t emitted_ = 0;
};

class SyntheticSource final : public ArrivalSource {
 public:
  SyntheticSource(RateSchedule sched, LengthDistribution in, LengthDistribution out, std::optional<std::int64_t> max,
                  const Rng& rng, std::string what, bool all_at_once = false)
      : all_at_once_(all_at_once),
        sched_(std::move(sched)),
        in_(std::move(in)),
        out_(std::move(out)),
        max_(max),
        arrivals_(rng.fork(1)),
        lengths_(rng.fork(2)),
        what_(std::move(what)) {}
  std::optional<TraceRequest> next() override {
    if (max_ && emitted_ >= *max_) return std::nullopt;
    // A rate of "inf": every request at t = 0, as vllm bench serve sends them (a closed loop's
    // max_concurrency then gates them).
    const auto t = all_at_once_ ? std::optional<SimTime>(kSimTimeZero) : sched_.next_after(last_, arrivals_);
    if (!t) return std::nullopt;
    last_ = *t;
    ++emitted_;
    TraceRequest r;
    r.arrival = *t;
    bool a = false, b = false;
    r.prompt = in_.sample(lengths_, a);
    r.output = out_.sample(lengths_, b);
    clipped_ += a + b;
    return r;
  }
  std::string describe() const override { return what_; }
  std::int64_t clipped() const override { return clipped_; }

 private:
  bool all_at_once_;
  RateSchedule sched_;
  LengthDistribution in_, out_;
  std::optional<std::int64_t> max_;
  Rng arrivals_, lengths_;
  std::string what_;
  SimTime last_ = kNoTime;
  std::int64_t emitted_ = 0;
  std::int64_t clipped_ = 0;
};

std::vector<Burst> bursts_from_json(const Json& j, const std::string& path) {
  if (!j.is_array()) throw InputError(path + ": expected an array of {start_s, duration_s, multiplier}");
  std::vector<Burst> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    JsonFields f(j[i], path + "[" + std::to_string(i) + "]");
    Burst b;
    b.start_s = f.number("start_s", 0, 1e9, Help{"the burst starts here, seconds into the workload"});
    b.duration_s = f.number("duration_s", 1e-3, 1e9, Help{"the burst lasts this long"});
    b.multiplier = f.number("multiplier", 0, 1e6, Help{"the arrival rate is multiplied by this during the burst"});
    f.finish();
    out.push_back(b);
  }
  return out;
}

}  // namespace

namespace {

// The first regular file `path` names, relative to paths.trace_dir, then paths.scenario_dir, then
// the working folder; nullopt when none exists, with `looked` listing every place tried. A path
// that exists but is no file (a folder, /dev/null, a FIFO) is an InputError saying what it is,
// not "not found".
std::optional<std::string> locate(const std::string& path, const TracePaths& paths, const std::string& json_path,
                                  const char* what, std::string& looked) {
  const fs::path p(path);
  std::vector<fs::path> tried;
  if (p.is_absolute()) tried.push_back(p);
  else {
    if (!paths.trace_dir.empty()) tried.push_back(fs::path(paths.trace_dir) / p);
    if (!paths.scenario_dir.empty()) tried.push_back(fs::path(paths.scenario_dir) / p);
    tried.push_back(p);
  }
  for (const auto& t : tried) {
    const std::string why = not_a_regular_file(t.string());
    if (why.empty()) return t.string();
    if (why != kDoesNotExist) throw InputError(json_path + ": " + t.string() + " " + why + ", not a " + what + " file");
    looked += (looked.empty() ? "" : ", ") + t.string();
  }
  return std::nullopt;
}

}  // namespace

std::string resolve_trace_path(const std::string& path, const TracePaths& paths, const std::string& json_path) {
  std::string looked;
  if (auto file = locate(path, paths, json_path, "trace", looked)) return *file;
  throw InputError(json_path + ": trace file \"" + path + "\" not found (looked in: " + looked +
                   "); point --trace-dir or KUNSIM_TRACE_DIR at your copy of the public traces");
}

TracePaths trace_paths(const std::string& trace_dir_flag, const std::string& scenario_dir) {
  TracePaths p{trace_dir_flag, scenario_dir};
  if (p.trace_dir.empty())
    if (const char* env = std::getenv("KUNSIM_TRACE_DIR")) p.trace_dir = env;
  return p;
}

WorkloadSpec workload_from_json(const Json& j, const std::string& path, const TracePaths& paths) {
  JsonFields f(j, path);
  WorkloadSpec s;
  const int sources = f.has("trace") + f.has("synthetic") + f.has("profile");
  if (sources != 1)
    throw InputError(path + ": expected exactly one of trace, synthetic, profile (got " + std::to_string(sources) + ")");
  if (const Json* t = f.child("trace", Help{"a trace file {format, path}"})) {
    s.kind = WorkloadSpec::Kind::Trace;
    JsonFields tf(*t, f.path_of("trace"));
    s.trace_format = tf.string("format", Help{"trace format (kunsim list trace-formats)"});
    s.trace_path = resolve_trace_path(
        tf.string("path",
                  Help{"trace file: relative to the scenario's folder, then to --trace-dir or KUNSIM_TRACE_DIR"}),
        paths, tf.path_of("path"));
    tf.finish();
    open_trace(s.trace_format, s.trace_path, tf.path_of("format"));  // checks format and file now
  } else if (const Json* sy =
                 f.child("synthetic",
                         Help{"generated arrivals {arrival, rate, cv, duration_s, input_tokens, output_tokens}"})) {
    s.kind = WorkloadSpec::Kind::Synthetic;
    JsonFields sf(*sy, f.path_of("synthetic"));
    const std::string arrival =
        sf.choice("arrival", "poisson", {"poisson", "gamma"}, Help{"inter-arrival law: poisson, or gamma with cv"});
    const Json& rate = sf.required_child(
        "rate",
        Help{"requests per second, or \"inf\": every request sent at once (vllm bench serve's --request-rate inf)"},
        "number or \"inf\"");
    s.rate = rate.is_string() && rate.get<std::string>() == "inf" ? std::numeric_limits<double>::infinity()
                                                                  : json_number(rate, sf.path_of("rate"), 1e-6, 1e7);
    if (std::isinf(s.rate) && arrival == "gamma")
      throw InputError(sf.path_of("arrival") +
                       ": gamma gaps mean nothing when every request is sent at once (rate \"inf\")");
    s.cv = arrival == "gamma"
               ? sf.number("cv", 0.05, 50,
                           Help{"gamma arrivals: coefficient of variation of the gaps", "required with gamma"})
               : 1.0;
    s.duration_s =
        sf.number("duration_s", 0, 0, 1e9, Help{"seconds of arrivals (0: until max_requests or the window ends)"});
    if (const Json* in =
            sf.child("input_tokens", Help{"prompt lengths: a number or a length distribution"}, "integer or object"))
      s.input = LengthDistribution::from_json(*in, sf.path_of("input_tokens"));
    if (const Json* out =
            sf.child("output_tokens", Help{"output lengths: a number or a length distribution"}, "integer or object"))
      s.output = LengthDistribution::from_json(*out, sf.path_of("output_tokens"));
    sf.finish();
  } else {
    s.kind = WorkloadSpec::Kind::Profile;
    const Json& pj = f.required_child("profile",
                                      Help{"a workload profile: a shipped name (azure-code, azure-conv, "
                                           "mooncake-synthetic) or a file kunsim trace-stats wrote"},
                                      "string");
    if (!pj.is_string()) f.fail("profile", "string (a shipped profile name or a profile file)");
    s.profile_name = pj.get<std::string>();
    if (const WorkloadProfile* builtin = builtin_profile(s.profile_name)) {
      s.profile = std::make_shared<WorkloadProfile>(*builtin);
    } else {
      std::string looked;
      const auto found = locate(s.profile_name, paths, f.path_of("profile"), "profile", looked);
      if (!found) {
        std::string shipped;
        for (const std::string& n : builtin_profile_names()) shipped += (shipped.empty() ? "" : ", ") + n;
        throw InputError(f.path_of("profile") + ": \"" + s.profile_name + "\" is neither a shipped profile (" +
                         shipped + ") nor a profile file (looked in: " + looked + ")");
      }
      const std::string& file = *found;
      s.profile = std::make_shared<WorkloadProfile>(WorkloadProfile::from_json(parse_json_file(file), file));
    }
  }
  s.rate_scale =
      f.number("rate_scale", 1.0, 1e-6, 1e6, Help{"arrival rate multiplier (a trace's time is compressed by it)"});
  if (const Json* w = f.child("window", Help{"a slice of the workload {start_s, duration_s}"})) {
    JsonFields wf(*w, f.path_of("window"));
    s.window_start_s = wf.number("start_s", 0, 0, 1e9, Help{"the window starts here, seconds"});
    if (wf.has("duration_s"))
      s.window_duration_s = wf.number("duration_s", 1e-3, 1e9, Help{"the window lasts this long", "to the end"});
    wf.finish();
  }
  if (const Json* b =
          f.child("bursts", Help{"rate bursts [{start_s, duration_s, multiplier}] (synthetic and profile workloads)"},
                  "array")) {
    if (s.kind == WorkloadSpec::Kind::Trace)
      throw InputError(f.path_of("bursts") + ": bursts shape synthetic and profile workloads; a trace has its own");
    s.bursts = bursts_from_json(*b, f.path_of("bursts"));
  }
  if (const Json* sh = f.child(
          "sharing", Help{"prefix identity drawn for synthetic and profile workloads (a profile's own when absent)"})) {
    if (s.kind == WorkloadSpec::Kind::Trace)
      throw InputError(f.path_of("sharing") + ": sharing draws prefix identity for synthetic and profile workloads; a "
                       "trace carries its own (hash_ids)");
    s.sharing = PrefixSharing::from_json(*sh, f.path_of("sharing"));
  } else if (s.kind == WorkloadSpec::Kind::Profile && s.profile->sharing) {
    s.sharing = s.profile->sharing;
  }
  if (f.has("max_requests"))
    s.max_requests = f.integer("max_requests", 1, 1LL << 40, Help{"stop after this many arrivals", "none"});
  if (f.has("client_timeout_s"))
    s.client_timeout_s = f.number("client_timeout_s", 1e-3, 1e9,
                                  Help{"clients give up after this long without their last token", "none: never"});
  if (f.has("speculative_acceptance"))
    s.speculative_acceptance = f.number(
        "speculative_acceptance", 0.0, 1.0,
        Help{"speculative decoding: this workload's per-token draft acceptance, over deployment.speculative's (a "
             "kunsim-requests trace row's `acceptance` over both)",
             "the deployment's"});
  if (f.has("max_concurrency"))
    s.max_concurrency = f.integer(
        "max_concurrency", 1, 1LL << 20,
        Help{"closed loop: at most this many requests out at once, the next sent when one's response comes back "
             "(vllm bench serve's --max-concurrency; TTFT and E2E count from the send)",
             "none: open loop"});
  f.finish();
  if (s.kind == WorkloadSpec::Kind::Synthetic && std::isinf(s.rate)) {
    if (!s.max_requests)
      throw InputError(path +
                       ".max_requests: a synthetic rate of \"inf\" sends every request at once; say how many "
                       "(vllm bench serve's --num-prompts)");
    if (!s.bursts.empty()) throw InputError(path + ".bursts: no burst multiplies a rate of \"inf\"");
  }
  if (s.kind == WorkloadSpec::Kind::Synthetic && s.duration_s == 0 && !s.max_requests && !s.window_duration_s)
    throw InputError(path + ".synthetic.duration_s: a synthetic workload needs duration_s, max_requests or "
                     "window.duration_s to end");
  return s;
}

namespace {

// The arrival rate over the run of a synthetic or profile workload: its segments, bursts,
// rate_scale and window, with time restarting at the window's start.
RateSchedule schedule_of(const WorkloadSpec& s) {
  std::vector<RateSegment> segs;
  if (s.kind == WorkloadSpec::Kind::Synthetic) {
    const double end = s.duration_s > 0 ? s.duration_s : (s.window_duration_s ? s.window_start_s + *s.window_duration_s : 1e9);
    segs.push_back({kSimTimeZero, at_seconds(end), s.rate, s.cv});
  } else {
    const WorkloadProfile& p = *s.profile;
    for (std::size_t w = 0; w < p.rate.size(); ++w) {
      const double a = static_cast<double>(w) * p.window_s;
      segs.push_back({at_seconds(a), at_seconds(std::min(a + p.window_s, std::max(p.duration_s, a + 1e-3))),
                      p.rate[w], p.cv[w]});
    }
  }
  RateSchedule sched(std::move(segs));
  sched.apply_bursts(s.bursts);
  sched.scale(s.rate_scale);
  // A window cuts the schedule, and time restarts at its start.
  std::vector<RateSegment> cut;
  const SimTime a = at_seconds(s.window_start_s);
  const SimTime z = s.window_duration_s ? a + seconds_to_ns(*s.window_duration_s) : kSimTimeMax;
  for (RateSegment g : sched.segments()) {
    g.start = std::max(g.start, a);
    g.end = std::min(g.end, z);
    if (g.start >= g.end) continue;
    g.start = kSimTimeZero + (g.start - a);
    g.end = kSimTimeZero + (g.end - a);
    cut.push_back(g);
  }
  return RateSchedule(std::move(cut));
}

}  // namespace

std::optional<double> expected_requests(const WorkloadSpec& s) {
  if (s.kind == WorkloadSpec::Kind::Trace) return std::nullopt;
  if (s.kind == WorkloadSpec::Kind::Synthetic && std::isinf(s.rate)) return static_cast<double>(*s.max_requests);
  double n = 0;
  const RateSchedule schedule = schedule_of(s);
  for (const RateSegment& g : schedule.segments()) n += g.rate * ns_to_seconds(g.end - g.start);
  if (s.max_requests) n = std::min(n, static_cast<double>(*s.max_requests));
  return n;
}

std::unique_ptr<ArrivalSource> make_arrival_source(const WorkloadSpec& s, const Rng& rng) {
  if (s.kind == WorkloadSpec::Kind::Trace)
    return std::make_unique<ShapedTrace>(open_trace(s.trace_format, s.trace_path, "workload.trace.format"), s);
  LengthDistribution in = s.input, out = s.output;
  if (s.kind == WorkloadSpec::Kind::Profile) {
    in = LengthDistribution::quantiles(s.profile->input_quantiles);
    out = LengthDistribution::quantiles(s.profile->output_quantiles);
  }
  const bool all_at_once = s.kind == WorkloadSpec::Kind::Synthetic && std::isinf(s.rate);
  auto source = std::make_unique<SyntheticSource>(all_at_once ? RateSchedule({}) : schedule_of(s), std::move(in),
                                                  std::move(out), s.max_requests, rng, s.describe(), all_at_once);
  if (!s.sharing || !s.sharing->any()) return source;
  return with_prefix_sharing(std::move(source), *s.sharing, rng.fork(0x5AA2E));
}

std::string WorkloadSpec::empty_message(std::int64_t skipped_rows) const {
  std::string why = "workload: " + describe() + " yields no request";
  if (kind == Kind::Trace && skipped_rows > 0)
    why += ": all " + std::to_string(skipped_rows) + " of its rows were skipped (failed or zero-token requests)";
  else if (kind == Kind::Trace && window_start_s == 0 && !window_duration_s)
    why += ": the trace has no data rows";
  if (window_start_s > 0 || window_duration_s)
    why += " (workload.window starts at " + format_number(window_start_s) + " s: past the workload's end?)";
  if (max_requests && *max_requests <= 0) why += " (workload.max_requests is 0)";
  return why;
}

WorkloadCheck check_workload(const WorkloadSpec& spec, const Rng& rng) {
  auto src = make_arrival_source(spec, rng);
  WorkloadCheck c;
  if (auto first = src->next()) {
    c.requests = 1;
    c.first_arrival = first->arrival;
    if (spec.kind == WorkloadSpec::Kind::Trace)
      while (src->next()) ++c.requests;
  }
  if (c.requests == 0) throw InputError(spec.empty_message(src->skipped()));
  return c;
}

std::string WorkloadSpec::rate_scale_effect() const {
  if (rate_scale == 1) return "";
  const std::string x = format_number(rate_scale >= 1 ? rate_scale : 1 / rate_scale) + "x";
  switch (kind) {
    case Kind::Trace:
      return "trace time " + std::string(rate_scale > 1 ? "compressed " : "stretched ") + x +
             " by rate_scale (the same requests, " + (rate_scale > 1 ? "sooner" : "later") + ")";
    case Kind::Synthetic:
      if (std::isinf(rate)) return "rate_scale has no effect: every request is sent at once (rate \"inf\")";
      return "rate x" + format_number(rate_scale) + " by rate_scale";
    case Kind::Profile:
      return "profile rates x" + format_number(rate_scale) + " over its span of " + format_number(profile->duration_s) +
             " s by rate_scale (more requests in the same time)";
  }
  return "";
}

std::string WorkloadSpec::describe() const {
  switch (kind) {
    case Kind::Trace: return trace_format + " trace " + trace_path;
    case Kind::Synthetic:
      return std::isinf(rate) ? "synthetic, all at once" : cv == 1 ? "synthetic poisson" : "synthetic gamma";
    case Kind::Profile: return "profile " + profile_name;
  }
  return "?";
}

}  // namespace kunsim
