#!/usr/bin/env python3
"""Collects `recsys evaluate` / `recsys train --report` JSON reports into one results table.

usage: collect_seqrec.py [--json OUT.json] [--md OUT.md] [--title TEXT] [--published-beauty]
                         [--keep EARLIER.json] LABEL=REPORT.json ...

One row per report. A report of several checkpoints (`recsys evaluate --checkpoint A B ...`, one
per seed) becomes one row with mean +- std over them. Each row carries the model, the ID map, the
seeds, the weights evaluated (best / last), the decoding precision, the test users and how much
training the weights had (steps, wall time, stop reason: the notes `recsys evaluate` and
`recsys train` write; reports written before 2026-11-30 lack them). `--published-beauty` appends
the published Amazon Beauty figures (../shared/datasets/README.md) and the PyTorch-eager SASRec
reference measured for issue 5. `--keep` carries over the rows of an earlier --json output whose
reports are gone (a row with the label of a new report is replaced by it; the date a kept row was
collected stays with it). The Markdown table goes to stdout and, with --md, to a file.
"""
import argparse
import datetime
import json
import statistics
import sys

METRICS = ["recall@5", "ndcg@5", "recall@10", "ndcg@10", "recall@20", "ndcg@20"]
SHORT = {"recall@5": "R@5", "ndcg@5": "N@5", "recall@10": "R@10", "ndcg@10": "N@10",
         "recall@20": "R@20", "ndcg@20": "N@20"}
PUBLISHED_BEAUTY = [
    ("TIGER (published, RQ-VAE + T5)", {"recall@5": 0.0454, "ndcg@5": 0.0321,
                                        "recall@10": 0.0648, "ndcg@10": 0.0384}),
    ("SASRec (published in the TIGER paper)", {"recall@5": 0.0387, "ndcg@5": 0.0249,
                                                "recall@10": 0.0605, "ndcg@10": 0.0318}),
    ("SASRec, PyTorch eager full-softmax (issue 5 reference, ~20 min, 1 thread)",
     {"recall@5": 0.0567, "ndcg@5": 0.0328, "recall@10": 0.0849, "ndcg@10": 0.0419}),
]


def fail(msg):
    print(f"collect_seqrec.py: {msg}", file=sys.stderr)
    sys.exit(1)


def training_notes(notes, checkpoint):
    """The training facts of one checkpoint from a report's notes (tagged when there are several)."""
    out = {}
    for key in ["steps", "epochs", "training wall time (s)", "stop reason", "best epoch"]:
        for k in (f"{key} ({checkpoint})", key):
            if k in notes:
                out[key] = notes[k]
                break
    return out


def load_json(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        fail(f"cannot read {what} '{path}': {e}")


def row_from_report(label, path):
    r = load_json(path, "report")
    if not isinstance(r, dict) or "results" not in r or "config" not in r:
        fail(f"'{path}' is not a report of recsys evaluate or recsys train")
    notes = r.get("notes", {})
    row = {"label": label, "report": path, "model": r.get("model", ""),
           "id_map": r.get("id_map", ""), "seed": r["config"].get("train.seed", ""),
           "weights": notes.get("weights", "best"), "splits": {}}
    for split in ["validation", "test"]:
        results = [x for x in r["results"] if x["split"] == split]
        if not results:
            continue
        metrics = {}
        for m in METRICS:
            values = [x["metrics"][m] for x in results if m in x["metrics"]]
            if values:
                metrics[m] = {"mean": statistics.fmean(values),
                              "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                              "values": values}
        row["splits"][split] = {
            "users": results[0]["users"], "runs": len(results),
            "precision": results[0].get("precision", ""),
            "exclude_history": results[0].get("exclude_history", False),
            "decode_seconds": [x.get("seconds") for x in results], "metrics": metrics}
    if not row["splits"]:
        fail(f"'{path}' has no validation or test results")
    checkpoints = [x.get("checkpoint", notes.get("checkpoint", "")) for x in r["results"]
                   if x["split"] == next(iter(row["splits"]))]
    row["checkpoints"] = [{"checkpoint": c, **training_notes(notes, c)} for c in checkpoints]
    return row


def kept_rows(path, new_labels):
    earlier = load_json(path, "earlier results")
    if not isinstance(earlier, dict) or not isinstance(earlier.get("rows"), list):
        fail(f"'{path}' is not a --json output of collect_seqrec.py")
    rows = []
    for row in earlier["rows"]:
        if row.get("label") in new_labels:
            continue
        row.setdefault("collected", earlier.get("date", ""))
        rows.append(row)
    return rows


def cell(metric):
    if metric is None:
        return "-"
    if len(metric["values"]) > 1:
        return f"{metric['mean']:.4f} +- {metric['std']:.4f}"
    return f"{metric['mean']:.4f}"


def training_cell(row):
    parts = []
    for c in row["checkpoints"]:
        if "steps" not in c:
            parts.append("?")
            continue
        text = f"{int(c['steps']):,} steps"
        if "training wall time (s)" in c:
            text += f", {float(c['training wall time (s)']) / 60:.0f} min"
        if c.get("stop reason"):
            text += f" ({c['stop reason']})"
        parts.append(text)
    return "; ".join(parts)


def markdown(title, rows, published):
    lines = [f"# {title}", "",
             "| run | model | IDs | seeds | weights | training (each checkpoint) | test users | "
             + " | ".join(SHORT[m] for m in METRICS) + " |",
             "|---" * (7 + len(METRICS)) + "|"]
    for row in rows:
        test = row["splits"].get("test")
        if not test:
            continue
        seeds = row["seed"] if test["runs"] == 1 else f"{test['runs']} runs"
        lines.append(f"| {row['label']} | {row['model']} | {row['id_map'] or '-'} | {seeds} | "
                     f"{row['weights']} | {training_cell(row)} | {test['users']} | "
                     + " | ".join(cell(test["metrics"].get(m)) for m in METRICS) + " |")
    for name, metrics in published:
        lines.append(f"| {name} | | | | | | | "
                     + " | ".join(f"{metrics[m]:.4f}" if m in metrics else "-" for m in METRICS)
                     + " |")
    valid = [r for r in rows if "validation" in r["splits"]]
    if valid:
        lines += ["", "Validation:", "", "| run | users | " + " | ".join(SHORT[m] for m in METRICS)
                  + " |", "|---" * (2 + len(METRICS)) + "|"]
        for row in valid:
            v = row["splits"]["validation"]
            lines.append(f"| {row['label']} | {v['users']} | "
                         + " | ".join(cell(v["metrics"].get(m)) for m in METRICS) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("reports", nargs="+", metavar="LABEL=REPORT.json")
    ap.add_argument("--json", help="write the rows (with every seed's figures) here")
    ap.add_argument("--md", help="write the Markdown table here too")
    ap.add_argument("--title", default="Sequential recommendation results")
    ap.add_argument("--published-beauty", action="store_true",
                    help="append the published Amazon Beauty figures")
    ap.add_argument("--keep", metavar="EARLIER.json",
                    help="carry over the rows of an earlier --json output (new labels replace)")
    args = ap.parse_args()
    rows = []
    for spec in args.reports:
        label, sep, path = spec.partition("=")
        if not sep or not label or not path:
            fail(f"'{spec}' is not LABEL=REPORT.json")
        rows.append(row_from_report(label, path))
    if args.keep:
        rows += kept_rows(args.keep, {r["label"] for r in rows})
    published = PUBLISHED_BEAUTY if args.published_beauty else []
    md = markdown(args.title, rows, published)
    if args.json:
        out = {"title": args.title,
               "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "rows": rows,
               "published": [{"method": n, **m} for n, m in published]}
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
    if args.md:
        with open(args.md, "w") as f:
            f.write(md)
    sys.stdout.write(md)


if __name__ == "__main__":
    main()
