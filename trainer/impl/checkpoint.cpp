// Checkpoint file: a private binary format (magic "LPSIMCKPT2"), written
// whole-or-nothing; floats stored bit-exactly. Version 2 added batch norm
// buffers and the loss scaler; version 1 files are refused by name. An
// svrg / halp run adds a section before the end marker ("VRS\n": anchor,
// full gradient, HALP's offset codes and scales); an SGD checkpoint is the
// same bytes as before it existed.
#include "trainer/impl/checkpoint.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/input_file.h"
#include "core/atomic_file.h"
#include "core/error.h"

namespace lpsim::trainer::impl {
namespace {

constexpr char kMagic[] = "LPSIMCKPT2\n";
constexpr char kMagicV1[] = "LPSIMCKPT1\n";
constexpr char kEnd[] = "END\n";
constexpr char kVrSection[] = "VRS\n";  // as long as kEnd

class Writer {
 public:
  void raw(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  void i64(std::int64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void str(const std::string& s) {
    i64(static_cast<std::int64_t>(s.size()));
    raw(s.data(), s.size());
  }
  void floats(const std::vector<float>& v) {
    i64(static_cast<std::int64_t>(v.size()));
    raw(v.data(), v.size() * sizeof(float));
  }
  void doubles(const std::vector<double>& v) {
    i64(static_cast<std::int64_t>(v.size()));
    raw(v.data(), v.size() * sizeof(double));
  }
  void opt(const std::optional<double>& v) {
    i64(v.has_value() ? 1 : 0);
    f64(v.value_or(0.0));
  }
  void precision(const PrecisionSet& p) {
    for (const Format& f : p.by_role) {
      i64(static_cast<std::int64_t>(f.kind));
      i64(f.bits);
      i64(f.exp_bits);
      i64(f.man_bits);
    }
  }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(std::string bytes, std::string path) : in_(std::move(bytes)), path_(std::move(path)) {}
  void raw(void* p, std::size_t n) {
    if (n > in_.size() - pos_)
      throw InputError(fmt::format("{}: checkpoint truncated at byte {}", path_, pos_));
    if (n > 0) std::memcpy(p, in_.data() + pos_, n);  // p may be null for n = 0 (UBSan)
    pos_ += n;
  }
  std::int64_t i64() {
    std::int64_t v;
    raw(&v, sizeof v);
    return v;
  }
  std::int64_t count(std::int64_t max_bytes_each) {
    const std::int64_t n = i64();
    if (n < 0 || (max_bytes_each > 0 &&
                  n > static_cast<std::int64_t>(in_.size() - pos_) / max_bytes_each))
      throw InputError(fmt::format("{}: checkpoint corrupt (count {} at byte {})", path_, n, pos_));
    return n;
  }
  double f64() {
    double v;
    raw(&v, sizeof v);
    return v;
  }
  std::string str() {
    std::string s(static_cast<std::size_t>(count(1)), '\0');
    raw(s.data(), s.size());
    return s;
  }
  std::vector<float> floats() {
    std::vector<float> v(static_cast<std::size_t>(count(sizeof(float))));
    raw(v.data(), v.size() * sizeof(float));
    return v;
  }
  std::vector<double> doubles() {
    std::vector<double> v(static_cast<std::size_t>(count(sizeof(double))));
    raw(v.data(), v.size() * sizeof(double));
    return v;
  }
  std::optional<double> opt() {
    const bool has = i64() != 0;
    const double v = f64();
    return has ? std::optional<double>(v) : std::nullopt;
  }
  PrecisionSet precision() {
    PrecisionSet p;
    for (Format& f : p.by_role) {
      f.kind = static_cast<Format::Kind>(i64());
      f.bits = static_cast<int>(i64());
      f.exp_bits = static_cast<int>(i64());
      f.man_bits = static_cast<int>(i64());
    }
    return p;
  }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  std::string in_;
  std::string path_;
  std::size_t pos_ = 0;
};

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  Writer w;
  w.raw(kMagic, sizeof kMagic - 1);
  w.str(c.fingerprint);
  w.i64(c.epochs_done);
  w.i64(static_cast<std::int64_t>(c.values.size()));
  for (std::size_t i = 0; i < c.values.size(); ++i) {
    w.str(c.param_names[i]);
    w.floats(c.values[i]);
    w.floats(c.momenta[i]);
  }
  w.i64(static_cast<std::int64_t>(c.buffers.size()));
  for (const Buffer& b : c.buffers) {
    w.str(b.name);
    w.floats(b.value);
  }
  w.f64(c.scaler.scale);
  w.i64(c.scaler.good_steps);
  w.i64(c.scaler.skipped_epoch);
  w.i64(static_cast<std::int64_t>(c.segments.size()));
  for (const Segment& s : c.segments) {
    w.i64(s.begin);
    w.i64(s.end);
    w.str(s.layer);
    w.precision(s.precision);
  }
  w.i64(static_cast<std::int64_t>(c.metrics.size()));
  for (const EpochMetrics& m : c.metrics) {
    w.i64(m.epoch);
    w.opt(m.train_loss);
    w.opt(m.train_accuracy);
    w.opt(m.test_accuracy);
    w.opt(m.wall_s);
    w.opt(m.loss_scale);
    w.i64(m.skipped_steps.value_or(-1));
  }
  w.i64(c.muppet.level);
  w.i64(c.muppet.violations);
  w.i64(c.muppet.epochs_summed);
  w.f64(c.muppet.max_delta);
  w.doubles(c.muppet.sum_norms);
  w.i64(static_cast<std::int64_t>(c.muppet.sum_grads.size()));
  for (const auto& g : c.muppet.sum_grads) w.doubles(g);
  w.i64(c.range_test.has_value() ? 1 : 0);
  if (c.range_test) {
    w.i64(c.range_test->b_min);
    w.str(c.range_test->schedule);
    w.i64(static_cast<std::int64_t>(c.range_test->curve.size()));
    for (const auto& s : c.range_test->curve) {
      w.i64(s.bits);
      w.i64(s.iterations);
      w.f64(s.train_accuracy);
    }
  }
  w.str(c.schedule);
  w.i64(static_cast<std::int64_t>(c.events.size()));
  for (const auto& e : c.events) w.str(e);
  if (!c.vr.empty()) {
    w.raw(kVrSection, sizeof kVrSection - 1);
    w.i64(static_cast<std::int64_t>(c.vr.anchor.size()));
    for (std::size_t i = 0; i < c.vr.anchor.size(); ++i) {
      w.floats(c.vr.anchor[i]);
      w.floats(c.vr.full_grad[i]);
    }
    w.i64(static_cast<std::int64_t>(c.vr.offset.size()));
    for (std::size_t i = 0; i < c.vr.offset.size(); ++i) {
      // Codes fit a double exactly (|q| <= 2^23).
      w.doubles(std::vector<double>(c.vr.offset[i].begin(), c.vr.offset[i].end()));
      w.f64(c.vr.scale[i]);
    }
  }
  w.raw(kEnd, sizeof kEnd - 1);
  write_file_atomic(path, w.bytes());
}

Checkpoint load_checkpoint(const std::string& path) {
  if (std::ifstream f(path, std::ios::binary); !f)
    throw InputError(fmt::format("{}: cannot read the checkpoint to resume from", path));
  const std::string bytes = read_input_file(path, false, false);
  if (bytes.compare(0, sizeof kMagicV1 - 1, kMagicV1) == 0)
    throw InputError(fmt::format("{}: checkpoint version 1 (before batch norm and dynamic loss "
                                 "scaling): restart the run without --resume",
                                 path));
  if (bytes.compare(0, sizeof kMagic - 1, kMagic) != 0)
    throw InputError(fmt::format("{}: not an lpsim checkpoint (bad magic)", path));
  Reader r(bytes.substr(sizeof kMagic - 1), path);
  Checkpoint c;
  c.fingerprint = r.str();
  c.epochs_done = r.i64();
  const std::int64_t params = r.count(8);
  for (std::int64_t i = 0; i < params; ++i) {
    c.param_names.push_back(r.str());
    c.values.push_back(r.floats());
    c.momenta.push_back(r.floats());
  }
  const std::int64_t buffers = r.count(16);
  for (std::int64_t i = 0; i < buffers; ++i) {
    Buffer b;
    b.name = r.str();
    b.value = r.floats();
    c.buffers.push_back(std::move(b));
  }
  c.scaler.scale = r.f64();
  c.scaler.good_steps = r.i64();
  c.scaler.skipped_epoch = r.i64();
  const std::int64_t segs = r.count(16);
  for (std::int64_t i = 0; i < segs; ++i) {
    Segment s;
    s.begin = r.i64();
    s.end = r.i64();
    s.layer = r.str();
    s.precision = r.precision();
    c.segments.push_back(std::move(s));
  }
  const std::int64_t ms = r.count(16);
  for (std::int64_t i = 0; i < ms; ++i) {
    EpochMetrics m;
    m.epoch = r.i64();
    m.train_loss = r.opt();
    m.train_accuracy = r.opt();
    m.test_accuracy = r.opt();
    m.wall_s = r.opt();
    m.loss_scale = r.opt();
    if (const std::int64_t skipped = r.i64(); skipped >= 0) m.skipped_steps = skipped;
    c.metrics.push_back(m);
  }
  c.muppet.level = static_cast<int>(r.i64());
  c.muppet.violations = static_cast<int>(r.i64());
  c.muppet.epochs_summed = static_cast<int>(r.i64());
  c.muppet.max_delta = r.f64();
  c.muppet.sum_norms = r.doubles();
  const std::int64_t sg = r.count(8);
  for (std::int64_t i = 0; i < sg; ++i) c.muppet.sum_grads.push_back(r.doubles());
  if (r.i64() != 0) {
    RangeTestResult rt;
    rt.b_min = static_cast<int>(r.i64());
    rt.schedule = r.str();
    const std::int64_t steps = r.count(24);
    for (std::int64_t i = 0; i < steps; ++i) {
      RangeTestStep s;
      s.bits = static_cast<int>(r.i64());
      s.iterations = r.i64();
      s.train_accuracy = r.f64();
      rt.curve.push_back(s);
    }
    c.range_test = rt;
  }
  c.schedule = r.str();
  const std::int64_t ev = r.count(8);
  for (std::int64_t i = 0; i < ev; ++i) c.events.push_back(r.str());
  char end[sizeof kEnd - 1];
  r.raw(end, sizeof end);
  if (std::memcmp(end, kVrSection, sizeof end) == 0) {
    const std::int64_t n = r.count(16);
    for (std::int64_t i = 0; i < n; ++i) {
      c.vr.anchor.push_back(r.floats());
      c.vr.full_grad.push_back(r.floats());
    }
    const std::int64_t m = r.count(16);
    for (std::int64_t i = 0; i < m; ++i) {
      std::vector<std::int32_t> code;
      for (double q : r.doubles()) {
        if (!(std::abs(q) <= 16777216.0) || q != std::floor(q))
          throw InputError(fmt::format("{}: checkpoint corrupt (HALP offset code {})", path, q));
        code.push_back(static_cast<std::int32_t>(q));
      }
      c.vr.offset.push_back(std::move(code));
      c.vr.scale.push_back(r.f64());
    }
    r.raw(end, sizeof end);
  }
  if (std::memcmp(end, kEnd, sizeof end) != 0 || !r.at_end())
    throw InputError(fmt::format("{}: checkpoint corrupt (bad end marker)", path));
  return c;
}

}  // namespace lpsim::trainer::impl
