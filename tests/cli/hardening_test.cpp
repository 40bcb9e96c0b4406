// Hostile inputs, one test per kind a hostile trial found (issue "Hardening II"): each gets exit
// 2 and one line naming the real cause, never a hang, a crash or a silently dropped request.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "test_support.hpp"

namespace kunsim {
namespace {

using test::read_file;
using test::scratch;
using test::write_file;

struct Cli {
  int code = -1;
  std::string output;
};

Cli kunsim(const std::string& args) {
  Cli r;
  r.code = test::run_kunsim(args, &r.output);
  return r;
}

void expect_refused(const Cli& r, const std::string& message) {
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(message), std::string::npos) << "got: " << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
}

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

}  // namespace
}  // namespace kunsim
