// Text and CSV forms of a simulation's report.
#include "study/sim_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "models/training_step.h"
#include "study/format.h"

namespace lpsim::study {

namespace {

std::string share(double part, double whole) {
  return whole > 0 ? fmt::format("{:.1f}%", 100 * part / whole) : std::string("-");
}

double sum_bits(const std::vector<double>& per_buffer, std::size_t buffers) {
  double s = 0;
  for (std::size_t b = 0; b < buffers; ++b) s += b < per_buffer.size() ? per_buffer[b] : 0;
  return s;
}

bool has_work(const Totals& t) { return t.cycles != 0 || t.macs != 0 || t.vector_ops != 0; }

// A row of the phase / engine table.
std::vector<std::string> totals_row(const std::string& name, const SimReport& r, const Totals& t) {
  const double cycles = r.total.cycles, energy = r.energy_j(), e = t.energy_pj() * 1e-12;
  return {name,
          sig(t.bitops * 1e-9),
          sig(t.cycles),
          share(t.cycles, cycles),
          share(t.memory_bound_cycles, t.cycles),
          joules(e),
          share(e, energy),
          fmt::format("{:.1f}%", 100 * t.utilization())};
}

}  // namespace

std::string simulation_summary(const SimReport& r, const std::string& what,
                               const ArchConfig& arch) {
  const Totals& t = r.total;
  const double energy = r.energy_j(), cycles = t.cycles;
  std::string out = fmt::format("{} on design point '{}' ({})\n", what, arch.name, arch.source);
  out += fmt::format(
      "  BitOPs   {} G\n  energy   {}\n  latency  {}  ({} cycles at {} GHz, {} timing)\n\n",
      sig(t.bitops * 1e-9), joules(energy), seconds(r.latency_s()), sig(cycles), arch.clock_ghz,
      timing_name(r.timing));
  // Dynamic components first, then static ones (docs/energy.md), each kind
  // with its subtotal; components by name.
  Table components({"component", "kind", "energy", "share"});
  const auto by_component = energy_j_by_component(r, t);
  for (const bool want_static : {false, true}) {
    for (const auto& [name, joules_of] : by_component)
      if (name.starts_with("static:") == want_static)
        components.add({name, want_static ? "static" : "dynamic", joules(joules_of),
                        share(joules_of, energy)});
    const double sub = want_static ? r.energy_static_j() : r.energy_dynamic_j();
    components.add(
        {want_static ? "(all static)" : "(all dynamic)", "", joules(sub), share(sub, energy)});
  }
  out += components.str() + "\n";
  // Phases by name, then the two engines.
  std::map<std::string, const Totals*> phases;
  for (int p = 0; p < kNumPhases; ++p)
    phases[std::string(phase_name(static_cast<Phase>(p)))] = &r.by_phase[std::size_t(p)];
  const std::vector<std::string> header{"GBitOPs", "cycles",       "time share", "memory-bound",
                                        "energy",  "energy share", "utilization"};
  auto table_of = [&](const std::string& key) {
    std::vector<std::string> h{key};
    h.insert(h.end(), header.begin(), header.end());
    return Table(h);
  };
  Table phase = table_of("phase");
  for (const auto& [name, totals] : phases) phase.add(totals_row(name, r, *totals));
  out += phase.str() + "\n";
  Table engine = table_of("engine");
  engine.add(totals_row("mac_array", r, r.by_engine[0]));
  engine.add(totals_row("vector", r, r.by_engine[1]));
  out += engine.str() + "\n";
  // Where the time went: each module's busy cycles and the engines' stalls
  // by cause (docs/simulator.md, "Stalls"), as shares of the run's cycles;
  // modules and causes by name.
  Table time({"module / stall", "cycles", "of the run"});
  for (const auto& [name, c] : std::map<std::string, double>{{"dram", t.dram_busy_cycles},
                                                             {"mac_array", t.mac_array_busy_cycles},
                                                             {"vector_unit", t.vector_busy_cycles}})
    time.add({"busy: " + name, sig(c), share(c, cycles)});
  for (const auto& [name, c] :
       std::map<std::string, double>{{"accumulator", t.stall_accumulator_cycles},
                                     {"dram", t.stall_dram_cycles},
                                     {"mac_array", t.stall_mac_array_cycles},
                                     {"sram", t.stall_sram_cycles},
                                     {"vector_unit", t.stall_vector_cycles}})
    time.add({"stalled on: " + name, sig(c), share(c, cycles)});
  out += time.str() + "\n";
  return out;
}

std::string layers_table(const SimReport& r) {
  Table rows({"layer", "cycles", "utilization", "SRAM read bits", "SRAM write bits",
              "DRAM read bits", "DRAM write bits", "energy"});
  for (const auto& l : r.layers) {
    const Totals& t = l.totals;
    rows.add({l.name, sig(t.cycles), fmt::format("{:.1f}%", 100 * t.utilization()),
              sig(sum_bits(t.sram_read_bits, r.buffers.size())),
              sig(sum_bits(t.sram_write_bits, r.buffers.size())), sig(t.dram_read_bits),
              sig(t.dram_write_bits), joules(t.energy_pj() * 1e-12)});
  }
  return rows.str();
}

std::string layers_csv(const SimReport& r) {
  std::string out =
      "layer,kind,phase,cycles,latency_s,energy_pj,energy_static_pj,energy_dynamic_pj";
  for (const auto& c : r.components) out += "," + c + "_energy_pj";
  out +=
      ",macs,bitops,vector_ops,utilization,dram_read_bytes,dram_write_bytes,dram_bytes,"
      "sram_read_bytes,sram_write_bytes\n";
  auto row = [&](const LayerReport& l, const std::string& phase, const Totals& t) {
    const double static_pj = energy_static_pj(r, t);
    std::string line = fmt::format("{},{},{},{},{},{},{},{}", csv_field(l.name), l.kind, phase, t.cycles,
                                   latency_s(r, t), t.energy_pj(), static_pj,
                                   t.energy_pj() - static_pj);
    for (std::size_t c = 0; c < r.components.size(); ++c)
      line += fmt::format(",{}", c < t.energy_pj_by_component.size() ? t.energy_pj_by_component[c]
                                                                      : 0.0);
    line += fmt::format(",{},{},{},{},{},{},{},{},{}\n", t.macs, t.bitops, t.vector_ops,
                        t.utilization(), t.dram_read_bits / 8, t.dram_write_bits / 8,
                        (t.dram_read_bits + t.dram_write_bits) / 8,
                        sum_bits(t.sram_read_bits, r.buffers.size()) / 8,
                        sum_bits(t.sram_write_bits, r.buffers.size()) / 8);
    out += line;
  };
  for (const auto& l : r.layers) {
    row(l, "all", l.totals);
    for (int p = 0; p < kNumPhases; ++p)
      if (has_work(l.by_phase[std::size_t(p)]))
        row(l, std::string(phase_name(static_cast<Phase>(p))), l.by_phase[std::size_t(p)]);
  }
  return out;
}

SimReport without_input_layers(SimReport report) {
  std::erase_if(report.layers, [](const LayerReport& l) { return l.kind == "input"; });
  return report;
}

}  // namespace lpsim::study
