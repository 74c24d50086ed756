// A training checkpoint's files commit together. The weights, optimizer and RNG files are written
// as "<name>.next", fingerprinted in the state file (whose atomic rename is the commit), and only
// then renamed into place. A save cut short (a second Ctrl-C, a kill, a full disk) therefore never
// leaves weights from one step beside an optimizer and state from another: resuming finishes a
// committed save and drops the files of one that never committed.
#pragma once

#include <string>
#include <vector>

#include "sequential_rec/config.h"

namespace recsys::seqrec::internal {

// Where a checkpoint file is written before its commit.
std::string staged_path(const std::string& dir, const std::string& name);

// Fingerprints the staged `files` into `state` (plus the training log's size, when it exists),
// writes the state file, then moves the staged files into place.
void commit_checkpoint(const std::string& dir, const std::vector<std::string>& files,
                       ConfigMap state);

// Before a resume: completes or drops a save that was cut short, checks that every file matches
// the state file's fingerprint (Error kCorruption naming the file otherwise; checkpoints written
// before fingerprints are taken as they are), and cuts the training log back to its size at the
// commit (lines written after it belong to work that is being redone). Returns the state.
ConfigMap recover_checkpoint(const std::string& dir, const std::vector<std::string>& files);

// Removes the checkpoint files `names` from `dir`, staged ones included (directories in their place
// are left alone); returns the names removed, comma-separated.
std::string remove_checkpoint(const std::string& dir, const std::vector<std::string>& names);

}  // namespace recsys::seqrec::internal
