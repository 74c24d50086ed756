# Writes MovieLens ml-latest-small (from Debian's r-cran-dslabs) back into the official
# ratings.csv / movies.csv layout. usage: Rscript extract_movielens.R OUT_DIR
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]
data("movielens", package = "dslabs", envir = environment())
m <- movielens
ratings <- m[, c("userId", "movieId", "rating", "timestamp")]
ratings <- ratings[order(ratings$userId, ratings$timestamp, ratings$movieId), ]
movies <- unique(m[, c("movieId", "title", "year", "genres")])
movies$title <- ifelse(is.na(movies$year), movies$title, paste0(movies$title, " (", movies$year, ")"))
movies <- movies[order(movies$movieId), c("movieId", "title", "genres")]
movies$genres <- as.character(movies$genres)
write.csv(ratings, file.path(out, "ratings.csv"), row.names = FALSE, quote = FALSE)
write.csv(movies, file.path(out, "movies.csv"), row.names = FALSE)
cat(sprintf("extracted %d ratings of %d movies into %s\n", nrow(ratings), nrow(movies), out))
