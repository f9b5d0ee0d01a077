// `lpsim bitops`: training BitOPs of a trace, per phase and per epoch.
#include <iostream>

#include <fmt/format.h>

#include "traces/bitops.h"
#include "tools/cli_common.h"
#include "tools/commands.h"

namespace lpsim::cli {

nlohmann::json bitops_json(const BitopsReport& r) {
  nlohmann::json phases = nlohmann::json::object();
  for (int p = 0; p < kNumPhases; ++p) {
    auto name = std::string(phase_name(static_cast<Phase>(p)));
    phases[name] = {{"gbitops", r.bitops_by_phase[p] / 1e9}, {"macs", r.macs_by_phase[p]}};
  }
  nlohmann::json epochs = nlohmann::json::array();
  for (std::size_t e = 0; e < r.bitops_by_epoch.size(); ++e)
    epochs.push_back({{"epoch", e}, {"gbitops", r.bitops_by_epoch[e] / 1e9},
                      {"macs", r.macs_by_epoch[e]}});
  nlohmann::json shares = nlohmann::json::object();
  for (const auto& [label, n] : r.iterations_by_precision)
    shares[label] = static_cast<double>(n) / static_cast<double>(r.total_iterations);
  return {{"total_gbitops", r.total_bitops / 1e9}, {"total_macs", r.total_macs},
          {"iterations", r.total_iterations},      {"images", r.total_images},
          {"phases", phases},                      {"epochs", epochs},
          {"precision_share", shares}};
}

Action add_bitops(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "bitops",
      "Count the training BitOPs and MACs of a trace (a MAC costs the product of its operand "
      "widths; docs/bitops.md).\nExample: lpsim bitops r74.lpt --json");
  auto path = std::make_shared<std::string>();
  auto count = std::make_shared<std::string>("gemm");
  auto json = std::make_shared<bool>(false);
  auto quiet = std::make_shared<bool>(false);
  sub->add_option("trace", *path, "Trace file (.lpt / .lpt.gz)")->required();
  sub->add_option("--count", *count,
                  "Counting convention: gemm (every GEMM op of the step, as the simulator "
                  "charges) or cpt (the CPT paper's profiler convention)")
      ->default_val("gemm");
  sub->add_flag("--json", *json, "Print a JSON object");
  sub->add_flag("-q,--quiet", *quiet, "Print only the total GBitOPs");
  return [path, count, json, quiet]() {
    Trace trace = read_trace(*path);
    Graph graph = trace_graph(trace);
    BitopsReport r = count_bitops(trace, graph, parse_count_convention(*count));
    if (*json) {
      auto j = bitops_json(r);
      j["trace"] = *path;
      j["count"] = *count;
      print_json(j);
      return 0;
    }
    if (*quiet) {
      std::cout << sig(r.total_bitops / 1e9, 6) << "\n";
      return 0;
    }
    std::cout << fmt::format("{}: {} / {}, {} epochs, batch {}, {} iterations, schedule {}\n",
                             *path, trace.header.model, trace.header.dataset,
                             trace.header.epochs, trace.header.batch, r.total_iterations,
                             trace.header.schedule);
    std::cout << fmt::format("total: {} GBitOPs, {} MACs (count convention: {})\n\n",
                             sig(r.total_bitops / 1e9), sig(r.total_macs), *count);
    Table phases({"phase", "GBitOPs", "MACs", "share"});
    for (int p = 0; p < kNumPhases; ++p)
      phases.add({std::string(phase_name(static_cast<Phase>(p))),
                  sig(r.bitops_by_phase[p] / 1e9), sig(r.macs_by_phase[p]),
                  fmt::format("{:.1f}%", 100.0 * r.bitops_by_phase[p] / r.total_bitops)});
    std::cout << phases.str() << "\n";
    Table shares({"precision", "iterations", "share"});
    for (const auto& [label, n] : r.iterations_by_precision)
      shares.add({label, std::to_string(n),
                  fmt::format("{:.2f}%", 100.0 * static_cast<double>(n) /
                                             static_cast<double>(r.total_iterations))});
    std::cout << shares.str() << "\n";
    // A per-epoch summary: first, last, min and max epoch.
    if (!r.bitops_by_epoch.empty()) {
      std::size_t lo = 0, hi = 0;
      for (std::size_t e = 0; e < r.bitops_by_epoch.size(); ++e) {
        if (r.bitops_by_epoch[e] < r.bitops_by_epoch[lo]) lo = e;
        if (r.bitops_by_epoch[e] > r.bitops_by_epoch[hi]) hi = e;
      }
      Table epochs({"epoch", "GBitOPs"});
      epochs.add({"first (0)", sig(r.bitops_by_epoch.front() / 1e9)});
      epochs.add({fmt::format("min ({})", lo), sig(r.bitops_by_epoch[lo] / 1e9)});
      epochs.add({fmt::format("max ({})", hi), sig(r.bitops_by_epoch[hi] / 1e9)});
      epochs.add({fmt::format("last ({})", r.bitops_by_epoch.size() - 1),
                  sig(r.bitops_by_epoch.back() / 1e9)});
      std::cout << epochs.str();
    }
    return 0;
  };
}

}  // namespace lpsim::cli
