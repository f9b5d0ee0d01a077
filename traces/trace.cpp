// Trace format v1 (docs/trace-format.md): JSON Lines, optionally gzipped.
// Reading checks every record as it comes and names "<file>:<line>".
#include "traces/trace.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "core/atomic_file.h"
#include "core/input_file.h"
#include "core/error.h"
#include "traces/impl/gzip.h"

namespace lpsim {

std::int64_t TraceHeader::iterations_per_epoch() const {
  if (batch <= 0 || samples_per_epoch <= 0) return 0;
  return samples_per_epoch / batch + (samples_per_epoch % batch != 0);  // no overflow near 2^63
}

std::int64_t TraceHeader::images_at(std::int64_t it) const {
  const std::int64_t ipe = iterations_per_epoch();
  if (ipe == 0) return 0;
  return it % ipe == ipe - 1 ? samples_per_epoch - (ipe - 1) * batch : batch;
}

std::int64_t TraceHeader::images_in(std::int64_t begin, std::int64_t end) const {
  const std::int64_t ipe = iterations_per_epoch();
  if (ipe == 0 || end <= begin) return 0;
  // Images before iteration t: whole epochs, then full batches (only an
  // epoch's last iteration is short, and it is never before t in t's epoch).
  auto before = [&](std::int64_t t) { return (t / ipe) * samples_per_epoch + (t % ipe) * batch; };
  return before(end) - before(begin);
}

namespace {

using Json = nlohmann::ordered_json;
using OrderedJson = Json;

// Where each record came from, so one checker serves the reader (file:line)
// and validate_trace (where: segments[i]).
struct Locator {
  std::function<std::string()> header;
  std::function<std::string(std::size_t)> segment;
  std::function<std::string(std::size_t)> metric;
};

// 2^53 images (and so iterations): counts stay exact in the doubles of reports.
constexpr std::int64_t kMaxTraceImages = std::int64_t{1} << 53;
constexpr std::int64_t kMaxBatch = std::int64_t{1} << 24;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw InputError(fmt::format("{}: {}", where, what));
}

void check_header(const TraceHeader& h, const std::string& where) {
  if (h.format_version != kTraceFormatVersion)
    fail(where, fmt::format("unknown trace format version {} (this lpsim reads version {})",
                            h.format_version, kTraceFormatVersion));
  if (h.model.empty() == h.graph_json.empty())
    fail(where, "the header needs exactly one of \"model\" (a zoo name) and \"graph\"");
  auto positive = [&](const char* key, std::int64_t v) {
    if (v < 1) fail(where, fmt::format("{} = {}: must be >= 1", key, v));
  };
  positive("samples_per_epoch", h.samples_per_epoch);
  positive("batch", h.batch);
  if (h.batch > kMaxBatch)  // models/training_step.cpp expands steps of at most 2^24
    fail(where, fmt::format("batch = {}: must be in 1..{}", h.batch, kMaxBatch));
  positive("epochs", h.epochs);
  positive("total_iterations", h.total_iterations);
  const std::int64_t ipe = h.iterations_per_epoch();
  // Bounds images (and so iterations, ipe <= samples) so that the products
  // below and in BitOPs counting cannot overflow (undefined behaviour).
  if (h.epochs > kMaxTraceImages / h.samples_per_epoch)
    fail(where, fmt::format("epochs = {} of samples_per_epoch = {}: more than {} images in all",
                            h.epochs, h.samples_per_epoch, kMaxTraceImages));
  if (h.total_iterations > h.epochs * ipe || h.total_iterations <= (h.epochs - 1) * ipe)
    fail(where,
         fmt::format("total_iterations = {} does not fit epochs = {} of {} iterations "
                     "(ceil(samples_per_epoch / batch)): must be in {}..{}",
                     h.total_iterations, h.epochs, ipe, (h.epochs - 1) * ipe + 1, h.epochs * ipe));
}

// All-layer segments tile [0, total) in order; per-layer segments of one
// layer are ordered, disjoint and inside [0, total). `final` also checks
// that the tiling is complete.
struct SegmentChecker {
  std::int64_t total = 0;
  std::int64_t covered = 0;
  std::map<std::string, std::int64_t> layer_end;

  void add(const Segment& s, const std::string& where) {
    if (s.begin < 0 || s.end <= s.begin)
      fail(where, fmt::format("segment [{}, {}) is empty or negative: need 0 <= begin < end",
                              s.begin, s.end));
    if (s.end > total)
      fail(where,
           fmt::format("segment [{}, {}) ends after total_iterations = {}", s.begin, s.end, total));
    if (s.layer.empty()) {
      if (s.begin > covered)
        fail(where, fmt::format("gap: segment begins at iteration {} but the previous one ends "
                                "at {}",
                                s.begin, covered));
      if (s.begin < covered)
        fail(where, fmt::format("overlap: segment begins at iteration {} but the previous one "
                                "ends at {}",
                                s.begin, covered));
      covered = s.end;
    } else {
      auto [it, fresh] = layer_end.emplace(s.layer, 0);
      if (!fresh && s.begin < it->second)
        fail(where, fmt::format("overlap: segment of layer '{}' begins at iteration {} but its "
                                "previous one ends at {}",
                                s.layer, s.begin, it->second));
      it->second = s.end;
    }
  }
  void finish(const std::string& where) const {
    if (covered != total)
      fail(where, fmt::format("the segments cover iterations [0, {}) but total_iterations = {}",
                              covered, total));
  }
};

void check_metric(const EpochMetrics& m, std::int64_t epochs, std::int64_t previous,
                  const std::string& where) {
  if (m.epoch < 0 || m.epoch >= epochs)
    fail(where, fmt::format("epoch = {}: must be in 0..{}", m.epoch, epochs - 1));
  if (m.epoch <= previous)
    fail(where, fmt::format("epoch = {} does not come after epoch {}", m.epoch, previous));
}

void check_trace(const Trace& t, const Locator& at, const std::string& end_where) {
  check_header(t.header, at.header());
  SegmentChecker seg{t.header.total_iterations, 0, {}};
  for (std::size_t i = 0; i < t.segments.size(); ++i) seg.add(t.segments[i], at.segment(i));
  seg.finish(end_where);
  std::int64_t prev = -1;
  for (std::size_t i = 0; i < t.metrics.size(); ++i) {
    check_metric(t.metrics[i], t.header.epochs, prev, at.metric(i));
    prev = t.metrics[i].epoch;
  }
}

// ---- reading ---------------------------------------------------------------

std::string type_name(const Json& j) { return j.type_name(); }

class RecordReader {
 public:
  RecordReader(const Json& j, std::string where) : j_(j), where_(std::move(where)) {}

  const Json* find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  const Json& need(const char* key) const {
    const Json* v = find(key);
    if (!v) fail(where_, fmt::format("missing field \"{}\"", key));
    return *v;
  }
  [[noreturn]] void wrong(const char* key, const Json& v, const char* want) const {
    fail(where_,
         fmt::format("field \"{}\" is {} {}: must be {}", key, type_name(v), v.dump(), want));
  }
  std::string string(const char* key) const {
    const Json& v = need(key);
    if (!v.is_string()) wrong(key, v, "a string");
    return v.get<std::string>();
  }
  std::int64_t integer(const char* key) const {
    const Json& v = need(key);
    if (!v.is_number_integer()) wrong(key, v, "an integer");
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
      wrong(key, v, "an integer below 2^63");
    return v.get<std::int64_t>();
  }
  std::uint64_t unsigned_integer(const char* key) const {
    const Json& v = need(key);
    if (!v.is_number_unsigned()) wrong(key, v, "an integer >= 0");
    return v.get<std::uint64_t>();
  }
  std::optional<double> number(const char* key) const {
    const Json* v = find(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_number()) wrong(key, *v, "a number or null");
    return v->get<double>();
  }
  Format format(const char* key) const {
    const Json& v = need(key);
    std::string text;
    if (v.is_string()) {
      text = v.get<std::string>();
    } else if (v.is_number_integer()) {
      text = v.dump();
    } else {
      wrong(key, v, "a format name such as \"8\" or \"fp32\"");
    }
    return parse_format(text, fmt::format("{}: field \"{}\"", where_, key));
  }
  void only(std::initializer_list<const char*> allowed) const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      bool ok = false;
      for (const char* a : allowed) ok = ok || it.key() == a;
      if (!ok) {
        std::string list;
        for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(where_, fmt::format("unknown field \"{}\" (allowed: {})", it.key(), list));
      }
    }
  }

 private:
  const Json& j_;
  std::string where_;
};

TraceHeader parse_header(const Json& j, const std::string& where) {
  RecordReader r(j, where);
  TraceHeader h;
  // The version first: a newer file may have other fields.
  const Json& v = r.need("lpsim_trace");
  if (!v.is_number_integer()) r.wrong("lpsim_trace", v, "the integer format version");
  if (v.get<std::int64_t>() != kTraceFormatVersion)
    fail(where, fmt::format("unknown trace format version {} (this lpsim reads version {})",
                            v.dump(), kTraceFormatVersion));
  r.only({"lpsim_trace", "producer", "model", "graph", "dataset", "samples_per_epoch", "batch",
          "epochs", "total_iterations", "schedule", "seed"});
  h.producer = r.string("producer");
  if (r.find("model")) h.model = r.string("model");
  if (const Json* g = r.find("graph")) {
    if (!g->is_object()) r.wrong("graph", *g, "an object (models/graph_io.h)");
    h.graph_json = g->dump();
  }
  if (h.model.empty() == h.graph_json.empty())
    fail(where, "the header needs exactly one of \"model\" (a zoo name) and \"graph\"");
  h.dataset = r.string("dataset");
  h.samples_per_epoch = r.integer("samples_per_epoch");
  h.batch = r.integer("batch");
  h.epochs = r.integer("epochs");
  h.total_iterations = r.integer("total_iterations");
  h.schedule = r.string("schedule");
  h.seed = r.unsigned_integer("seed");
  check_header(h, where);
  return h;
}

Segment parse_segment(const Json& j, const std::string& where) {
  RecordReader r(j, where);
  r.only({"seg", "W", "A", "E", "G", "Opt", "Master", "layer"});
  const Json& range = r.need("seg");
  if (!range.is_array() || range.size() != 2 || !range[0].is_number_integer() ||
      !range[1].is_number_integer())
    r.wrong("seg", range, "[begin, end], two integers");
  Segment s;
  s.begin = range[0].get<std::int64_t>();
  s.end = range[1].get<std::int64_t>();
  if (r.find("layer")) {
    s.layer = r.string("layer");
    if (s.layer.empty()) fail(where, "field \"layer\" is empty: omit it for all layers");
  }
  s.precision[Role::W] = r.format("W");
  s.precision[Role::A] = r.format("A");
  s.precision[Role::E] = r.format("E");
  s.precision[Role::G] = r.format("G");
  s.precision[Role::Opt] = r.find("Opt") ? r.format("Opt") : Format::fp32();
  if (r.find("Master")) s.precision.master = r.format("Master");
  return s;
}

EpochMetrics parse_metrics(const Json& j, const std::string& where) {
  RecordReader r(j, where);
  r.only({"epoch", "train_loss", "train_accuracy", "test_accuracy", "wall_s", "loss_scale",
          "skipped_steps"});
  EpochMetrics m;
  m.epoch = r.integer("epoch");
  m.train_loss = r.number("train_loss");
  m.train_accuracy = r.number("train_accuracy");
  m.test_accuracy = r.number("test_accuracy");
  m.wall_s = r.number("wall_s");
  m.loss_scale = r.number("loss_scale");
  if (m.loss_scale && !(*m.loss_scale > 0)) r.wrong("loss_scale", *r.find("loss_scale"), "a number > 0");
  if (r.find("skipped_steps")) {
    m.skipped_steps = r.integer("skipped_steps");
    if (*m.skipped_steps < 0) r.wrong("skipped_steps", *r.find("skipped_steps"), "an integer >= 0");
  }
  return m;
}

// The trace file's own messages for a missing file or a directory; reading
// itself goes through the input caps (core/input_file.h).
void check_readable(const std::string& path) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    throw InputError(fmt::format("{}: no such trace file", path));
  if (std::filesystem::is_directory(status))
    throw InputError(fmt::format("{}: is a directory, not a trace file", path));
}

std::string json_error_text(const nlohmann::json::exception& e) {
  // "[json.exception.parse_error.101] parse error at line 1, column 7: ..." -> "column 7: ..."
  std::string s = e.what();
  auto col = s.find("column ");
  return col == std::string::npos ? s : s.substr(col);
}

// ---- writing ---------------------------------------------------------------

std::string format_json(const Format& f) { return Json(f.name()).dump(); }

}  // namespace

Trace read_trace(const std::string& path) {
  check_readable(path);
  Trace trace;
  trace.source = path;
  std::vector<std::int64_t> seg_lines, metric_lines;
  std::int64_t header_line = 0, records = 0, line_no = 0;
  bool ended = false;
  SegmentChecker segs;
  std::int64_t prev_epoch = -1;
  auto where = [&](std::int64_t line) { return fmt::format("{}:{}", path, line); };

  // Streamed line by line: memory holds one record, not the file.
  for_each_line(path, true, [&](std::string_view line, std::int64_t number) {
    line_no = number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string here = where(line_no);
    if (ended) fail(here, "a record after the end record");
    if (line.empty()) fail(here, "empty line: every line must be one JSON record");
    Json j;
    // nlohmann keeps one value of a key given twice: find such keys while parsing.
    std::vector<std::set<std::string>> keys;
    std::string twice;
    auto track = [&](int, Json::parse_event_t event, Json& parsed) {
      if (event == Json::parse_event_t::object_start) {
        keys.emplace_back();
      } else if (event == Json::parse_event_t::object_end) {
        keys.pop_back();
      } else if (event == Json::parse_event_t::key && !keys.empty() &&
                 !keys.back().insert(parsed.get<std::string>()).second && twice.empty()) {
        twice = parsed.get<std::string>();
      }
      return true;
    };
    try {
      j = Json::parse(line, track);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
      fail(here, "malformed JSON: " + json_error_text(e));
    }
    if (!twice.empty()) fail(here, fmt::format("field \"{}\" is given twice", twice));
    if (!j.is_object())
      fail(here, fmt::format("a record must be a JSON object, not {}", type_name(j)));
    if (line_no == 1) {
      if (!j.contains("lpsim_trace"))
        fail(here,
             "not an lpsim trace: the first record must be the header "
             "{\"lpsim_trace\": 1, ...}");
      trace.header = parse_header(j, here);
      header_line = line_no;
      segs.total = trace.header.total_iterations;
    } else if (j.contains("lpsim_trace")) {
      fail(here, "a second header record");
    } else if (j.contains("seg")) {
      Segment s = parse_segment(j, here);
      segs.add(s, here);
      trace.segments.push_back(std::move(s));
      seg_lines.push_back(line_no);
    } else if (j.contains("epoch")) {
      EpochMetrics m = parse_metrics(j, here);
      check_metric(m, trace.header.epochs, prev_epoch, here);
      prev_epoch = m.epoch;
      trace.metrics.push_back(m);
      metric_lines.push_back(line_no);
    } else if (j.contains("end")) {
      RecordReader r(j, here);
      r.only({"end"});
      std::int64_t n = r.integer("end");
      if (n != records)
        fail(here, fmt::format("the end record counts {} records but {} precede it", n, records));
      segs.finish(here);
      ended = true;
      return;
    } else {
      fail(here,
           "unknown record: expected a segment (\"seg\"), metrics (\"epoch\") or the end "
           "(\"end\")");
    }
    ++records;
  });
  if (line_no == 0) throw InputError(fmt::format("{}:1: empty file, not an lpsim trace", path));
  if (!ended) fail(where(line_no), "truncated trace: no {\"end\": N} record after the last line");

  Locator at{[&] { return where(header_line); }, [&](std::size_t i) { return where(seg_lines[i]); },
             [&](std::size_t i) { return where(metric_lines[i]); }};
  check_trace(trace, at, where(line_no));
  return trace;
}

void validate_trace(const Trace& trace, const std::string& where) {
  Locator at{[&] { return where + ": header"; },
             [&](std::size_t i) { return fmt::format("{}: segments[{}]", where, i); },
             [&](std::size_t i) { return fmt::format("{}: metrics[{}]", where, i); }};
  check_trace(trace, at, where);
}

void write_trace(const std::string& path, const Trace& trace) {
  validate_trace(trace, path);
  const TraceHeader& h = trace.header;
  std::string out;
  out.reserve(256 + trace.segments.size() * 72);

  OrderedJson head;
  head["lpsim_trace"] = h.format_version;
  head["producer"] = h.producer;
  if (!h.model.empty()) {
    head["model"] = h.model;
  } else {
    try {
      head["graph"] = OrderedJson::parse(h.graph_json);
    } catch (const nlohmann::json::parse_error& e) {
      throw InputError(
          fmt::format("{}: the trace's graph is not JSON: {}", path, json_error_text(e)));
    }
  }
  head["dataset"] = h.dataset;
  head["samples_per_epoch"] = h.samples_per_epoch;
  head["batch"] = h.batch;
  head["epochs"] = h.epochs;
  head["total_iterations"] = h.total_iterations;
  head["schedule"] = h.schedule;
  head["seed"] = h.seed;
  out += head.dump();
  out += '\n';
  std::int64_t records = 1;

  for (const Segment& s : trace.segments) {
    const PrecisionSet& p = s.precision;
    out += fmt::format("{{\"seg\":[{},{}],\"W\":{},\"A\":{},\"E\":{},\"G\":{},\"Opt\":{}", s.begin,
                       s.end, format_json(p[Role::W]), format_json(p[Role::A]),
                       format_json(p[Role::E]), format_json(p[Role::G]), format_json(p[Role::Opt]));
    if (p.master) out += ",\"Master\":" + format_json(*p.master);
    if (!s.layer.empty()) out += ",\"layer\":" + Json(s.layer).dump();
    out += "}\n";
    ++records;
  }
  for (const EpochMetrics& m : trace.metrics) {
    OrderedJson j;
    j["epoch"] = m.epoch;
    auto put = [&](const char* key, const std::optional<double>& v) {
      if (!v) return;
      if (std::isfinite(*v)) {
        j[key] = *v;
      } else {
        j[key] = nullptr;  // JSON has no NaN or infinity
      }
    };
    put("train_loss", m.train_loss);
    put("train_accuracy", m.train_accuracy);
    put("test_accuracy", m.test_accuracy);
    put("wall_s", m.wall_s);
    put("loss_scale", m.loss_scale);
    if (m.skipped_steps) j["skipped_steps"] = *m.skipped_steps;
    out += j.dump();
    out += '\n';
    ++records;
  }
  out += fmt::format("{{\"end\":{}}}\n", records);

  const bool gz = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  write_file_atomic(path, gz ? gzip::compress(out) : out);
}

}  // namespace lpsim
