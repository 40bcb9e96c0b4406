"""kunsim from Python: run, sweep and plan scenarios in-process, with results as data frames.

    import kunsim
    r = kunsim.run("scenarios/burst.json", overrides={"policy.name": "kunserve"}, seed=3)
    r.summary["ttft_s"]["p99"]       # summary.json, as a dict
    r.requests.head()                # requests.csv, as a pandas DataFrame
    r.save("out/burst-kunserve")     # the folder `kunsim run` writes, byte for byte

Every call goes to the same C++ core as the `kunsim` command (the extension `_kunsim`): the same
scenario parser, simulation, sweep and plan, and the same bytes in every output. Nothing is
written to disk unless `Result.save()` is called. Bad input raises `kunsim.InputError` (a
ValueError) with the message the CLI prints before exiting 2. The GIL is released while a
simulation runs, so runs on several Python threads go on at once; Ctrl-C stops a run on the main
thread with KeyboardInterrupt.
"""

import io
import json
import os

import pandas as pd

from . import _kunsim
from ._kunsim import InputError

__all__ = [
    "InputError",
    "Result",
    "run",
    "sweep",
    "plan",
    "models",
    "policies",
    "list_params",
    "version",
    "default_scenario",
]


def _scenario_arg(scenario):
    """A scenario as the core takes it: a path (None: the embedded default), or JSON text."""
    if scenario is None:
        return _kunsim.ScenarioArg("", True, "")
    if isinstance(scenario, dict):
        return _kunsim.ScenarioArg(json.dumps(scenario), False, "<dict>")
    if isinstance(scenario, os.PathLike):
        return _kunsim.ScenarioArg(os.fspath(scenario), True, "")
    if isinstance(scenario, str):
        if scenario.lstrip().startswith("{"):
            return _kunsim.ScenarioArg(scenario, False, "<json string>")
        return _kunsim.ScenarioArg(scenario, True, "")
    raise TypeError(f"scenario: expected a path, a JSON string or a dict, got {type(scenario).__name__}")


def _overrides(overrides, seed=None):
    """`--set` assignments: a dict's values are JSON-typed ({"deployment.instances": 8}), and a
    list of "key=value" strings is taken as the CLI takes them."""
    sets = []
    if overrides is None:
        pass
    elif isinstance(overrides, dict):
        for key, value in overrides.items():
            sets.append(f"{key}={json.dumps(value)}")
    elif isinstance(overrides, (list, tuple)) and all(isinstance(o, str) for o in overrides):
        sets.extend(overrides)
    else:
        raise TypeError("overrides: expected a dict of key: value, or a list of 'key=value' strings")
    if seed is not None:
        sets.append(f"seed={int(seed)}")
    return sets


def _read_jsonl(text):
    """decisions.jsonl as a DataFrame: what pandas.read_json(path, lines=True) gives for the file."""
    if not text:
        return pd.DataFrame()
    return pd.read_json(io.StringIO(text), lines=True)


class Result:
    """One run's outputs, held in memory: the files `kunsim run` writes, as Python data.

    summary, vllm_bench, scenario   dicts (summary.json, vllm-bench.json, scenario.json)
    requests, timeline              DataFrames (requests.csv, timeline.csv)
    decisions                       DataFrame (decisions.jsonl, one row per decision)
    files                           {file name: text}, exactly the bytes save() writes
    """

    def __init__(self, files, inputs):
        self._files = dict(files)
        self._inputs = list(inputs)
        self._cache = {}

    @property
    def files(self):
        return dict(self._files)

    def _parsed(self, name, parse):
        if name not in self._cache:
            self._cache[name] = parse(self._files[name])
        return self._cache[name]

    @property
    def summary(self):
        return self._parsed("summary.json", json.loads)

    @property
    def vllm_bench(self):
        return self._parsed("vllm-bench.json", json.loads)

    @property
    def scenario(self):
        """The scenario as it ran: the input after overrides (scenario.json)."""
        return self._parsed("scenario.json", json.loads)

    @property
    def requests(self):
        return self._parsed("requests.csv", lambda t: pd.read_csv(io.StringIO(t)))

    @property
    def timeline(self):
        return self._parsed("timeline.csv", lambda t: pd.read_csv(io.StringIO(t)))

    @property
    def decisions(self):
        return self._parsed("decisions.jsonl", _read_jsonl)

    def save(self, dir, overwrite=False):
        """Writes the run's folder as `kunsim run --out DIR` does: whole or not at all, replacing
        an earlier kunsim folder, refusing a non-empty folder kunsim did not write unless
        overwrite=True, and never one that holds the scenario or its trace."""
        _kunsim.save(os.fspath(dir), list(self._files.items()), overwrite, self._inputs)

    def __repr__(self):
        s = self.summary
        q = s["requests"]
        return (
            f"<kunsim.Result {s['scenario']} policy={s['policy']} model={s['model']}: "
            f"{q['completed']}/{q['arrived']} completed, TTFT p99 {s['ttft_s']['p99']:.3f} s, "
            f"TPOT mean {s['tpot_s']['mean']:.4f} s, SLO attainment {s['slo']['attainment']:.4f}>"
        )


def run(
    scenario=None,
    overrides=None,
    seed=None,
    trace_dir=None,
    wall_clock=True,
    force=False,
    perfetto=False,
    save_detailed=False,
):
    """Runs one scenario and returns its Result.

    scenario    a file path, a JSON string (starting with "{"), a dict, or None for the
                embedded default (scenarios/default.json)
    overrides   {"key.path": value} with JSON-typed values, as `--set key.path=value`
    seed        the scenario's seed, overridden
    trace_dir   where relative trace paths resolve (else the scenario file's folder, or the
                working folder for a dict or string)
    wall_clock  False writes 0 for the wall-time figures, as `--no-wall-clock`: then the files
                are byte-identical run to run, and to the CLI's
    force       lift the run limits, as `--force`
    perfetto    also keep trace.json (Chrome trace format), as `--perfetto`
    save_detailed  vllm_bench also lists each request's input_lens, output_lens and ttfts, as
                `--save-detailed` (and vLLM's) does
    """
    files, inputs = _kunsim.run(
        _scenario_arg(scenario), _overrides(overrides, seed), trace_dir or "", wall_clock, force, perfetto, save_detailed
    )
    return Result(files, inputs)


def sweep(base=None, grid=None, zip=None, jobs=1, trace_dir=None, force=False, name="sweep"):
    """Runs a base scenario over lists of values, as `kunsim sweep` does, and returns sweep.csv
    as a DataFrame: one row per point, in run order (the grid's keys sorted, the last fastest,
    then the zip's lists advanced together). A point that cannot run is a row whose status says
    why ("infeasible: ...") and the others run.

    base        a scenario path, a dict, a JSON string, or None for the default
    grid        {"key.path": [values]}: every combination
    zip         {"key.path": [values]}: lists of equal length, advanced together
    jobs        runs in parallel, on threads
    """
    if base is None:
        base = json.loads(_kunsim.default_scenario())
    elif isinstance(base, str) and base.lstrip().startswith("{"):
        base = json.loads(base)
    elif isinstance(base, os.PathLike):
        base = os.fspath(base)
    spec = {"name": name, "base": base}
    if grid:
        spec["grid"] = {k: list(v) for k, v in grid.items()}
    if zip:
        spec["zip"] = {k: list(v) for k, v in zip.items()}
    csv = _kunsim.sweep(json.dumps(spec), trace_dir or "", int(jobs), force)
    return pd.read_csv(io.StringIO(csv))


def plan(
    scenario=None,
    target="0.99",
    vary="deployment.instances",
    shapes=None,
    policies=None,
    min=None,
    max=None,
    headroom=1.0,
    seeds=1,
    seed_quantile=1.0,
    overrides=None,
    jobs=1,
    trace_dir=None,
    force=False,
):
    """The capacity search of `kunsim plan`; returns plan.json's content as a dict.

    target      what to meet: "0.99" (SLO attainment), "ttft.p99<=2", "goodput>=X", ...; a
                list, or a comma list, for several (all must be met)
    vary        "deployment.instances", "deployment.groups.<name>.count" or "workload.rate_scale"
    shapes      {"cluster.gpu": ["h100-sxm", "h200"], "deployment.tp": [4, 8]}: every shape planned
    policies    the policies searched (default: the scenario's)
    """
    opt = _kunsim.PlanOptions()
    opt.target = ",".join(target) if isinstance(target, (list, tuple)) else str(target)
    opt.vary = vary
    opt.shapes = [f"{k}={','.join(str(v) for v in vs)}" for k, vs in (shapes or {}).items()]
    opt.policies = list(policies or [])
    opt.min = float(min or 0)
    opt.max = float(max or 0)
    opt.headroom = float(headroom)
    opt.seeds = int(seeds)
    opt.seed_quantile = float(seed_quantile)
    opt.threads = int(jobs)
    opt.trace_dir = trace_dir or ""
    opt.force = force
    return json.loads(_kunsim.plan(_scenario_arg(scenario), _overrides(overrides), opt))


def models():
    """The model catalogue: a DataFrame with a row per model (shape, weight and KV bytes)."""
    return pd.DataFrame(_kunsim.models())


def policies():
    """The memory-overload policies: {name: help}."""
    return dict(_kunsim.policies())


def list_params():
    """Every scenario key as the parser documents it (`kunsim list params`): a DataFrame with
    key, type, default, range, when and help."""
    text = _kunsim.list_params()
    return pd.read_csv(io.StringIO(text), sep="\t", quoting=3, dtype=str, keep_default_na=False)


def version():
    """kunsim's version and the `git describe` of the tree it was built from."""
    v, describe = _kunsim.version()
    return f"{v} ({describe})"


def default_scenario():
    """The embedded default scenario (scenarios/default.json) as a dict."""
    return json.loads(_kunsim.default_scenario())


__version__ = _kunsim.version()[0]
