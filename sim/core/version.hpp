// kunsim's version (CMakeLists.txt's project version) and `git describe` of the tree it was
// built from, taken at build time: `kunsim --version`, summary.json and sweep.csv carry both,
// so a CI result says which kunsim produced it.
#pragma once

namespace kunsim {

const char* kunsim_version();
const char* kunsim_git_describe();

}  // namespace kunsim
