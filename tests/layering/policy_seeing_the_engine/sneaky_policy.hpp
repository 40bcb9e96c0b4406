// A policy that would see the engine through the cluster's header: the layering check must
// refuse it (tests/CMakeLists.txt runs cmake/KunsimLayering.cmake on this folder and expects
// failure). Never compiled.
#pragma once
#include "sim/policy/drop_planner.hpp"
#include "sim/serving/fleet/serving_cluster.hpp"
