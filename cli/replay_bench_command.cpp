// `kunsim replay-bench RECORDS`: real `vllm bench serve` runs replayed in kunsim (whatif/
// replay_bench.hpp): every figure real against kunsim with its signed error and the MAPE, into
// validation.json, and docs/validation.md's content with --markdown.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "command.hpp"
#include "sim/core/output_folder.hpp"
#include "whatif/replay_bench.hpp"

namespace kunsim {

CommandRunner add_replay_bench_command(CLI::App& app) {
  struct Args {
    std::string records, out, markdown;
    bool overwrite = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("replay-bench",
                                 "Replay real vllm bench serve runs (a manifest, or a --save-result JSON with its "
                                 "serve and bench lines): real against kunsim, figure by figure");
  cmd->add_option("records", a->records,
                  "Manifest JSON ({\"records\": [...]}), one --save-result JSON, or a folder of them")
      ->required();
  cmd->add_option("--out", a->out, "Folder for validation.json (default out/replay-<records name>)")
      ->check(kOutputPath);
  cmd->add_option("--markdown", a->markdown, "Also write the validation page (docs/validation.md) here")
      ->check(kOutputPath);
  cmd->add_flag("--overwrite", a->overwrite, kOverwriteHelp);
  return [a](const CommandContext&) {
    Json results = Json::array();
    for (const BenchRecord& r : load_bench_records(a->records)) results.push_back(replay_record(r));
    const std::string out_dir =
        a->out.empty()
            ? (std::filesystem::path("out") / ("replay-" + std::filesystem::path(a->records).stem().string())).string()
            : a->out;
    OutputFolder folder(out_dir, OutputRules{.overwrite = a->overwrite, .inputs = {a->records}});
    write_text(folder.path() / "validation.json", json_file_text(Json{{"records", results}}));
    folder.commit();
    if (!a->markdown.empty()) write_text(a->markdown, validation_markdown(results, a->records));
    std::fputs(replay_table(results).c_str(), stdout);
    std::printf("wrote %s/validation.json\n", out_dir.c_str());
    return 0;
  };
}

}  // namespace kunsim
