// Checking YAML configuration files (architecture files, design spaces): every
// failure is one InputError line "<file>: <key.path> = <value>: <allowed range>".
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/precision.h"

namespace lpsim {

std::string join(const std::vector<std::string>& v, const char* sep = ", ");
std::string config_number(double v);             // "{:g}", as range messages print numbers
std::string show(const YAML::Node& node);        // flow text of a node; "(missing)", "''"
std::string show_short(const YAML::Node& node);  // show, cut to 60 characters for a message
inline bool given(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

class Checker {
 public:
  // `dir`: the folder that paths written in the file are relative to.
  explicit Checker(std::string file, std::string dir = ".")
      : file_(std::move(file)), dir_(std::move(dir)) {}
  const std::string& file() const { return file_; }
  const std::string& dir() const { return dir_; }

  [[noreturn]] void fail(const std::string& path, const std::string& value,
                         const std::string& range) const;
  [[noreturn]] void fail(const std::string& path, const YAML::Node& node,
                         const std::string& range) const;
  // A mapping whose keys are all in `allowed` (empty: any key), each given
  // once; not a mapping: "must be <what>" (default "a mapping with keys ...").
  void check_map(const YAML::Node& node, const std::string& path,
                 const std::vector<std::string>& allowed, const std::string& what = "") const;
  static std::string child(const std::string& path, const std::string& key);

  // A finite number, or `range` as the error.
  double number(const YAML::Node& node, const std::string& where, const std::string& range) const;
  // Optional keys read as nullopt when absent or null; required ones say "required: ...".
  std::optional<double> opt_double(const YAML::Node& parent, const std::string& key,
                                   const std::string& path, double lo, bool lo_open,
                                   double hi) const;
  double req_double(const YAML::Node& parent, const std::string& key, const std::string& path,
                    double lo, bool lo_open, double hi) const;
  std::optional<std::int64_t> opt_int(const YAML::Node& parent, const std::string& key,
                                      const std::string& path, std::int64_t lo,
                                      std::int64_t hi) const;
  std::int64_t req_int(const YAML::Node& parent, const std::string& key, const std::string& path,
                       std::int64_t lo, std::int64_t hi) const;
  std::optional<std::string> opt_string(const YAML::Node& parent, const std::string& key,
                                        const std::string& path, const std::string& range) const;
  // One of `choices`.
  std::string req_choice(const YAML::Node& parent, const std::string& key, const std::string& path,
                         const std::vector<std::string>& choices) const;
  std::optional<bool> opt_bool(const YAML::Node& parent, const std::string& key,
                               const std::string& path) const;
  Format format(const YAML::Node& node, const std::string& where) const;

 private:
  std::string file_, dir_;
};

}  // namespace lpsim
