// `kunsim report OUT_DIR`: charts of a run, a folder of runs, a sweep or a plan in one
// self-contained HTML page. The drawing is tools/report.py (matplotlib), shipped inside the
// binary and run with python3, so the command works from any folder.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "command.hpp"
#include "sim/core/input_error.hpp"
#include "sim/core/interruption.hpp"
#include "sim/core/output_folder.hpp"

namespace kunsim {
namespace embedded {
extern const std::string_view report_py;
}

namespace {

// A folder only this process can read or write (mkdtemp), removed with everything in it.
class PrivateFolder {
 public:
  PrivateFolder() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kunsim-report-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw InputError(tmpl + ": cannot create a private temporary folder");
    path_ = tmpl;
  }
  ~PrivateFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  PrivateFolder(const PrivateFolder&) = delete;
  PrivateFolder& operator=(const PrivateFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Returns the exit code; InputError when python3 with matplotlib is missing.
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
  // The script and the page it draws live in a private folder (mkdtemp: mode 0700, a fresh
  // name), so nothing planted in /tmp can redirect them; the page then reaches --html through
  // the one writer, and a traceback leaves nothing behind.
  PrivateFolder work;
  const fs::path script = work.path() / "report.py", page = work.path() / "report.html";
  write_text(script, std::string(embedded::report_py));
  OutputFile html(html_path);
  const int status = std::system(
      (python + " " + quoted(script.string()) + " " + quoted(out_dir) + " " + quoted(page.string())).c_str());
  throw_if_interrupted();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  if (code != 0) return code;
  std::error_code ec;
  fs::copy_file(page, html.path(), fs::copy_options::overwrite_existing, ec);
  if (ec) throw InputError(html_path + ": cannot write the report (" + ec.message() + ")");
  html.commit();
  std::printf("wrote %s\n", html_path.c_str());
  return 0;
}

}  // namespace

CommandRunner add_report_command(CLI::App& app) {
  struct Args {
    std::string dir, html;
  };
  auto a = std::make_shared<Args>();
  auto* report = app.add_subcommand("report", "HTML report with charts of a run, runs, a sweep or a plan");
  report->add_option("out_dir", a->dir, "A kunsim output folder")->required();
  report->add_option("--html", a->html, "Where to write the page (default OUT_DIR/report.html)")->check(kOutputPath);
  return [a](const CommandContext&) {
    return run_report(a->dir, a->html.empty() ? (std::filesystem::path(a->dir) / "report.html").string() : a->html);
  };
}

}  // namespace kunsim
