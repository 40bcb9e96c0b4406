"""`import kunsim` as a notebook user drives it, checked against the CLI it must equal.

Run by ctest (tests/CMakeLists.txt) with PYTHONPATH at the build's python/ folder and KUNSIM_BIN
at the CLI; Debian's python3-pytest. A missing module fails here: it is never skipped.
"""

import _thread
import contextlib
import filecmp
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

import kunsim

ROOT = Path(__file__).resolve().parents[2]
KUNSIM_BIN = os.environ.get("KUNSIM_BIN", str(ROOT / "build" / "kunsim"))
BURST = ROOT / "scenarios" / "burst.json"  # shipped profile: no trace file needed


def tiny(**changes):
    """A run of a few hundred requests on 4 instances: a fraction of a second."""
    s = {
        "name": "tiny",
        "seed": 7,
        "model": "llama-3-8b",
        "cluster": {"gpu": "h100-sxm", "nodes": 2, "gpus_per_node": 2},
        "deployment": {"instances": 4, "tp": 1},
        "policy": {"name": "vllm"},
        "workload": {
            "synthetic": {
                "rate": 20,
                "duration_s": 30,
                "input_tokens": {"type": "uniform", "min": 100, "max_value": 2000},
                "output_tokens": {"type": "uniform", "min": 1, "max_value": 400},
            }
        },
    }
    s.update(changes)
    return s


def cli(*args, check=True):
    p = subprocess.run([KUNSIM_BIN, *map(str, args)], capture_output=True, text=True)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def same_build():
    """Outputs name the kunsim that wrote them (version and git describe): the CLI and the module
    compare equal only when built from the same tree."""
    assert cli("--version").stdout.strip() == f"kunsim {kunsim.version()}", (
        "the CLI and the module come from different builds: rebuild both (cmake --build build)"
    )


def folder_files(d):
    return sorted(p.name for p in Path(d).iterdir())


# --- running --------------------------------------------------------------------------------


def test_a_dict_runs_and_its_requests_are_conserved():
    r = kunsim.run(tiny(), wall_clock=False)
    q = r.summary["requests"]
    assert q["arrived"] > 300
    assert q["arrived"] == q["completed"] + q["rejected"] + q["unfinished"] + q["aborted"]
    # Every arrival is one row of requests.csv, each instance a slot of the timeline.
    assert len(r.requests) == q["arrived"]
    assert r.requests["id"].is_unique
    assert sorted(r.timeline["instance"].unique()) == [0, 1, 2, 3]
    assert (r.timeline["kv_used_blocks"] <= r.timeline["kv_total_blocks"]).all()
    assert r.summary["scenario"] == "tiny" and r.scenario["seed"] == 7


def test_the_data_frames_have_the_files_columns():
    r = kunsim.run(BURST, overrides={"policy.name": "kunserve"}, wall_clock=False)
    assert list(r.requests.columns) == r.files["requests.csv"].split("\n", 1)[0].split(",")
    assert list(r.timeline.columns) == r.files["timeline.csv"].split("\n", 1)[0].split(",")
    # KunServe drops parameters under the burst: decisions is a frame of them, in time order.
    d = r.decisions
    assert {"kind", "t_ns", "instance"} <= set(d.columns)
    assert (d["kind"] == "drop").any()
    assert d["t_ns"].is_monotonic_increasing
    assert r.vllm_bench["completed"] == r.summary["requests"]["completed"]


def test_the_three_forms_of_a_scenario_give_the_same_run(tmp_path):
    as_dict = kunsim.run(tiny(), wall_clock=False)
    as_text = kunsim.run(json.dumps(tiny()), wall_clock=False)
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny()))
    as_path = kunsim.run(path, wall_clock=False)
    as_str_path = kunsim.run(str(path), wall_clock=False)
    assert as_dict.files == as_text.files == as_path.files == as_str_path.files


def test_overrides_and_seed():
    base = kunsim.run(tiny(), wall_clock=False)
    r = kunsim.run(tiny(), overrides={"deployment.instances": 2, "policy.name": "vllm-swap"}, seed=11, wall_clock=False)
    assert len(r.summary["instances"]) == 2
    assert r.summary["policy"] == "vllm-swap"
    assert r.summary["seed"] == 11 and r.scenario["deployment"]["instances"] == 2
    assert r.summary["requests"]["arrived"] != base.summary["requests"]["arrived"]
    # The CLI's form of an override, "key=value" strings, means the same.
    s = kunsim.run(tiny(), overrides=["deployment.instances=2", "policy.name=vllm-swap", "seed=11"], wall_clock=False)
    assert s.files == r.files


def test_save_detailed_adds_vllms_per_request_arrays():
    r = kunsim.run(tiny(), save_detailed=True, wall_clock=False)
    b = r.vllm_bench
    assert len(b["input_lens"]) == len(b["output_lens"]) == len(b["ttfts"]) == r.summary["requests"]["arrived"]
    assert sum(b["input_lens"]) == b["total_input_tokens"]
    assert list(r.requests.sort_values("id")["prompt_tokens"]) == b["input_lens"]
    assert "input_lens" not in kunsim.run(tiny(), wall_clock=False).vllm_bench


def test_the_default_scenario_runs_without_arguments():
    r = kunsim.run(wall_clock=False)
    assert r.summary["scenario"] == "default"
    assert kunsim.default_scenario()["name"] == "default"


# --- equal to the CLI -------------------------------------------------------------------------


def test_saved_files_are_byte_identical_to_the_cli(tmp_path):
    same_build()
    cli("run", BURST, "--set", "policy.name=kunserve", "--no-wall-clock", "--quiet", "--out", tmp_path / "cli")
    r = kunsim.run(BURST, overrides={"policy.name": "kunserve"}, wall_clock=False)
    r.save(tmp_path / "py")
    names = folder_files(tmp_path / "cli")
    assert names == folder_files(tmp_path / "py")
    assert {"summary.json", "scenario.json", "requests.csv", "timeline.csv", "decisions.jsonl", "vllm-bench.json"} <= set(
        names
    )
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "cli", tmp_path / "py", names, shallow=False)
    assert mismatch == [] and errors == []
    # The frames are what pandas reads from the CLI's files.
    pd.testing.assert_frame_equal(r.requests, pd.read_csv(tmp_path / "cli" / "requests.csv"))
    pd.testing.assert_frame_equal(r.timeline, pd.read_csv(tmp_path / "cli" / "timeline.csv"))
    pd.testing.assert_frame_equal(r.decisions, pd.read_json(tmp_path / "cli" / "decisions.jsonl", lines=True))
    assert r.summary == json.loads((tmp_path / "cli" / "summary.json").read_text())


def test_save_keeps_the_clis_folder_rules(tmp_path):
    r = kunsim.run(tiny(), wall_clock=False)
    r.save(tmp_path / "out")
    r.save(tmp_path / "out")  # an earlier kunsim folder is replaced
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(kunsim.InputError, match="--overwrite"):
        r.save(foreign)
    assert (foreign / "notes.txt").read_text() == "keep me"
    r.save(foreign, overwrite=True)
    assert not (foreign / "notes.txt").exists()


def test_a_sweep_equals_the_clis_sweep_csv(tmp_path):
    same_build()
    grid = {"deployment.instances": [2, 4], "model": ["llama-3-8b", "no-such-model"]}
    spec = {"name": "s", "base": tiny(), "grid": grid}
    (tmp_path / "s.json").write_text(json.dumps(spec))
    cli("sweep", tmp_path / "s.json", "--quiet", "--out", tmp_path / "cli")
    df = kunsim.sweep(tiny(), grid=grid, jobs=2, name="s")
    pd.testing.assert_frame_equal(df, pd.read_csv(tmp_path / "cli" / "sweep.csv"))
    assert len(df) == 4
    assert list(df["status"] == "ok") == [True, False, True, False]
    assert df.loc[1, "status"].startswith("infeasible: model")
    # jobs changes nothing but the time taken.
    pd.testing.assert_frame_equal(df, kunsim.sweep(tiny(), grid=grid, jobs=1, name="s"))


def test_a_zipped_sweep_advances_its_lists_together():
    df = kunsim.sweep(tiny(), zip={"deployment.instances": [1, 2, 4], "workload.synthetic.rate": [5, 10, 20]})
    assert list(df["deployment.instances"]) == [1, 2, 4]
    assert list(df["workload.synthetic.rate"]) == [5, 10, 20]
    assert (df["status"] == "ok").all()


def test_plan_returns_the_answer_the_cli_writes(tmp_path):
    same_build()
    scenario = tiny()
    (tmp_path / "tiny.json").write_text(json.dumps(scenario))
    cli("plan", tmp_path / "tiny.json", "--target", "ttft.p99<=0.5", "--policies", "vllm,kunserve", "--out", tmp_path / "p")
    p = kunsim.plan(scenario, target="ttft.p99<=0.5", policies=["vllm", "kunserve"])
    assert p == json.loads((tmp_path / "p" / "plan.json").read_text())
    for policy in ("vllm", "kunserve"):
        assert p["policies"][policy]["value"] >= 1


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario, overrides, where",
    [
        (tiny(deployment={"instances": 4, "tp": 1, "bogus_key": 1}), None, "deployment.bogus_key"),
        (tiny(), {"deployment.instances": 0}, "deployment.instances"),
        ('{"name": "x", "seed": }', None, "<json string>"),
        ("/no/such/scenario.json", None, "/no/such/scenario.json"),
        (tiny(), ["deployment.instances"], "--set deployment.instances"),
    ],
)
def test_bad_input_raises_input_error_with_the_clis_message(tmp_path, scenario, overrides, where):
    with pytest.raises(kunsim.InputError) as e:
        kunsim.run(scenario, overrides=overrides)
    assert where in str(e.value)
    assert isinstance(e.value, ValueError)
    # The CLI's exit-2 line says the same.
    if isinstance(scenario, dict):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(scenario))
        sets = [] if overrides is None else [f"{k}={v}" for k, v in overrides.items()] if isinstance(overrides, dict) else overrides
        p = cli("run", path, *[a for s in sets for a in ("--set", s)], "--out", tmp_path / "o", check=False)
        assert p.returncode == 2
        assert p.stderr.strip() == f"kunsim: {e.value}"


def test_a_bad_sweep_and_a_bad_plan_raise_input_error():
    with pytest.raises(kunsim.InputError, match="zip.workload.synthetic.rate: 1 values"):
        kunsim.sweep(tiny(), zip={"deployment.instances": [1, 2], "workload.synthetic.rate": [5]})
    with pytest.raises(kunsim.InputError, match="--target"):
        kunsim.plan(tiny(), target="ttft.p77<=1")
    with pytest.raises(TypeError):
        kunsim.run(42)


# --- nothing on disk -------------------------------------------------------------------------


def test_nothing_is_written_to_disk(tmp_path, monkeypatch):
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("TMPDIR", str(tmp))
    r = kunsim.run(BURST, overrides={"policy.name": "kunserve"}, perfetto=True)
    assert r.files["trace.json"].startswith("{")
    r.requests, r.timeline, r.decisions
    kunsim.sweep(tiny(), grid={"deployment.instances": [2, 4]})
    kunsim.plan(tiny(), target="ttft.p99<=0.5")
    assert os.listdir(cwd) == [] and os.listdir(tmp) == []


# --- threads and signals ---------------------------------------------------------------------


def test_a_run_releases_the_gil():
    # With a switch interval of 1000 s, a thread holding the GIL is never made to give it up: the
    # counter below advances during run() only if run() released the GIL itself.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e3)
    try:
        counter = 0
        stop = False

        def count():
            nonlocal counter
            while not stop:
                counter += 1
                if counter % 256 == 0:
                    time.sleep(0)  # lets the run's thread take the GIL back when it returns

        seen = {}

        def runner():
            seen["before"] = counter
            kunsim.run(BURST, overrides={"policy.name": "kunserve"})
            seen["after"] = counter

        c = threading.Thread(target=count)
        c.start()
        t = threading.Thread(target=runner)
        t.start()
        t.join()
        stop = True
        c.join()
    finally:
        sys.setswitchinterval(old)
    assert seen["after"] > seen["before"]


def test_runs_on_two_threads_equal_the_serial_runs():
    jobs = [(tiny(), {"policy.name": "vllm"}), (str(BURST), {"policy.name": "kunserve"})]
    serial = [kunsim.run(s, overrides=o, wall_clock=False).files for s, o in jobs]
    results = [None, None]

    def work(i):
        s, o = jobs[i]
        results[i] = kunsim.run(s, overrides=o, wall_clock=False).files

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == serial


# 50M requests: minutes of work, so an interrupt 0.3 s in lands inside the call.
LONG_WORKLOAD = {"synthetic": {"rate": 100, "input_tokens": 200, "output_tokens": 50}, "max_requests": 50_000_000}


@contextlib.contextmanager
def ctrl_c_while_running(core_function):
    """Expects KeyboardInterrupt from the body, which a thread sends to the main thread as Ctrl-C
    would (_thread.interrupt_main) 0.3 s after the body starts, and expects it raised by
    `core_function` (a function of the extension) while it ran. The profiler tells which: a C
    function that raises ends with "c_exception"; one that returned before Python saw the
    signal ends with "c_return"."""
    started = threading.Event()
    endings = []

    def interrupter():
        started.wait()
        time.sleep(0.3)
        _thread.interrupt_main()

    def profile(frame, event, arg):
        if event in ("c_return", "c_exception") and arg is core_function:
            endings.append(event)

    t = threading.Thread(target=interrupter)
    t.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            started.set()
            sys.setprofile(profile)
            try:
                yield
            finally:
                sys.setprofile(None)
    finally:
        t.join()
    assert endings == ["c_exception"]


def test_ctrl_c_during_a_run_raises_keyboard_interrupt():
    with ctrl_c_while_running(kunsim._kunsim.run):
        kunsim.run(tiny(workload=LONG_WORKLOAD), force=True)
    # The module is usable afterwards.
    assert kunsim.run(tiny()).summary["requests"]["arrived"] > 0


def test_ctrl_c_during_a_sweep_stops_its_workers():
    with ctrl_c_while_running(kunsim._kunsim.sweep):
        kunsim.sweep(tiny(workload=LONG_WORKLOAD), grid={"deployment.instances": [1, 2, 3, 4]}, jobs=2, force=True)


# --- what a scenario can name -----------------------------------------------------------------


def test_the_catalogues():
    m = kunsim.models()
    assert "llama-3.1-8b" in set(m["name"])
    assert (m["kv_bytes_per_token"] > 0).all()
    p = kunsim.policies()
    assert {"vllm", "vllm-swap", "infercept", "llumnix", "kunserve"} <= set(p)
    keys = kunsim.list_params()
    assert "deployment.instances" in set(keys["key"])
    assert kunsim.version().startswith(kunsim.__version__)
    listing = cli("list", "params").stdout
    assert len(keys) == len(listing.strip().split("\n")) - 1
