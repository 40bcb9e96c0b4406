#!/usr/bin/env python3
"""calibrate/torch_reference.py: a production reference for kunsim's prefill attention, timed in
the same GPU session (calibrate/gpu-session.sh runs it where PyTorch sees a GPU).

For each model shard it times torch.nn.functional.scaled_dot_product_attention with the cuDNN and
the flash backends over the (chunk, context) points kunsim-calibrate measured for attn_prefill in
the profile folder (or kunsim's default grid when there are none): one sequence, the shard's query
and KV heads, head_dim 128, bf16. A chunk after cached context uses a lower-right causal mask (its
query i sees keys 0 .. context + i), as vLLM's chunked prefill does. Times are CUDA events after
warm-up: the median, min and p90 of the trials.

Writes into the profile folder:
  reference.csv   backend,model,tp,chunk,context,median_s,min_s,p90_s (rows of a backend, model
                  and TP measured again are replaced)
  meta.json       gains "reference": whose kernels each backend's rows measured (PyTorch and
                  cuDNN versions), and per backend and shard the fitted kunsim-to-reference time
                  ratio (geometric mean) per shape family: short prompts (<= 256 tokens), long
                  prompts, and chunks after cached context.

  python3 calibrate/torch_reference.py --profile DIR --model llama-3-8b --tp 1 [--model M --tp N]
         [--backends cudnn,flash] [--trials 9] [--device cuda]
--device cpu --backends math runs the same procedure on the CPU (to try the script without a GPU;
the times mean nothing there).
"""
import argparse
import csv
import json
import math
import os
import statistics
import sys
import time

HEAD_DIM = 128
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CHUNKS = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]  # as calibrate/grid.cpp
DEFAULT_CONTEXTS = [0, 256, 1024, 2048, 4096, 8192, 16384, 32768]
HEADER = ["backend", "model", "tp", "chunk", "context", "median_s", "min_s", "p90_s"]


def shard_heads(model, tp):
    spec = json.load(open(os.path.join(HERE, "..", "sim", "model", "catalogue.json")))
    if model not in spec:
        sys.exit(f"torch_reference: unknown model {model!r} (the catalogue has {', '.join(sorted(spec))})")
    m = spec[model]
    return max(1, m["heads"] // tp), max(1, m["kv_heads"] // tp)


def profile_points(profile, model, tp):
    """The (chunk, context) points kunsim-calibrate measured for attn_prefill of this shard."""
    path = os.path.join(profile, "ops.csv")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return sorted({(int(float(r["p1"])), int(float(r["p2"]))) for r in csv.DictReader(f)
                       if r["op"] == "attn_prefill" and r["model"] == model and int(r["tp"]) == tp})


def kunsim_times(profile, model, tp):
    path = os.path.join(profile, "ops.csv")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return {(int(float(r["p1"])), int(float(r["p2"]))): float(r["median_s"]) for r in csv.DictReader(f)
                if r["op"] == "attn_prefill" and r["model"] == model and int(r["tp"]) == tp}


class Backends:
    """The SDPA backends by name, with the context manager that pins one."""

    def __init__(self, torch):
        self.torch = torch
        try:
            from torch.nn.attention import SDPBackend, sdpa_kernel
            self.sdpa_kernel = sdpa_kernel
            self.by_name = {"cudnn": getattr(SDPBackend, "CUDNN_ATTENTION", None),
                            "flash": SDPBackend.FLASH_ATTENTION, "math": SDPBackend.MATH}
        except ImportError:  # PyTorch before 2.3: only the math path is tried (on the CPU)
            self.sdpa_kernel = None
            self.by_name = {"math": None}

    def attention(self, name, q, k, v, context):
        """One launch: q [1, H, chunk, D] against k, v [1, H, context + chunk, D]."""
        torch = self.torch
        F = torch.nn.functional
        chunk, keys = q.shape[2], k.shape[2]
        if self.sdpa_kernel is None:  # the math reference, written out
            s = (q.float() @ k.float().transpose(-1, -2)) / math.sqrt(HEAD_DIM)
            allowed = torch.ones(chunk, keys, dtype=torch.bool).tril(diagonal=context)
            return (s.masked_fill(~allowed, float("-inf")).softmax(-1) @ v.float()).to(q.dtype)
        with self.sdpa_kernel(self.by_name[name]):
            if context == 0:
                return F.scaled_dot_product_attention(q, k, v, is_causal=True)
            from torch.nn.attention.bias import causal_lower_right
            return F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(chunk, keys))


def time_launch(torch, device, fn, trials):
    for _ in range(3):
        fn()
    per = []
    if device == "cuda":
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        for _ in range(trials):
            start.record()
            fn()
            stop.record()
            stop.synchronize()
            per.append(start.elapsed_time(stop) * 1e-3)
    else:
        for _ in range(trials):
            t0 = time.perf_counter()
            fn()
            per.append(time.perf_counter() - t0)
    per.sort()
    return statistics.median(per), per[0], per[min(len(per) - 1, math.ceil(0.9 * len(per)) - 1)]


def family(chunk, context):
    if context > 0:
        return "chunk after context"
    return "prompt <= 256" if chunk <= 256 else "prompt > 256"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", required=True, help="the profile folder (kunsim-calibrate's --out)")
    ap.add_argument("--model", action="append", required=True)
    ap.add_argument("--tp", action="append", type=int)
    ap.add_argument("--backends", default="cudnn,flash")
    ap.add_argument("--trials", type=int, default=9)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--max-keys", type=int, default=40960, help="skip points past this many keys")
    a = ap.parse_args()
    tps = a.tp or [1] * len(a.model)
    if len(tps) != len(a.model):
        sys.exit("torch_reference: give one --tp per --model")
    import torch
    if a.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_reference: PyTorch sees no GPU")
    be = Backends(torch)
    backends, failures = [], []
    for b in (b for b in a.backends.split(",") if b):
        if b not in be.by_name or (be.sdpa_kernel is not None and be.by_name[b] is None):
            failures.append(f"{b}: no such SDPA backend in PyTorch {torch.__version__}")
        else:
            backends.append(b)
    if not backends:
        sys.exit("torch_reference: none of the backends is in this PyTorch: " + "; ".join(failures))
    os.makedirs(a.profile, exist_ok=True)
    rows, ratios = [], {}
    for model, tp in zip(a.model, tps):
        heads, kv_heads = shard_heads(model, tp)
        points = profile_points(a.profile, model, tp) or [(c, x) for c in DEFAULT_CHUNKS for x in DEFAULT_CONTEXTS]
        points = [(c, x) for c, x in points if c + x <= a.max_keys]
        measured = kunsim_times(a.profile, model, tp)
        for b in backends:
            fam = {}
            for chunk, context in points:
                gen = torch.Generator(device=a.device).manual_seed(chunk * 100003 + context)
                dtype = torch.bfloat16
                q = torch.randn(1, heads, chunk, HEAD_DIM, device=a.device, dtype=dtype, generator=gen)
                # K and V for every query head (GQA's shared heads repeated: SDPA's kernels take them so
                # in every PyTorch version; the copy is made before timing).
                k = torch.randn(1, kv_heads, context + chunk, HEAD_DIM, device=a.device, dtype=dtype, generator=gen)
                v = torch.randn_like(k)
                k, v = k.repeat_interleave(heads // kv_heads, dim=1), v.repeat_interleave(heads // kv_heads, dim=1)
                try:
                    med, lo, p90 = time_launch(torch, a.device, lambda: be.attention(b, q, k, v, context), a.trials)
                except RuntimeError as e:  # a backend that does not take this shape: say so, go on
                    failures.append(f"{b} {model} tp{tp} chunk {chunk} context {context}: {str(e).splitlines()[0]}")
                    continue
                rows.append([b, model, tp, chunk, context, f"{med:.6e}", f"{lo:.6e}", f"{p90:.6e}"])
                if (chunk, context) in measured:
                    fam.setdefault(family(chunk, context), []).append(math.log(measured[(chunk, context)] / med))
            ratios.setdefault(b, {})[f"{model} tp{tp}"] = {
                f: {"kunsim_over_reference": round(math.exp(sum(v) / len(v)), 4), "points": len(v)}
                for f, v in sorted(fam.items())}
    # Merge into reference.csv: a (backend, model, tp) measured now replaces its old rows.
    path = os.path.join(a.profile, "reference.csv")
    done = {(r[0], r[1], str(r[2])) for r in rows}
    kept = []
    if os.path.exists(path):
        with open(path) as f:
            kept = [r for r in csv.reader(f) if r and r != HEADER and (r[0], r[1], r[2]) not in done]
    with open(path + ".tmp", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(kept + rows)
    os.replace(path + ".tmp", path)
    meta_path = os.path.join(a.profile, "meta.json")
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
    cudnn = torch.backends.cudnn.version() if a.device == "cuda" else None
    names = {"cudnn": f"PyTorch {torch.__version__} SDPA, cuDNN attention (cuDNN {cudnn})",
             "flash": f"PyTorch {torch.__version__} SDPA, FlashAttention backend",
             "math": f"PyTorch {torch.__version__} {'SDPA math path' if be.sdpa_kernel else 'attention written out'} on "
                     f"{a.device} (a trial of the script, not a reference)"}
    meta["reference"] = {"file": "reference.csv", "op": "attn_prefill", "device": a.device,
                         "gpu": torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu",
                         "kernels": {b: names[b] for b in backends}, "ratios": ratios, "failures": failures}
    with open(meta_path + ".tmp", "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    os.replace(meta_path + ".tmp", meta_path)
    print(f"torch_reference: {len(rows)} rows into {path}; {len(failures)} shapes a backend refused")
    for b, by_shard in ratios.items():
        for shard, fams in by_shard.items():
            for f, r in fams.items():
                print(f"  {b:6s} {shard:18s} {f:20s} kunsim / reference {r['kunsim_over_reference']:.3f} ({r['points']} points)")


if __name__ == "__main__":
    main()
