// The scenario keys, as the parser itself documents them (KeyCatalogue). `kunsim list params`
// prints this; tools/readme-keys.py writes the README's key table from that output, and a test
// fails when the two differ.
#pragma once
#include <string>
#include <vector>

#include "sim/core/key_catalogue.hpp"

namespace kunsim {

// Parses a set of scenarios chosen to reach every branch of the scenario parser (each form of
// the model, cluster, deployment and workload sections, each length distribution, each
// registered policy) with a KeyCatalogue installed, and returns what it recorded.
std::vector<KeyDoc> survey_scenario_keys();

// One line per key, tab-separated: key, type, default, range, when, help (with a header line).
std::string key_listing(const std::vector<KeyDoc>& keys);

}  // namespace kunsim
