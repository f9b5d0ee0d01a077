// A design point: one accelerator configuration, read from an architecture
// YAML file (schema in docs/architecture.md), validated once, then plain structs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/precision.h"

namespace lpsim {

enum class Dataflow : std::uint8_t { WeightStationary, OutputStationary, InputStationary };
std::string_view dataflow_name(Dataflow);  // "ws" | "os" | "is"

struct PeConfig {
  std::string type = "fixed";          // fixed | bit_serial | bit_fusion | multi_pass
  std::vector<Format> native_formats;  // fixed / multi_pass: widths the MAC supports natively
  Role serial_operand = Role::A;       // bit_serial: operand streamed a bit per cycle
  int serial_max_bits = 16;            // bit_serial: widest operand supported
  int brick_bits = 2;                  // bit_fusion: width of one BitBrick
  int fusion_bits = 8;                 // bit_fusion: widest operand fused spatially
  int pass_bits = 16;                  // multi_pass: native width of the MAC
  double energy_pj_per_mac = 0;        // optional override at the native/max width (0 = from table)
  double area_um2 = 0;                 // optional override (0 = from table)
  // Bits a partial sum keeps between folds (in the accumulators or the output
  // buffer, and on a DRAM spill); 0 = the energy table's accumulator width
  // (integer a + b + 8 unless the table sets int_accumulator_bits).
  int psum_bits = 0;
  // Accesses of a PE-local register file per MAC (scratch pads beside each
  // MAC, as Eyeriss's row-stationary PEs read an ifmap, a filter weight and a
  // partial sum and write the partial sum back: 4). Each is priced as one MAC
  // at the same formats, the normalisation of Chen et al., ISCA 2016 (register
  // file 1, MAC 1); 0 = no such storage level.
  int rf_accesses_per_mac = 0;
  // fixed: extra formats, or native ones at another rate, with their MACs per
  // cycle per PE (YAML pe.packing, e.g. {4: 2} = INT4 at 2x on an INT8 datapath).
  std::vector<std::pair<Format, double>> packed_rates;
  // multi_pass: energy (and area) overhead of the multi-precision control, as a
  // fraction of the pass_bits MAC (docs/architecture.md says why 10%).
  double pass_energy_overhead = 0.10;
  friend bool operator==(const PeConfig&, const PeConfig&) = default;
};

enum class ConvMapping : std::uint8_t { Window, Channels };

struct ArrayConfig {
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  // YAML `array.pipelined_folds`: every PE loads its next stationary operand
  // from its own buffer while the current fold streams (Bit Fusion's
  // per-unit weight buffers), so folds follow each other with no preload and
  // a tile pays the array's skew and drain once (docs/simulator.md).
  bool pipelined_folds = false;
  // YAML `array.conv_mapping`: what a fold's rows take of a convolution's
  // window (ws and is; docs/simulator.md, "Convolution mapping").
  //   Window:   consecutive entries of the whole window channels x kh x kw.
  //   Channels: the input channels at one kernel position, positions in turn
  //             (Bit Fusion's hardware), so each position's channels fill
  //             whole folds; the network's input (a few channels) arrives
  //             im2col-expanded from the host instead, its window contiguous.
  ConvMapping conv_mapping = ConvMapping::Window;
  std::int64_t pes() const { return rows * cols; }
  friend bool operator==(const ArrayConfig&, const ArrayConfig&) = default;
};

// Device types that leakage is charged at (YAML `leakage:` and a buffer's
// `cells:`; figures and sources in docs/energy.md, "Leakage").
enum class LogicCells : std::uint8_t { LowPower, HighPerformance };   // "lp" | "hp"
enum class SramCells : std::uint8_t { LowStandby, HighPerformance };  // "lstp" | "hp"
std::string_view logic_cells_name(LogicCells);
std::string_view sram_cells_name(SramCells);

struct LeakageConfig {
  LogicCells logic = LogicCells::LowPower;  // the MAC array and the vector unit
  SramCells sram = SramCells::LowStandby;   // every buffer without its own `cells`
  friend bool operator==(const LeakageConfig&, const LeakageConfig&) = default;
};

struct BufferConfig {
  std::string name;
  std::optional<SramCells> cells;  // YAML `cells`; unset = LeakageConfig::sram
  std::int64_t capacity_bytes = 0;
  std::int64_t banks = 1;
  std::int64_t port_bits = 64;      // width of one bank port
  double read_bits_per_cycle = 0;   // 0 = banks * port_bits (load_arch stores the resolved value)
  double write_bits_per_cycle = 0;  // 0 = banks * port_bits (load_arch stores the resolved value)
  std::vector<Role> holds;  // operand roles it stages (W, A, E, G, Opt); empty for accumulators
  friend bool operator==(const BufferConfig&, const BufferConfig&) = default;
};

// Accumulator storage beside the array (YAML `accumulators:`, docs/architecture.md):
// where partial sums of a split reduction live, instead of the output role's
// buffer. Same size and port keys as a buffer, no `holds`.
struct AccumulatorConfig {
  bool present = false;  // false: partial sums go through the output role's buffer
  BufferConfig storage;  // name defaults to "accumulators"; holds stays empty
  friend bool operator==(const AccumulatorConfig&, const AccumulatorConfig&) = default;
};

// What a GEMM's outputs cost on the DRAM link (YAML `dram.outputs`,
// docs/simulator.md, "Output traffic").
//   Final: each output leaves the chip once, when its sum is complete, in the
//          format its consumer reads.
//   Psum:  the output tile is exchanged whole as partial sums: loaded from
//          DRAM before its first k-block and stored after its last, at the
//          partial-sum width (PeConfig::psum_bits or the table's accumulator),
//          padded to whole groups of the array's columns. Bit Fusion's output
//          buffer as its public simulator models it (optimizer.py
//          get_stats_fast: OBUF reads and writes at oprec = 32, oc padded to M).
enum class OutputTraffic : std::uint8_t { Final, Psum };

struct DramConfig {
  double bandwidth_gbps = 0;  // gigabytes per second
  double latency_ns = 0;
  double pj_per_bit = 0;  // 0 = from the energy table
  OutputTraffic outputs = OutputTraffic::Final;
  friend bool operator==(const DramConfig&, const DramConfig&) = default;
};

struct VectorUnitConfig {
  std::int64_t lanes = 0;  // element ops per cycle for non-GEMM ops
  friend bool operator==(const VectorUnitConfig&, const VectorUnitConfig&) = default;
};

struct ArchConfig {
  std::string name;
  std::string source;  // file path, or "built-in default"
  double clock_ghz = 0;
  PeConfig pe;
  ArrayConfig array;
  Dataflow dataflow = Dataflow::WeightStationary;
  std::vector<BufferConfig> buffers;
  AccumulatorConfig accumulators;
  DramConfig dram;
  VectorUnitConfig vector;
  LeakageConfig leakage;
  // Tile slots of every on-chip buffer (YAML `buffering`, or `double_buffering`:
  // true = 2, false = 1): how many tiles may be loaded, computed and stored at
  // once; the mapper fits a tile into capacity / buffering.
  std::int64_t buffering = 2;
  // YAML `output_buffering`: tile slots of a GEMM's output tile (its partial
  // sums, wherever they live) and of every op's outputs; 0 = `buffering`.
  // With 1 the next tile starts computing once the last one's stores have
  // left (docs/simulator.md, "Output slots").
  std::int64_t output_buffering = 0;
  // YAML `ideal_memory`: DRAM of zero latency and unbounded bandwidth, buffers
  // that hold a whole layer with unbounded ports (docs/architecture.md); for
  // comparing with compute-only tools. Bits are still counted and priced.
  bool ideal_memory = false;
  // YAML `fusion`: an element-wise op that reads what the op before it wrote
  // takes it from that op's output path instead of DRAM (docs/simulator.md,
  // "Fusion"); every tensor is still written, as backward may need it.
  bool fusion = false;
  double node_nm = 45;
  std::string energy_table;  // optional YAML override path ("" = built-in)
  friend bool operator==(const ArchConfig&, const ArchConfig&) = default;
};

// Reads and validates `path`, then applies `overrides` ("key.path=value",
// from --set) before validation. Every error is an InputError naming the
// file, the key path and the allowed range.
ArchConfig load_arch(const std::string& path, const std::vector<std::string>& overrides = {});
// An architecture file read and parsed once, for building many variants of it
// (explore tries every axis value on its base): with(o) == load_arch(path, o),
// without re-reading and re-parsing the YAML each time (which dominates).
class ArchTemplate {
 public:
  explicit ArchTemplate(const std::string& path);  // InputError naming the file
  ArchConfig with(const std::vector<std::string>& overrides = {}) const;

 private:
  std::string path_;
  std::shared_ptr<const void> root_;  // the parsed YAML::Node (kept out of this header)
};
// The documented default design point (docs/architecture.md), with overrides.
ArchConfig default_arch(const std::vector<std::string>& overrides = {});
// Names of the shipped example design points in sim/arch/ ("tpu_int8", ...),
// and the path of one by name (or the argument unchanged if it is a path).
std::vector<std::string> shipped_arch_names();
std::string resolve_arch_path(const std::string& name_or_path);
// The design point as an architecture file (every key, resolved values), so
// `load_arch` of the text gives back the same ArchConfig.
std::string arch_to_yaml(const ArchConfig& arch);
// The PE type names make_pe and pe.type accept, in documentation order
// (the registry in sim/pe.cpp).
const std::vector<std::string>& pe_type_names();
// The markdown table of one section of the schema ("top", "pe", "array",
// "buffers", "accumulators", "dram", "vector", "leakage"), generated from the
// declarations; docs/architecture.md holds them (a test checks they agree).
std::string arch_schema_markdown(const std::string& section);

}  // namespace lpsim
