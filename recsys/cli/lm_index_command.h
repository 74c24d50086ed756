// LMIndexer's subcommands of `recsys index` (text in, IDs out, unlike the feature-based indexers
// of the registry): training into a named map, and IDs for new items from the checkpoint.
#pragma once

#include <string>
#include <vector>

namespace recsys::cli {

// recsys index --method lmindexer --store DIR [--name NAME] [--text-field title|text] [...]
int run_lmindexer_index(const std::vector<std::string>& args);

// recsys index assign --store DIR --name NAME --items FILE [--checkpoint PATH] [--output FILE]
// FILE: one new item a line, "external_id<TAB>text" (or just the text: the id is the line number).
int run_index_assign(const std::vector<std::string>& args);

}  // namespace recsys::cli
