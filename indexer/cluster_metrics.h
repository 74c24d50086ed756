// Agreement between two labelings of the same items: mutual information, its expectation under
// random labelings with the same cluster sizes, adjusted (AMI) and normalised (NMI) mutual
// information, as scikit-learn's adjusted_mutual_info_score / normalized_mutual_info_score with
// the arithmetic-mean normaliser. Natural logarithms.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace recsys::indexer {

struct ClusterAgreement {
  double mutual_information = 0;
  double expected_mutual_information = 0;
  double entropy_true = 0;
  double entropy_pred = 0;
  double nmi = 0;         // MI / mean(H_true, H_pred)
  double ami = 0;         // (MI - E[MI]) / (mean(H_true, H_pred) - E[MI])
  uint32_t num_true = 0;  // distinct labels
  uint32_t num_pred = 0;
};

// Labels are arbitrary integers (need not be dense). Throws kInvalidArgument on different sizes.
ClusterAgreement cluster_agreement(const std::vector<uint64_t>& labels_true,
                                   const std::vector<uint64_t>& labels_pred);

double adjusted_mutual_information(const std::vector<uint64_t>& labels_true,
                                   const std::vector<uint64_t>& labels_pred);
double normalized_mutual_information(const std::vector<uint64_t>& labels_true,
                                     const std::vector<uint64_t>& labels_pred);

// Maps strings to dense integer labels in order of first appearance.
std::vector<uint64_t> encode_labels(const std::vector<std::string>& labels);

// Shannon entropy (natural log) of a distribution given by counts.
double entropy_of_counts(const std::vector<uint64_t>& counts);

}  // namespace recsys::indexer
