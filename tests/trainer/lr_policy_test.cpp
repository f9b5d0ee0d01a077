// LRBench's learning-rate functions (trainer/lr_policy.h) at chosen
// iterations, against Table I of Wu et al. (BigData 2019) and LRBench's
// LRBench/lr/LRfunctions.py worked by hand; parsing and its round trip.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "trainer/lr_policy.h"

using namespace lpsim;
using namespace lpsim::trainer;

namespace {

double at(const std::string& spec, std::int64_t t, std::int64_t total = 1000) {
  return lr_at(parse_lr_policy(spec), t, total);
}

// Absolute tolerance: asin(sin(x)) and sin(pi) leave ~1e-16 of rounding.
Approx near(double v) { return Approx(v).margin(1e-12); }

}  // namespace

TEST_CASE("FIX keeps k0 at every iteration") {
  CHECK(at("fix:k0=0.05", 0) == 0.05);
  CHECK(at("fix:k0=0.05", 123456) == 0.05);
}

TEST_CASE("STEP multiplies by gamma every l iterations: k0 gamma^floor(t/l)") {
  const std::string s = "step:k0=0.1,gamma=0.5,l=100";
  CHECK(at(s, 0) == near(0.1));
  CHECK(at(s, 99) == near(0.1));
  CHECK(at(s, 100) == near(0.05));
  CHECK(at(s, 250) == near(0.025));  // floor(2.5) = 2
}

TEST_CASE("NSTEP drops by gamma at each listed step (LRBench's README example)") {
  // k0 = 0.05, gamma = 0.1, l = [150, 180]: gamma^i with l_{i-1} <= t < l_i.
  const std::string s = "nstep:k0=0.05,gamma=0.1,l=150+180";
  CHECK(at(s, 149) == near(0.05));
  CHECK(at(s, 150) == near(0.005));
  CHECK(at(s, 179) == near(0.005));
  CHECK(at(s, 180) == near(0.0005));
  CHECK(at(s, 10000) == near(0.0005));
}

TEST_CASE("EXP decays as k0 gamma^t") {
  const std::string s = "exp:k0=0.1,gamma=0.99";
  CHECK(at(s, 0) == near(0.1));
  CHECK(at(s, 1) == near(0.099));
  CHECK(at(s, 2) == near(0.09801));
}

TEST_CASE("INV decays as k0 (1 + gamma t)^-p (Caffe's LeNet solver values)") {
  // gamma = 1e-4, p = 0.75: at t = 10000, (1 + 1)^-0.75 = 1 / 1.681792830507429.
  CHECK(at("inv:k0=0.01,gamma=0.0001,p=0.75", 10000) == Approx(0.01 / 1.681792830507429));
  CHECK(at("inv:k0=0.01,gamma=0.0001,p=0.75", 0) == near(0.01));
}

TEST_CASE("POLY falls as (k0 - k1)(1 - t/l)^p + k1 and holds k1 from l on") {
  CHECK(at("poly:k0=0.1,p=2,l=100", 0) == near(0.1));
  CHECK(at("poly:k0=0.1,p=2,l=100", 50) == near(0.025));  // 0.1 x 0.5^2
  CHECK(at("poly:k0=0.1,p=2,l=100", 100) == 0.0);
  CHECK(at("poly:k0=0.1,p=2,l=100", 150) == 0.0);
  CHECK(at("poly:k0=0.1,p=2,k1=0.01,l=100", 50) == near(0.0325));  // 0.09 x 0.25 + 0.01
  // l omitted: the run's length (Table I: l = max_iter).
  CHECK(at("poly:k0=0.1,p=2", 100, 200) == near(0.025));
  CHECK(at("poly:k0=0.1,p=1", 150, 200) == near(0.025));
}

TEST_CASE("TRI rises linearly from k0 to k1 over l iterations and back over the next l") {
  const std::string s = "tri:k0=0.01,k1=0.11,l=100";
  CHECK(at(s, 0) == near(0.01));
  CHECK(at(s, 25) == near(0.035));
  CHECK(at(s, 50) == near(0.06));  // (2/pi) asin(sin(pi/4)) = 1/2
  CHECK(at(s, 100) == near(0.11));
  CHECK(at(s, 150) == near(0.06));
  CHECK(at(s, 200) == near(0.01));
  CHECK(at(s, 250) == near(0.06));
}

TEST_CASE("TRI2 halves the triangle's amplitude every period 2l") {
  const std::string s = "tri2:k0=0.01,k1=0.11,l=100";
  CHECK(at(s, 50) == near(0.06));
  CHECK(at(s, 250) == near(0.035));  // 0.5 / 2^1 of the 0.1 range
  CHECK(at(s, 300) == near(0.06));   // peak / 2
  CHECK(at(s, 500) == near(0.035));  // peak / 4
}

TEST_CASE("TRIEXP scales the triangle by gamma^t") {
  // 0.99^100 = 0.3660323412732292
  CHECK(at("triexp:k0=0.01,k1=0.11,gamma=0.99,l=100", 100) ==
        Approx(0.1 * 0.3660323412732292 + 0.01));
  CHECK(at("triexp:k0=0.01,k1=0.11,gamma=0.5,l=1", 3) == near(0.1 * 0.125 + 0.01));
}

TEST_CASE("SIN follows |sin(pi t / 2l)| between k0 and k1") {
  const std::string s = "sin:k0=0.01,k1=0.11,l=100";
  CHECK(at(s, 0) == near(0.01));
  CHECK(at(s, 50) == near(0.1 * 0.7071067811865476 + 0.01));  // sin(pi/4)
  CHECK(at(s, 100) == near(0.11));
  CHECK(at(s, 200) == near(0.01));
}

TEST_CASE("SIN2 halves the sine's amplitude every period 2l") {
  const std::string s = "sin2:k0=0.01,k1=0.11,l=100";
  CHECK(at(s, 100) == near(0.11));
  CHECK(at(s, 300) == near(0.06));                                  // |sin(3pi/2)| / 2
  CHECK(at(s, 350) == near(0.1 * 0.7071067811865476 / 2 + 0.01));  // |sin(7pi/4)| / 2
}

TEST_CASE("SINEXP scales the sine by gamma^t") {
  CHECK(at("sinexp:k0=0.01,k1=0.11,gamma=0.5,l=1", 1) == near(0.06));
  CHECK(at("sinexp:k0=0.01,k1=0.11,gamma=0.5,l=1", 3) == near(0.1 * 0.125 + 0.01));
}

TEST_CASE("COS starts at k1 and follows (1 + cos(pi t / l)) / 2 down to k0 at l") {
  const std::string s = "cos:k0=0.01,k1=0.11,l=100";
  CHECK(at(s, 0) == near(0.11));
  CHECK(at(s, 50) == near(0.06));
  CHECK(at(s, 100) == near(0.01));
  CHECK(at(s, 200) == near(0.11));
}

TEST_CASE("COS2 halves the amplitude at the troughs t = l, 3l, ...: floor((t + l) / 2l)") {
  const std::string s = "cos2:k0=0.01,k1=0.11,l=100";
  CHECK(at(s, 0) == near(0.11));
  CHECK(at(s, 100) == near(0.01));
  CHECK(at(s, 150) == near(0.035));  // 0.5 / 2
  CHECK(at(s, 200) == near(0.06));   // 1 / 2
  CHECK(at(s, 400) == near(0.035));  // 1 / 4
}

TEST_CASE("COSEXP scales the cosine by gamma^t") {
  CHECK(at("cosexp:k0=0.01,k1=0.11,gamma=0.5,l=1", 2) == near(0.1 * 0.25 + 0.01));
  CHECK(at("cosexp:k0=0.01,k1=0.11,gamma=0.5,l=1", 1) == near(0.01));
}

TEST_CASE("a cyclic policy with k1 below k0 runs the same shape upside down") {
  CHECK(at("tri:k0=0.11,k1=0.01,l=100", 100) == near(0.01));
  CHECK(at("tri:k0=0.11,k1=0.01,l=100", 50) == near(0.06));
}

TEST_CASE("every policy prints a canonical spec that parses back to itself") {
  const char* specs[] = {
      "fix:k0=0.05",
      "step:k0=0.1,gamma=0.5,l=100",
      "nstep:k0=0.05,gamma=0.1,l=150+180+300",
      "exp:k0=0.1,gamma=0.999",
      "inv:k0=0.01,gamma=0.0001,p=0.75",
      "poly:k0=0.1,p=2",
      "poly:k0=0.1,k1=0.001,p=1.5,l=900",
      "tri:k0=0.01,k1=0.1,l=47",
      "tri2:k0=0,k1=0.1,l=47",
      "triexp:k0=0.01,k1=0.1,gamma=0.9995,l=47",
      "sin:k0=0.01,k1=0.1,l=47",
      "sin2:k0=0.01,k1=0.1,l=47",
      "sinexp:k0=0.01,k1=0.1,gamma=0.9995,l=47",
      "cos:k0=0.01,k1=0.1,l=47",
      "cos2:k0=0.01,k1=0.1,l=47",
      "cosexp:k0=0.01,k1=0.1,gamma=0.9995,l=47",
  };
  for (const char* spec : specs) {
    INFO(spec);
    const LrPolicy p = parse_lr_policy(spec);
    CHECK(to_string(p) == spec);
    CHECK(parse_lr_policy(to_string(p)) == p);
  }
}

TEST_CASE("keys may come in any order, the canonical spec orders them and drops POLY's defaults") {
  CHECK(to_string(parse_lr_policy("tri:l=10,k1=0.2,k0=0.1")) == "tri:k0=0.1,k1=0.2,l=10");
  CHECK(to_string(parse_lr_policy("poly:p=2,k1=0,k0=0.1")) == "poly:k0=0.1,p=2");
  CHECK(lr_function_name(parse_lr_policy("cosexp:k0=0,k1=1,gamma=1,l=1").function) == "cosexp");
}

TEST_CASE("a malformed policy is refused naming the field and its range") {
  auto refused = [](const std::string& spec, const std::string& what) {
    INFO(spec);
    CHECK_THROWS_WITH(parse_lr_policy(spec), Catch::Contains(what));
  };
  refused("tri", "no function given");
  refused("triangle:k0=1", "unknown function 'triangle'");
  refused("tri:k0=0.01,l=100", "missing k1");
  refused("tri:k0=0.01,k1=0.1,l=100,gamma=0.5", "tri takes no key 'gamma'");
  refused("fix:k0=0.1,k0=0.2", "k0 given twice");
  refused("fix:k0", "'k0' is not KEY=VALUE");
  refused("fix:k0=abc", "k0 = 'abc' is not a number");
  refused("fix:k0=0", "k0 = 0 is outside (0, inf)");
  refused("fix:k0=inf", "is not a number");
  refused("tri:k0=-0.1,k1=0.1,l=5", "k0 = -0.1 is outside [0, inf)");
  refused("tri:k0=0,k1=0,l=5", "zero LR throughout");
  refused("step:k0=0.1,gamma=1.5,l=5", "gamma = 1.5 is outside (0, 1]");
  refused("step:k0=0.1,gamma=0,l=5", "gamma = 0 is outside (0, 1]");
  refused("inv:k0=0.1,gamma=-1,p=1", "gamma = -1 is outside (0, inf)");
  refused("poly:k0=0.1,p=0", "p = 0 is outside (0, inf)");
  refused("step:k0=0.1,gamma=0.5,l=0", "l = 0 is outside 1..1000000000000 iterations");
  refused("step:k0=0.1,gamma=0.5,l=2.5", "l = '2.5' is not a whole number of iterations");
  refused("nstep:k0=0.1,gamma=0.5,l=200+100", "the steps must increase");
  refused("nstep:k0=0.1,gamma=0.5,l=100+", "l = '' is not a whole number");
  CHECK_THROWS_AS(parse_lr_policy("fix:k0=-1"), InputError);
  CHECK_THROWS_WITH(parse_lr_policy("fix:k0=-1"),
                    Catch::StartsWith("--lr 'fix:k0=-1': k0 = -1 is outside (0, inf); expected fix:k0=K0"));
}
