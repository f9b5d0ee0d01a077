// The trainer under LRBench policies (--lr KIND:...): a policy that equals an
// existing --lr-schedule gives the same run bit for bit, a cyclic policy is
// really used and deterministic, conflicting options are refused, and the
// final test metrics are within the bounds their definitions allow.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "trainer/trainer.h"

using namespace lpsim;
using namespace lpsim::trainer;

namespace {

TrainOptions tiny(std::int64_t epochs) {
  TrainOptions o;
  o.model = "lenet5";
  o.schedule = "static:8/8";
  o.epochs = epochs;
  o.batch = 50;
  o.train_limit = 300;  // 6 iterations per epoch
  o.test_limit = 200;
  o.seed = 1;
  o.lr = 0.1;
  return o;
}

// Bit for bit: train loss, train and test accuracy of every epoch.
bool same_run(const Trace& a, const Trace& b) {
  if (a.metrics.size() != b.metrics.size()) return false;
  for (std::size_t i = 0; i < a.metrics.size(); ++i)
    if (a.metrics[i].train_loss != b.metrics[i].train_loss ||
        a.metrics[i].train_accuracy != b.metrics[i].train_accuracy ||
        a.metrics[i].test_accuracy != b.metrics[i].test_accuracy)
      return false;
  return true;
}

}  // namespace

TEST_CASE("fix:k0=X trains exactly as --lr X --lr-schedule constant") {
  TrainOptions constant = tiny(2);
  constant.lr_schedule = "constant";
  TrainOptions fix = tiny(2);
  fix.lr = 0.05;  // unused under a policy
  fix.lr_policy = "fix:k0=0.1";
  CHECK(same_run(train(constant).trace, train(fix).trace));
}

TEST_CASE("cos:k0=0,k1=X,l=T trains exactly as the default per-iteration cosine from X") {
  // LRBench's COS (k1 - k0) (1 + cos(pi t / l)) / 2 + k0 with k0 = 0 and l = T
  // is the trainer's cosine lr (1 + cos(pi t / T)) / 2; T = 2 epochs x 6.
  TrainOptions cosine = tiny(2);  // lr_schedule auto = cosine for static:
  TrainOptions cos = tiny(2);
  cos.lr = 0.05;  // unused under a policy: were the policy ignored, the runs would differ
  cos.lr_policy = "cos:k0=0,k1=0.1,l=12";
  CHECK(same_run(train(cosine).trace, train(cos).trace));
}

TEST_CASE("a triangular policy changes the run, and repeats bit for bit with 1 or 2 threads") {
  TrainOptions tri = tiny(2);
  tri.lr_policy = "tri:k0=0.01,k1=0.1,l=3";
  const TrainResult a = train(tri);
  tri.threads = 2;
  const TrainResult b = train(tri);
  CHECK(same_run(a.trace, b.trace));
  TrainOptions constant = tiny(2);
  constant.lr_schedule = "constant";
  CHECK_FALSE(same_run(a.trace, train(constant).trace));
}

TEST_CASE("a policy cannot be combined with --lr-schedule, --lr-step or --lr-gamma") {
  TrainOptions o = tiny(1);
  o.lr_policy = "fix:k0=0.1";
  o.lr_schedule = "step";
  CHECK_THROWS_WITH(train(o), Catch::Contains("--lr-schedule step"));
  o.lr_schedule = "auto";
  o.lr_gamma = 0.5;
  CHECK_THROWS_WITH(train(o), Catch::Contains("--lr-gamma"));
  o.lr_gamma = 0.1;
  o.lr_policy = "tri:k0=0.1";
  CHECK_THROWS_AS(train(o), InputError);
}

TEST_CASE("the final test metrics stay within what their definitions allow") {
  const TrainResult r = train(tiny(2));
  const Confidence& c = r.final_test.confidence;
  // The top probability of 10 classes is at least 1/10; a correct image's at most 1.
  CHECK(c.mean >= 0.1);
  CHECK(c.mean <= 1.0);
  CHECK(c.sd >= 0.0);
  CHECK(c.sd <= 0.5);    // sd of values in [0, 1]
  CHECK(c.cdac <= 0.5);
  CHECK(r.final_test.loss > 0.0);
  CHECK(*r.trace.metrics.back().test_accuracy > 0.1);  // it learned something
}
