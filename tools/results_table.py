"""Formats the summaries under build/paper-results/<scenario>/<policy>/ as docs/results.md."""
import json
import os
import sys

POLICIES = ["vllm", "vllm-swap", "infercept", "llumnix", "kunserve"]
ORDER = ["burst", "preempt", "azure-conv", "azure-code", "bursty"]


def load(root, scenario, policy):
    path = os.path.join(root, scenario, policy, "summary.json")
    return json.load(open(path)) if os.path.exists(path) else None


def main(root):
    scenarios = [s for s in ORDER if os.path.isdir(os.path.join(root, s))]
    print("# Results: KunServe and its baselines in kunsim\n")
    print("Produced by `tools/paper-results.sh` (this file is its output; do not edit by hand). These are")
    print("simulated figures, priced from measured kernels: each scenario's cost source is named below")
    print("(NVIDIA's public measurements of vLLM's kernels, imported by kunsim; docs/fidelity.md). Each")
    print("scenario's cluster, model and workload are in `scenarios/` (see `scenarios/paper/README.md`).")
    print("TTFT and E2E include the front end's 0.02 s (`deployment.frontend_s`).\n")
    print("TTFT, TPOT and E2E in seconds; throughput in output tokens/s; attainment = share of all arrived")
    print("requests meeting the scenario's TTFT and TPOT SLOs.\n")
    ratios = []
    for s in scenarios:
        rows = {p: load(root, s, p) for p in POLICIES}
        first = next(r for r in rows.values() if r)
        print(f"## {s}\n")
        print(f"{first['requests']['arrived']} requests, model {first['model']}, costs: {first['cost_source']}.\n")
        print("| policy | TTFT p50 | TTFT p99 | TPOT mean | TPOT p99 | E2E p99 | throughput | SLO attainment | preemptions | drops | migrations |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for p in POLICIES:
            r = rows[p]
            if not r:
                continue
            pl = r["planner"]
            print(f"| {p} | {r['ttft_s']['p50']:.3f} | {r['ttft_s']['p99']:.3f} | {r['tpot_s']['mean']:.4f} | "
                  f"{r['tpot_s']['p99']:.4f} | {r['e2e_s']['p99']:.2f} | {r['throughput']['tokens_per_s']:.0f} | "
                  f"{r['slo']['attainment']:.3f} | {pl['preemptions']} | {pl['drops']} | {pl.get('migrations', 0)} |")
        k = rows.get("kunserve")
        if k:
            best = None  # the lowest baseline P99 TTFT; ties go to the first in POLICIES order
            for p in POLICIES:
                if p != "kunserve" and rows[p] and (best is None or rows[p]["ttft_s"]["p99"] < best[0]):
                    best = (rows[p]["ttft_s"]["p99"], p)
            v = rows["vllm"]
            ratio = v["ttft_s"]["p99"] / k["ttft_s"]["p99"] if k["ttft_s"]["p99"] > 0 else float("inf")
            ratios.append((s, ratio, best[0] / k["ttft_s"]["p99"], best[1]))
            print(f"\nKunServe vs vLLM: P99 TTFT {ratio:.2f}x lower; mean TPOT "
                  f"{k['tpot_s']['mean'] / v['tpot_s']['mean']:.2f}x; throughput "
                  f"{k['throughput']['tokens_per_s'] / v['throughput']['tokens_per_s']:.3f}x.\n")
    skipped = os.path.join(root, "skipped.txt")
    if os.path.exists(skipped):
        print("## Skipped\n")
        for line in open(skipped):
            print(f"- {line.strip()}")
        print()
    print("## Next to the paper's claims\n")
    print("KunServe's abstracts claim up to 27.3x (v1) and 72.2x (v5) lower tail TTFT than vLLM, InferCept and")
    print("Llumnix under overload. kunsim's figures for the same comparison (P99 TTFT of the best baseline over")
    print("KunServe's, and vLLM's over KunServe's):\n")
    print("| scenario | vLLM / KunServe | best baseline / KunServe | best baseline |")
    print("|---|---|---|---|")
    for s, r, b, who in ratios:
        print(f"| {s} | {r:.2f}x | {b:.2f}x | {who} |")
    print()
    print("## What measured costs changed\n")
    print("The same runs priced by kunsim's roofline instead (`--set cost.model=roofline`: its fitted floors")
    print("included; before measured profiles were imported every figure came from a roofline without them):\n")
    print("| scenario | policy | TTFT p99 measured | TTFT p99 roofline | TPOT mean measured | TPOT mean roofline | throughput measured | throughput roofline |")
    print("|---|---|---|---|---|---|---|---|")
    for s in scenarios:
        for p in ("vllm", "kunserve"):
            m, r = load(root, s, p), load(root, s, p + "@roofline")
            if not m or not r:
                continue
            print(f"| {s} | {p} | {m['ttft_s']['p99']:.3f} | {r['ttft_s']['p99']:.3f} | {m['tpot_s']['mean']:.4f} | "
                  f"{r['tpot_s']['mean']:.4f} | {m['throughput']['tokens_per_s']:.0f} | {r['throughput']['tokens_per_s']:.0f} |")
    print()
    print(WHY)


WHY = """## Why kunsim's gains are smaller than the paper's

In kunsim KunServe has the lowest tail TTFT in every scenario where KV memory is what overloads:
burst, preempt, azure-conv and bursty. It leaves the compute-bound azure-code run alone, because no
instance votes. The gains are 1.1-1.6x at P99, not 27-72x. At the median they are larger: in
preempt, 0.2 s against vLLM's 36 s. These are the model's reasons, as far as kunsim can tell:

- **Decode cost grows with the KV it reads.** The roofline prices a decode step as weights plus
  every request's KV read from HBM. A drop frees (g-1)/g of each GPU's layer weights: about 13 GB,
  or +33% KV, for qwen2.5-14b at g=2. That admits more requests, but each step then reads more KV.
  Throughput rises only 0-10%, so a backlog larger than the freed memory still queues.
- **vLLM's admission control.** In kunsim's vLLM a request is admitted only when its prompt's
  blocks are free above a watermark. With the Azure traces' short outputs, running requests rarely
  outgrow the cache, so requests queue instead of triggering recompute storms. vllm, vllm-swap and
  infercept then behave identically. Where outputs are long (preempt, bursty), preemption storms
  appear, and there KunServe's advantage is largest.
- **The pipeline costs TPOT.** A pipeline cycle runs g micro-batches through g stages, and
  unequal micro-batches leave bubbles. In these runs mean TPOT is 17-30% higher under KunServe.
- **Costs.** Iterations are priced from measured vLLM kernels (the table above shows what the
  roofline gave); element-wise kernels and host overheads are still modelled. The paper's
  clusters, models, rates and SLOs are not public, so the scenarios here are kunsim's own choices,
  and an operating point matching the paper's maximum was not searched for.
"""


if __name__ == "__main__":
    main(sys.argv[1])
