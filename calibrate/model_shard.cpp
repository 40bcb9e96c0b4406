#include "calibrate/model_shard.hpp"

#include <nlohmann/json.hpp>
#include <string_view>

namespace kunsim::embedded {
extern const std::string_view model_catalogue_json;
}

namespace kunsim::calibrate {
namespace {

const nlohmann::json& catalogue() {
  static const nlohmann::json c = nlohmann::json::parse(kunsim::embedded::model_catalogue_json);
  return c;
}

}  // namespace

std::vector<std::string> catalogue_models() {
  std::vector<std::string> names;
  for (const auto& [name, spec] : catalogue().items()) names.push_back(name);
  return names;
}

ModelShard shard_of(const std::string& model, int tp) {
  const auto& c = catalogue();
  if (!c.contains(model)) {
    std::string known;
    for (const auto& n : catalogue_models()) known += (known.empty() ? "" : ", ") + n;
    throw BadInput("--model: unknown model \"" + model + "\" (known: " + known + ")");
  }
  const auto& m = c.at(model);
  ModelShard s;
  s.model = model;
  s.tp = tp;
  s.layers = m.at("layers").get<int>();
  s.hidden = m.at("hidden").get<int>();
  const int heads = m.at("heads").get<int>(), kv = m.at("kv_heads").get<int>();
  const int ffn = m.at("ffn").get<int>(), vocab = m.at("vocab").get<int>();
  if (m.at("head_dim").get<int>() != ModelShard::kHeadDim)
    throw BadInput("--model " + model + ": the kernels are built for head_dim 128");
  if (tp < 1 || heads % tp != 0 || ffn % tp != 0 || (kv % tp != 0 && tp % kv != 0))
    throw BadInput("--tp " + std::to_string(tp) + ": does not divide " + model + "'s heads (" + std::to_string(heads) +
                   "), kv heads (" + std::to_string(kv) + ") and FFN width (" + std::to_string(ffn) + ")");
  s.q_heads = heads / tp;
  s.kv_heads = kv >= tp ? kv / tp : 1;
  s.ffn = ffn / tp;
  s.vocab = (vocab + tp - 1) / tp;
  if (s.ffn % 8 != 0 || s.hidden % 8 != 0)
    throw BadInput("--tp " + std::to_string(tp) + ": " + model + "'s shard widths must be multiples of 8");
  return s;
}

}  // namespace kunsim::calibrate
