// The report's plots: for each one a gnuplot script (.gp) and its data (.dat),
// written into the report so that `cd DIR/plots && gnuplot X.gp` redraws X.
// Each script draws its plot twice: SVG (for index.html) and PNG.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "core/atomic_file.h"
#include "models/training_step.h"
#include "study/report.h"

namespace lpsim::study::detail {

namespace {

// A scale for an axis: the SI prefix that puts `max` in [1, 1000).
struct Unit {
  double divisor = 1;
  std::string label;
};

Unit unit_for(double max, const std::string& unit) {
  if (unit == "s" && max >= 3600) return {3600, "h"};
  struct P {
    double scale;
    const char* prefix;
  };
  static const P prefixes[] = {{1e9, "G"},  {1e6, "M"},  {1e3, "k"},  {1, ""},
                               {1e-3, "m"}, {1e-6, "u"}, {1e-9, "n"}, {1e-12, "p"}};
  for (const auto& p : prefixes)
    if (max >= p.scale) return {p.scale, std::string(p.prefix) + unit};
  return {1, unit};
}

// A gnuplot string literal in single quotes ('' is a quote inside).
std::string gq(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("''") : std::string(1, ch);
  return out + "'";
}

// A quoted string column in a gnuplot data file.
std::string dq(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? '\'' : ch;
  return out + "\"";
}

std::string stem_of(const std::string& text) {
  std::string out;
  for (char ch : text) out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return out;
}

// Wraps a plot body: the SVG, then the PNG (pngcairo where this gnuplot has
// it, libgd's png otherwise), at the same size.
std::string script(const std::string& stem, int width, int height, const std::string& body) {
  return fmt::format(
      "# Drawn by lpsim compare --report; redraw with: gnuplot {0}.gp\n"
      "reset session\n"
      "set terminal svg size {1},{2} font 'Sans,11'\n"
      "set output '{0}.svg'\n"
      "set termoption noenhanced\n"
      "{3}"
      "unset output\n"
      "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {{\n"
      "  set terminal pngcairo size {1},{2} font 'Sans,10' background rgb 'white'\n"
      "}} else {{\n"
      "  set terminal png size {1},{2} background rgb 'white'\n"
      "}}\n"
      "set output '{0}.png'\n"
      "reset\n"
      "set termoption noenhanced\n"
      "{3}"
      "unset output\n",
      stem, width, height, body);
}

// Writes <stem>.gp: a stacked histogram (`style`: gnuplot's histogram style)
// of `plot`, one bar per data line, names on rotated x tics.
void write_histogram(const std::string& plots_dir, const std::string& stem,
                     const std::string& title, const std::string& ylabel, const std::string& style,
                     const std::string& plot) {
  const std::string body = fmt::format(
      "set title {}\n"
      "set ylabel {}\n"
      "set style data histograms\n"
      "set style histogram {}\n"
      "set style fill solid 0.85 border -1\n"
      "set boxwidth 0.75\n"
      "set key outside right top\n"
      "set xtics rotate by -30 nomirror\n"
      "set grid ytics\n"
      "set yrange [0:*]\n"
      "set bmargin 8\n"
      "{}\n",
      gq(title), gq(ylabel), style, plot);
  write_file_atomic(plots_dir + "/" + stem + ".gp", script(stem, 1000, 560, body));
}

struct Group {
  std::string model, dataset;
  bool trained = false;
  std::vector<std::size_t> runs;
  std::string label() const {
    return fmt::format("{}/{} ({})", model, dataset, trained ? "trained" : "synthesized");
  }
  std::string stem() const { return stem_of(model + "_" + dataset); }
};

std::vector<Group> groups_of(const Comparison& c) {
  std::vector<Group> out;
  for (std::size_t i = 0; i < c.runs.size(); ++i) {
    const auto& r = c.runs[i];
    auto it = std::find_if(out.begin(), out.end(), [&](const Group& g) {
      return g.model == r.model && g.dataset == r.dataset && g.trained == r.trained;
    });
    if (it == out.end()) {
      out.push_back({r.model, r.dataset, r.trained, {}});
      it = std::prev(out.end());
    }
    it->runs.push_back(i);
  }
  return out;
}

std::vector<std::string> archs_of(const Comparison& c) {
  std::vector<std::string> out;
  for (const auto& row : c.rows)
    if (std::find(out.begin(), out.end(), row.arch) == out.end()) out.push_back(row.arch);
  return out;
}

const CompareRow* row_for(const Comparison& c, std::size_t run, const std::string& arch) {
  for (const auto& row : c.rows)
    if (row.run == run && row.arch == arch) return &row;
  return nullptr;
}

// Stacked bars, clustered by design point: one bar per run, one stack layer
// per key. `values(row)` gives each key's value in base units (J or s).
Plot stacked(const Comparison& c, const Group& g, const std::string& plots_dir,
             const std::string& what, const std::string& stem, const std::string& base_unit,
             const std::vector<std::string>& keys,
             const std::function<std::map<std::string, double>(const CompareRow&)>& values) {
  const auto archs = archs_of(c);
  double max_total = 0;
  for (const auto& a : archs)
    for (std::size_t r : g.runs)
      if (const CompareRow* row = row_for(c, r, a); row && row->sim) {
        double total = 0;
        for (const auto& [k, v] : values(*row)) total += v;
        max_total = std::max(max_total, total);
      }
  const Unit unit = unit_for(max_total, base_unit);
  std::string dat = fmt::format("# {} of {}, in {}; one block per design point\n# schedule", what,
                                g.label(), unit.label);
  for (const auto& k : keys) dat += " " + k;
  dat += "\n";
  for (const auto& a : archs) {
    dat += fmt::format("# design point {}\n", a);
    for (std::size_t r : g.runs) {
      const CompareRow* row = row_for(c, r, a);
      const bool ok = row && row->sim;
      dat += dq(c.runs[r].schedule + (ok ? "" : " (n/a)"));
      const auto v = ok ? values(*row) : std::map<std::string, double>{};
      for (const auto& k : keys) {
        auto it = v.find(k);
        dat += fmt::format(" {:.9g}", it == v.end() ? 0.0 : it->second / unit.divisor);
      }
      dat += "\n";
    }
    dat += "\n\n";
  }
  write_file_atomic(plots_dir + "/" + stem + ".dat", dat);

  std::string plot = "plot ";
  for (std::size_t a = 0; a < archs.size(); ++a) {
    plot += fmt::format("{}newhistogram {}", a ? ", \\\n     " : "", gq(archs[a]));
    for (std::size_t k = 0; k < keys.size(); ++k)
      plot +=
          fmt::format(", \\\n       {} index {} using {}{} {} lc {}",
                      a == 0 && k == 0 ? gq(stem + ".dat") : "''", a, k + 2,
                      k == 0 ? ":xtic(1)" : "", a == 0 ? "title " + gq(keys[k]) : "notitle", k + 1);
  }
  const std::string title = fmt::format("{}: {}", what, g.label());
  write_histogram(plots_dir, stem, title, fmt::format("{} ({})", what, unit.label),
                  "rowstacked title offset 0,-1", plot);
  return {stem, title, ""};
}

// Stacked bars: the kTopLayers layers of one row with the most energy, each
// split by component group, costliest first.
constexpr std::size_t kTopLayers = 12;

Plot top_layers(const Comparison& c, const Group& g, const CompareRow& row,
                const std::string& plots_dir) {
  const SimReport& r = *row.sim;
  std::vector<const LayerReport*> layers;
  for (const auto& l : r.layers)
    if (l.kind != "input") layers.push_back(&l);
  std::stable_sort(layers.begin(), layers.end(), [](const LayerReport* x, const LayerReport* y) {
    return x->totals.energy_pj() > y->totals.energy_pj();
  });
  if (layers.size() > kTopLayers) layers.resize(kTopLayers);
  std::vector<std::string> groups;
  for (const auto& name : r.components)
    if (std::find(groups.begin(), groups.end(), component_group(name)) == groups.end())
      groups.push_back(component_group(name));
  const Unit unit = unit_for(layers.empty() ? 0.0 : layers.front()->totals.energy_pj() * 1e-12, "J");
  const std::string& schedule = c.runs[row.run].schedule;
  std::string dat = fmt::format(
      "# Top {} layers by energy of {} under {} on {}, in {}; layer then each component group\n"
      "# layer",
      layers.size(), g.label(), schedule, row.arch, unit.label);
  for (const auto& k : groups) dat += " " + dq(k);
  dat += "\n";
  for (const LayerReport* l : layers) {
    std::map<std::string, double> by_group;
    for (const auto& [name, joules] : energy_j_by_component(r, l->totals))
      by_group[component_group(name)] += joules;
    dat += dq(l->name);
    for (const auto& k : groups) dat += fmt::format(" {:.9g}", by_group[k] / unit.divisor);
    dat += "\n";
  }
  const std::string stem = "layers_" + g.stem() + "_" + stem_of(row.arch);
  write_file_atomic(plots_dir + "/" + stem + ".dat", dat);
  std::string plot = "plot ";
  for (std::size_t k = 0; k < groups.size(); ++k)
    plot += fmt::format("{}{} using {}{} title {} lc {}", k ? ", \\\n     " : "",
                        k == 0 ? gq(stem + ".dat") : "''", k + 2, k == 0 ? ":xtic(1)" : "",
                        gq(groups[k]), k + 1);
  const std::string title =
      fmt::format("Top layers by energy: {}, {} on {}", g.label(), schedule, row.arch);
  write_histogram(plots_dir, stem, title, fmt::format("energy ({})", unit.label), "rowstacked",
                  plot);
  return {stem, title,
          "The layers with the most training energy under the baseline schedule, split by "
          "component (docs/energy.md); per-layer figures: lpsim simulate --layers-csv."};
}

int max_bits(const PrecisionSet& p, Role a, Role b) { return std::max(p[a].bits, p[b].bits); }

}  // namespace

// Dynamic components by kind (every buffer's SRAM as one), static ones as one
// "static (leakage)" group, drawn last.
std::string component_group(const std::string& component) {
  if (component.starts_with("static:")) return "static (leakage)";
  return component.starts_with("sram:") ? "sram" : component;
}

std::vector<Plot> write_plot_sources(const Comparison& c, const std::string& plots_dir) {
  std::vector<Plot> plots;
  const auto groups = groups_of(c);

  for (const auto& g : groups) {
    // Precision over training: one panel per schedule, from the trace's
    // all-layer segments (x in epochs).
    std::string dat = fmt::format(
        "# Precision over training of {}: epoch, forward bits max(W, A), backward bits "
        "max(E, G); one block per schedule, from the trace's all-layer segments\n",
        g.label());
    int top = 8;
    for (std::size_t r : g.runs) {
      const Trace& t = c.runs[r].trace;
      const double ipe = double(std::max<std::int64_t>(1, t.header.iterations_per_epoch()));
      dat += fmt::format("# {}\n", c.runs[r].schedule);
      std::vector<const Segment*> segs;
      for (const auto& s : t.segments)
        if (s.layer.empty()) segs.push_back(&s);
      std::sort(segs.begin(), segs.end(),
                [](const Segment* x, const Segment* y) { return x->begin < y->begin; });
      for (const Segment* s : segs) {
        const int fw = max_bits(s->precision, Role::W, Role::A);
        const int bw = max_bits(s->precision, Role::E, Role::G);
        top = std::max({top, fw, bw});
        dat += fmt::format("{:.9g} {} {}\n", double(s->begin) / ipe, fw, bw);
      }
      if (!segs.empty()) {
        const Segment* s = segs.back();
        dat += fmt::format("{:.9g} {} {}\n", double(s->end) / ipe,
                           max_bits(s->precision, Role::W, Role::A),
                           max_bits(s->precision, Role::E, Role::G));
      }
      dat += "\n\n";
    }
    const std::string stem = "precision_" + g.stem();
    write_file_atomic(plots_dir + "/" + stem + ".dat", dat);
    const int n = int(g.runs.size());
    const std::string title = fmt::format("Precision over training: {}", g.label());
    std::string body = fmt::format(
        "set multiplot layout {},1\n"
        "set yrange [0:{}]\n"
        "set ytics 0,{},{}\n"
        "set grid ytics\n"
        "set key outside right top\n"
        "set ylabel 'bits'\n"
        "set tmargin 2\n",
        n, top + 2, top > 16 ? 8 : 2, top + 2);
    for (int i = 0; i < n; ++i) {
      const std::size_t r = g.runs[std::size_t(i)];
      body += fmt::format(
          "set title {}\n"
          "{}"
          "plot {} index {} using 1:2 with steps lw 2 lc 1 title 'W/A (forward)', \\\n"
          "     '' index {} using 1:3 with steps lw 2 dt 2 lc 2 title 'E/G (backward)'\n",
          gq(i == 0 ? g.label() + ": " + c.runs[r].schedule : c.runs[r].schedule),
          i + 1 == n ? "set xlabel 'epoch'\n" : "", gq(stem + ".dat"), i, i);
    }
    body += "unset multiplot\n";
    write_file_atomic(plots_dir + "/" + stem + ".gp", script(stem, 1000, 150 * n + 80, body));
    plots.push_back({stem, title,
                     "Widths the trace records at every iteration (all-layer segments); "
                     "per-layer overrides are not drawn."});

    if (c.bitops_only) continue;
    // Energy by component.
    std::vector<std::string> components;
    for (std::size_t r : g.runs)
      for (const auto& row : c.rows)
        if (row.run == r && row.sim)
          for (const auto& [name, v] : energy_j_by_component(*row.sim, row.sim->total))
            if (std::find(components.begin(), components.end(), component_group(name)) ==
                components.end())
              components.push_back(component_group(name));
    // Compute first, then memory, then the rest (docs/energy.md's order).
    const std::vector<std::string> order{"mac", "sram", "dram", "vector", "static (leakage)"};
    auto rank = [&](const std::string& k) {
      return std::find(order.begin(), order.end(), k) - order.begin();
    };
    std::stable_sort(components.begin(), components.end(),
                     [&](const std::string& x, const std::string& y) { return rank(x) < rank(y); });
    Plot e = stacked(c, g, plots_dir, "Energy by component", "energy_" + g.stem(), "J", components,
                     [](const CompareRow& row) {
                       std::map<std::string, double> out;
                       for (const auto& [name, joules] :
                            energy_j_by_component(*row.sim, row.sim->total))
                         out[component_group(name)] += joules;
                       return out;
                     });
    e.caption =
        "Training energy split by component (docs/energy.md): dynamic energy by kind (sram "
        "sums every on-chip buffer), then static energy (leakage x time) apart.";
    plots.push_back(e);
    // Latency by phase.
    std::vector<std::string> phases;
    for (int p = 0; p < kNumPhases; ++p) phases.emplace_back(phase_name(static_cast<Phase>(p)));
    Plot l = stacked(c, g, plots_dir, "Latency by phase", "latency_" + g.stem(), "s", phases,
                     [](const CompareRow& row) {
                       std::map<std::string, double> out;
                       for (int p = 0; p < kNumPhases; ++p)
                         out[std::string(phase_name(static_cast<Phase>(p)))] =
                             latency_s(*row.sim, row.sim->by_phase[std::size_t(p)]);
                       return out;
                     });
    l.caption = "Training time split by phase of the training step (docs/simulator.md).";
    plots.push_back(l);
    // The layers that cost most, under the baseline schedule, per design point.
    for (const auto& a : archs_of(c))
      if (const CompareRow* row = row_for(c, g.runs.front(), a); row && row->sim)
        plots.push_back(top_layers(c, g, *row, plots_dir));
  }

  // Accuracy vs energy, trained runs on every design point that ran them.
  if (!c.bitops_only) {
    const auto archs = archs_of(c);
    double max_energy = 0;
    for (const auto& row : c.rows)
      if (c.runs[row.run].trained && c.runs[row.run].test_accuracy && row.sim)
        max_energy = std::max(max_energy, row.sim->energy_j());
    if (max_energy > 0) {
      const Unit unit = unit_for(max_energy, "J");
      std::string dat = fmt::format(
          "# Trained runs: schedule, energy ({}), test accuracy (%); one block per design "
          "point\n",
          unit.label);
      std::vector<std::string> drawn;
      for (const auto& a : archs) {
        std::string block;
        for (const auto& row : c.rows) {
          const auto& run = c.runs[row.run];
          if (row.arch != a || !run.trained || !run.test_accuracy || !row.sim) continue;
          block += fmt::format("{} {:.9g} {:.9g}\n", dq(run.model + " " + run.schedule),
                               row.sim->energy_j() / unit.divisor,
                               100.0 * *run.test_accuracy);
        }
        if (block.empty()) continue;
        dat += fmt::format("# design point {}\n{}\n\n", a, block);
        drawn.push_back(a);
      }
      const std::string stem = "accuracy_energy";
      write_file_atomic(plots_dir + "/" + stem + ".dat", dat);
      std::string plot = "plot ";
      for (std::size_t i = 0; i < drawn.size(); ++i)
        plot += fmt::format(
            "{}{} index {} using 2:3 with points pt {} ps 1.6 lc {} title {}, \\\n"
            "     '' index {} using 2:3:1 with labels left offset 1,0.6 font ',9' notitle",
            i ? ", \\\n     " : "", i ? "''" : gq(stem + ".dat"), i, 5 + 2 * int(i % 4), i + 1,
            gq(drawn[i]), i);
      const std::string title = "Test accuracy vs training energy (trained runs)";
      const std::string body = fmt::format(
          "set title {}\nset xlabel {}\nset ylabel 'test accuracy (%)'\n"
          "set grid\nset key outside right top\nset offsets graph 0.05, graph 0.3, "
          "graph 0.1, graph 0.1\n{}\n",
          gq(title), gq(fmt::format("energy ({})", unit.label)), plot);
      write_file_atomic(plots_dir + "/" + stem + ".gp", script(stem, 1000, 560, body));
      plots.push_back({stem, title,
                       "Each point is one trained schedule simulated on one design point: "
                       "up and to the left is better."});
    }
  }
  return plots;
}

}  // namespace lpsim::study::detail
