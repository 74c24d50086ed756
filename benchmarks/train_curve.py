#!/usr/bin/env python3
"""Validation curve of one or more `recsys train` runs, with a log-linear fit and its extrapolation.

Reads each run's train_log.jsonl (one line per validation: epoch, step, train_loss, lr,
samples_per_s, elapsed_seconds, valid_<metric>@K; one per resume with changed settings:
resumed_at_step, epoch, changed) and prints Markdown, the setting changes included: the curve (every --every-th validation) and
a least-squares fit  metric = a + b * ln(step)  over the validations at step >= --fit-from. With
--target, the fit is solved for the step at which it reaches each target value. The fit is a
description of the measured range, not a law: quote the extrapolation as such.

usage: benchmarks/train_curve.py LABEL=RUN_DIR[:SKIP] [...] [--metric ndcg@10] [--fit-from STEP]
                                 [--target 0.045 ...] [--every N]
  SKIP: epochs to leave out of the fit, e.g. 25-28 or 3,7 (a probe inside the run).
"""
import argparse
import json
import math
import os
import sys


def parse_skip(text):
    skip = set()
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            sys.exit(f"train_curve.py: bad epoch list '{text}' (expected e.g. 25-28 or 3,7)")
        if a > b:
            sys.exit(f"train_curve.py: empty epoch range '{part}'")
        skip.update(range(a, b + 1))
    return skip


def read_run(spec, metric):
    label, eq, rest = spec.partition("=")
    if not eq or not label or not rest:
        sys.exit(f"train_curve.py: expected LABEL=RUN_DIR[:SKIP], got '{spec}'")
    path, _, skip = rest.partition(":")
    log = os.path.join(path, "train_log.jsonl") if os.path.isdir(path) else path
    if not os.path.isfile(log):
        sys.exit(f"train_curve.py: no training log at '{log}'")
    key = "valid_" + metric
    by_step = {}
    changes = []  # (step, epoch, {setting: [old, new]})
    with open(log) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if "resumed_at_step" in row:
                    changes.append((int(row["resumed_at_step"]), int(row["epoch"]), row["changed"]))
                    continue
                point = (int(row["epoch"]), float(row["elapsed_seconds"]), float(row[key]))
                by_step[int(row["step"])] = point  # a resumed run may repeat a step: keep the last
            except (ValueError, KeyError) as e:
                sys.exit(f"train_curve.py: {log}:{n}: not a validation line with '{key}' ({e})")
    if not by_step:
        sys.exit(f"train_curve.py: '{log}' has no validation lines")
    points = [(s, *by_step[s]) for s in sorted(by_step)]  # (step, epoch, elapsed, value)
    return label, log, points, changes, parse_skip(skip)


def fit(points):
    xs = [math.log(p[0]) for p in points]
    ys = [p[3] for p in points]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if n < 3 or sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    ss_res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my) ** 2 for y in ys)
    se_b = math.sqrt(ss_res / (n - 2) / sxx)
    return a, b, se_b, 1 - ss_res / ss_tot if ss_tot > 0 else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="LABEL=RUN_DIR[:SKIP]")
    ap.add_argument("--metric", default="ndcg@10")
    ap.add_argument("--fit-from", type=int, default=0, help="first step the fit uses")
    ap.add_argument("--target", type=float, action="append", default=[])
    ap.add_argument("--every", type=int, default=1, help="print every N-th validation")
    args = ap.parse_args()
    if args.every < 1:
        sys.exit("train_curve.py: --every must be at least 1")

    print(f"# Validation {args.metric} against training steps\n")
    for spec in args.runs:
        label, log, points, changes, skip = read_run(spec, args.metric)
        best = max(points, key=lambda p: p[3])
        print(f"## {label} (`{log}`)\n")
        print(f"{len(points)} validations, last at step {points[-1][0]:,} (epoch {points[-1][1]}, "
              f"{points[-1][2] / 60:.0f} min elapsed); best {best[3]:.4f} at step {best[0]:,} "
              f"(epoch {best[1]}).\n")
        for step, epoch, changed in changes:
            text = ", ".join(f"{k} {v[0]} -> {v[1]}" for k, v in changed.items())
            print(f"Resumed at step {step:,} (epoch {epoch}) with changed settings: {text}.\n")
        print(f"| epoch | step | elapsed (min) | {args.metric} |")
        print("|---|---|---|---|")
        for i, (step, epoch, elapsed, value) in enumerate(points):
            if i % args.every == 0 or i == len(points) - 1:
                mark = " (not fitted)" if epoch in skip else ""
                print(f"| {epoch} | {step:,} | {elapsed / 60:.0f} | {value:.4f}{mark} |")
        used = [p for p in points if p[0] >= args.fit_from and p[1] not in skip]
        f = fit(used)
        if f is None:
            print(f"\nFit: fewer than 3 distinct validations at step >= {args.fit_from}.\n")
            continue
        a, b, se_b, r2 = f
        print(f"\nFit over {len(used)} validations (steps {used[0][0]:,}-{used[-1][0]:,}"
              f"{', epochs ' + ','.join(map(str, sorted(skip))) + ' left out' if skip else ''}): "
              f"{args.metric} = {a:.4f} + {b:.5f} ln(step); +{b * math.log(2):.4f} "
              f"(+- {se_b * math.log(2):.4f}) per doubling of steps, R^2 {r2:.2f}.")
        for t in args.target:
            if b <= 0:
                print(f"- target {t:.4f}: the fit does not rise")
                continue
            steps = math.exp((t - a) / b)
            print(f"- target {t:.4f}: step {steps:,.0f} by the fit "
                  f"({steps / used[-1][0]:.1f}x the last fitted step)")
        print()


if __name__ == "__main__":
    main()
