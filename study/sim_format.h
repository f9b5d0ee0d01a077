// Formatters of a simulation's report (sim/replay.h SimReport), one place
// each: the text summary `lpsim simulate` prints, the per-layer table, and the
// per-layer CSV. The JSON form is sim/replay.h to_json.
#pragma once

#include <string>

#include "sim/arch.h"
#include "sim/replay.h"

namespace lpsim::study {

// The headline (BitOPs, energy, latency), then energy by component (dynamic,
// then static, each with its subtotal), time and energy by phase and by
// engine, and busy and stall cycles per module. `what` names the workload.
std::string simulation_summary(const SimReport& report, const std::string& what,
                               const ArchConfig& arch);

// One line per layer: cycles, utilization, SRAM and DRAM bits, energy.
std::string layers_table(const SimReport& report);

// Per-layer results as CSV (docs/simulator.md, "Per-layer results"): one row
// per layer for the whole run (phase "all"), then one per phase the layer has
// work in; units in the column names.
std::string layers_csv(const SimReport& report);

// The report without the network's input layers (they stand for data, not
// work), as a topology's results list them.
SimReport without_input_layers(SimReport report);

}  // namespace lpsim::study
