#!/usr/bin/env python3
"""Recall/NDCG@K with standard errors, and paired differences between runs, from per-user ranks.

Reads the TSV files that `recsys evaluate --ranks FILE` writes (columns checkpoint, split, user,
target, rank; rank 1-based, empty when the target is not in the top max(--ks)). For every
(checkpoint, split) it prints the metrics with their standard error over users, and the noise a
validation sample of --subset users has around the all-users value (what `train --eval-users N`
selects checkpoints and stops on). For every pair of checkpoints it prints the paired difference
on the users both have, with its standard error and a normal 95% interval: a difference whose
interval holds 0 is not told apart from noise on this test set.

usage: benchmarks/compare_ranks.py [PREFIX=]RANKS.tsv [...] [--label CHECKPOINT=NAME ...]
                                   [--ks 5,10] [--subset 2000]
  PREFIX names the runs of that file (e.g. last=ranks_last.tsv best=ranks_best.tsv when the same
  checkpoints were evaluated with --weights last and best).
"""
import argparse
import collections
import csv
import itertools
import math
import sys

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
ap.add_argument('files', nargs='+', metavar='[PREFIX=]RANKS.tsv')
ap.add_argument('--label', action='append', default=[], metavar='CHECKPOINT=NAME',
                help='short name for a checkpoint directory in the tables')
ap.add_argument('--ks', default='5,10', help='cut-offs (default 5,10)')
ap.add_argument('--subset', type=int, default=2000,
                help='validation sample size whose noise to report (default 2000)')
ap.add_argument('--cutoff', type=int, default=20,
                help='the largest K of the evaluate runs (their default 20): ranks beyond it '
                     'were not written, so no --ks may exceed it')
args = ap.parse_args()
ks = [int(k) for k in args.ks.split(',')]
if max(ks) > args.cutoff:
    sys.exit(f'--ks {max(ks)} is beyond --cutoff {args.cutoff}: a target ranked between them reads '
             'as a miss (evaluate again with a larger --ks, and pass --cutoff)')
labels = dict(spec.split('=', 1) for spec in args.label)

# gains[(checkpoint, split)][user] = {metric: value}; targets likewise, to check pairings
gains = collections.defaultdict(dict)
targets = collections.defaultdict(dict)
for spec in args.files:
    prefix, path = spec.split('=', 1) if '=' in spec else ('', spec)
    with open(path) as f:
        reader = csv.DictReader(f, delimiter='\t')
        missing = {'checkpoint', 'split', 'user', 'rank'} - set(reader.fieldnames or [])
        if missing:
            sys.exit(f'{path}: not a ranks file of recsys evaluate (missing {sorted(missing)})')
        for line, row in enumerate(reader, start=2):
            try:
                rank = int(row['rank']) if row['rank'] else None
            except ValueError:
                sys.exit(f"{path}:{line}: rank '{row['rank']}' is not an integer")
            if rank is not None and rank < 1:
                sys.exit(f'{path}:{line}: rank {rank} is not 1-based')
            g = {}
            for k in ks:
                hit = rank is not None and rank <= k
                g[f'R@{k}'] = 1.0 if hit else 0.0
                g[f'N@{k}'] = 1.0 / math.log2(rank + 1) if hit else 0.0
            name = labels.get(row['checkpoint'], row['checkpoint'])
            key = (f'{prefix} {name}' if prefix else name, row['split'])
            if row['user'] in gains[key]:
                sys.exit(f"{path}:{line}: user {row['user']} appears twice for {key}")
            gains[key][row['user']] = g
            targets[key][row['user']] = row.get('target')
if not gains:
    sys.exit('no ranks read')
metrics = [f'{m}@{k}' for k in ks for m in ('R', 'N')]


def mean_se(values):
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, math.sqrt(var / n), math.sqrt(var)


print('Per run: mean +- standard error over users; last column: the standard deviation of the '
      f'N@10 that a fixed sample of {args.subset} of these users scores around the all-users value '
      '(finite-population corrected).\n')
print('| checkpoint | split | users | ' + ' | '.join(metrics) + f' | N@10 noise at {args.subset} |')
print('|---|---|---|' + '---|' * (len(metrics) + 1))
for (ckpt, split), per_user in sorted(gains.items(), key=lambda x: (x[0][1], x[0][0])):
    n = len(per_user)
    cells = []
    for m in metrics:
        mean, se, _ = mean_se([g[m] for g in per_user.values()])
        cells.append(f'{mean:.4f} +- {se:.4f}')
    noise = ''
    if 10 in ks and args.subset < n:
        _, _, sd = mean_se([g['N@10'] for g in per_user.values()])
        noise = f'{sd / math.sqrt(args.subset) * math.sqrt(1 - args.subset / n):.4f}'
    print(f'| {ckpt} | {split} | {n} | ' + ' | '.join(cells) + f' | {noise} |')

pairs = [(a, b) for a, b in itertools.combinations(sorted(gains), 2) if a[1] == b[1]]
if pairs:
    print('\nPaired differences (second minus first) on the users both runs have: mean, standard '
          'error, normal 95% interval.\n')
    print('| first | second | split | users | ' + ' | '.join(metrics) + ' |')
    print('|---|---|---|---|' + '---|' * len(metrics))
    for a, b in pairs:
        users = gains[a].keys() & gains[b].keys()
        if len(users) < 2:
            continue
        differ = [u for u in users if targets[a][u] != targets[b][u]]
        if differ:
            sys.exit(f'{a[0]} and {b[0]} ({a[1]}): user {differ[0]} has target '
                     f'{targets[a][differ[0]]} in one and {targets[b][differ[0]]} in the other '
                     f'({len(differ)} users differ): not the same data')
        only = len(gains[a]) - len(users), len(gains[b]) - len(users)
        count = f'{len(users)}' + (f' ({only[0]} / {only[1]} only in one)' if any(only) else '')
        cells = []
        for m in metrics:
            mean, se, _ = mean_se([gains[b][u][m] - gains[a][u][m] for u in users])
            cells.append(f'{mean:+.4f} +- {se:.4f} [{mean - 1.96 * se:+.4f}, {mean + 1.96 * se:+.4f}]')
        print(f'| {a[0]} | {b[0]} | {a[1]} | {count} | ' + ' | '.join(cells) + ' |')
