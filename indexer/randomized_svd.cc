#include "indexer/randomized_svd.h"

#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <Eigen/SVD>
#include <algorithm>
#include <random>

#include "recsys/error.h"

namespace recsys::indexer {
namespace {

// Orthonormal basis of the columns of y by Cholesky-QR applied twice (CholeskyQR2): two small
// Gram matrices instead of a tall Householder QR, accurate to working precision when y is not
// too ill-conditioned, which the power iteration keeps it.
Eigen::MatrixXd orthonormalize(Eigen::MatrixXd y) {
  for (int pass = 0; pass < 2; ++pass) {
    Eigen::MatrixXd gram = y.transpose() * y;
    // A tiny ridge keeps the factorisation defined when columns are (numerically) dependent.
    gram.diagonal().array() += 1e-12 * std::max(1.0, gram.diagonal().maxCoeff());
    Eigen::LLT<Eigen::MatrixXd> llt(gram);
    RECSYS_CHECK(llt.info() == Eigen::Success, "randomized SVD: basis is rank deficient");
    // y <- y * L^-T
    y = llt.matrixU().solve<Eigen::OnTheRight>(y);
  }
  return y;
}

}  // namespace

void RandomizedSvdOptions::validate() const {
  RECSYS_CHECK(rank > 0, "randomized SVD: rank must be > 0");
}

RandomizedSvdResult randomized_svd(const SparseRowMatrix& a, const RandomizedSvdOptions& options) {
  options.validate();
  const Eigen::Index n = a.rows();
  const Eigen::Index f = a.cols();
  RECSYS_CHECK(n > 0 && f > 0, "randomized SVD: empty matrix [", n, ", ", f, "]");
  const Eigen::Index rank = std::min<Eigen::Index>({options.rank, n, f});
  const Eigen::Index sketch = std::min<Eigen::Index>(rank + options.oversamples, std::min(n, f));
  const Eigen::SparseMatrix<double, Eigen::RowMajor> ad = a.cast<double>();
  const Eigen::SparseMatrix<double, Eigen::RowMajor> at = ad.transpose();

  std::mt19937_64 rng(options.seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  Eigen::MatrixXd omega(f, sketch);
  for (Eigen::Index j = 0; j < sketch; ++j)
    for (Eigen::Index i = 0; i < f; ++i) omega(i, j) = gauss(rng);

  Eigen::MatrixXd q = orthonormalize(ad * omega);  // [N, sketch]
  for (uint32_t it = 0; it < options.power_iterations; ++it) {
    Eigen::MatrixXd z = orthonormalize(at * q);  // [F, sketch]
    q = orthonormalize(ad * z);
  }
  // B = Q^T A, [sketch, F]; its SVD gives A ~= (Q U_b) S V^T.
  const Eigen::MatrixXd b = (at * q).transpose();
  Eigen::BDCSVD<Eigen::MatrixXd> svd(b, Eigen::ComputeThinU);
  RandomizedSvdResult r;
  r.singular_values = svd.singularValues().head(rank);
  r.transformed =
      ((q * svd.matrixU().leftCols(rank)) * r.singular_values.asDiagonal()).cast<float>();
  return r;
}

}  // namespace recsys::indexer
