#include "sim/core/key_catalogue.hpp"

#include <algorithm>
#include <cctype>

namespace kunsim {
namespace {
thread_local KeyCatalogue* installed = nullptr;
}

KeyCatalogue::KeyCatalogue() : previous_(installed) { installed = this; }
KeyCatalogue::~KeyCatalogue() { installed = previous_; }
KeyCatalogue* KeyCatalogue::active() { return installed; }

std::string normalised_key_path(const std::string& raw) {
  // Indices come as ".3" or "[3]": both become "[]".
  std::string path;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '[') {
      const std::size_t close = raw.find(']', i);
      if (close == std::string::npos) break;
      path += ".0";
      i = close;
    } else {
      path += raw[i];
    }
  }
  std::string out;
  std::size_t i = 0;
  while (i < path.size()) {
    const std::size_t dot = path.find('.', i);
    const std::string part = path.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
    const bool index = !part.empty() && std::all_of(part.begin(), part.end(), [](unsigned char c) { return std::isdigit(c); });
    if (index) out += "[]";
    else out += (out.empty() ? "" : ".") + part;
    if (dot == std::string::npos) break;
    i = dot + 1;
  }
  return out;
}

KeyCatalogue::When::When(std::string condition) {
  if (!installed) return;
  previous_ = std::move(installed->when_);
  installed->when_ = std::move(condition);
}
KeyCatalogue::When::~When() {
  if (installed) installed->when_ = std::move(previous_);
}

KeyCatalogue::Pause::Pause() : paused_(installed) { installed = nullptr; }
KeyCatalogue::Pause::~Pause() { installed = paused_; }

void KeyCatalogue::record(KeyDoc d) {
  d.path = normalised_key_path(d.path);
  d.when = when_;
  auto [it, fresh] = keys_.emplace(std::pair{d.path, d.when}, d);
  if (fresh) return;
  KeyDoc& k = it->second;
  if (k.help.empty()) k.help = d.help;
  if (k.dflt.empty()) k.dflt = d.dflt;
  if (k.range.empty()) k.range = d.range;
}

std::vector<KeyDoc> KeyCatalogue::keys() const {
  std::vector<KeyDoc> out;
  for (const auto& [path, k] : keys_) out.push_back(k);
  return out;
}

}  // namespace kunsim
