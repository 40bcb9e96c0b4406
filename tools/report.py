"""kunsim report: a self-contained HTML page (PNG charts inlined) for a kunsim output folder.

Usage: python3 report.py OUT_DIR REPORT_HTML
OUT_DIR may be one run (summary.json ...), a folder of runs (found recursively), a sweep
(sweep.csv), a plan (plan.json) or a replay of real benchmarks (validation.json, from
kunsim replay-bench); every part that is present is drawn.
"""
import base64
import csv
import html
import io
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MARKS = {"drop": "tab:red", "restore": "tab:green", "migrate": "tab:blue", "preempt": None}


def png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return '<img src="data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode() + '">'


def runs_under(root):
    found = []
    for dirpath, _, files in os.walk(root):
        if "summary.json" in files:
            found.append(dirpath)
    return sorted(found)


PAGE = 12  # runs (or series) per chart; more are drawn as further charts, never dropped


def pages(items):
    return [items[i:i + PAGE] for i in range(0, len(items), PAGE)] or [[]]


def sweep_values(root):
    """run folder name -> [(key, value)] from sweep.csv's swept columns (empty without a sweep)."""
    path = os.path.join(root, "sweep.csv")
    if not os.path.exists(path):
        return [], {}
    with open(path, newline="") as f:
        reader = csv.reader(f)
        head = next(reader)
        end = head.index("arrived") if "arrived" in head else len(head)
        keys = head[1:end]
        out = {}
        for row in reader:
            out["run-%05d" % int(row[0])] = list(zip(keys, row[1:end]))
    return keys, out


SWEPT = {}


def label(root, run):
    rel = os.path.relpath(run, root)
    if rel == ".":
        return os.path.basename(os.path.abspath(root))
    values = SWEPT.get(os.path.basename(run))
    if values:
        return ", ".join(f"{k}={v}" for k, v in values)
    return rel


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def cdf_chart(root, runs, column, title):
    fig, ax = plt.subplots(figsize=(7, 4))
    drawn = 0
    for run in runs:
        path = os.path.join(run, "requests.csv")
        if not os.path.exists(path):
            continue
        values = sorted(float(r[column]) for r in read_csv(path) if r[column])
        if not values:
            continue
        n = len(values)
        ax.plot(values, [(i + 1) / n for i in range(n)], label=label(root, run))
        drawn += 1
    if not drawn:
        plt.close(fig)
        return ""
    ax.set_xscale("log")
    ax.set_xlabel(column)
    ax.set_ylabel("share of requests")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return png(fig)


def decision_marks(run):
    path = os.path.join(run, "decisions.jsonl")
    marks = []
    if os.path.exists(path):
        for line in open(path):
            row = json.loads(line)
            kind = row.get("kind")
            phase = row.get("phase", "")
            if (kind == "drop" and phase == "") or (kind == "restore" and phase == "split") or \
                    (kind == "migrate" and phase == "begin"):
                marks.append((row["t_ns"] / 1e9, kind))
    return marks


def timeline_chart(root, run):
    path = os.path.join(run, "timeline.csv")
    if not os.path.exists(path):
        return ""
    rows = read_csv(path)
    by_slot = {}
    for r in rows:
        by_slot.setdefault(int(r["instance"]), []).append(r)
    fig, (mem, queue) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for slot, rs in sorted(by_slot.items()):
        t = [float(r["t_s"]) for r in rs]
        mem.plot(t, [float(r["kv_used_blocks"]) / 1e3 for r in rs], lw=0.8, label=f"instance {slot}")
        queue.plot(t, [int(r["waiting"]) for r in rs], lw=0.8)
    for t, kind in decision_marks(run):
        for ax in (mem, queue):
            ax.axvline(t, color=MARKS.get(kind) or "gray", lw=0.6, alpha=0.6)
    mem.set_ylabel("KV blocks used (thousands)")
    queue.set_ylabel("waiting requests")
    queue.set_xlabel("simulated time (s)")
    mem.set_title(f"{label(root, run)}: memory and queue per instance (red drop, green restore, blue migrate)")
    mem.grid(True, alpha=0.3)
    queue.grid(True, alpha=0.3)
    if len(by_slot) <= 16:
        mem.legend(fontsize=6, ncol=4)
    return png(fig)


def summary_table(root, runs, keys):
    head = ["run"] + keys + ["policy", "arrived", "TTFT p50", "TTFT p99", "TPOT mean", "throughput tok/s",
                             "SLO attainment", "preemptions", "drops", "restores"]
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for run in runs:
        s = json.load(open(os.path.join(run, "summary.json")))
        values = dict(SWEPT.get(os.path.basename(run), []))
        name = os.path.relpath(run, root)
        cells = [name if name != "." else os.path.basename(os.path.abspath(root))] + [values.get(k, "") for k in keys] + [
                 s["policy"], s["requests"]["arrived"], f"{s['ttft_s']['p50']:.3f}",
                 f"{s['ttft_s']['p99']:.3f}", f"{s['tpot_s']['mean']:.4f}", f"{s['throughput']['output_tokens_per_s']:.0f}",
                 f"{s['slo']['attainment']:.3f}", s["planner"]["preemptions"], s["planner"]["drops"],
                 s["planner"]["restores"]]
        out.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def sweep_charts(root):
    path = os.path.join(root, "sweep.csv")
    if not os.path.exists(path):
        return ""
    rows = [r for r in read_csv(path) if r.get("status", "ok") == "ok"]  # infeasible points have no metrics
    if not rows:
        return ""
    metrics = {"status", "arrived", "completed", "rejected", "unfinished", "aborted", "ttft_p50_s", "ttft_p99_s", "tpot_mean_s",
               "tpot_p99_s", "e2e_p99_s", "queue_p99_s", "output_tokens_per_s", "input_tokens_per_s",
               "total_tokens_per_s", "requests_per_s", "slo_attainment", "preemptions", "drops", "restores",
               "migrations", "simulated_s", "run", "kunsim"}
    keys = [k for k in rows[0].keys() if k not in metrics]

    def numeric(k):
        try:
            [float(r[k]) for r in rows]
            return True
        except ValueError:
            return False

    xs = [k for k in keys if numeric(k)]
    if not xs:
        return ""
    x = xs[0]
    groups = [k for k in keys if k != x]
    out = []
    for metric in ("ttft_p99_s", "tpot_mean_s", "slo_attainment", "output_tokens_per_s"):
        fig, ax = plt.subplots(figsize=(7, 4))
        series = {}
        for r in rows:
            series.setdefault(tuple(r[g] for g in groups), []).append((float(r[x]), float(r[metric])))
        plt.close(fig)
        chunks = pages(sorted(series.items()))
        for n, chunk in enumerate(chunks):
            fig, ax = plt.subplots(figsize=(7, 4))
            for key, pts in chunk:
                pts.sort()
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3,
                        label=", ".join(f"{g}={v}" for g, v in zip(groups, key)) or metric)
            ax.set_xlabel(x)
            ax.set_ylabel(metric)
            part = f" ({n + 1} of {len(chunks)})" if len(chunks) > 1 else ""
            ax.set_title(f"sweep: {metric} by {x}{part}")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=6)
            out.append(png(fig))
    return "\n".join(out)


def shape_chart(plan):
    """A shape search: each shape's cost per policy ($/hour, or GPUs without prices), the cheapest
    marked; shapes that cannot hold one instance are listed under the chart with the reason."""
    rows = [r for r in plan["shapes"] if "policies" in r]
    policies = sorted({p for r in rows for p in r["policies"]})
    priced = any("price_per_gpu_hour" in r for r in rows)
    unit = "dollars_per_hour" if priced else "gpus"
    labels = [" ".join(str(v) for v in r["shape"].values()) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.35 * max(1, len(rows)) * max(1, len(policies))))
    height = 0.8 / max(1, len(policies))
    for k, policy in enumerate(policies):
        ys, xs, marks = [], [], []
        for i, r in enumerate(rows):
            a = r["policies"].get(policy, {})
            if a.get("value") is None:
                continue
            ys.append(i + k * height)
            xs.append(a.get(unit, 0))
            marks.append(f"{a['value']} x tp{r.get('tp', '?')}" + (" (cheapest)" if a.get("cheapest") else ""))
        bars = ax.barh(ys, xs, height=height, label=policy)
        for b, m in zip(bars, marks):
            ax.text(b.get_width(), b.get_y() + b.get_height() / 2, " " + m, va="center", fontsize=6)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(rows))])
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("$ per hour" if priced else "GPUs")
    ax.set_title(f"plan: {plan['scenario']}, fewest instances per shape (target {plan['target']})", fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=7)
    out = png(fig)
    infeasible = [r for r in plan["shapes"] if "infeasible" in r]
    if infeasible:
        out += "<ul>" + "".join(
            f"<li>{' '.join(str(v) for v in r['shape'].values())}: {html.escape(r['infeasible'])}</li>" for r in infeasible) + "</ul>"
    return out


def plan_charts(root):
    path = os.path.join(root, "plan.json")
    if not os.path.exists(path):
        return ""
    plan = json.load(open(path))
    if "shapes" in plan:
        return shape_chart(plan)
    vary = plan["vary"]
    fig, ax = plt.subplots(figsize=(7, 4))
    for policy, r in plan["policies"].items():
        # A probe that could not run ("infeasible": why) has no attainment to draw.
        pts = sorted((p[vary], p["attainment"]) for p in r["probes"] if "attainment" in p)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, label=f"{policy} -> {r['value']}")
    try:  # an attainment target is a number on this axis; a latency target is not drawn here
        ax.axhline(float(plan["target"]), color="gray", ls="--", lw=0.8)
    except ValueError:
        pass
    ax.set_xlabel(vary)
    ax.set_ylabel("SLO attainment")
    ax.set_title(f"plan: {plan['scenario']} (target {plan['target']})")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return png(fig)


def replay_section(root):
    """validation.json (kunsim replay-bench): each record's MAPE, and every figure's signed error
    as a grid (records by figures), then each record's real and kunsim figures."""
    path = os.path.join(root, "validation.json")
    if not os.path.exists(path):
        return ""
    records = json.load(open(path))["records"]
    if not records:
        return ""
    out = ["<p>kunsim's error against real <code>vllm bench serve</code> runs: (kunsim - real) / real. "
           "A saturated run (an open loop whose real server fell behind: throughput short of the offered rate, "
           "or TTFT growing through the run) and one kunsim could not "
           "serve whole are left out of the MAPE.</p>",
           "<table><tr><th>record</th><th>model</th><th>GPU</th><th>MAPE %</th><th>recorded MAPE %</th>"
           "<th>note</th></tr>"]
    for r in records:
        saturated = "saturated: " + r.get("saturated_why", "") if r.get("saturated") else ""
        note = "; ".join(x for x in [saturated, r.get("incomplete", ""),
                                     r.get("context", "") if "incomplete" not in r else ""] if x)
        mape = "-" if r.get("mape") is None else f"{r['mape']:.1f}"
        recorded = "-" if r.get("recorded_mape") is None else f"{r['recorded_mape']:.1f}"
        cells = [r["id"], r["model"], r["gpu"], mape, recorded, note]
        out.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    figures = []
    for r in records:
        for k in r["error_pct"]:
            if k not in figures:
                figures.append(k)
    for chunk in pages([r for r in records if r["error_pct"]]):
        if not chunk:
            continue
        grid = [[r["error_pct"].get(k, float("nan")) for k in figures] for r in chunk]
        fig, ax = plt.subplots(figsize=(1.2 + 0.55 * len(figures), 1.2 + 0.42 * len(chunk)))
        # Signed error, clipped at +-100% for the colour (the number in each cell is exact).
        im = ax.imshow([[max(-100, min(100, v)) for v in row] for row in grid], cmap="RdBu_r", vmin=-100, vmax=100,
                       aspect="auto")
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                if v == v:  # not NaN: the record has the figure
                    ax.text(j, i, f"{v:+.0f}", ha="center", va="center", fontsize=6)
        ax.set_xticks(range(len(figures)))
        ax.set_xticklabels(figures, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(chunk)))
        ax.set_yticklabels([r["id"] for r in chunk], fontsize=7)
        fig.colorbar(im, ax=ax, label="kunsim vs real, %")
        ax.set_title("signed error by record and figure (blue: kunsim low, red: kunsim high)")
        out.append(png(fig))
    for r in records:
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{r['real'][k]:.4g}</td><td>{r['kunsim'][k]:.4g}</td>"
            f"<td>{r['error_pct'].get(k, float('nan')):+.1f}</td></tr>" for k in r["real"] if k in r["kunsim"])
        if rows:
            out.append(f"<details><summary>{html.escape(r['id'])}</summary><table><tr><th>figure</th><th>real</th>"
                       f"<th>kunsim</th><th>error %</th></tr>{rows}</table></details>")
    return "\n".join(out)


def main(root, out):
    runs = runs_under(root)
    keys, swept = sweep_values(root)
    SWEPT.update(swept)
    name = os.path.basename(os.path.abspath(root))
    parts = [f"<h1>kunsim report: {html.escape(name)}</h1><p>{html.escape(os.path.abspath(root))}</p>"]
    if runs:
        parts.append("<h2>Runs</h2>" + summary_table(root, runs, keys))
        parts.append("<h2>Latency distributions</h2>")
        chunks = pages(runs)
        for n, chunk in enumerate(chunks):
            part = f" (runs {n * PAGE + 1}-{n * PAGE + len(chunk)} of {len(runs)})" if len(chunks) > 1 else ""
            parts.append(cdf_chart(root, chunk, "ttft_s", "TTFT CDF" + part))
            parts.append(cdf_chart(root, chunk, "tpot_s", "TPOT CDF" + part))
        parts.append("<h2>Memory and queues over time</h2>")
        for run in runs:
            parts.append(timeline_chart(root, run))
    sweep = sweep_charts(root)
    if sweep:
        parts.append("<h2>Sweep</h2>" + sweep)
    plan = plan_charts(root)
    if plan:
        parts.append("<h2>Capacity plan</h2>" + plan)
    replay = replay_section(root)
    if replay:
        parts.append("<h2>Replayed benchmarks</h2>" + replay)
    if len(parts) == 1:
        print(f"kunsim: {root}: no kunsim outputs (summary.json, sweep.csv, plan.json or validation.json) found",
              file=sys.stderr)
        return 2
    style = ("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}img{display:block;margin:1em 0}</style>")
    # `out` is in kunsim's private folder; kunsim moves it into place once this succeeds.
    with open(out, "w") as f:
        f.write("<!doctype html><html><head><meta charset='utf-8'><title>kunsim report</title>" + style +
                "</head><body>" + "\n".join(p for p in parts if p) + "</body></html>\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
