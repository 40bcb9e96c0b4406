#!/usr/bin/env python3
"""tools/fit-roofline.py PROFILE_DIR [--kunsim build/kunsim]

Fits the roofline's fixed costs and efficiencies (the cost.* keys below) to a kernel-table
profile by coordinate search: each step scales one parameter up or down and keeps the change if
the sum over op families of the roofline's MAPE against the tables falls. The roofline itself is
kunsim's (every evaluation is `kunsim fit PROFILE --set cost.KEY=VALUE`), so this script holds no
second copy of its formulas. Prints the fitted keys and the per-family MAPE before and after.
kunsim's defaults (sim/cost/roofline_cost_model.hpp) are this fit on the H100 SXM profile.
"""
import argparse
import json
import subprocess
import tempfile

PARAMS = {  # key: (start, lower bound, upper bound)
    "gemm_efficiency": (0.8, 0.05, 1.0),
    "gemm_latency_us": (2.8, 0.0, 100.0),
    "memory_efficiency": (0.85, 0.05, 1.0),
    "attention_memory_efficiency": (0.88, 0.05, 1.0),
    "attention_efficiency": (0.66, 0.05, 1.0),
    "attention_half_len": (1120, 0.0, 1e6),
    "attention_latency_us": (12.4, 0.0, 100.0),
    "nccl_latency_us": (1.4, 0.0, 200.0),
    "nccl_efficiency": (0.62, 0.05, 1.0),
    "nccl_half_bytes": (1.72e6, 0.0, 1e10),
    "custom_latency_us": (4.6, 0.0, 100.0),
    "custom_eager_latency_us": (21.1, 0.0, 200.0),
    "custom_efficiency": (0.69, 0.05, 1.0),
}


def evaluate(kunsim, profile, values):
    with tempfile.TemporaryDirectory() as out:
        sets = [f"cost.{k}={v:.6g}" for k, v in values.items()]
        subprocess.run([kunsim, "fit", profile, "--out", out, "--set", *sets], check=True, capture_output=True)
        with open(f"{out}/fit-report.json") as f:
            report = json.load(f)
    return {k: v["mape"] for k, v in report["roofline"].items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--kunsim", default="build/kunsim")
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    values = {k: v[0] for k, v in PARAMS.items()}
    best = evaluate(args.kunsim, args.profile, values)
    start = dict(best)
    step = 1.5
    for _ in range(args.rounds):
        for key, (_, lo, hi) in PARAMS.items():
            improved = True
            while improved:
                improved = False
                for factor in (step, 1 / step):
                    trial = dict(values)
                    trial[key] = min(hi, max(lo, values[key] * factor if values[key] > 0 else 0.5))
                    if trial[key] == values[key]:
                        continue
                    got = evaluate(args.kunsim, args.profile, trial)
                    if sum(got.values()) < sum(best.values()) - 1e-6:
                        values, best, improved = trial, got, True
                        break
        step = 1 + (step - 1) / 2
    print(json.dumps({"fitted": {k: float(f"{v:.3g}") for k, v in values.items()},
                      "mape_before": start, "mape_after": best}, indent=1))


if __name__ == "__main__":
    main()
