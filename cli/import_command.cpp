// `kunsim import aiconfigurator DIR --system S --out PROFILE`: NVIDIA's measured vLLM kernel
// tables made into a kunsim kernel-table profile (sim/cost/aiconfigurator_import.hpp).
#include <cstdio>
#include <memory>

#include "command.hpp"
#include "sim/cost/aiconfigurator_import.hpp"

namespace kunsim {

CommandRunner add_import_command(CLI::App& app) {
  struct Args {
    AiconfiguratorImport aic;
    std::string out;
    bool overwrite = false;
  };
  auto a = std::make_shared<Args>();
  auto* import_cmd = app.add_subcommand("import", "Make a kunsim profile from published measurements");
  import_cmd->require_subcommand(1);
  auto* aic = import_cmd->add_subcommand(
      "aiconfigurator", "NVIDIA aiconfigurator's vLLM kernel tables -> a kernel-table profile (format 2)");
  aic->add_option("dir", a->aic.dir, "The database folder (<dir>/<system>/..., <dir>/<system>.yaml)")->required();
  aic->add_option("--system", a->aic.system, "System, e.g. h100_sxm, h200_sxm, a100_sxm, b200_sxm (kunsim list gpus)")
      ->required();
  aic->add_option("--framework", a->aic.framework, "Framework folder (default vllm)");
  aic->add_option("--version", a->aic.version, "Framework version (default: the only one present)");
  aic->add_option("--kernel-source", a->aic.kernel_source,
                  "Attention kernel_source (default: the most measured bf16 one, vLLM's default on that GPU)");
  aic->add_option("--gpu-kind", a->aic.gpu_kind, "kunsim GPU kind (default: the kind whose entry names the system)");
  aic->add_option("--out", a->out, "Profile folder to write, e.g. calibrate/profiles/h100-sxm/aiconfigurator-vllm")
      ->check(kOutputPath)
      ->required();
  aic->add_flag("--overwrite", a->overwrite, kOverwriteHelp);
  return [a](const CommandContext&) {
    const ImportedProfile p = import_aiconfigurator(a->aic);
    write_kernel_table_profile(a->out, p, OutputRules{.overwrite = a->overwrite, .inputs = {a->aic.dir}});
    std::printf("wrote %s: %s GEMM, %s prefill, %s decode, %s all-reduce rows (%s %s, %s)\n", a->out.c_str(),
                p.meta["rows"]["gemm"].dump().c_str(), p.meta["rows"]["attn_prefill"].dump().c_str(),
                p.meta["rows"]["attn_decode"].dump().c_str(), p.meta["rows"]["allreduce"].dump().c_str(),
                p.meta["framework_label"].get<std::string>().c_str(),
                p.meta["framework_version"].get<std::string>().c_str(), p.meta["gpu"].get<std::string>().c_str());
    return 0;
  };
}

}  // namespace kunsim
