// Registry<Entry>: a table of named extensions, each with one line of help text. Policies,
// trace formats, cost models, dispatchers and GPU kinds each keep one, filled by registration
// lines at start-up (KUNSIM_REGISTER below), so adding one touches its own file plus that line.
// A name registered twice is a programming error and stops the program at start-up; an unknown
// name asked for by a scenario is an InputError naming the JSON path and every known name.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "sim/core/input_error.hpp"

namespace kunsim {

template <class Entry>
class Registry {
 public:
  struct Item {
    std::string help;  // one line, as `kunsim list` prints it
    Entry entry;
  };

  // `what` names the kind of thing in messages ("policy", "trace format").
  explicit Registry(std::string what) : what_(std::move(what)) {}

  bool add(const std::string& name, std::string help, Entry entry) {
    if (!items_.emplace(name, Item{std::move(help), std::move(entry)}).second) {
      std::fprintf(stderr, "kunsim: %s \"%s\" registered twice\n", what_.c_str(), name.c_str());
      std::abort();
    }
    return true;
  }
  const Item* find(const std::string& name) const {
    auto it = items_.find(name);
    return it == items_.end() ? nullptr : &it->second;
  }
  // The entry named `name`, or an InputError at `json_path` listing the known names.
  const Entry& at(const std::string& name, const std::string& json_path) const {
    if (const Item* i = find(name)) return i->entry;
    throw InputError(json_path + ": unknown " + what_ + " \"" + name + "\" (known: " + names() + ")");
  }
  std::string names() const {
    std::string known;
    for (const auto& [n, i] : items_) known += (known.empty() ? "" : ", ") + n;
    return known;
  }
  const std::map<std::string, Item>& items() const { return items_; }
  const std::string& what() const { return what_; }

 private:
  std::string what_;
  std::map<std::string, Item> items_;  // ordered: listings and messages are deterministic
};

}  // namespace kunsim

// Registers `entry` as `name` in `registry()` (a function returning the Registry&) at start-up.
#define KUNSIM_REGISTER(registry, ident, name, help, entry) \
  static const bool kunsim_registered_##ident = (registry)().add(name, help, entry)
