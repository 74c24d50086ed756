#!/usr/bin/env bash
# Downloads official Amazon review files for users with internet access into
# OUT_ROOT/amazon<release>-<category in lower case>/ (OUT_ROOT defaults to data).
# usage: datasets/fetch_amazon.sh 2014|2018|2023 CATEGORY [OUT_ROOT]
#   2014: 5-core reviews + meta (McAuley lab), e.g. CATEGORY=Beauty, Office_Products, Sports_and_Outdoors
#   2018: 5-core reviews + meta,  e.g. CATEGORY=All_Beauty, Office_Products
#   2023: reviews + meta (JSONL), e.g. CATEGORY=All_Beauty, Office_Products
# Then: recsys data prepare --input amazon<release>-<category> --data-dir OUT_ROOT --store runs/x/store
set -euo pipefail
release=${1:?release 2014|2018|2023}
cat=${2:?category}
root=${3:-data}
lower=$(echo "$cat" | tr 'A-Z' 'a-z')
out="$root/amazon$release-$lower"
mkdir -p "$out"
case "$release" in
  2014)
    base=http://snap.stanford.edu/data/amazon/productGraph/categoryFiles
    urls=("$base/reviews_${cat}_5.json.gz" "$base/meta_${cat}.json.gz") ;;
  2018)
    base=https://jmcauley.ucsd.edu/data/amazon_v2
    urls=("$base/categoryFilesSmall/${cat}_5.json.gz" "$base/metaFiles2/meta_${cat}.json.gz") ;;
  2023)
    base=https://datarepo.eng.ucsd.edu/mcauley_group/data/amazon_2023/raw
    urls=("$base/review_categories/${cat}.jsonl.gz" "$base/meta_categories/meta_${cat}.jsonl.gz") ;;
  *) echo "unknown release '$release' (2014, 2018 or 2023)" >&2; exit 2 ;;
esac
for u in "${urls[@]}"; do
  f="$out/$(basename "$u")"
  if [ -s "$f" ]; then echo "have $f"; continue; fi
  echo "fetching $u"
  curl -fL --retry 3 -o "$f.part" "$u" && mv "$f.part" "$f"
done
echo "done: $out"
