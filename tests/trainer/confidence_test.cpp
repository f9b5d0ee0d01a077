// LRBench's confidence metrics (trainer/confidence.h) on hand-made softmax
// rows, worked by hand from compute_metrics.py's add_confidence.
#include <catch2/catch.hpp>

#include <cmath>

#include "trainer/confidence.h"

using namespace lpsim::trainer;

TEST_CASE("confidence averages the top probability of the correct rows only") {
  // 3 classes. Row 0: class 0 at 0.5, label 0 (correct). Row 1: class 1 at
  // 0.7, label 1 (correct). Row 2: class 2 at 0.9, label 0 (wrong: ignored).
  // Row 3: class 0 at 0.7, label 0 (correct).
  const float probs[] = {0.5f, 0.3f, 0.2f,  //
                         0.2f, 0.7f, 0.1f,  //
                         0.05f, 0.05f, 0.9f,  //
                         0.7f, 0.2f, 0.1f};
  const std::uint8_t labels[] = {0, 1, 0, 0};
  ConfidenceTally t;
  t.add(probs, labels, 2, 3);  // in two batches, as the test pass feeds it
  t.add(probs + 6, labels + 2, 2, 3);
  const Confidence c = t.result();
  // Correct confidences {0.5, 0.7, 0.7}: mean 0.6333..., population variance
  // ((0.1333)^2 + 2 (0.0667)^2) / 3 = 0.008889, sd 0.09428.
  CHECK(c.mean == Approx((0.5 + 0.7 + 0.7) / 3).epsilon(1e-6));
  CHECK(c.sd == Approx(std::sqrt(0.08 / 9)).epsilon(1e-5));
  // Class means: class 0 (0.5 + 0.7) / 2 = 0.6, class 1 0.7, class 2 none = 0;
  // their mean 1.3 / 3, population sd sqrt(((0.6-m)^2 + (0.7-m)^2 + m^2) / 3).
  const double m = 1.3 / 3;
  const double cdac = std::sqrt(((0.6 - m) * (0.6 - m) + (0.7 - m) * (0.7 - m) + m * m) / 3);
  CHECK(c.cdac == Approx(cdac).epsilon(1e-5));
}

TEST_CASE("a tie goes to the first class, as numpy's argmax") {
  const float probs[] = {0.4f, 0.4f, 0.2f};
  const std::uint8_t first[] = {0}, second[] = {1};
  ConfidenceTally a, b;
  a.add(probs, first, 1, 3);
  b.add(probs, second, 1, 3);
  CHECK(a.result().mean == Approx(0.4));
  CHECK(b.result().mean == 0.0);  // predicted class 0: not correct
}

TEST_CASE("no correct row gives zero confidence, not NaN") {
  const float probs[] = {0.1f, 0.9f};
  const std::uint8_t labels[] = {0};
  ConfidenceTally t;
  t.add(probs, labels, 1, 2);
  const Confidence c = t.result();
  CHECK(c.mean == 0.0);
  CHECK(c.sd == 0.0);
  CHECK(c.cdac == 0.0);
}
