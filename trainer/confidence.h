// LRBench's confidence metrics of a trained classifier (LRBench/framework/
// keras/compute_metrics.py, add_confidence): over the correctly classified
// test images, the top softmax probability; its mean, its population sd, and
// CDAC, the sd over the classes of each class's mean confidence.
#pragma once

#include <cstdint>
#include <vector>

namespace lpsim::trainer {

struct Confidence {
  double mean = 0;  // average_confidence (0 when nothing is correct)
  double sd = 0;    // confidence_standard_deviation (np.std: population)
  double cdac = 0;  // sd over the classes of each class's mean; a class with no
                    // correct image counts 0, as LRBench's code does
};

class ConfidenceTally {
 public:
  // `probs`: batch x classes softmax rows; a row counts when its first
  // largest probability (np.argmax) is at the label.
  void add(const float* probs, const std::uint8_t* labels, std::int64_t batch,
           std::int64_t classes);
  Confidence result() const;

 private:
  std::vector<double> confidences_;
  std::vector<double> class_sum_;
  std::vector<std::int64_t> class_count_;
};

}  // namespace lpsim::trainer
