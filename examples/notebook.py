"""A planner's question, end to end, from Python:

    How many H100s does llama-3.1-8b need for an Azure-conversation-shaped load at 8x its rate,
    under vLLM, Llumnix or KunServe, if 99% of requests must meet TTFT <= 2 s and TPOT <= 0.1 s?
    Which deployment is cheapest?

It loads the shipped azure-conv workload profile (no trace file needed), sweeps instances x
policy in-process, plots P99 TTFT against instances, and picks the cheapest deployment meeting
the SLO. The price per GPU-hour is an assumption of this example, not a quote.

    PYTHONPATH=build/python /usr/bin/python3 examples/notebook.py [--small] [--out DIR]

--small sweeps a smaller grid over a shorter window (the test suite runs it that way).
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")  # files, not windows: runs headless
import matplotlib.pyplot as plt  # noqa: E402

import kunsim  # noqa: E402

PRICE_PER_GPU_HOUR = 2.50  # assumed, for the comparison only
ATTAINMENT = 0.99


def scenario(window_s):
    return {
        "name": "azure-conv-8x",
        "seed": 1,
        "model": "llama-3.1-8b",
        "cluster": {"gpu": "h100-sxm", "nodes": 1, "gpus_per_node": 8, "price_per_gpu_hour": PRICE_PER_GPU_HOUR},
        "deployment": {"instances": 4, "tp": 1},
        "policy": {"name": "vllm"},
        "workload": {"profile": "azure-conv", "rate_scale": 8, "window": {"start_s": 600, "duration_s": window_s}},
        "slo": {"ttft_s": 2.0, "tpot_s": 0.1},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", action="store_true", help="a small grid over a short window")
    ap.add_argument("--out", default="out/notebook", help="folder for the plot")
    args = ap.parse_args()

    instances = [2, 4] if args.small else [2, 3, 4, 5, 6, 8]
    policies = ["vllm", "kunserve"] if args.small else ["vllm", "llumnix", "kunserve"]
    base = scenario(window_s=120 if args.small else 600)
    print(f"kunsim {kunsim.version()}: {len(instances) * len(policies)} runs")

    df = kunsim.sweep(base, grid={"deployment.instances": instances, "policy.name": policies}, jobs=os.cpu_count() or 1)
    failed = df[df["status"] != "ok"]
    if len(failed):
        raise SystemExit(f"points that could not run:\n{failed[['deployment.instances', 'policy.name', 'status']]}")
    df["dollars_per_hour"] = df["deployment.instances"] * PRICE_PER_GPU_HOUR  # TP1: a GPU per instance
    df["meets_slo"] = df["slo_attainment"] >= ATTAINMENT

    fig, ax = plt.subplots(figsize=(7, 4.5))
    # Policies that never act (no overload) give identical runs: distinct line styles and hollow
    # markers keep one line from hiding another.
    styles = [("o", "-"), ("s", "--"), ("^", ":")]
    for (policy, rows), (marker, line) in zip(df.groupby("policy.name"), styles * len(policies)):
        ax.plot(rows["deployment.instances"], rows["ttft_p99_s"], marker=marker, linestyle=line,
                markerfacecolor="none", label=policy)
    ax.axhline(base["slo"]["ttft_s"], color="grey", linestyle="--", label=f"TTFT SLO {base['slo']['ttft_s']} s")
    ax.set_yscale("log")
    ax.set_xlabel("H100 instances (llama-3.1-8b, TP1)")
    ax.set_ylabel("P99 time to first token (s)")
    ax.set_title("azure-conv at 8x: P99 TTFT by fleet size")
    ax.set_xticks(instances)
    ax.legend()
    fig.tight_layout()
    os.makedirs(args.out, exist_ok=True)
    plot = os.path.join(args.out, "ttft-p99-by-instances.png")
    fig.savefig(plot, dpi=120)
    if os.path.getsize(plot) == 0:
        raise SystemExit(f"{plot}: the plot is empty")
    print(f"wrote {plot}")

    cols = ["policy.name", "deployment.instances", "ttft_p99_s", "tpot_mean_s", "slo_attainment", "dollars_per_hour"]
    print(df[cols].sort_values(["policy.name", "deployment.instances"]).to_string(index=False))
    ok = df[df["meets_slo"]].sort_values(["dollars_per_hour", "ttft_p99_s"])
    if ok.empty:
        print(f"no deployment in the grid meets {ATTAINMENT:.0%} SLO attainment: widen the grid")
        return
    best = ok.iloc[0]
    print(
        f"cheapest meeting {ATTAINMENT:.0%} SLO attainment: {best['deployment.instances']} instances under "
        f"{best['policy.name']}, ${best['dollars_per_hour']:.2f}/hour (P99 TTFT {best['ttft_p99_s']:.3f} s, "
        f"attainment {best['slo_attainment']:.4f})"
    )


if __name__ == "__main__":
    main()
