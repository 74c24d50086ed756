// Format readers. Each appends to a RawCorpus; parsing is parallel over lines (oneTBB) and keeps
// file order. Malformed records follow ReadOptions::on_bad_record.
#pragma once

#include <string>

#include "datasets/raw_corpus.h"

namespace recsys::data {

// Amazon review JSON lines. 2014 / 2018: reviewerID, asin, unixReviewTime (seconds), optional
// overall. 2023: user_id, parent_asin (or asin), timestamp (milliseconds), optional rating.
void read_amazon_reviews(const std::string& path, const ReadOptions& options, RawCorpus& corpus);

// Amazon item metadata, one record a line. Python-literal dicts (2014) or JSON (2018, 2023) are
// told apart per line. Fields: asin | parent_asin, title, brand | store, categories (list of
// paths, 2014) | category (one path, 2018) | categories (one path, 2023), description (string or
// list), price.
void read_amazon_meta(const std::string& path, const ReadOptions& options, RawCorpus& corpus);

// RecBole atomic files: `.inter` (user_id:token, item_id:token, optional rating:float,
// timestamp:float) and optional `.item` (item_id:token plus title / brand / categories /
// description / price columns of any type). Tab-separated with a typed header.
void read_recbole(const std::string& inter_path, const std::string& item_path,
                  const ReadOptions& options, RawCorpus& corpus);

// MovieLens ratings.csv (userId,movieId,rating,timestamp) and movies.csv (movieId,title,genres).
void read_movielens(const std::string& ratings_path, const std::string& movies_path,
                    const ReadOptions& options, RawCorpus& corpus);

}  // namespace recsys::data
