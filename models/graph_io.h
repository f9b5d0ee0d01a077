// Network description files: lpsim's graph format (JSON or YAML, read and
// written) and SCALE-Sim topology CSVs (read). Formats: docs/models.md.
#pragma once

#include <string>

#include "models/graph.h"

namespace lpsim {

// Reads a graph file: JSON for *.json, YAML for *.yaml / *.yml. Shapes are
// inferred. InputError names the file, the layer and the key on any problem.
Graph read_graph_file(const std::string& path);

// Parses graph-format JSON text; `where` (a file name or a label) starts every
// error message.
Graph graph_from_json(const std::string& json_text, const std::string& where);

// Same for YAML text (same keys and values as the JSON form).
Graph graph_from_yaml(const std::string& yaml_text, const std::string& where);

// The graph in the JSON graph format; graph_from_json reads it back to the
// same layers, parameters and shapes.
std::string graph_to_json(const Graph& graph);

// The same in YAML: one flow-style line per layer, strings quoted;
// graph_from_yaml reads it back to the same graph.
std::string graph_to_yaml(const Graph& graph);

// Writes the graph to `path`, whole or not at all: YAML for *.yaml / *.yml,
// JSON otherwise.
void write_graph_file(const std::string& path, const Graph& graph);

// SCALE-Sim topology CSV: a header row, then one row per layer:
//   Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
//   Channels, Num Filter, Strides[, optional columns][,]
// The eight columns are positional. After them the header may name optional
// columns, matched case-insensitively, in any order: `W Bits` and `A Bits`
// (1..64: Layer::w_bits, a_bits) and `Groups` (Layer::groups; divides
// Channels and Num Filter); an empty cell is "not given".
// IFMAP sizes already include padding (padding = 0). SCALE-Sim treats rows as
// independent layers, so each row becomes a conv layer "<name>" fed by its own
// input layer "<name>.ifmap". The graph is named after the file's stem.
Graph read_topology_csv(const std::string& path);

}  // namespace lpsim
