// Bad trace files (docs/trace-format.md), each fed to `lpsim bitops`.
#include <catch2/catch.hpp>

#include <string>

#include "bad_inputs/runner.h"

using namespace lpsim::bad_inputs;

namespace {

const std::string kHeader =
    R"({"lpsim_trace":1,"producer":"catalogue","model":"resnet20","dataset":"cifar10",)"
    R"("samples_per_epoch":300,"batch":128,"epochs":2,"total_iterations":6,)"
    R"("schedule":"static:8/8","seed":0})";
const std::string kSeg0 = R"({"seg":[0,3],"W":"8","A":"8","E":"8","G":"8","Opt":"fp32"})";
const std::string kSeg1 = R"({"seg":[3,6],"W":"4","A":"4","E":"8","G":"8","Opt":"fp32"})";
const std::string kEnd = R"({"end":3})";

std::string trace(const std::string& header, const std::string& seg0 = kSeg0,
                  const std::string& seg1 = kSeg1, const std::string& end = kEnd) {
  return header + "\n" + seg0 + "\n" + seg1 + "\n" + end + "\n";
}

// kHeader with `key`'s value replaced by `value` (the key must be present).
std::string header_with(const std::string& key, const std::string& value) {
  std::string h = kHeader;
  const auto at = h.find("\"" + key + "\":");
  REQUIRE(at != std::string::npos);
  const auto begin = at + key.size() + 3;
  const auto end = h.find_first_of(",}", begin);
  return h.replace(begin, end - begin, value);
}

}  // namespace

TEST_CASE("the catalogue's valid trace is accepted (the cases below differ from it in one place)") {
  const Result r = run("bitops -q " + write("good.lpt", trace(kHeader)));
  CHECK(r.code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("bad trace: an empty file") {
  const auto p = write("empty.lpt", "");
  expect_refused("bitops " + p, {p + ":1", "empty"});
}

TEST_CASE("bad trace: truncated before the end record") {
  const auto p = write("truncated.lpt", kHeader + "\n" + kSeg0 + "\n" + kSeg1.substr(0, 20));
  expect_refused("bitops " + p, {p + ":3", "malformed JSON"});
}

TEST_CASE("bad trace: whole records but no end record") {
  const auto p = write("no_end.lpt", kHeader + "\n" + kSeg0 + "\n" + kSeg1 + "\n");
  expect_refused("bitops " + p, {p + ":3", "truncated trace"});
}

TEST_CASE("bad trace: binary garbage") {
  std::string bytes;
  for (int i = 0; i < 512; ++i) bytes.push_back(static_cast<char>((i * 131 + 7) % 256));
  bytes[0] = '\x7f';  // not the gzip magic
  const auto p = write("garbage.lpt", bytes);
  expect_refused("bitops " + p, {p + ":1", "malformed JSON"});
}

TEST_CASE("bad trace: a gzip file cut short") {
  const auto plain = write("cut.lpt", trace(kHeader));
  REQUIRE(std::system(("gzip -9nf " + plain).c_str()) == 0);
  std::ifstream in(plain + ".gz", std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto p = write("cut.lpt.gz", gz.substr(0, gz.size() / 2));
  expect_refused("bitops " + p, {p, "corrupt gzip data", "truncated"});
}

TEST_CASE("bad trace: an unsupported format version") {
  const auto p = write("v2.lpt", trace(header_with("lpsim_trace", "2")));
  expect_refused("bitops " + p, {p + ":1", "unknown trace format version 2", "version 1"});
}

TEST_CASE("bad trace: a number given as a string") {
  const auto p = write("string_batch.lpt", trace(header_with("batch", "\"128\"")));
  expect_refused("bitops " + p, {p + ":1", "\"batch\"", "must be an integer"});
}

TEST_CASE("bad trace: a negative batch") {
  const auto p = write("negative_batch.lpt", trace(header_with("batch", "-128")));
  expect_refused("bitops " + p, {p + ":1", "batch = -128", "must be >= 1"});
}

TEST_CASE("bad trace: zero epochs") {
  const auto p = write("zero_epochs.lpt", trace(header_with("epochs", "0")));
  expect_refused("bitops " + p, {p + ":1", "epochs = 0", "must be >= 1"});
}

TEST_CASE("bad trace: an integer beyond 2^63") {
  const auto p = write("huge_seed.lpt", trace(header_with("samples_per_epoch", "18446744073709551615")));
  expect_refused("bitops " + p, {p + ":1", "\"samples_per_epoch\"", "below 2^63"});
}

TEST_CASE("bad trace: NaN where a metric belongs (JSON has no NaN)") {
  const std::string text = kHeader + "\n" + kSeg0 + "\n" + kSeg1 + "\n" +
                           R"({"epoch":0,"train_loss":NaN})" + "\n" + R"({"end":4})" + "\n";
  const auto p = write("nan.lpt", text);
  expect_refused("bitops " + p, {p + ":4", "malformed JSON"});
}

TEST_CASE("bad trace: an unknown header field") {
  std::string h = kHeader;
  h.insert(h.size() - 1, R"(,"colour":"blue")");
  const auto p = write("unknown_field.lpt", trace(h));
  expect_refused("bitops " + p, {p + ":1", "unknown field \"colour\"", "allowed:"});
}

TEST_CASE("bad trace: a key given twice in one record") {
  std::string h = kHeader;
  h.insert(h.size() - 1, R"(,"batch":64)");
  const auto p = write("duplicate_key.lpt", trace(h));
  expect_refused("bitops " + p, {p + ":1", "\"batch\"", "twice"});
}

TEST_CASE("bad trace: segments with a gap") {
  const auto p = write("gap.lpt", trace(kHeader, kSeg0,
                                        R"({"seg":[4,6],"W":"4","A":"4","E":"8","G":"8"})"));
  expect_refused("bitops " + p, {p + ":3", "gap", "iteration 4"});
}

TEST_CASE("bad trace: a 0-bit precision") {
  const auto p = write("zero_bits.lpt", trace(kHeader, R"({"seg":[0,3],"W":"0","A":"8","E":"8","G":"8"})"));
  expect_refused("bitops " + p, {p + ":2", "\"W\"", "0"});
}

TEST_CASE("bad trace: a 65-bit precision") {
  const auto p = write("wide_bits.lpt", trace(kHeader, R"({"seg":[0,3],"W":"8","A":"65","E":"8","G":"8"})"));
  expect_refused("bitops " + p, {p + ":2", "\"A\"", "65"});
}

TEST_CASE("bad trace: 10^15 iterations whose batches do not fit the header") {
  const auto p = write("huge_iterations.lpt", trace(header_with("total_iterations", "1000000000000000")));
  expect_refused("bitops " + p, {p + ":1", "total_iterations = 1000000000000000", "must be in"});
}

TEST_CASE("bad trace: a missing file") {
  const auto p = path_of("does_not_exist.lpt");
  expect_refused("bitops " + p, {p, "no such trace file"});
}

TEST_CASE("bad trace: a directory where the trace file belongs") {
  const auto p = path_of("a_directory.lpt");
  fs::create_directories(p);
  expect_refused("bitops " + p, {p, "is a directory"});
}

TEST_CASE("bad trace: an unreadable file (skipped as root who reads everything)") {
  const auto p = write("unreadable.lpt", trace(kHeader));
  fs::permissions(p, fs::perms::none);
  if (geteuid() == 0) {
    WARN("running as root: chmod 000 does not stop root from reading; case skipped");
    return;
  }
  expect_refused("bitops " + p, {p, "cannot open"});
}

TEST_CASE("bad trace: a model the zoo does not have names the trace file") {
  const auto p = write("unknown_model.lpt", trace(header_with("model", R"("resnet21")")));
  expect_refused("bitops " + p, {p + ":1", "unknown model 'resnet21'", "resnet20"});
  expect_refused("simulate " + p, {p + ":1", "unknown model 'resnet21'"});
}

TEST_CASE("bad trace: a per-layer segment naming a layer the model lacks names the trace file") {
  const std::string layer_seg =
      R"({"seg":[0,3],"layer":"no_such_layer","W":"4","A":"4","E":"8","G":"8"})";
  const std::string text = kHeader + "\n" + kSeg0 + "\n" + kSeg1 + "\n" + layer_seg + "\n" +
                           R"({"end":4})" + "\n";
  const auto p = write("unknown_layer.lpt", text);
  expect_refused("bitops " + p, {p, "no_such_layer", "resnet20"});
  expect_refused("simulate " + p, {p, "no_such_layer", "no such layer"});
}
