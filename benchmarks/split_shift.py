#!/usr/bin/env python3
"""How far the leave-one-out test targets drift from the validation targets (a diagnostic).

Same split as `recsys data prepare`: per user, reviews stably sorted by time (file order on ties);
test target = items[n-1], validation target = items[n-2], training = items[:n-2]. For each split
it prints how popular the targets are in the training portion, how often the (previous item ->
target) transition occurs in training, and what MostPop (rank every item by its training count)
scores. A model that leans on popularity or memorised transitions loses more from validation to
test than one that does not.

With `--ranks LABEL=FILE` (per-user ranks from `recsys evaluate --ranks FILE`, both splits) it also
slices each model's NDCG@10 by whether the target's transition was seen in training and by the
target's training count.

usage: benchmarks/split_shift.py [REVIEWS_JSON_GZ] [--ranks LABEL=FILE ...]
       (default data: the shared Beauty 5-core reviews)
"""
import argparse
import collections
import csv
import datetime
import gzip
import json
import math
import sys

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
ap.add_argument('reviews', nargs='?',
                default='../shared/datasets/amazon2014-beauty/reviews_Beauty_5.json.gz')
ap.add_argument('--ranks', action='append', default=[], metavar='LABEL=FILE')
args = ap.parse_args()
path = args.reviews
seqs = collections.OrderedDict()
with (gzip.open(path, 'rt') if path.endswith('.gz') else open(path)) as f:
    for line in f:
        r = json.loads(line)
        seqs.setdefault(r['reviewerID'], []).append((r['unixReviewTime'], r['asin']))
for u, s in seqs.items():
    seqs[u] = [a for _, a in sorted(s, key=lambda x: x[0])]
short = [u for u, s in seqs.items() if len(s) < 3]  # no validation target (5-core: none)
for u in short:
    del seqs[u]

train_count = collections.Counter()
transitions = collections.Counter()
for s in seqs.values():
    t = s[:-2]
    train_count.update(t)
    transitions.update(zip(t, t[1:]))
rank = {a: i for i, (a, _) in enumerate(train_count.most_common())}

ks = (5, 10, 20)
print(f'# Validation vs test targets ({path.split("/")[-1]}, '
      f'{datetime.date.today().isoformat()})\n')
left_out = f' ({len(short)} with fewer than 3 reviews left out)' if short else ''
print(f'Command: `python3 benchmarks/split_shift.py {path}`. {len(seqs)} users{left_out}.\n')
print('| split | median / mean training count of the target | target never in training '
      '| (previous item -> target) seen in training | MostPop '
      + ' | '.join(f'R@{k} | N@{k}' for k in ks) + ' |')
print('|---|---|---|---|' + '---|' * (2 * len(ks)))
for name, back in (('validation', 2), ('test', 1)):
    counts = sorted(train_count[s[-back]] for s in seqs.values())
    n = len(counts)
    seen = sum((s[-back - 1], s[-back]) in transitions for s in seqs.values()) / n
    recall = {k: 0.0 for k in ks}
    ndcg = {k: 0.0 for k in ks}
    for s in seqs.values():
        r = rank.get(s[-back], math.inf)
        for k in ks:
            if r < k:
                recall[k] += 1 / n
                ndcg[k] += 1 / math.log2(r + 2) / n
    print(f'| {name} | {counts[n // 2]} / {sum(counts) / n:.1f} '
          f'| {sum(c == 0 for c in counts) / n:.2%} | {seen:.2%} | '
          + ' | '.join(f'{recall[k]:.4f} | {ndcg[k]:.4f}' for k in ks) + ' |')

if not args.ranks:
    sys.exit(0)


def slice_of(user, back):
    """(transition seen?, popularity band) of the user's target in this split."""
    s = seqs[user]
    seen = (s[-back - 1], s[-back]) in transitions
    c = train_count[s[-back]]
    band = 'rare (<10)' if c < 10 else ('mid (10-39)' if c < 40 else 'popular (>=40)')
    return seen, band


slices = [('all', lambda seen, band: True),
          ('transition seen', lambda seen, band: seen),
          ('transition unseen', lambda seen, band: not seen)] + \
         [(b, (lambda b: lambda seen, band: band == b)(b))
          for b in ('rare (<10)', 'mid (10-39)', 'popular (>=40)')]
print('\nNDCG@10 by slice (validation -> test, relative change); share = users in the slice:\n')
print('| slice | share val / test | ' + ' | '.join(
    lab.split('=', 1)[0] for lab in args.ranks) + ' |')
print('|---|---|' + '---|' * len(args.ranks))
tables = []
for spec in args.ranks:
    label, file = spec.split('=', 1)
    sums = collections.defaultdict(float)
    counts = collections.Counter()
    checkpoints = set()
    with open(file) as f:
        for line, row in enumerate(csv.DictReader(f, delimiter='\t'), start=2):
            checkpoints.add(row['checkpoint'])
            if len(checkpoints) > 1:
                sys.exit(f'{file}: holds several checkpoints ({", ".join(sorted(checkpoints))}); '
                         'give each its own LABEL=FILE')
            back = 1 if row['split'] == 'test' else 2
            if row['user'] not in seqs:
                sys.exit(f"{file}: user {row['user']} is not in {path} (ranks of another dataset?)")
            if row['target'] != seqs[row['user']][-back]:
                sys.exit(f"{file}:{line}: the {row['split']} target of user {row['user']} is "
                         f"{row['target']}, in {path} it is {seqs[row['user']][-back]} (a store "
                         'prepared with other options?)')
            seen, band = slice_of(row['user'], back)
            r = int(row['rank']) if row['rank'] else None
            gain = 1 / math.log2(r + 1) if r is not None and r <= 10 else 0.0
            for name, pred in slices:
                if pred(seen, band):
                    sums[(row['split'], name)] += gain
                    counts[(row['split'], name)] += 1
    tables.append((sums, counts))
for name, _ in slices:
    counts0 = tables[0][1]
    share = ' / '.join(f"{counts0[(sp, name)] / counts0[(sp, 'all')]:.1%}"
                       if counts0[(sp, 'all')] else '-' for sp in ('validation', 'test'))
    cells = []
    for sums, counts in tables:
        # '-' where the slice has no user in that split (or the file has no rows of it).
        v, t = (sums[(sp, name)] / counts[(sp, name)] if counts[(sp, name)] else None
                for sp in ('validation', 'test'))
        text = ' -> '.join('-' if x is None else f'{x:.4f}' for x in (v, t))
        cells.append(f'{text} ({(t - v) / v:+.0%})' if v and t is not None else text)
    print(f'| {name} | {share} | ' + ' | '.join(cells) + ' |')
