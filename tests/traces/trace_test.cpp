// Tests for traces/trace.h: format v1 round trips, the reader's errors, images.
#include "traces/trace.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "temp_dir.h"

using namespace lpsim;
using Catch::Matchers::Contains;

namespace {

TraceHeader header(std::int64_t samples, std::int64_t batch, std::int64_t epochs) {
  TraceHeader h;
  h.producer = "test";
  h.model = "resnet20";
  h.dataset = "cifar10";
  h.samples_per_epoch = samples;
  h.batch = batch;
  h.epochs = epochs;
  h.total_iterations = epochs * ((samples + batch - 1) / batch);
  h.schedule = "cyclic:3-8/8";
  h.seed = 42;
  return h;
}

Segment seg(std::int64_t b, std::int64_t e, int fw, int bw, std::string layer = "") {
  Segment s;
  s.begin = b;
  s.end = e;
  s.layer = std::move(layer);
  s.precision = PrecisionSet::fw_bw(Format::integer(fw), Format::integer(bw));
  return s;
}

// 10 samples in batches of 4: 3 iterations per epoch, 2 epochs.
Trace small_trace() {
  Trace t;
  t.header = header(10, 4, 2);
  t.segments = {seg(0, 2, 3, 8), seg(2, 5, 8, 8), seg(5, 6, 4, 8)};
  Segment fp = seg(1, 4, 8, 8, "conv1");
  fp.precision = PrecisionSet{};
  fp.precision[Role::E] = Format::floating(5, 2);
  t.segments.push_back(fp);
  EpochMetrics m0;
  m0.epoch = 0;
  m0.train_loss = 2.25;
  m0.test_accuracy = 0.5;
  EpochMetrics m1;
  m1.epoch = 1;
  m1.train_accuracy = 0.75;
  m1.wall_s = 12.5;
  t.metrics = {m0, m1};
  return t;
}

void check_same(const Trace& a, const Trace& b) {
  CHECK(a.header.format_version == b.header.format_version);
  CHECK(a.header.producer == b.header.producer);
  CHECK(a.header.model == b.header.model);
  CHECK(a.header.dataset == b.header.dataset);
  CHECK(a.header.samples_per_epoch == b.header.samples_per_epoch);
  CHECK(a.header.batch == b.header.batch);
  CHECK(a.header.epochs == b.header.epochs);
  CHECK(a.header.total_iterations == b.header.total_iterations);
  CHECK(a.header.schedule == b.header.schedule);
  CHECK(a.header.seed == b.header.seed);
  REQUIRE(a.segments.size() == b.segments.size());
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    CHECK(a.segments[i].begin == b.segments[i].begin);
    CHECK(a.segments[i].end == b.segments[i].end);
    CHECK(a.segments[i].layer == b.segments[i].layer);
    CHECK(a.segments[i].precision == b.segments[i].precision);
  }
  REQUIRE(a.metrics.size() == b.metrics.size());
  for (std::size_t i = 0; i < a.metrics.size(); ++i) {
    CHECK(a.metrics[i].epoch == b.metrics[i].epoch);
    CHECK(a.metrics[i].train_loss == b.metrics[i].train_loss);
    CHECK(a.metrics[i].train_accuracy == b.metrics[i].train_accuracy);
    CHECK(a.metrics[i].test_accuracy == b.metrics[i].test_accuracy);
    CHECK(a.metrics[i].wall_s == b.metrics[i].wall_s);
  }
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The lines of a valid written trace, to damage one at a time.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

}  // namespace

TEST_CASE("an epoch's last batch holds the samples left over") {
  TraceHeader h = header(10, 4, 3);  // batches of 4, 4, 2
  CHECK(h.iterations_per_epoch() == 3);
  CHECK(h.images_at(0) == 4);
  CHECK(h.images_at(2) == 10 - 2 * 4);
  CHECK(h.images_at(3) == 4);
  CHECK(h.images_at(5) == 2);
  CHECK(h.images_in(0, 3) == 10);
  CHECK(h.images_in(2, 4) == 2 + 4);
  CHECK(h.images_in(1, 8) == 4 + 2 + 10 + 4 + 4);
  CHECK(h.images_in(0, 9) == 30);
  CHECK(h.images_in(4, 4) == 0);
  // CIFAR: 50,000 in batches of 128 is 391 iterations, the last of 80.
  TraceHeader c = header(50000, 128, 160);
  CHECK(c.iterations_per_epoch() == 391);
  CHECK(c.images_at(390) == 50000 - 390 * 128);
  CHECK(c.images_in(0, 160 * 391) == 160 * 50000);
  // images_in agrees with summing images_at.
  std::int64_t sum = 0;
  for (std::int64_t it = 100; it < 1000; ++it) sum += c.images_at(it);
  CHECK(c.images_in(100, 1000) == sum);
}

TEST_CASE("a trace written and read back is the same trace, plain and gzipped") {
  test::TempDir dir;
  Trace t = small_trace();
  for (const char* name : {"t.lpt", "t.lpt.gz"}) {
    INFO(name);
    auto path = dir.file(name);
    write_trace(path, t);
    check_same(read_trace(path), t);
  }
  // The .gz file is gzip, the plain one is JSON Lines starting with the header.
  CHECK(slurp(dir.file("t.lpt.gz")).substr(0, 2) == "\x1f\x8b");
  CHECK(slurp(dir.file("t.lpt")).rfind("{\"lpsim_trace\":1,", 0) == 0);
}

TEST_CASE("a gzipped trace is recognized by its magic number whatever its name") {
  test::TempDir dir;
  write_trace(dir.file("t.gz"), small_trace());
  std::filesystem::rename(dir.file("t.gz"), dir.file("renamed.lpt"));
  check_same(read_trace(dir.file("renamed.lpt")), small_trace());
}

TEST_CASE("a trace with an embedded graph keeps it") {
  test::TempDir dir;
  Trace t = small_trace();
  t.header.model = "";
  t.header.graph_json = R"({"layers":[{"kind":"input","name":"x"}],"name":"g"})";
  write_trace(dir.file("g.lpt"), t);
  Trace back = read_trace(dir.file("g.lpt"));
  CHECK(back.header.model.empty());
  CHECK(back.header.graph_json == t.header.graph_json);
}

TEST_CASE("the sample trace in tests/data reads") {
  Trace t = read_trace(LPSIM_TEST_DATA "/traces/resnet20_cyclic.lpt");
  CHECK(t.header.model == "resnet20");
  CHECK(t.header.total_iterations == 2 * 391);
  CHECK(t.segments.front().begin == 0);
  CHECK(t.segments.back().end == t.header.total_iterations);
  CHECK(t.metrics.size() == 2);
}

TEST_CASE("the reader rejects damaged traces with the file and line") {
  test::TempDir dir;
  write_trace(dir.file("ok.lpt"), small_trace());
  const auto good = lines_of(slurp(dir.file("ok.lpt")));
  REQUIRE(good.size() == 1 + 4 + 2 + 1);

  struct Case {
    const char* what;
    std::function<void(std::vector<std::string>&)> damage;
    std::string says;
  };
  const std::vector<Case> cases{
      {"unknown version", [](auto& l) { l[0].replace(l[0].find(":1,"), 3, ":2,"); },
       ":1: unknown trace format version 2 (this lpsim reads version 1)"},
      {"malformed line", [](auto& l) { l[2] = l[2].substr(0, 20); }, ":3: malformed JSON"},
      {"truncated", [](auto& l) { l.pop_back(); }, ":7: truncated trace"},
      {"gap", [](auto& l) { l.erase(l.begin() + 1); },
       ":2: gap: segment begins at iteration 2 but the previous one ends at 0"},
      {"overlap", [](auto& l) { l[2] = R"({"seg":[1,5],"W":"8","A":"8","E":"8","G":"8"})"; },
       ":3: overlap"},
      {"segments short of the run",
       [](auto& l) {
         l.erase(l.begin() + 3);
         l.back() = R"({"end":6})";
       },
       ":7: the segments cover iterations [0, 5) but total_iterations = 6"},
      {"count mismatch", [](auto& l) { l.back() = R"({"end":9})"; },
       ":8: the end record counts 9 records but 7 precede it"},
      {"missing field", [](auto& l) { l[1] = R"({"seg":[0,2],"W":"3","A":"3","E":"8"})"; },
       ":2: missing field \"G\""},
      {"wrong type", [](auto& l) { l[0].replace(l[0].find("\"batch\":4"), 9, "\"batch\":\"4\""); },
       ":1: field \"batch\" is string \"4\": must be an integer"},
      {"bad width", [](auto& l) { l[1] = R"({"seg":[0,2],"W":"0","A":"3","E":"8","G":"8"})"; },
       ":2: field \"W\": 0 bits is out of range"},
      {"not a trace", [](auto& l) { l.erase(l.begin()); }, ":1: not an lpsim trace"},
      {"record after the end", [](auto& l) { l.push_back(R"({"end":7})"); },
       ":9: a record after the end record"},
      {"unknown record", [](auto& l) { l[5] = R"({"loss":1})"; }, ":6: unknown record"},
      {"unknown field", [](auto& l) { l[1].insert(1, R"("w":"8",)"); }, ":2: unknown field \"w\""},
      {"metrics epoch out of range", [](auto& l) { l[6] = R"({"epoch":2})"; },
       ":7: epoch = 2: must be in 0..1"},
      {"inconsistent header",
       [](auto& l) {
         l[0].replace(l[0].find("\"total_iterations\":6"), 20, "\"total_iterations\":7");
       },
       ":1: total_iterations = 7 does not fit epochs = 2 of 3 iterations"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto lines = good;
    c.damage(lines);
    auto path = dir.write("bad.lpt", join(lines));
    CHECK_THROWS_AS(read_trace(path), InputError);
    CHECK_THROWS_WITH(read_trace(path), Contains(path + c.says));
  }
}

TEST_CASE("the reader rejects missing files, directories, empty files and cut gzip") {
  test::TempDir dir;
  CHECK_THROWS_WITH(read_trace(dir.file("none.lpt")), Contains("no such trace file"));
  CHECK_THROWS_WITH(read_trace(dir.file("")), Contains("is a directory"));
  CHECK_THROWS_WITH(read_trace(dir.write("empty.lpt", "")), Contains("empty.lpt:1: empty file"));
  write_trace(dir.file("t.lpt.gz"), small_trace());
  std::string gz = slurp(dir.file("t.lpt.gz"));
  auto cut = dir.write("cut.lpt.gz", gz.substr(0, gz.size() / 2));
  CHECK_THROWS_WITH(read_trace(cut), Contains("cut.lpt.gz: corrupt gzip data"));
  std::string flipped = gz;
  flipped[gz.size() / 2] = static_cast<char>(flipped[gz.size() / 2] ^ 0x55);
  CHECK_THROWS_AS(read_trace(dir.write("flip.lpt.gz", flipped)), InputError);
}

TEST_CASE("validate_trace and the writer refuse segments that do not tile the run") {
  test::TempDir dir;
  Trace t = small_trace();
  t.segments.erase(t.segments.begin() + 1);
  CHECK_THROWS_WITH(validate_trace(t, "mine"),
                    Contains("mine: segments[1]: gap: segment begins at iteration 5"));
  CHECK_THROWS_AS(write_trace(dir.file("x.lpt"), t), InputError);
  CHECK_FALSE(std::filesystem::exists(dir.file("x.lpt")));
  Trace overlap = small_trace();
  overlap.segments.push_back(seg(2, 3, 4, 4, "conv1"));  // conv1 already covers [1, 4)
  CHECK_THROWS_WITH(validate_trace(overlap, "mine"), Contains("overlap: segment of layer 'conv1'"));
  Trace v2 = small_trace();
  v2.header.format_version = 2;
  CHECK_THROWS_WITH(validate_trace(v2, "mine"), Contains("unknown trace format version 2"));
}

TEST_CASE("the damaged sample traces in tests/data are rejected with file and line") {
  const std::string d = LPSIM_TEST_DATA "/traces/";
  CHECK_THROWS_WITH(read_trace(d + "bad_version.lpt"),
                    Contains("bad_version.lpt:1: unknown trace format version 2"));
  CHECK_THROWS_WITH(read_trace(d + "truncated.lpt"), Contains("truncated.lpt:14: truncated"));
  CHECK_THROWS_WITH(read_trace(d + "malformed.lpt"), Contains("malformed.lpt:4: malformed JSON"));
  CHECK_THROWS_WITH(read_trace(d + "gap.lpt"), Contains("gap.lpt:3: gap"));
}
