// Report: `kunsim report OUT_DIR` draws charts of a run, a folder of runs, a sweep or a plan
// into one self-contained HTML page. The drawing is tools/report.py (matplotlib), shipped
// inside the binary and run with python3, so the command works from any folder.
#pragma once
#include <string>

namespace kunsim {

// Returns the exit code; InputError when python3 with matplotlib is missing.
int run_report(const std::string& out_dir, const std::string& html_path);

}  // namespace kunsim
