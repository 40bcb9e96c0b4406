// `kunsim import aiconfigurator`: turns NVIDIA's published vLLM kernel measurements (the
// aiconfigurator performance database: per GPU system, CSV tables of GEMM, context and
// generation attention, vLLM custom all-reduce and NCCL times) into a kunsim kernel-table
// profile (format 2). It keeps what kunsim prices with: GEMMs in bf16, fp8 and fp8_block; full (not
// windowed) attention on a bf16 and on an fp8 KV cache, one kernel source per table; vLLM's fused
// MoE layer in bf16, fp8 and fp8_block experts; all-reduce in bf16.
// Repeated shapes keep their median. Times are converted from milliseconds to microseconds,
// message sizes from elements to bytes, and decode `step` (tokens already cached) to the
// tokens attended to (step + 1). Bad rows are InputErrors naming file:line.
#pragma once
#include <memory>
#include <string>

#include "sim/core/json_fields.hpp"
#include "sim/core/output_folder.hpp"
#include "sim/cost/kernel_tables.hpp"
#include "sim/cost/profile.hpp"

namespace kunsim {

struct AiconfiguratorImport {
  std::string dir;            // the database folder: <dir>/<system>/..., <dir>/<system>.yaml
  std::string system;         // e.g. h100_sxm
  std::string framework = "vllm";
  std::string version;        // empty: the only version present
  std::string kernel_source;  // empty: the table's most measured bf16 kernel (vLLM's default there)
  std::string gpu_kind;       // empty: kunsim's name for the system (h100_sxm -> h100-sxm)
};

struct ImportedProfile {
  KernelTables tables;
  Json meta;
};

ImportedProfile import_aiconfigurator(const AiconfiguratorImport& opt);
// The database's system for a kunsim GPU kind (h100-sxm -> h100_sxm), or "" when it has none.
std::string aiconfigurator_system(const std::string& gpu_kind);
// The importer's own format version, written into meta.json. Bumped by hand whenever the
// reduction or its text changes (then tools/import-profiles.sh regenerates the committed
// profiles); never derived from git, or every commit would change every committed profile.
inline constexpr int kAiconfiguratorImporterVersion = 3;
// The committed profile of a kind's tables, calibrate/profiles/<kind>/aiconfigurator-vllm/:
// what a fresh clone prices from.
inline constexpr const char* kCommittedProfileName = "aiconfigurator-vllm";
// A start-up import of the tables KUNSIM_MEASURED_DIR names: named apart from the committed
// profile, so that cost.profile and cost_source always say which of the two priced a run.
inline constexpr const char* kImportedProfileName = "aiconfigurator-vllm-imported";

// KUNSIM_MEASURED_DIR, or "" where it is unset. Only that variable makes kunsim import tables at
// start-up; nothing is looked for beside the checkout, so every machine prices a scenario alike.
std::string aiconfigurator_dir();
// The start-up import of a GPU kind's tables from aiconfigurator_dir() (named
// kImportedProfileName), made once per process and shared; null where the variable is unset or
// its folder has no tables for the kind. A variable naming no folder is an InputError.
std::shared_ptr<const Profile> aiconfigurator_profile(const std::string& gpu_kind);
// Writes meta.json and the table files into `out` through an OutputFolder (sim/core/output_folder.hpp):
// the folder is replaced whole, a failed import leaves an existing profile untouched, and a
// folder kunsim did not write is refused unless `rules.overwrite`.
void write_kernel_table_profile(const std::string& out, const ImportedProfile& p, const OutputRules& rules = {});

}  // namespace kunsim
