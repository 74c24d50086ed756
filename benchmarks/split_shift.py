#!/usr/bin/env python3
"""How far the leave-one-out test targets drift from the validation targets (a diagnostic).

Same split as `recsys data prepare`: per user, reviews stably sorted by time (file order on ties);
test target = items[n-1], validation target = items[n-2], training = items[:n-2]. For each split
it prints how popular the targets are in the training portion, how often the (previous item ->
target) transition occurs in training, and what MostPop (rank every item by its training count)
scores. A model that leans on popularity or memorised transitions loses more from validation to
test than one that does not.

usage: benchmarks/split_shift.py [REVIEWS_JSON_GZ]   (default: the shared Beauty 5-core reviews)
"""
import collections
import datetime
import gzip
import json
import math
import sys

path = sys.argv[1] if len(sys.argv) > 1 else \
    '../shared/datasets/amazon2014-beauty/reviews_Beauty_5.json.gz'
seqs = collections.OrderedDict()
with gzip.open(path, 'rt') as f:
    for line in f:
        r = json.loads(line)
        seqs.setdefault(r['reviewerID'], []).append((r['unixReviewTime'], r['asin']))
for u, s in seqs.items():
    seqs[u] = [a for _, a in sorted(s, key=lambda x: x[0])]

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
print(f'Command: `python3 benchmarks/split_shift.py {path}`. {len(seqs)} users.\n')
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
