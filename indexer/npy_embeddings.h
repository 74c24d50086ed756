// Import of externally computed item embeddings: a NumPy .npy file holding a float32 [N, D]
// C-order array, plus a text file with the external item id of each row (one per line), so users
// can bring Sentence-T5 or any encoder they run elsewhere.
#pragma once

#include <string>
#include <vector>

#include "indexer/matrix.h"
#include "recsys/types.h"

namespace recsys::indexer {

// Reads a little-endian float32 ('<f4'), C-order, 2-D .npy file. Throws kIOError if unreadable,
// kInvalidArgument naming the file and what was expected for any other dtype, order or rank.
RowMatrix load_npy_matrix(const std::string& path);

// Writes x as a float32 C-order .npy file (for tests and exports).
void save_npy_matrix(const std::string& path, const RowMatrix& x);

// Rows of the .npy reordered to dataset item order via the keys file. Every item must have a row;
// extra rows are ignored; duplicate keys are an error.
RowMatrix load_item_embeddings(const std::string& npy_path, const std::string& keys_path,
                               const std::vector<ItemRecord>& items);

}  // namespace recsys::indexer
