// Tests for core/config_check.h: one line naming the file, the key path and
// the allowed range, for architecture files and design spaces alike.
#include "core/config_check.h"

#include <catch2/catch.hpp>

#include "core/error.h"

using namespace lpsim;

TEST_CASE("the checker's messages name the file, the key path and the allowed range") {
  const Checker c("a.yaml");
  const YAML::Node n = YAML::Load("{rows: -3, ok: true, name: '', x: .nan}");
  CHECK_THROWS_WITH(c.opt_int(n, "rows", "array", 1, 8),
                    "a.yaml: array.rows = -3: must be an integer 1..8");
  CHECK_THROWS_WITH(c.req_double(n, "missing", "", 0, true, 10),
                    "a.yaml: missing = (missing): required: a number > 0 and <= 10");
  CHECK(c.opt_bool(n, "ok", "") == true);
  CHECK_THROWS_WITH(c.opt_string(n, "name", "", "must be a non-empty name"),
                    "a.yaml: name = '': must be a non-empty name");
  CHECK_THROWS_WITH(c.number(n["x"], "x", "must be a number"),
                    "a.yaml: x = .nan: must be a number");
  CHECK_THROWS_WITH(c.req_choice(n, "rows", "array", {"a", "b"}),
                    "a.yaml: array.rows = -3: must be one of a | b");
}

TEST_CASE("the checker refuses unknown and repeated keys, and says what a non-mapping should be") {
  const Checker c("s.yaml");
  CHECK_THROWS_WITH(c.check_map(YAML::Load("{rows: 1, ok: true}"), "array", {"rows"}),
                    "s.yaml: array.ok = true: unknown key; allowed here: rows");
  CHECK_THROWS_WITH(c.check_map(YAML::Load("{a: 1, a: 2}"), "", {}),
                    "s.yaml: a = 2: key given twice; give it once");
  CHECK_NOTHROW(c.check_map(YAML::Load("{anything: 1}"), "axes", {}));  // empty: any key
  CHECK_THROWS_WITH(c.check_map(YAML::Load("[1, 2]"), "", {"a", "b"}),
                    "s.yaml: (top level) = [1, 2]: must be a mapping with keys a, b");
  CHECK_THROWS_WITH(c.check_map(YAML::Load("3"), "axes", {}, "a mapping of axes"),
                    "s.yaml: axes = 3: must be a mapping of axes");
}

TEST_CASE("a long value is cut to 60 characters in a message, not in its text") {
  const YAML::Node n = YAML::Load("[" + std::string(100, '1') + "]");
  CHECK(show(n).size() == 102);
  CHECK(show_short(n).size() == 60);
  CHECK(show_short(n).substr(57) == "...");
}
