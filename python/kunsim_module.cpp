// _kunsim: the C++ side of `import kunsim` (python/kunsim/__init__.py is the user's API). It is
// no second implementation: every call goes to the same scenario parser, Simulation, sweep and
// plan as the CLI, and hands Python the same bytes the CLI writes (JSON and CSV texts), which
// the package turns into dicts and DataFrames.
//
// Three rules hold for every call here:
// - The GIL is released while kunsim works, so Python threads run beside it (and several runs
//   on several threads run at once: a Simulation owns all its state).
// - Ctrl-C reaches a run on Python's main thread: an InterruptScope polls Python's signal
//   handlers (taking the GIL, at most every 20 ms), and the KeyboardInterrupt they raise stops
//   the run and is raised from the call. Other threads cannot receive signals in Python.
// - Bad input raises kunsim.InputError with the CLI's exit-2 message; nothing escapes as a crash.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "run/key_survey.hpp"
#include "run/scenario.hpp"
#include "run/simulation.hpp"
#include "sim/core/input_error.hpp"
#include "sim/core/interruption.hpp"
#include "sim/core/output_folder.hpp"
#include "sim/core/version.hpp"
#include "sim/model/model_spec.hpp"
#include "sim/policy/policy_registry.hpp"
#include "whatif/plan.hpp"
#include "whatif/sweep.hpp"

namespace py = pybind11;
using namespace kunsim;

namespace {

// The Python exception a signal handler raised while a call ran without the GIL, kept until the
// call returns to Python and re-raised there. Created and destroyed with the GIL held.
class PendingPythonError {
 public:
  PendingPythonError() = default;
  PendingPythonError(const PendingPythonError&) = delete;
  PendingPythonError& operator=(const PendingPythonError&) = delete;
  ~PendingPythonError() {
    Py_XDECREF(type_);
    Py_XDECREF(value_);
    Py_XDECREF(traceback_);
  }
  void fetch() { PyErr_Fetch(&type_, &value_, &traceback_); }
  // The handler's exception (a signal recorded without one raises KeyboardInterrupt).
  [[noreturn]] void raise() {
    if (type_ == nullptr) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    } else {
      PyErr_Restore(std::exchange(type_, nullptr), std::exchange(value_, nullptr), std::exchange(traceback_, nullptr));
    }
    throw py::error_already_set();
  }

 private:
  PyObject* type_ = nullptr;
  PyObject* value_ = nullptr;
  PyObject* traceback_ = nullptr;
};

// Whether the calling thread is Python's main thread, the only one its signal handlers run on.
// Called with the GIL held.
bool on_main_thread() {
  const py::object main = py::module_::import("threading").attr("main_thread")();
  return main.attr("ident").cast<unsigned long>() == PyThread_get_thread_ident();
}

// Runs `work` without the GIL, inside an InterruptScope that (on the main thread) runs Python's
// signal handlers every 20 ms or so. An exception a handler raised (KeyboardInterrupt) is raised
// from here once the GIL is back; kunsim's own exceptions pass through to the translators.
template <class Work>
auto without_gil(Work&& work) {
  PendingPythonError pending;
  const bool poll = on_main_thread();
  bool interrupted = false;
  decltype(work()) result{};
  {
    py::gil_scoped_release release;
    auto last = std::chrono::steady_clock::now();
    InterruptScope scope(poll ? std::function<int()>([&]() -> int {
      // Taking the GIL can wait for another Python thread's switch interval: not at every check.
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::milliseconds(20)) return 0;
      last = now;
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() == 0) return 0;
      pending.fetch();
      return SIGINT;
    })
                              : std::function<int()>());
    try {
      result = work();
    } catch (const Interrupted&) {
      interrupted = true;
    }
  }
  if (interrupted) pending.raise();
  return result;
}

using Files = std::vector<std::pair<std::string, std::string>>;

// A scenario as Python gives it: a file path ("" is the embedded default) or JSON text.
struct ScenarioArg {
  std::string text;  // the path, or the JSON
  bool is_path = true;
  std::string origin;  // how errors name JSON text ("<dict>", "<json string>")
};

Scenario load(const ScenarioArg& s, const std::vector<std::string>& overrides, const std::string& trace_dir) {
  return s.is_path ? load_scenario(s.text, overrides, trace_dir)
                   : load_scenario_text(s.text, s.origin, overrides, trace_dir);
}

// One run, in memory: the files its output folder would hold, in the order the folder lists
// them, and what it read (which a saved folder may never replace).
std::pair<Files, std::vector<std::string>> run(const ScenarioArg& arg, const std::vector<std::string>& overrides,
                                               const std::string& trace_dir, bool wall_clock, bool force, bool perfetto,
                                               bool save_detailed) {
  return without_gil([&] {
    const Scenario sc = load(arg, overrides, trace_dir);
    RunOptions ro;
    ro.in_memory = true;
    ro.wall_clock = wall_clock;
    ro.perfetto = perfetto;
    ro.force = force;
    ro.save_detailed = save_detailed;
    Simulation sim(sc, ro);
    const Json summary = sim.run();
    Files files = sim.outputs();
    files.emplace_back("summary.json", json_file_text(summary));
    files.emplace_back("scenario.json", json_file_text(sc.resolved));
    return std::pair{std::move(files), scenario_inputs(arg.is_path ? arg.text : "", sc)};
  });
}

// Result.save(): the folder `kunsim run --out DIR` writes, as atomically (sim/core/output_folder.hpp).
void save(const std::string& dir, const Files& files, bool overwrite, const std::vector<std::string>& inputs) {
  without_gil([&] {
    OutputFolder folder(dir, OutputRules{.overwrite = overwrite, .inputs = inputs});
    for (const auto& [name, text] : files) write_text(folder.path() / name, text);
    folder.commit();
    return 0;
  });
}

// sweep.csv's text for a sweep given as JSON (its base a path or an inline scenario). No run
// folders are written: the caller asked for the table.
std::string sweep(const std::string& spec_json, const std::string& trace_dir, int jobs, bool force) {
  return without_gil([&] {
    Json root = parse_json_text(spec_json, "<sweep>");
    root["outputs"] = Json::array();
    const SweepSpec spec = sweep_from_json(root, "<sweep>", "sweep", "", force);
    SweepOptions opt;
    opt.threads = jobs;
    opt.trace_dir = trace_dir;
    opt.progress = false;
    opt.force = force;
    return sweep_csv_text(spec, run_sweep(spec, opt));
  });
}

// plan.json's text.
std::string plan(const ScenarioArg& arg, const std::vector<std::string>& overrides, const PlanOptions& opt) {
  return without_gil([&] {
    const Json p = arg.is_path ? run_plan(arg.text, overrides, opt)
                               : run_plan(parse_json_text(arg.text, arg.origin), "", overrides, opt);
    return json_file_text(p);
  });
}

py::list models() {
  py::list out;
  for (const ModelSpec& m : model_catalogue()) {
    py::dict d;
    d["name"] = m.name;
    d["layers"] = m.layers;
    d["hidden"] = m.hidden;
    d["heads"] = m.heads;
    d["kv_heads"] = m.kv_heads;
    d["ffn"] = m.ffn;
    d["vocab"] = m.vocab;
    d["params"] = m.total_params();
    d["active_params"] = m.active_params();
    d["experts"] = m.moe.experts;
    d["top_k"] = m.moe.top_k;
    d["weight_dtype"] = dtype_name(m.weight_dtype);
    d["weight_bytes"] = m.total_weight_bytes();
    d["kv_bytes_per_token"] = m.kv_bytes_per_token();
    d["max_model_len"] = m.max_model_len;
    out.append(std::move(d));
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_kunsim, m) {
  m.doc() = "kunsim's simulator core; use the kunsim package, not this module";
  static py::exception<InputError> input_error(m, "InputError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      input_error(escape_control_bytes(e.what()).c_str());
    } catch (const std::filesystem::filesystem_error& e) {
      // The file system refused a path the user gave: exit 2 on the CLI, bad input here too.
      input_error(escape_control_bytes(e.what()).c_str());
    }
  });

  py::class_<ScenarioArg>(m, "ScenarioArg")
      .def(py::init([](std::string text, bool is_path, std::string origin) {
             return ScenarioArg{std::move(text), is_path, std::move(origin)};
           }),
           py::arg("text"), py::arg("is_path"), py::arg("origin"));
  py::class_<PlanOptions>(m, "PlanOptions")
      .def(py::init<>())
      .def_readwrite("target", &PlanOptions::target)
      .def_readwrite("vary", &PlanOptions::vary)
      .def_readwrite("shapes", &PlanOptions::shapes)
      .def_readwrite("policies", &PlanOptions::policies)
      .def_readwrite("min", &PlanOptions::min)
      .def_readwrite("max", &PlanOptions::max)
      .def_readwrite("threads", &PlanOptions::threads)
      .def_readwrite("trace_dir", &PlanOptions::trace_dir)
      .def_readwrite("force", &PlanOptions::force)
      .def_readwrite("headroom", &PlanOptions::headroom)
      .def_readwrite("seeds", &PlanOptions::seeds)
      .def_readwrite("seed_quantile", &PlanOptions::seed_quantile);

  m.def("run", &run, py::arg("scenario"), py::arg("overrides"), py::arg("trace_dir"), py::arg("wall_clock"),
        py::arg("force"), py::arg("perfetto"), py::arg("save_detailed"));
  m.def("save", &save, py::arg("dir"), py::arg("files"), py::arg("overwrite"), py::arg("inputs"));
  m.def("sweep", &sweep, py::arg("spec_json"), py::arg("trace_dir"), py::arg("jobs"), py::arg("force"));
  m.def("plan", &plan, py::arg("scenario"), py::arg("overrides"), py::arg("options"));
  m.def("models", &models);
  m.def("policies", [] {
    py::dict out;
    for (const auto& [name, e] : policy_registry().items()) out[py::str(name)] = e.help;
    return out;
  });
  m.def("list_params", [] { return without_gil([] { return key_listing(survey_scenario_keys()); }); });
  m.def("version", [] { return std::pair<std::string, std::string>(kunsim_version(), kunsim_git_describe()); });
  m.def("default_scenario", &default_scenario_text);
}
