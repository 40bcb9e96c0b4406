// Hostile inputs, one test per kind a hostile trial found (issue "Hardening II"): each gets exit
// 2 and one line naming the real cause, never a hang, a crash or a silently dropped request.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "test_support.hpp"

namespace kunsim {
namespace {

using test::read_file;
using test::scratch;
using test::write_file;

using Cli = test::CliResult;
const auto expect_refused = test::expect_bad_input;

Cli kunsim(const std::string& args) { return test::cli(args); }

std::string scenario_with(const std::filesystem::path& dir, const Json& patch) {
  Json j = test::tiny_cluster_scenario();
  j.merge_patch(patch);
  write_file(dir / "s.json", j.dump(2));
  return (dir / "s.json").string();
}

// Devices, FIFOs and folders are refused at once (a FIFO with no writer would hang, /dev/zero
// never ends), and named for what they are, not "not found".
TEST(Hardening, OnlyRegularFilesAreRead) {
  const auto dir = scratch("special-files");
  const std::string fifo = (dir / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  expect_refused(kunsim("run /dev/zero --out " + (dir / "o").string()), "/dev/zero: is a device, not a JSON file");
  expect_refused(kunsim("validate " + fifo), fifo + ": is a FIFO (a named pipe), not a JSON file");
  expect_refused(kunsim("trace-stats /dev/zero"), "/dev/zero: is a device, not a trace file");
  expect_refused(kunsim("trace-stats " + fifo), "is a FIFO (a named pipe), not a trace file");
  expect_refused(kunsim("diff /dev/zero " + fifo), "/dev/zero: is a device, not a decision log file");
  for (const std::string& trace : {std::string("/dev/null"), fifo, dir.string()}) {
    const Json w = {{"workload", {{"synthetic", nullptr}, {"trace", {{"format", "vidur"}, {"path", trace}}}}}};
    expect_refused(kunsim("validate " + scenario_with(dir, w)), "workload.trace.path: " + trace + " is a");
  }
  const Json unknown = {{"workload", {{"synthetic", nullptr}, {"profile", "azure-chat"}}}};
  expect_refused(kunsim("validate " + scenario_with(dir, unknown)),
                 "workload.profile: \"azure-chat\" is neither a shipped profile (azure-code, azure-conv, "
                 "mooncake-synthetic) nor a profile file (looked in:");
  // A JSON document past its cap is refused by its size, before it is read.
  write_file(dir / "big.json", "{\"name\": \"" + std::string((64u << 20) + 1, 'x') + "\"}");
  expect_refused(kunsim("validate " + (dir / "big.json").string()), "JSON file is 64 MiB, past the limit of 64 MiB");
}

// --overwrite replaces a folder kunsim did not write, but never the working folder, one that holds
// it, or one that holds the command's input; and an output needs a name a file system can hold.
TEST(Hardening, OutputsNeverReplaceTheirInputsOrTheWorkingFolder) {
  const auto dir = scratch("overwrite-rules");
  const std::string s = scenario_with(dir, {{"workload", {{"synthetic", {{"duration_s", 2}}}}}});
  expect_refused(kunsim("run " + s + " --overwrite --out " + dir.string()),
                 dir.string() + ": holds " + s + ", an input of this command");
  expect_refused(kunsim("run " + s + " --overwrite --out " + dir.parent_path().string()), ", an input of this command");
  expect_refused(test::cli("run " + s + " --overwrite --out .", "cd " + dir.string() + " &&"),
                 "--out must name a folder or file of its own, not . or ..");
  const auto sub = dir / "sub";
  std::filesystem::create_directories(sub);
  expect_refused(test::cli("run " + s + " --overwrite --out " + dir.string(), "cd " + sub.string() + " &&"),
                 "is the working folder or holds it");
  expect_refused(kunsim("run " + s + " --out ''"), "--out: an empty path names no output");
  expect_refused(kunsim("run " + s + " --out " + (dir / std::string(300, 'n')).string()),
                 "the output's name is 300 characters, past the limit of 240");
  // import refuses a folder it did not write, as run does.
  const auto foreign = dir / "foreign";
  write_file(foreign / "notes.txt", "mine\n");
  if (std::filesystem::exists(test::shared_measured() + "/h100_sxm.yaml")) {
    expect_refused(
        kunsim("import aiconfigurator " + test::shared_measured() + " --system h100_sxm --out " + foreign.string()),
        foreign.string() + ": folder is not empty and was not written by kunsim (give --overwrite");
    EXPECT_EQ(read_file(foreign / "notes.txt"), "mine\n");
  }
}

// Control bytes a user put in a key or a trace field are shown escaped, never sent to the terminal.
TEST(Hardening, ControlBytesInMessagesAreEscaped) {
  const auto dir = scratch("escapes");
  write_file(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,4,4\n\x1b[31m,4,4\n");
  const Cli r = kunsim("trace-stats " + (dir / "t.csv").string());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\\x1b[31m"), std::string::npos) << r.output;
}

// diff compares two run folders by their decisions.jsonl (a CI gate on folders once passed
// whatever they held), and refuses a folder with none.
TEST(Hardening, DiffComparesRunFoldersByTheirDecisions) {
  const auto dir = scratch("diff-folders");
  const std::string s = std::string(KUNSIM_SOURCE_DIR) + "/scenarios/preempt.json";  // it preempts: decisions
  ASSERT_EQ(kunsim("run " + s + " --quiet --out " + (dir / "a").string()).code, 0);
  ASSERT_EQ(kunsim("run " + s + " --quiet --out " + (dir / "b").string() + " --set seed=2").code, 0);
  ASSERT_EQ(kunsim("run " + s + " --quiet --out " + (dir / "c").string()).code, 0);
  const Cli differ = kunsim("diff " + (dir / "a").string() + " " + (dir / "b").string());
  EXPECT_EQ(differ.code, 1) << differ.output;
  EXPECT_NE(differ.output.find("first difference at decision"), std::string::npos) << differ.output;
  const Cli same = kunsim("diff " + (dir / "a").string() + " " + (dir / "c" / "decisions.jsonl").string());
  EXPECT_EQ(same.code, 0) << same.output;
  std::filesystem::create_directories(dir / "empty");
  expect_refused(kunsim("diff " + (dir / "a").string() + " " + (dir / "empty").string()),
                 "empty: a folder without decisions.jsonl; give two run folders or two decisions.jsonl files");
}

// Each weak answer of the trial, now refused with the real cause.
TEST(Hardening, WeakAnswersNameTheRealCause) {
  const auto dir = scratch("weak-answers");
  const std::string s = scenario_with(dir, Json::object());
  expect_refused(kunsim("validate " + s + " --set policy.name=kunserve --set policy.group_size=8"),
                 "policy.group_size: 8 is more instances than an instance group has (4)");
  expect_refused(kunsim("validate " + s +
                        " --set 'model={\"name\":\"m\",\"layers\":2,\"hidden\":64,\"heads\":2,\"kv_heads\":2,"
                        "\"head_dim\":32,\"ffn\":128,\"vocab\":100,\"dtype_bytes\":3}'"),
                 "model.dtype_bytes: 3 is not priced");
  const Cli len = kunsim("validate " + s + " --set model=llama-3.1-8b --set deployment.max_model_len=200000");
  expect_refused(len, "deployment.max_model_len: 200000 exceeds llama-3.1-8b's context of 131072 tokens");
  EXPECT_EQ(len.output.find("such as llama-3.1-8b"), std::string::npos) << "never suggest the model in use";
  expect_refused(kunsim("plan " + s + " --max 1e9 --out " + (dir / "p").string()),
                 "--max: 1e+09 instances of 1 GPUs need 500000000 nodes of 2 GPUs, past the 4096 nodes");
  expect_refused(kunsim("validate " + s + " --set deployment.instance=3"),
                 "deployment.instance: unknown key (did you mean deployment.instances?)");
}

// The planner's confusions: what rate_scale did, a trace of another format, implausible values,
// and rates that say what they count.
TEST(Hardening, PlannerConfusionsAreAnsweredOnTheConsole) {
  const auto dir = scratch("confusions");
  const Cli profile = kunsim("run --quiet --out " + (dir / "d").string());  // the default: azure-conv x4
  ASSERT_EQ(profile.code, 0) << profile.output;
  const Json s = Json::parse(read_file(dir / "d" / "summary.json"));
  EXPECT_EQ(s["workload"]["rate_scale_effect"],
            "profile rates x4 over its span of 3501.72 s by rate_scale (more "
            "requests in the same time)");
  EXPECT_FALSE(s["throughput"].contains("tokens_per_s")) << "rates name what they count";
  for (const char* k : {"output_tokens_per_s", "input_tokens_per_s", "total_tokens_per_s"})
    EXPECT_TRUE(s["throughput"].contains(k)) << k;
  const std::string trace = (dir / "t.csv").string();
  write_file(trace, "arrived_at,num_prefill_tokens,num_decode_tokens\n0,40,4\n1,40,4\n");
  const std::string sc = scenario_with(
      dir,
      {{"workload", {{"synthetic", nullptr}, {"trace", {{"format", "vidur"}, {"path", trace}}}, {"rate_scale", 3}}}});
  const Cli run = kunsim("run " + sc + " --out " + (dir / "t").string());
  EXPECT_NE(run.output.find("trace time compressed 3x by rate_scale (the same requests, sooner)"), std::string::npos)
      << run.output;
  expect_refused(kunsim("validate " + sc + " --set workload.trace.format=mooncake"),
                 "workload.trace.format: \"mooncake\", but " + trace + " looks like a vidur trace");
  expect_refused(kunsim("validate " + sc + " --set slo.tpot_s=50"),
                 "slo.tpot_s: 50 s per output token is no latency target");
  expect_refused(kunsim("validate " + sc + " --set cluster.price_per_gpu_hour=0"),
                 "cluster.price_per_gpu_hour: a price of 0 makes every dollar figure 0");
  write_file(dir / "sweep.json", Json({{"name", "sw"}, {"base", "s.json"}, {"grid", {{"seed", {1}}}}}).dump());
  ASSERT_EQ(kunsim("sweep " + (dir / "sweep.json").string() + " --quiet --out " + (dir / "sw").string()).code, 0);
  const std::string header =
      read_file(dir / "sw" / "sweep.csv").substr(0, read_file(dir / "sw" / "sweep.csv").find('\n'));
  EXPECT_NE(header.find(",output_tokens_per_s,input_tokens_per_s,total_tokens_per_s,"), std::string::npos) << header;
}

std::map<std::string, std::string> folder_bytes(const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[std::filesystem::relative(e.path(), dir).string()] = read_file(e.path());
  return out;
}

// Starts kunsim with `args` and the test hook that holds every commit before its rename.
pid_t spawn_held(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("KUNSIM_TEST_HOLD_BEFORE_RENAME", "1", 1);
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    std::vector<char*> argv{const_cast<char*>(KUNSIM_BIN)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(KUNSIM_BIN, argv.data());
    _exit(127);
  }
  return pid;
}

// A signal while a command holds its temporary output: exit 128+signal, no temporary left, and
// the earlier output byte-identical. The signal is sent only once the temporary exists, and the
// hook holds the commit until it comes, so the test never races a fast rename.
TEST(Hardening, ASignalLeavesTheOldOutputAndNoTemporary) {
  const auto dir = scratch("signals");
  Json j = test::tiny_cluster_scenario();
  j["workload"]["synthetic"]["duration_s"] = 5;
  write_file(dir / "s.json", j.dump());
  write_file(dir / "sweep.json", Json({{"name", "sw"}, {"base", "s.json"}, {"grid", {{"seed", {1, 2}}}}}).dump());
  const std::string run_out = (dir / "run").string(), sweep_out = (dir / "sweep").string();
  ASSERT_EQ(kunsim("run " + (dir / "s.json").string() + " --quiet --out " + run_out).code, 0);
  ASSERT_EQ(kunsim("sweep " + (dir / "sweep.json").string() + " --quiet --out " + sweep_out).code, 0);
  write_file(dir / "profile.json", "old profile\n");
  const std::string vidur = (dir / "t.csv").string();
  write_file(vidur, "arrived_at,num_prefill_tokens,num_decode_tokens\n0,4,4\n1,4,4\n");
  struct Case {
    std::vector<std::string> args;
    std::filesystem::path out, tmp;
    int signal;
  };
  const std::vector<Case> cases = {
      {{"run", (dir / "s.json").string(), "--quiet", "--out", run_out}, run_out, dir / ".run.kunsim-tmp", SIGINT},
      {{"sweep", (dir / "sweep.json").string(), "--quiet", "--out", sweep_out},
       sweep_out,
       dir / ".sweep.kunsim-tmp",
       SIGTERM},
      {{"trace-stats", vidur, "--out", (dir / "profile.json").string()},
       dir / "profile.json",
       dir / ".profile.json.kunsim-tmp",
       SIGINT},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0]);
    const auto before = std::filesystem::is_directory(c.out)
                            ? folder_bytes(c.out)
                            : std::map<std::string, std::string>{{"", read_file(c.out)}};
    const pid_t pid = spawn_held(c.args);
    bool seen = false;
    for (int i = 0; i < 3000 && !seen; ++i) {
      seen = std::filesystem::exists(c.tmp);
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(seen) << c.tmp << " never appeared";
    kill(pid, c.signal);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by the signal instead of cleaning up";
    EXPECT_EQ(WEXITSTATUS(status), 128 + c.signal);
    EXPECT_FALSE(std::filesystem::exists(c.tmp));
    const auto after = std::filesystem::is_directory(c.out)
                           ? folder_bytes(c.out)
                           : std::map<std::string, std::string>{{"", read_file(c.out)}};
    EXPECT_EQ(after, before);
  }
}

}  // namespace
}  // namespace kunsim
