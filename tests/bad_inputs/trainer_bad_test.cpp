// Bad trainer options and files (error contract: docs/reliability.md).
#include "bad_inputs/runner.h"

using namespace lpsim::bad_inputs;

namespace {
std::string train(const std::string& extra) {
  return "train --model lenet5 --epochs 1 --train-limit 100 --test-limit 50 -q -o " +
         path_of("trainer_bad.lpt") + " " + extra;
}
}  // namespace

TEST_CASE("bad trainer option: a loss scale that is not a number") {
  expect_refused(train("--loss-scale banana"), {"--loss-scale banana", "dynamic:<initial scale>"});
}

TEST_CASE("bad trainer option: a dynamic loss scale below 1") {
  expect_refused(train("--loss-scale dynamic:0.5"), {"--loss-scale = 0.5", "1..2^64"});
}

TEST_CASE("bad trainer option: a loss-scale window of 0") {
  expect_refused(train("--loss-scale dynamic --loss-scale-window 0"),
                 {"--loss-scale-window = 0", "1..1e9"});
}

TEST_CASE("bad trainer option: a model with a layer the trainer cannot run") {
  expect_refused("train --model mobilenetv2 --dataset fashion-mnist -q -o " + path_of("m.lpt"),
                 {"mobilenetv2"});
}

TEST_CASE("bad checkpoint: a version 1 file is refused with a way out") {
  const auto ckpt = write("v1.ckpt", std::string("LPSIMCKPT1\n") + std::string(64, '\0'));
  expect_refused(train("--resume --checkpoint " + ckpt), {ckpt, "version 1", "without --resume"});
}

TEST_CASE("bad trace: negative skipped steps in a metrics record") {
  const std::string header =
      R"({"lpsim_trace":1,"producer":"t","model":"lenet5","dataset":"fashion-mnist","samples_per_epoch":100,"batch":50,"epochs":1,"total_iterations":2,"schedule":"static:8/8","seed":1})";
  const std::string seg = R"({"seg":[0,2],"W":"8","A":"8","E":"8","G":"8"})";
  const auto p = write("skipped.lpt", header + "\n" + seg + "\n" +
                                          R"({"epoch":0,"skipped_steps":-3})" + "\n" +
                                          R"({"end":2})" + "\n");
  expect_refused("bitops " + p, {p + ":3", "\"skipped_steps\"", ">= 0"});
}

TEST_CASE("bad trainer option: a negative batch-norm recalibration count") {
  expect_refused(train("--bn-recalibrate -1"), {"--bn-recalibrate = -1", "0..1000000"});
}

TEST_CASE("bad trainer option: an unknown GEMM kernel") {
  expect_refused(train("--gemm-kernel avx512"),
                 {"--gemm-kernel avx512", "auto, reference, scalar, avx2, vnni"});
}
