// The built-in Horowitz 45 nm table and the metadata of every key.
#include "power/impl/energy_keys.h"

namespace lpsim::impl {

const std::vector<EnergyKeyInfo>& energy_key_info() {
  using enum NodeScalingKind;
  static const std::string kH = "Horowitz ISSCC'14 45 nm 0.9 V: ";
  static const std::string kHa = "Horowitz ISSCC'14 45 nm area: ";
  static const std::vector<EnergyKeyInfo> keys = {
      {"int_add_8", "pJ", 0.03, kH + "8-bit add", Energy},
      {"int_add_16", "pJ", 0.05, kH + "16-bit add", Energy},
      {"int_add_32", "pJ", 0.1, kH + "32-bit add", Energy},
      {"int_mul_8", "pJ", 0.2, kH + "8-bit mult", Energy},
      {"int_mul_32", "pJ", 3.1, kH + "32-bit mult", Energy},
      {"fp_add_16", "pJ", 0.4, kH + "16-bit FP add", Energy},
      {"fp_add_32", "pJ", 0.9, kH + "32-bit FP add", Energy},
      {"fp_mul_16", "pJ", 1.1, kH + "16-bit FP mult", Energy},
      {"fp_mul_32", "pJ", 3.7, kH + "32-bit FP mult", Energy},
      {"sram_read64_8kb", "pJ/64b", 10, kH + "64-bit read, 8 KB SRAM", Energy},
      {"sram_read64_32kb", "pJ/64b", 20, kH + "64-bit read, 32 KB SRAM", Energy},
      {"sram_read64_1mb", "pJ/64b", 100, kH + "64-bit read, 1 MB SRAM", Energy},
      // DRAM energy is set by the DRAM device and its interface, not the
      // accelerator's logic node: node scaling leaves it alone.
      {"dram_read64", "pJ/64b", 1300,
       kH + "64-bit DRAM read 1300-2600, low end (as Han et al. NIPS'15: 640 pJ/32 bit)", None},
      // Leakage (docs/energy.md, "Leakage"). No cited law scales leakage
      // density across nodes: left alone, override it.
      {"leakage_mw_per_mm2", "mW/mm^2", 138.3,
       "derived: McPAT 45 nm in-order core (high-performance logic), 1.058 W / 7.65 mm^2 "
       "(liangwang/lumos Tech.py)",
       None},
      {"leakage_lp_mw_per_mm2", "mW/mm^2", 2.449,
       "derived: Eyeriss chip (65 nm LP), 30 mW static (nn_dataflow's calibration of Chen et al. "
       "JSSC'17) / 12.25 mm^2 core (3.5 x 3.5 mm)",
       None},
      {"sram_leakage_hp_mw_per_kb", "mW/KiB", 1.845,
       "CACTI, 45 nm itrs-hp cells at 360 K: 8 sizes 128 B..16 KiB, 1.61-2.06 "
       "mW/KiB, mean 1.845 (hsharma35/bitfusion sram/cacti_sweep.csv)",
       None},
      {"sram_leakage_lstp_mw_per_kb", "mW/KiB", 4.69e-5,
       "CACTI, 45 nm itrs-lstp cells at 300 K (Accelergy's CACTI plug-in default): ~3 uW for a "
       "64 KiB buffer",
       None},
      {"int_add_8_um2", "um^2", 36, kHa + "8-bit add", Area},
      {"int_add_16_um2", "um^2", 67, kHa + "16-bit add", Area},
      {"int_add_32_um2", "um^2", 137, kHa + "32-bit add", Area},
      {"int_mul_8_um2", "um^2", 282, kHa + "8-bit mult", Area},
      {"int_mul_32_um2", "um^2", 3495, kHa + "32-bit mult", Area},
      {"fp_add_16_um2", "um^2", 1360, kHa + "16-bit FP add", Area},
      {"fp_add_32_um2", "um^2", 4184, kHa + "32-bit FP add", Area},
      {"fp_mul_16_um2", "um^2", 1640, kHa + "16-bit FP mult", Area},
      {"fp_mul_32_um2", "um^2", 7700, kHa + "32-bit FP mult", Area},
      {"sram_bitcell_um2", "um^2", 0.346, "Mistry et al. IEDM'07, Intel 45 nm: 6T SRAM cell", Area},
  };
  return keys;
}

}  // namespace lpsim::impl
