#include "sim/metrics/vllm_bench_result.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "sim/core/input_error.hpp"

namespace kunsim {
namespace {

// Figures vLLM writes as integers.
bool is_count(const std::string& key) {
  static const char* const kCounts[] = {"completed", "failed", "total_input_tokens", "total_output_tokens",
                                        "max_concurrent_requests"};
  return std::find(std::begin(kCounts), std::end(kCounts), key) != std::end(kCounts);
}

// The setup and the per-request arrays: read into their own fields, never into `figures`.
bool is_field(const std::string& key) {
  static const char* const kFields[] = {"backend",      "model_id",        "tokenizer_id", "num_prompts",
                                        "request_rate", "max_concurrency", "burstiness",   "input_lens",
                                        "output_lens",  "ttfts",           "itls"};
  return std::find(std::begin(kFields), std::end(kFields), key) != std::end(kFields);
}

template <class T, class Read>
std::vector<T> array_of(const Json& j, const std::string& key, const std::string& origin, Read read) {
  const Json& a = j.at(key);
  if (!a.is_array()) throw InputError(origin + ": " + key + ": expected an array (one entry per request)");
  std::vector<T> out;
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    out.push_back(read(a[i], origin + ": " + key + "[" + std::to_string(i) + "]"));
  return out;
}

}  // namespace

Json VllmBenchResult::to_json() const {
  Json j = Json::object();
  j["backend"] = backend;
  j["model_id"] = model_id;
  j["tokenizer_id"] = tokenizer_id;
  if (num_prompts) j["num_prompts"] = *num_prompts;
  j["request_rate"] = request_rate ? Json(*request_rate) : Json("inf");
  j["max_concurrency"] = max_concurrency ? Json(*max_concurrency) : Json(nullptr);
  j["burstiness"] = burstiness ? Json(*burstiness) : Json(nullptr);
  for (const auto& [key, value] : figures)
    j[key] = is_count(key) ? Json(static_cast<std::int64_t>(std::llround(value))) : Json(value);
  if (detailed) {
    j["input_lens"] = detailed->input_lens;
    j["output_lens"] = detailed->output_lens;
    j["ttfts"] = detailed->ttfts;
    if (detailed->itls) j["itls"] = *detailed->itls;
  }
  return j;
}

VllmBenchResult VllmBenchResult::from_json(const Json& j, const std::string& origin) {
  if (!j.is_object()) throw InputError(origin + ": expected a JSON object (vllm bench serve --save-result)");
  VllmBenchResult r;
  auto text = [&](const char* key, std::string& into) {
    if (j.contains(key) && j[key].is_string()) into = j[key].get<std::string>();
  };
  text("backend", r.backend);
  text("model_id", r.model_id);
  text("tokenizer_id", r.tokenizer_id);
  if (j.contains("num_prompts") && !j["num_prompts"].is_null())
    r.num_prompts = json_integer(j["num_prompts"], origin + ": num_prompts", 0, 1LL << 40);
  if (j.contains("request_rate")) {
    const Json& rate = j["request_rate"];
    if (rate.is_string() && rate.get<std::string>() == "inf") {
      r.request_rate.reset();
    } else if (rate.is_number()) {
      r.request_rate = rate.get<double>();
      if (std::isinf(*r.request_rate)) r.request_rate.reset();
    } else {
      throw InputError(origin + ": request_rate: expected a number or \"inf\"");
    }
  }
  if (j.contains("max_concurrency") && !j["max_concurrency"].is_null())
    r.max_concurrency = json_integer(j["max_concurrency"], origin + ": max_concurrency", 1, 1LL << 40);
  if (j.contains("burstiness") && !j["burstiness"].is_null())
    r.burstiness = json_number(j["burstiness"], origin + ": burstiness", 1e-9, 1e9);
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!is_field(it.key()) && it.value().is_number()) r.figures[it.key()] = it.value().get<double>();
  if (j.contains("input_lens") || j.contains("output_lens")) {
    for (const char* k : {"input_lens", "output_lens"})
      if (!j.contains(k)) throw InputError(origin + ": " + k + ": missing beside the other per-request array");
    PerRequest d;
    auto len = [](const Json& v, const std::string& at) { return json_integer(v, at, 0, 100'000'000); };
    auto secs = [](const Json& v, const std::string& at) { return json_number(v, at, 0, 1e9); };
    d.input_lens = array_of<std::int64_t>(j, "input_lens", origin, len);
    d.output_lens = array_of<std::int64_t>(j, "output_lens", origin, len);
    if (j.contains("ttfts")) d.ttfts = array_of<double>(j, "ttfts", origin, secs);
    if (j.contains("itls"))
      d.itls = array_of<std::vector<double>>(j, "itls", origin, [&](const Json& v, const std::string& at) {
        if (!v.is_array()) throw InputError(at + ": expected an array of gaps (seconds)");
        std::vector<double> gaps;
        for (std::size_t i = 0; i < v.size(); ++i) gaps.push_back(secs(v[i], at + "[" + std::to_string(i) + "]"));
        return gaps;
      });
    const std::size_t n = d.input_lens.size();
    auto check = [&](const char* k, std::size_t size) {
      if (size != n)
        throw InputError(origin + ": " + k + ": " + std::to_string(size) + " entries, but input_lens has " +
                         std::to_string(n) + " (one per request)");
    };
    check("output_lens", d.output_lens.size());
    if (j.contains("ttfts")) check("ttfts", d.ttfts.size());
    if (d.itls) check("itls", d.itls->size());
    r.detailed = std::move(d);
  }
  return r;
}

}  // namespace kunsim
