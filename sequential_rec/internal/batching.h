// How the trainer cuts an epoch into batches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace recsys::seqrec::internal {

// Batches of one epoch over samples 0 .. num_samples - 1, a pure function of (seed, epoch): the
// samples shuffled and cut in order. Every sample is in a batch. When the epoch holds at least
// one full batch, every batch has batch_size samples: the last one is filled up with the first
// samples of the epoch's order (they are seen twice in that epoch). A shorter last batch gives
// matrix shapes that no other step uses, so the kernels for them are built anew at the end of each
// epoch; in bf16 TIGER training on Beauty four of about 50 epoch ends made oneDNN 2.6 fail there
// (std::bad_array_new_length twice, std::bad_alloc, a segmentation fault inside libdnnl), and none
// of about 20,000 full-size steps did (see kernel_retry.h).
//
// Batches are not formed by length: in these data a sample's length says much about its target
// (short histories are users' first purchases), and length-bucketed batches, each drawn from one
// part of that distribution, trained SASRec to a clearly lower validation NDCG on Beauty (0.0410
// against 0.0454 after 15 epochs). The trainer cuts each batch into length groups instead.
std::vector<std::vector<uint32_t>> plan_epoch(size_t num_samples, uint64_t seed, int64_t epoch,
                                              int64_t batch_size);

}  // namespace recsys::seqrec::internal
