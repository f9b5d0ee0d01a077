// LRBench's confidence metrics (trainer/confidence.h).
#include "trainer/confidence.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>

namespace lpsim::trainer {
namespace {

// Mean and population standard deviation (numpy's mean, std with ddof 0).
std::pair<double, double> mean_sd(const std::vector<double>& v) {
  if (v.empty()) return {0.0, 0.0};
  double sum = 0;
  for (double x : v) sum += x;
  const double mean = sum / static_cast<double>(v.size());
  double sq = 0;
  for (double x : v) sq += (x - mean) * (x - mean);
  return {mean, std::sqrt(sq / static_cast<double>(v.size()))};
}

}  // namespace

void ConfidenceTally::add(const float* probs, const std::uint8_t* labels, std::int64_t batch,
                          std::int64_t classes) {
  if (class_sum_.size() < static_cast<std::size_t>(classes)) {
    class_sum_.resize(static_cast<std::size_t>(classes), 0.0);
    class_count_.resize(static_cast<std::size_t>(classes), 0);
  }
  for (std::int64_t s = 0; s < batch; ++s) {
    const float* row = probs + s * classes;
    const std::int64_t arg = std::max_element(row, row + classes) - row;
    if (arg != labels[s]) continue;
    confidences_.push_back(row[arg]);
    class_sum_[static_cast<std::size_t>(arg)] += row[arg];
    ++class_count_[static_cast<std::size_t>(arg)];
  }
}

Confidence ConfidenceTally::result() const {
  Confidence c;
  std::tie(c.mean, c.sd) = mean_sd(confidences_);
  std::vector<double> class_mean;
  for (std::size_t k = 0; k < class_sum_.size(); ++k)
    class_mean.push_back(class_count_[k] > 0 ? class_sum_[k] / static_cast<double>(class_count_[k])
                                             : 0.0);
  c.cdac = mean_sd(class_mean).second;
  return c;
}

}  // namespace lpsim::trainer
