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

TEST_CASE("bad trainer option: an --lr that is neither a number nor a policy") {
  expect_refused(train("--lr banana"), {"--lr banana", "number > 0", "KIND:KEY=VALUE", "tri"});
}

TEST_CASE("bad trainer option: a negative --lr number") {
  expect_refused(train("--lr=-0.1"), {"--lr = -0.1", "> 0"});
}

TEST_CASE("bad trainer option: an LR policy of an unknown function") {
  expect_refused(train("--lr triangle:k0=0.1"), {"--lr 'triangle:k0=0.1'", "unknown function",
                                                 "fix, step, nstep"});
}

TEST_CASE("bad trainer option: an LR policy missing a parameter") {
  expect_refused(train("--lr tri:k0=0.01,l=100"), {"missing k1", "tri:k0=K0,k1=K1,l=L"});
}

TEST_CASE("bad trainer option: an LR policy's gamma above 1") {
  expect_refused(train("--lr step:k0=0.1,gamma=2,l=100"), {"gamma = 2", "(0, 1]"});
}

TEST_CASE("bad trainer option: an LR policy's step size of 0 iterations") {
  expect_refused(train("--lr tri:k0=0.01,k1=0.1,l=0"), {"l = 0", "1..1000000000000 iterations"});
}

TEST_CASE("bad trainer option: an LR policy's k0 of 0 where it is the initial LR") {
  expect_refused(train("--lr exp:k0=0,gamma=0.9"), {"k0 = 0", "(0, inf)"});
}

TEST_CASE("bad trainer option: NSTEP steps out of order") {
  expect_refused(train("--lr nstep:k0=0.1,gamma=0.1,l=180+150"), {"l = 180+150", "must increase"});
}

TEST_CASE("bad trainer option: an LR policy key the function does not take") {
  expect_refused(train("--lr fix:k0=0.1,l=5"), {"fix takes no key 'l'", "fix:k0=K0"});
}

TEST_CASE("bad trainer option: an LR policy with --lr-schedule") {
  expect_refused(train("--lr fix:k0=0.1 --lr-schedule step"), {"--lr-schedule step", "auto"});
}

TEST_CASE("bad trainer option: an LR policy with --lr-gamma") {
  expect_refused(train("--lr fix:k0=0.1 --lr-gamma 0.5"), {"--lr-gamma", "--lr-schedule step"});
}

TEST_CASE("the catalogue's valid svrg and halp options are accepted (the cases below differ)") {
  for (const std::string opts : {"--optimizer svrg --halp-epoch-length 1",
                                 "--optimizer halp --halp-epoch-length 1 --halp-bits 2 "
                                 "--halp-mu 0.5 --schedule static:8/8"}) {
    const Result r = run(train(opts));
    INFO(opts << ": " << r.err);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
  }
}

TEST_CASE("bad trainer option: an optimizer the trainer does not have") {
  expect_refused(train("--optimizer adam"), {"--optimizer adam", "sgd, svrg, halp"});
}

TEST_CASE("bad trainer option: a negative HALP / SVRG epoch length") {
  expect_refused(train("--optimizer svrg --halp-epoch-length -5"),
                 {"--halp-epoch-length = -5", "1..1e9"});
}

TEST_CASE("bad trainer option: a 1-bit and a 25-bit HALP offset") {
  expect_refused(train("--optimizer halp --halp-bits 1"), {"--halp-bits = 1", "2..24"});
  expect_refused(train("--optimizer halp --halp-bits 25"), {"--halp-bits = 25", "2..24"});
}

TEST_CASE("bad trainer option: a zero and a negative HALP mu") {
  expect_refused(train("--optimizer halp --halp-mu 0"), {"--halp-mu = 0", "(0, 1e12]"});
  expect_refused(train("--optimizer halp --halp-mu -2"), {"--halp-mu = -2", "(0, 1e12]"});
}

TEST_CASE("bad trainer option: HALP options given to another optimizer") {
  expect_refused(train("--halp-bits 8"), {"--halp-bits", "--optimizer halp only"});
  expect_refused(train("--optimizer svrg --halp-mu 4"), {"--halp-mu", "--optimizer halp only"});
  expect_refused(train("--halp-epoch-length 100"), {"--halp-epoch-length", "svrg or halp only"});
}

TEST_CASE("bad trainer option: SVRG with MuPPET or a dynamic loss scale") {
  expect_refused(train("--optimizer svrg --schedule muppet:8,12,14,16"),
                 {"--optimizer svrg", "muppet:8,12,14,16", "MuPPET"});
  expect_refused(train("--optimizer halp --loss-scale dynamic"),
                 {"--optimizer halp", "--loss-scale dynamic", "static"});
}

TEST_CASE("bad trainer option: HALP with 16-bit master weights") {
  expect_refused(train("--optimizer halp --master-weights bf16"),
                 {"--optimizer halp", "--master-weights bf16", "not supported"});
}

TEST_CASE("bad trainer option: an adaptive loss scale with a malformed tail") {
  expect_refused(train("--loss-scale adaptive:banana"),
                 {"--loss-scale adaptive:banana", "adaptive[:<static or dynamic form>]"});
}

TEST_CASE("bad trainer option: adaptive and enhanced loss scaling together") {
  expect_refused(train("--loss-scale adaptive:enhanced"),
                 {"--loss-scale adaptive:enhanced", "enhanced[:<initial scale>]"});
}

TEST_CASE("bad trainer option: an enhanced loss scale below 1") {
  expect_refused(train("--loss-scale enhanced:0.5"), {"--loss-scale = 0.5", "1..2^64"});
}

TEST_CASE("bad trainer option: a loss-scale floor without enhanced scaling") {
  expect_refused(train("--loss-scale-floor 64"),
                 {"--loss-scale-floor", "only with --loss-scale enhanced"});
}

TEST_CASE("bad trainer option: an enhanced loss-scale floor below 1") {
  expect_refused(train("--loss-scale enhanced --loss-scale-floor 0.5"),
                 {"--loss-scale-floor = 0.5", "1..2^64"});
}

TEST_CASE("bad trainer option: an enhanced floor that shrinks") {
  expect_refused(train("--loss-scale enhanced --loss-scale-floor-growth 0.5"),
                 {"--loss-scale-floor-growth = 0.5", "1..1024"});
}

TEST_CASE("bad trainer option: an 8-bit master-weight format") {
  expect_refused(train("--master-weights fp8"), {"--master-weights fp8", "fp32, fp16, bf16"});
}

TEST_CASE("bad trainer option: an unknown master-weight rounding") {
  expect_refused(train("--master-weights bf16 --master-rounding up"),
                 {"--master-rounding up", "nearest, stochastic"});
}

TEST_CASE("bad trainer option: stochastic rounding of an fp32 master copy") {
  expect_refused(train("--master-rounding stochastic"),
                 {"--master-rounding stochastic", "needs --master-weights fp16 or bf16"});
}

TEST_CASE("bad trace: a master-weight format of 0 bits") {
  const std::string header =
      R"({"lpsim_trace":1,"producer":"t","model":"lenet5","dataset":"fashion-mnist","samples_per_epoch":100,"batch":50,"epochs":1,"total_iterations":2,"schedule":"static:8/8","seed":1})";
  const std::string seg = R"({"seg":[0,2],"W":"8","A":"8","E":"8","G":"8","Master":"0"})";
  const auto p = write("master0.lpt", header + "\n" + seg + "\n" + R"({"end":2})" + "\n");
  expect_refused("bitops " + p, {p + ":2", "field \"Master\"", "1..64"});
}
