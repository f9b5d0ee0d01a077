// Graph files (JSON / YAML) and SCALE-Sim topology CSVs.
#include "models/graph_io.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "core/input_file.h"
#include "core/atomic_file.h"
#include "core/error.h"

namespace lpsim {

namespace {

using nlohmann::json;

constexpr const char* kFormatName = "lpsim-graph";
constexpr int kFormatVersion = 1;
// Every size, kernel, channel count etc. is at most 2^24, so that shapes and
// GEMM dimensions times a batch stay far from int64 overflow (undefined).
constexpr std::int64_t kMaxValue = std::int64_t{1} << 24;
// Per-layer operand widths (Layer::w_bits, a_bits): the widths lpsim's
// formats allow (docs/architecture.md, native_formats: 1..64).
constexpr std::int64_t kMaxBits = 64;

std::string read_text(const std::string& path) { return read_input_file(path); }

std::string short_value(const json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

// Reads the keys of one layer object, checking types and ranges, and
// remembering which keys were used so that unknown ones are reported.
class LayerReader {
 public:
  LayerReader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw InputError(where_ + ": key '" + key + "': " + what);
  }

  bool has(const std::string& key) const { return obj_.contains(key); }

  const json& get(const std::string& key) {
    used_.insert(key);
    auto it = obj_.find(key);
    if (it == obj_.end()) fail(key, "missing");
    return *it;
  }

  std::int64_t integer(const std::string& key, std::int64_t min) {
    const json& v = get(key);
    if (!v.is_number_integer() || v.get<std::int64_t>() < min || v.get<std::int64_t>() > kMaxValue) {
      fail(key, short_value(v) + ": must be an integer " + std::to_string(min) + ".." +
                    std::to_string(kMaxValue));
    }
    return v.get<std::int64_t>();
  }
  std::int64_t integer(const std::string& key, std::int64_t min, std::int64_t fallback) {
    return has(key) ? integer(key, min) : (used_.insert(key), fallback);
  }

  // An operand width in bits (1..64), or 0 when the key is absent (the
  // run's precision).
  int bits(const std::string& key) {
    if (!has(key)) return 0;
    const json& v = get(key);
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > kMaxBits)
      fail(key, short_value(v) + ": must be an integer 1.." + std::to_string(kMaxBits) + " (bits)");
    return static_cast<int>(v.get<std::int64_t>());
  }

  bool boolean(const std::string& key, bool fallback) {
    if (!has(key)) return fallback;
    const json& v = get(key);
    if (!v.is_boolean()) fail(key, short_value(v) + ": must be true or false");
    return v.get<bool>();
  }

  std::string string(const std::string& key) {
    const json& v = get(key);
    if (!v.is_string()) fail(key, short_value(v) + ": must be a string");
    return v.get<std::string>();
  }

  // An integer (square) or a list [h, w].
  std::pair<std::int64_t, std::int64_t> pair(const std::string& key) {
    const json& v = get(key);
    auto ok = [](const json& x) {
      return x.is_number_integer() && x.get<std::int64_t>() >= 1 &&
             x.get<std::int64_t>() <= kMaxValue;
    };
    if (ok(v)) return {v.get<std::int64_t>(), v.get<std::int64_t>()};
    if (v.is_array() && v.size() == 2 && ok(v[0]) && ok(v[1]))
      return {v[0].get<std::int64_t>(), v[1].get<std::int64_t>()};
    fail(key, short_value(v) + ": must be an integer 1.." + std::to_string(kMaxValue) +
                  " or a list [h, w] of them");
  }

  std::vector<std::int64_t> dims(const std::string& key) {
    const json& v = get(key);
    std::vector<std::int64_t> out;
    if (v.is_array() && !v.empty()) {
      for (const json& d : v) {
        if (!d.is_number_integer() || d.get<std::int64_t>() < 1 ||
            d.get<std::int64_t>() > kMaxValue) {
          out.clear();
          break;
        }
        out.push_back(d.get<std::int64_t>());
      }
    }
    if (out.empty())
      fail(key, short_value(v) + ": must be a non-empty list of integers 1.." +
                    std::to_string(kMaxValue));
    return out;
  }

  // A list of integers min..kMaxValue (possibly empty when `allow_empty`).
  std::vector<std::int64_t> ints(const std::string& key, std::int64_t min, bool allow_empty) {
    const json& v = get(key);
    std::vector<std::int64_t> out;
    bool ok = v.is_array() && (allow_empty || !v.empty());
    for (std::size_t i = 0; ok && i < v.size(); ++i) {
      ok = v[i].is_number_integer() && v[i].get<std::int64_t>() >= min &&
           v[i].get<std::int64_t>() <= kMaxValue;
      if (ok) out.push_back(v[i].get<std::int64_t>());
    }
    if (!ok)
      fail(key, short_value(v) + ": must be a " + (allow_empty ? "" : "non-empty ") +
                    "list of integers " + std::to_string(min) + ".." + std::to_string(kMaxValue));
    return out;
  }

  // A window's stride, dilation or padding: an integer, [h, w], or (padding
  // only) [top, left, bottom, right]. Absent: the fallback on every side.
  std::vector<std::int64_t> sides(const std::string& key, std::int64_t min, std::int64_t fallback,
                                  bool four) {
    if (!has(key)) {
      used_.insert(key);
      return {fallback, fallback};
    }
    const json& v = get(key);
    auto ok = [&](const json& x) {
      return x.is_number_integer() && x.get<std::int64_t>() >= min &&
             x.get<std::int64_t>() <= kMaxValue;
    };
    if (ok(v)) return {v.get<std::int64_t>(), v.get<std::int64_t>()};
    if (v.is_array() && (v.size() == 2 || (four && v.size() == 4))) {
      std::vector<std::int64_t> out;
      for (const json& x : v) {
        if (!ok(x)) break;
        out.push_back(x.get<std::int64_t>());
      }
      if (out.size() == v.size()) return out;
    }
    fail(key, short_value(v) + ": must be an integer " + std::to_string(min) + ".." +
                  std::to_string(kMaxValue) + ", a list [h, w] of them" +
                  (four ? " or [top, left, bottom, right]" : ""));
  }

  void reject_unknown() const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (!used_.count(it.key())) fail(it.key(), "unknown for this layer kind");
    }
  }

 private:
  const json& obj_;
  std::string where_;
  std::set<std::string> used_;
};

// stride, padding and dilation of a conv2d or (non-global) pool layer.
void read_window(LayerReader& r, Layer& l, std::int64_t stride_fallback) {
  const auto s = r.sides("stride", 1, stride_fallback, false);
  l.stride = s[0];
  if (s[1] != s[0]) l.stride_w = s[1];
  const auto p = r.sides("padding", 0, 0, true);
  l.padding = p[0];
  if (p[1] != p[0]) l.padding_w = p[1];
  if (p.size() == 4) {
    if (p[2] != p[0]) l.padding_bottom = p[2];
    if (p[3] != p[1]) l.padding_right = p[3];
  }
  const auto d = r.sides("dilation", 1, 1, false);
  l.dilation_h = d[0];
  l.dilation_w = d[1];
}

Layer read_layer(LayerReader& r, const std::string& name, LayerKind kind) {
  Layer l = make_layer(name, kind);
  switch (kind) {
    case LayerKind::Input:
      l.out_shape.dims = r.dims("shape");
      l.input_grad = r.boolean("input_grad", false);
      break;
    case LayerKind::Conv2d: {
      l.out_features = r.integer("out_channels", 1);
      std::tie(l.kernel_h, l.kernel_w) = r.pair("kernel");
      read_window(r, l, 1);
      l.groups = r.integer("groups", 1, 1);
      l.bias = r.boolean("bias", false);
      l.w_bits = r.bits("w_bits");
      l.a_bits = r.bits("a_bits");
      break;
    }
    case LayerKind::Linear:
      l.out_features = r.integer("out_features", 1);
      l.bias = r.boolean("bias", false);
      l.w_bits = r.bits("w_bits");
      l.a_bits = r.bits("a_bits");
      break;
    case LayerKind::Activation:
      l.activation = r.has("function") ? r.string("function") : "relu";
      break;
    case LayerKind::Pool: {
      const std::string mode = r.string("mode");
      if (mode != "max" && mode != "avg") r.fail("mode", "'" + mode + "': must be max or avg");
      l.pool_max = mode == "max";
      l.pool_global = r.boolean("global", false);
      if (!l.pool_global) {
        std::tie(l.kernel_h, l.kernel_w) = r.pair("kernel");
        if (!r.has("stride")) r.fail("stride", "missing");
        read_window(r, l, 1);
      }
      break;
    }
    case LayerKind::LstmCell:
      l.out_features = r.integer("hidden", 1);
      l.bias = r.boolean("bias", true);
      l.w_bits = r.bits("w_bits");
      l.a_bits = r.bits("a_bits");
      break;
    case LayerKind::Attention:
      l.heads = r.integer("heads", 1);
      break;
    case LayerKind::Embedding:
      l.vocab = r.integer("vocab", 1);
      l.out_features = r.integer("dim", 1);
      break;
    case LayerKind::Concat:
      l.axis = r.integer("axis", 0, 0);
      break;
    case LayerKind::Elementwise:
      l.activation = r.string("function");
      if (r.has("operand")) l.operand = r.ints("operand", 1, true);
      l.learnable = r.boolean("learnable", false);
      break;
    case LayerKind::Reduce:
      l.activation = r.string("function");
      l.axes = r.ints("axes", 0, false);
      l.keepdims = r.boolean("keepdims", true);
      break;
    case LayerKind::Reshape:
    case LayerKind::Copy:
      l.target = r.ints("shape", 1, false);
      break;
    case LayerKind::Transpose:
      l.perm = r.ints("perm", 0, false);
      break;
    case LayerKind::BatchNorm:
    case LayerKind::Add:
    case LayerKind::Flatten:
    case LayerKind::LayerNorm:
    case LayerKind::Softmax:
    case LayerKind::MatMul:
      break;
  }
  return l;
}

Graph graph_from_tree(const json& root, const std::string& where) {
  if (!root.is_object())
    throw InputError(where + ": the top level must be an object with 'layers'");
  std::string name = std::filesystem::path(where).stem().string();
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "format") {
      if (v != kFormatName) {
        throw InputError(where + ": key 'format' = " + short_value(v) + ": must be \"" +
                         kFormatName + "\"");
      }
    } else if (key == "version") {
      if (v != kFormatVersion) {
        throw InputError(where + ": key 'version' = " + short_value(v) +
                         ": this lpsim reads version " + std::to_string(kFormatVersion));
      }
    } else if (key == "name") {
      if (!v.is_string()) throw InputError(where + ": key 'name': must be a string");
      name = v.get<std::string>();
    } else if (key != "layers") {
      throw InputError(where + ": key '" + key +
                       "': unknown; known: format, version, name, layers");
    }
  }
  if (!root.contains("layers") || !root["layers"].is_array() || root["layers"].empty()) {
    throw InputError(where + ": key 'layers': must be a non-empty list of layers");
  }
  Graph g(name);
  const json& layers = root["layers"];
  for (std::size_t i = 0; i < layers.size(); ++i) {
    std::string at = where + ": layers[" + std::to_string(i) + "]";
    const json& obj = layers[i];
    if (!obj.is_object()) throw InputError(at + ": must be an object");
    LayerReader r(obj, at);
    const std::string lname = r.string("name");
    at += " ('" + lname + "')";
    LayerReader named(obj, at);
    named.string("name");
    const std::string kind_name = named.string("kind");
    LayerKind kind = LayerKind::Input;
    if (!layer_kind_from_name(kind_name, kind)) {
      named.fail("kind", "'" + kind_name + "' unknown; known: " + layer_kind_names());
    }
    std::vector<int> inputs;
    if (kind != LayerKind::Input) {
      const json& ins = named.get("inputs");
      if (!ins.is_array() || ins.empty()) {
        named.fail("inputs", "must be a non-empty list of earlier layers' names");
      }
      for (const json& in : ins) {
        const int idx = in.is_string() ? g.find(in.get<std::string>()) : -1;
        if (idx < 0) named.fail("inputs", short_value(in) + " is not the name of an earlier layer");
        inputs.push_back(idx);
      }
    }
    Layer layer = read_layer(named, lname, kind);
    named.reject_unknown();
    try {
      g.add(std::move(layer), inputs);
    } catch (const InputError& e) {
      throw InputError(where + ": " + e.what());
    }
  }
  try {
    g.infer_shapes();
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.what());
  }
  return g;
}

// YAML -> JSON tree: plain scalars become booleans, integers or floats where
// they spell one; quoted scalars stay strings.
json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted
      if (s == "true") return true;
      if (s == "false") return false;
      std::int64_t i = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
      if (ec == std::errc() && p == s.data() + s.size()) return i;
      double d = 0;
      auto [pd, ecd] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (ecd == std::errc() && pd == s.data() + s.size()) return d;
      return s;
    }
  }
  return nullptr;
}

json layer_to_json(const Graph& g, int i) {
  const Layer& l = g.layer(i);
  json o;
  o["name"] = l.name;
  o["kind"] = std::string(layer_kind_name(l.kind));
  if (l.kind != LayerKind::Input) {
    json ins = json::array();
    for (int in : g.inputs(i)) ins.push_back(g.layer(in).name);
    o["inputs"] = ins;
  }
  auto kernel = [&]() -> json {
    if (l.kernel_h == l.kernel_w) return l.kernel_h;
    return json::array({l.kernel_h, l.kernel_w});
  };
  // stride, padding and dilation: the zoo's scalars where square and
  // symmetric, so graphs without per-axis windows write as before.
  auto window = [&] {
    const Layer::Window w = l.window();
    o["stride"] = w.stride_h == w.stride_w ? json(w.stride_h) : json::array({w.stride_h, w.stride_w});
    if (w.pad_top == w.pad_bottom && w.pad_left == w.pad_right)
      o["padding"] = w.pad_top == w.pad_left ? json(w.pad_top)
                                             : json::array({w.pad_top, w.pad_left});
    else
      o["padding"] = json::array({w.pad_top, w.pad_left, w.pad_bottom, w.pad_right});
    if (w.dilation_h != 1 || w.dilation_w != 1)
      o["dilation"] = w.dilation_h == w.dilation_w ? json(w.dilation_h)
                                                   : json::array({w.dilation_h, w.dilation_w});
  };
  // Per-layer widths only where set, so graphs without them read as before.
  auto widths = [&] {
    if (l.w_bits != 0) o["w_bits"] = l.w_bits;
    if (l.a_bits != 0) o["a_bits"] = l.a_bits;
  };
  switch (l.kind) {
    case LayerKind::Input:
      o["shape"] = l.out_shape.dims;
      if (l.input_grad) o["input_grad"] = true;
      break;
    case LayerKind::Conv2d:
      o["out_channels"] = l.out_features;
      o["kernel"] = kernel();
      window();
      o["groups"] = l.groups;
      o["bias"] = l.bias;
      widths();
      break;
    case LayerKind::Linear:
      o["out_features"] = l.out_features;
      o["bias"] = l.bias;
      widths();
      break;
    case LayerKind::Activation:
      o["function"] = l.activation;
      break;
    case LayerKind::Pool:
      o["mode"] = l.pool_max ? "max" : "avg";
      o["global"] = l.pool_global;
      if (!l.pool_global) {
        o["kernel"] = kernel();
        window();
      }
      break;
    case LayerKind::LstmCell:
      o["hidden"] = l.out_features;
      o["bias"] = l.bias;
      widths();
      break;
    case LayerKind::Attention:
      o["heads"] = l.heads;
      break;
    case LayerKind::Embedding:
      o["vocab"] = l.vocab;
      o["dim"] = l.out_features;
      break;
    case LayerKind::Concat:
      if (l.axis != 0) o["axis"] = l.axis;
      break;
    case LayerKind::Elementwise:
      o["function"] = l.activation;
      if (!l.operand.empty() || l.learnable) o["operand"] = l.operand;
      if (l.learnable) o["learnable"] = true;
      break;
    case LayerKind::Reduce:
      o["function"] = l.activation;
      o["axes"] = l.axes;
      o["keepdims"] = l.keepdims;
      break;
    case LayerKind::Reshape:
    case LayerKind::Copy:
      o["shape"] = l.target;
      break;
    case LayerKind::Transpose:
      o["perm"] = l.perm;
      break;
    case LayerKind::BatchNorm:
    case LayerKind::Add:
    case LayerKind::Flatten:
    case LayerKind::LayerNorm:
    case LayerKind::Softmax:
    case LayerKind::MatMul:
      break;
  }
  return o;
}

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n\"");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n\"");
  return std::string(s.substr(first, last - first + 1));
}

std::optional<std::int64_t> parse_int(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// The optional topology columns after Strides (SCALE-Sim users ask for
// per-layer precision: scalesim-project/SCALE-Sim#58).
enum class TopologyExtra : std::uint8_t { WBits, ABits, Groups };

const char* topology_extra_name(TopologyExtra e) {
  switch (e) {
    case TopologyExtra::WBits:
      return "W Bits";
    case TopologyExtra::ABits:
      return "A Bits";
    case TopologyExtra::Groups:
      return "Groups";
  }
  return "";
}

// Lower case, runs of blanks as one space: "w  BITS" names W Bits.
std::string column_key(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool blank = c == ' ' || c == '\t';
    if (blank && (out.empty() || out.back() == ' ')) continue;
    out += blank ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The header's columns after the first `fixed` (which are positional, as
// SCALE-Sim reads them): each must name one of the optional columns, once.
std::vector<TopologyExtra> topology_extras(const std::vector<std::string>& header,
                                           std::size_t fixed, const std::string& at) {
  std::vector<TopologyExtra> extras;
  for (std::size_t c = fixed; c < header.size(); ++c) {
    std::optional<TopologyExtra> found;
    for (auto e : {TopologyExtra::WBits, TopologyExtra::ABits, TopologyExtra::Groups})
      if (column_key(header[c]) == column_key(topology_extra_name(e))) found = e;
    if (!found) {
      throw InputError(at + ": header column " + std::to_string(c + 1) + " = '" + header[c] +
                       "': unknown; after Strides a topology may have W Bits, A Bits, Groups "
                       "(any case, any order)");
    }
    if (std::find(extras.begin(), extras.end(), *found) != extras.end()) {
      throw InputError(at + ": header column " + std::to_string(c + 1) + " = '" + header[c] +
                       "': named twice; each of W Bits, A Bits, Groups at most once");
    }
    extras.push_back(*found);
  }
  return extras;
}

}  // namespace

Graph graph_from_json(const std::string& json_text, const std::string& where) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::out_of_range& e) {  // a number beyond double, e.g. 1e999
    throw InputError(where + ": invalid JSON: " + e.what());
  } catch (const json::parse_error& e) {
    // Byte offset -> line number for the message.
    const std::size_t byte = std::min<std::size_t>(e.byte, json_text.size());
    const auto line =
        1 + std::count(json_text.begin(), json_text.begin() + static_cast<long>(byte), '\n');
    throw InputError(where + ":" + std::to_string(line) + ": invalid JSON: " + e.what());
  }
  return graph_from_tree(root, where);
}

Graph graph_from_yaml(const std::string& yaml_text, const std::string& where) {
  YAML::Node node;
  json tree;
  try {
    node = YAML::Load(yaml_text);
    tree = yaml_to_json(node);  // throws on a key that is not a plain scalar
  } catch (const YAML::Exception& e) {
    throw InputError(where + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  // yaml-cpp passes any bytes (and \x escapes) through; JSON strings, and so
  // every message and file written from the graph, must be UTF-8.
  try {
    (void)tree.dump();
  } catch (const json::type_error& e) {
    const std::string what = e.what();
    throw InputError(where + ": a string is not UTF-8 text: " + what.substr(what.find(']') + 2));
  }
  return graph_from_tree(tree, where);
}

Graph read_graph_file(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".json") return graph_from_json(read_text(path), path);
  if (ext == ".yaml" || ext == ".yml") return graph_from_yaml(read_text(path), path);
  throw InputError(path + ": unknown graph file type '" + ext + "': use .json, .yaml or .yml");
}

std::string graph_to_json(const Graph& graph) {
  json root;
  root["format"] = kFormatName;
  root["version"] = kFormatVersion;
  root["name"] = graph.name();
  json layers = json::array();
  for (int i = 0; i < graph.size(); ++i) layers.push_back(layer_to_json(graph, i));
  root["layers"] = layers;
  return root.dump(1) + "\n";
}

namespace {

// One JSON value as YAML (flow style inside a layer): strings double-quoted,
// so that a name such as "1" or "true" reads back as a string.
void emit_yaml(YAML::Emitter& out, const json& v) {
  if (v.is_object()) {
    out << YAML::BeginMap;
    for (auto it = v.begin(); it != v.end(); ++it) {
      out << YAML::Key << it.key() << YAML::Value;
      emit_yaml(out, it.value());
    }
    out << YAML::EndMap;
  } else if (v.is_array()) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const json& x : v) emit_yaml(out, x);
    out << YAML::EndSeq;
  } else if (v.is_string()) {
    out << YAML::DoubleQuoted << v.get<std::string>();
  } else if (v.is_boolean()) {
    out << YAML::TrueFalseBool << v.get<bool>();
  } else if (v.is_number_integer()) {
    out << v.get<std::int64_t>();
  } else {
    out << v.dump();
  }
}

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

}  // namespace

std::string graph_to_yaml(const Graph& graph) {
  const json root = json::parse(graph_to_json(graph));
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const char* key : {"format", "version", "name"}) {
    out << YAML::Key << key << YAML::Value;
    emit_yaml(out, root[key]);
  }
  out << YAML::Key << "layers" << YAML::Value << YAML::BeginSeq;
  for (const json& layer : root["layers"]) {
    out << YAML::Flow;
    emit_yaml(out, layer);
  }
  out << YAML::EndSeq << YAML::EndMap;
  if (!out.good()) throw InternalError("graph_to_yaml: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

void write_graph_file(const std::string& path, const Graph& graph) {
  const std::string ext = lower_extension(path);
  write_file_atomic(path, ext == ".yaml" || ext == ".yml" ? graph_to_yaml(graph)
                                                          : graph_to_json(graph));
}

Graph read_topology_csv(const std::string& path) {
  static const char* const kColumns[] = {"Layer name",    "IFMAP Height", "IFMAP Width",
                                         "Filter Height", "Filter Width", "Channels",
                                         "Num Filter",    "Strides"};
  constexpr std::size_t kFixed = 8;
  std::istringstream text(read_text(path));
  Graph g(std::filesystem::path(path).stem().string());
  // The optional columns the header names after the eight positional ones, in
  // file order (docs/models.md, "SCALE-Sim topology CSV").
  std::vector<TopologyExtra> extras;
  std::string line;
  int line_no = 0;
  bool seen_first = false;
  while (std::getline(text, line)) {
    ++line_no;
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
      const auto comma = line.find(',', start);
      fields.push_back(trim(std::string_view(line).substr(start, comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    while (!fields.empty() && fields.back().empty()) fields.pop_back();  // trailing comma
    if (fields.empty()) continue;
    const std::string at = path + ":" + std::to_string(line_no);
    if (!seen_first) {
      seen_first = true;
      if (fields.size() > 1 && !parse_int(fields[1])) {  // the header row
        extras = topology_extras(fields, kFixed, at);
        continue;
      }
    }
    if (fields.size() < kFixed || fields.size() > kFixed + extras.size()) {
      std::string has =
          "8: Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
          "Channels, Num Filter, Strides";
      if (!extras.empty()) {
        has = "8 to " + std::to_string(kFixed + extras.size()) + has.substr(1);
        for (const auto& e : extras) has += std::string(", ") + topology_extra_name(e);
      } else if (fields.size() > kFixed) {
        has += " (W Bits, A Bits and Groups may follow when the header names them)";
      }
      throw InputError(at + ": " + std::to_string(fields.size()) + " columns; a topology row has " +
                       has);
    }
    if (fields[0].empty()) throw InputError(at + ": column 'Layer name' is empty");
    std::int64_t v[kFixed] = {};
    for (std::size_t c = 1; c < kFixed; ++c) {
      const auto value = parse_int(fields[c]);
      if (!value || *value < 1 || *value > kMaxValue) {
        throw InputError(
            at + ": column '" + kColumns[c] + "' = '" + fields[c] + "': must be an integer >= 1" +
            (value && *value > kMaxValue ? " and <= " + std::to_string(kMaxValue) : std::string()));
      }
      v[c] = *value;
    }
    Layer conv = make_layer(fields[0], LayerKind::Conv2d);
    conv.kernel_h = v[3];
    conv.kernel_w = v[4];
    conv.out_features = v[6];
    conv.stride = v[7];
    // The optional columns; an empty cell (or one a short row leaves out) is
    // not given: the run's precision, one group.
    for (std::size_t c = kFixed; c < fields.size(); ++c) {
      const TopologyExtra e = extras[c - kFixed];
      const std::string& cell = fields[c];
      if (cell.empty()) continue;
      const auto value = parse_int(cell);
      const std::string bad = at + ": layer '" + fields[0] + "': column '" +
                              topology_extra_name(e) + "' = '" + cell + "': must be ";
      if (e == TopologyExtra::Groups) {
        if (!value || *value < 1 || *value > kMaxValue || v[5] % *value != 0 ||
            v[6] % *value != 0) {
          throw InputError(bad + "an integer 1.." + std::to_string(kMaxValue) +
                           " that divides Channels (" + std::to_string(v[5]) +
                           ") and Num Filter (" + std::to_string(v[6]) + ")");
        }
        conv.groups = *value;
      } else {
        if (!value || *value < 1 || *value > kMaxBits)
          throw InputError(bad + "an integer 1.." + std::to_string(kMaxBits) +
                           " (bits; an empty cell is the run's precision)");
        (e == TopologyExtra::WBits ? conv.w_bits : conv.a_bits) = static_cast<int>(*value);
      }
    }
    Layer in = make_layer(fields[0] + ".ifmap", LayerKind::Input);
    in.out_shape.dims = {v[5], v[1], v[2]};
    // Rows after the first are layers deep in a network: training computes
    // the gradient with respect to their input.
    in.input_grad = g.size() > 0;
    try {
      g.add(std::move(conv), {g.add(std::move(in))});
      g.infer_shapes();
    } catch (const InputError& e) {
      throw InputError(at + ": " + e.what());
    }
  }
  if (g.size() == 0) throw InputError(path + ": no layer rows");
  return g;
}

}  // namespace lpsim
