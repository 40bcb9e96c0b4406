#include "report.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sim/core/input_error.hpp"

namespace kunsim {
namespace embedded {
extern const std::string_view report_py;
}

namespace {
std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
}  // namespace

int run_report(const std::string& out_dir, const std::string& html_path) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(out_dir)) throw InputError(out_dir + ": not a folder");
  // The python3 first on PATH may be a private one without Debian's matplotlib: try both.
  std::string python;
  for (const char* candidate : {"python3", "/usr/bin/python3"})
    if (std::system((std::string(candidate) + " -c 'import matplotlib' >/dev/null 2>&1").c_str()) == 0) {
      python = candidate;
      break;
    }
  if (python.empty())
    throw InputError("kunsim report needs python3 with matplotlib: apt-get install python3-matplotlib");
  const fs::path script = fs::temp_directory_path() / ("kunsim-report-" + std::to_string(::getpid()) + ".py");
  std::ofstream(script) << embedded::report_py;
  const int status = std::system((python + " " + quoted(script.string()) + " " + quoted(out_dir) + " " + quoted(html_path)).c_str());
  fs::remove(script);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace kunsim
