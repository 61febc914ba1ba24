#!/usr/bin/env python3
"""Turn krope Google Benchmark JSON into PNG charts and a markdown report.

    python3 perf/plot.py perf/results/h100/krope_bench.json [more.json ...] --out perf/results/h100

Reads the "median" aggregates (or plain runs when a file has no repetitions) of benchmarks
named "<group>/<path>/<config>" (perf/support/runner.hpp) and writes:
  results.md    headline (specialized and generic per shape: GB/s, % of copy, speedup vs naive),
                decode us/call, N x 128 sweep summary, then full tables per group like the
                original reports (config, path, time, speedup vs naive, relative error, extra
                memory, GB/s, % of copy)
  sweep.png     GB/s vs N for the N x 128 sweep, one line per path
  shapes.png    GB/s per shape (issue table, decode, original reports), bars per path
  variants.png  GB/s per variant at the Llama-3-8B prefill shape, bars per path
  host.png      GB/s per host case (when a host JSON is given)
"""

import argparse
import json
import os
import re
import sys
from collections import OrderedDict

PATH_ORDER = ["specialized", "apply", "generic", "naive", "copy", "touch"]
PATH_LABEL = {
    "specialized": "CUDA specialization (krope::apply)",
    "apply": "krope::apply",
    "generic": "generic Kokkos",
    "naive": "naive unfused",
    "copy": "copy ceiling",
    "touch": "in-place touch (hosts)",
}
PATH_COLOR = {
    "specialized": "#1f77b4",
    "apply": "#1f77b4",
    "generic": "#ff7f0e",
    "naive": "#7f7f7f",
    "copy": "#2ca02c",
    "touch": "#9467bd",
}
LLAMA = "B=8 T=4096 Hq=32 Hk=8 D=128"


def load(files):
    """{group: OrderedDict{config: {path: record}}}, contexts."""
    groups = OrderedDict()
    contexts = []
    for name in files:
        with open(name) as f:
            data = json.load(f)
        contexts.append(data.get("context", {}))
        runs = data.get("benchmarks", [])
        medians = [r for r in runs if r.get("aggregate_name") == "median"]
        chosen = medians if medians else [r for r in runs if r.get("run_type") == "iteration"]
        for r in chosen:
            if r.get("error_occurred"):
                print(f"warning: {r['name']}: {r.get('error_message')}", file=sys.stderr)
                continue
            name = re.sub(r"/manual_time(_median)?$", "", r["name"])
            parts = name.split("/", 2)
            if len(parts) != 3:
                continue
            group, path, config = parts
            groups.setdefault(group, OrderedDict()).setdefault(config, {})[path] = r
    return groups, contexts


def value(record, key, default=None):
    return record.get(key, default) if record else default


def report_config(config, record):
    """The original reports' B x H x T x D for Hq == Hk shapes."""
    b, t, hq, hk, d = (int(value(record, k, 0)) for k in ("B", "T", "Hq", "Hk", "D"))
    if hq == hk and b:
        return f"{b}x{hq}x{t}x{d}"
    return config


def fmt(x, digits=1, suffix=""):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}{suffix}"


def fmt_err(x):
    return "-" if x is None else f"{x:.2e}"


def fmt_mem(x):
    if x is None:
        return "-"
    if x == 0:
        return "0"
    return f"{x / 2**20:,.1f} MiB"


def fmt_time(us):
    if us is None:
        return "-"
    return f"{us / 1000:,.3f} ms" if us >= 1000 else f"{us:,.1f} us"


def paths_of(configs):
    present = {p for rec in configs.values() for p in rec}
    return [p for p in PATH_ORDER if p in present]


def full_table(group, configs, out):
    out.append(
        "| config | path | time | speedup vs naive | rel. error | extra memory | GB/s | % of copy |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for config, recs in configs.items():
        for path in paths_of({config: recs}):
            r = recs[path]
            shown = report_config(config, r) if group == "reports" else config
            speed = value(r, "speedup_vs_naive")
            out.append(
                f"| {shown} | {path} | {fmt_time(value(r, 'time_us'))} | "
                f"{fmt(speed, 2, 'x') if path not in ('naive', 'copy', 'touch') else '-'} | "
                f"{fmt_err(value(r, 'rel_error')) if path not in ('copy', 'touch') else '-'} | "
                f"{fmt_mem(value(r, 'extra_bytes')) if path not in ('copy', 'touch') else '-'} | "
                f"{fmt(value(r, 'GB/s'))} | {fmt(value(r, 'percent_of_copy'), 1, '%')} |"
            )
    out.append("")


def headline(groups, out):
    fast = "specialized" if any(
        "specialized" in recs for g in groups.values() for recs in g.values()
    ) else "apply"
    out.append(
        f"| group | config | {fast} GB/s | % of copy | vs naive | generic GB/s | % of copy "
        "| vs naive | copy GB/s | time (specialized) |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for group in ("shapes", "decode", "reports", "variants", "sweep"):
        for config, recs in groups.get(group, {}).items():
            s, g, c = recs.get(fast), recs.get("generic"), recs.get("copy")
            shown = report_config(config, s or c or {}) if group == "reports" else config
            if group == "variants" and config.startswith(LLAMA):
                shown = config[len(LLAMA):].strip() or config
            out.append(
                f"| {group} | {shown} | {fmt(value(s, 'GB/s'))} | "
                f"{fmt(value(s, 'percent_of_copy'), 1, '%')} | "
                f"{fmt(value(s, 'speedup_vs_naive'), 2, 'x')} | {fmt(value(g, 'GB/s'))} | "
                f"{fmt(value(g, 'percent_of_copy'), 1, '%')} | "
                f"{fmt(value(g, 'speedup_vs_naive'), 2, 'x')} | {fmt(value(c, 'GB/s'))} | "
                f"{fmt_time(value(s, 'time_us'))} |"
            )
    out.append("")


def split_sweep(configs):
    """The sweep's table configs, and its table-free ones keyed by N."""
    table, free = OrderedDict(), {}
    for name, recs in configs.items():
        if name.endswith("table-free"):
            free[int(value(next(iter(recs.values())), "T", 0))] = recs
        else:
            table[name] = recs
    return table, free


def sweep_summary(configs, out):
    configs, free = split_sweep(configs)
    rows = sorted(configs.values(), key=lambda r: value(next(iter(r.values())), "T", 0))
    if not rows:
        return
    paths = paths_of(configs)
    fast = "specialized" if "specialized" in paths else "apply"
    free_cols = " | table-free GB/s | table-free % of copy" if free else ""
    out.append(
        "| N | " + " | ".join(f"{p} GB/s" for p in paths) + f" | {fast} % of copy{free_cols} |"
    )
    out.append("|---:|" + "---:|" * (len(paths) + 1 + (2 if free else 0)))
    pct = []
    for recs in rows:
        n = int(value(next(iter(recs.values())), "T", 0))
        p = value(recs.get(fast), "percent_of_copy")
        if p is not None:
            pct.append(p)
        cells = [fmt(value(recs.get(q), "GB/s")) for q in paths] + [fmt(p, 1, "%")]
        if free:
            f = free.get(n, {}).get(fast)
            cells += [fmt(value(f, "GB/s")), fmt(value(f, "percent_of_copy"), 1, "%")]
        out.append(f"| {n} | " + " | ".join(cells) + " |")
    out.append("")
    if pct:
        out.append(
            f"{fast} over the sweep: {min(pct):.1f}% to {max(pct):.1f}% of the same-run copy "
            f"(median {sorted(pct)[len(pct) // 2]:.1f}%)."
        )
        out.append("")


def bar_chart(plt, configs, title, filename, label_of=lambda c, r: c):
    if not configs:
        return None
    paths = paths_of(configs)
    names = list(configs.keys())
    width = 0.8 / max(len(paths), 1)
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(names) + 3), 5.5))
    for i, p in enumerate(paths):
        xs = [j + (i - (len(paths) - 1) / 2) * width for j in range(len(names))]
        ys = [value(configs[n].get(p), "GB/s", 0) or 0 for n in names]
        ax.bar(xs, ys, width, label=PATH_LABEL.get(p, p), color=PATH_COLOR.get(p))
    ax.set_xticks(range(len(names)))
    labels = [label_of(n, next(iter(configs[n].values()))) for n in names]
    ax.set_xticklabels(labels, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("GB/s (q, k read + written once)")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(filename, dpi=120)
    plt.close(fig)
    return filename


def sweep_chart(plt, configs, title, filename):
    if not configs:
        return None
    fig, ax = plt.subplots(figsize=(8, 5))
    configs, free = split_sweep(configs)
    for p in paths_of(configs):
        pts = sorted(
            (value(r[p], "T"), value(r[p], "GB/s")) for r in configs.values() if p in r
        )
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", ms=3,
                label=PATH_LABEL.get(p, p), color=PATH_COLOR.get(p))
    fast = "specialized" if "specialized" in paths_of(configs) else "apply"
    pts = sorted((n, value(r.get(fast), "GB/s")) for n, r in free.items() if fast in r)
    if pts:
        ax.plot([x for x, _ in pts], [y for _, y in pts], marker="s", ms=3, linestyle="--",
                label=f"{PATH_LABEL.get(fast, fast)}, table-free angles",
                color=PATH_COLOR.get(fast))
    ax.set_xlabel("N (tokens; B=1, H=1, D=128, bf16)")
    ax.set_ylabel("GB/s (q, k read + written once)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(filename, dpi=120)
    plt.close(fig)
    return filename


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="+")
    parser.add_argument("--out", default=".")
    parser.add_argument("--title", default="krope RoPE benchmarks")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    groups, contexts = load(args.json)

    out = [f"# {args.title}", ""]
    for ctx in contexts:
        out.append(
            f"- `{os.path.basename(ctx.get('executable', '?'))}` on {ctx.get('krope_device', '?')}"
            f" ({ctx.get('krope_exec_space', '?')}), {ctx.get('date', '?')}; last-level cache "
            f"{int(ctx.get('krope_last_level_cache_bytes', 0)) / 2**20:.0f} MiB"
        )
    out += [
        "- Bytes per call: q and k read once and written once (tables, ids, offsets ignored); "
        "GB/s = bytes / median time per call. % of copy: a device-to-device copy of the same "
        "bytes measured in the same run. Speedup vs the naive unfused baseline of the same run. "
        "Relative error: ||out - ref|| / ||ref|| against an fp64 host reference on sampled "
        "tokens. Extra memory: device memory allocated per call (naive: temporaries + new "
        "outputs). Times are medians (per-call median in each repetition, median over "
        "repetitions); each call timed alone between two CUDA events (no graphs), queued behind a "
        "short hold kernel so that the events time the GPU side of the call (the host side of "
        "the call, its argument checks and launches, is reported as host_us); buffers rotated "
        "over more than twice the last-level cache.",
        "",
    ]

    device_groups = [g for g in ("shapes", "decode", "reports", "variants", "sweep") if g in groups]
    if device_groups:
        out += ["## Headline", ""]
        headline(groups, out)
    if "decode" in groups:
        out += ["## Decode (time per call)", ""]
        for config, recs in groups["decode"].items():
            for p in paths_of({config: recs}):
                host = value(recs[p], "host_us")
                extra = f" (host side of the call: {fmt(host, 2)} us)" if host is not None else ""
                out.append(
                    f"- {config}, {p}: {fmt(value(recs[p], 'time_us'), 2)} us/call on the GPU{extra}"
                )
        out.append("")
    if "decode-graph" in groups:
        out += ["## Decode under CUDA graphs (time per replay)", ""]
        for config, recs in groups["decode-graph"].items():
            for p in paths_of({config: recs}):
                out.append(
                    f"- {config}, {p}: {fmt(value(recs[p], 'time_us'), 2)} us per replay on the GPU"
                )
        out.append("")
    if "sweep" in groups:
        out += ["## N x 128 sweep", "", "![sweep](sweep.png)", ""]
        sweep_summary(groups["sweep"], out)

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
        print("warning: matplotlib missing, no charts", file=sys.stderr)

    charts = []
    if plt is not None:
        charts.append(sweep_chart(plt, groups.get("sweep", {}), "N x 128 sweep (bf16, in place)",
                                  os.path.join(args.out, "sweep.png")))
        shape_configs = OrderedDict()
        for g in ("shapes", "decode", "reports"):
            for config, recs in groups.get(g, {}).items():
                label = report_config(config, next(iter(recs.values()))) if g == "reports" else config
                shape_configs[f"{g}: {label}"] = recs
        charts.append(bar_chart(plt, shape_configs, "Shapes", os.path.join(args.out, "shapes.png")))
        variant_configs = OrderedDict()
        for config, recs in groups.get("shapes", {}).items():
            if config.startswith(LLAMA):
                variant_configs[config[len(LLAMA):].strip()] = recs
        for config, recs in groups.get("variants", {}).items():
            variant_configs[config[len(LLAMA):].strip() if config.startswith(LLAMA) else config] = recs
        charts.append(bar_chart(plt, variant_configs, f"Variants at {LLAMA}",
                                os.path.join(args.out, "variants.png")))
        host_configs = OrderedDict()
        for g, configs in groups.items():
            if g.startswith("host"):
                for config, recs in configs.items():
                    host_configs[f"{g}: {config}"] = recs
        charts.append(bar_chart(plt, host_configs, "Host execution spaces",
                                os.path.join(args.out, "host.png")))
    for c in (c for c in charts if c):
        name = os.path.basename(c)
        if name != "sweep.png":
            out += [f"![{name}]({name})", ""]

    for group, configs in groups.items():
        out += [f"## {group}", ""]
        full_table(group, configs, out)

    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(out))
    print("\n".join(out[: 60]))


if __name__ == "__main__":
    main()
