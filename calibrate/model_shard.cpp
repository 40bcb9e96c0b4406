#include "calibrate/model_shard.hpp"

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
  nlohmann::json spec = c.at(model);
  spec["name"] = model;
  return shard_of_spec(spec, "--model " + model, tp);
}

ModelShard shard_of_spec(const nlohmann::json& spec, const std::string& where, int tp) {
  auto field = [&](const char* key) {
    if (!spec.is_object() || !spec.contains(key) || !spec.at(key).is_number_integer() || spec.at(key).get<int>() < 1)
      throw BadInput(where + ": \"" + key + "\": expected a positive integer");
    return spec.at(key).get<int>();
  };
  if (!spec.contains("name") || !spec.at("name").is_string() || spec.at("name").get<std::string>().empty())
    throw BadInput(where + ": \"name\": expected the model's name (a string)");
  const std::string model = spec.at("name").get<std::string>();
  ModelShard s;
  s.model = model;
  s.tp = tp;
  s.spec = spec;
  s.layers = field("layers");
  s.hidden = field("hidden");
  const int heads = field("heads"), kv = field("kv_heads"), ffn = field("ffn"), vocab = field("vocab");
  if (field("head_dim") != ModelShard::kHeadDim) throw BadInput(where + ": the kernels are built for head_dim 128");
  if (heads % kv != 0) throw BadInput(where + ": kv_heads must divide heads");
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
