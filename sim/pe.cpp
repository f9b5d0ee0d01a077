// The PE registry: the pe.type name of an architecture file -> its model and
// its own keys of the architecture schema, both described by the type's file.
// Adding a PE type is one file in impl/ (its model, its keys, its PeType)
// plus its declaration and its entry here.
#include "sim/pe.h"

#include <memory>
#include <utility>

#include <fmt/format.h>

#include "core/error.h"
#include "sim/impl/arch_schema.h"

namespace lpsim {

// Defined in impl/pe_<type>.cpp; docs/architecture.md gives their formulas.
namespace schema {
PeType fixed_pe_type();
PeType bit_serial_pe_type();
PeType bit_fusion_pe_type();
PeType multi_pass_pe_type();

const std::vector<PeType>& pe_types() {
  static const std::vector<PeType> registry = {fixed_pe_type(), bit_serial_pe_type(),
                                               bit_fusion_pe_type(), multi_pass_pe_type()};
  return registry;
}
}  // namespace schema

const std::vector<std::string>& pe_type_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& e : schema::pe_types()) v.emplace_back(e.name);
    return v;
  }();
  return names;
}

namespace {
// A PE with a local register file (PeConfig::rf_accesses_per_mac = n): each
// MAC also makes n register-file accesses, each priced as the MAC itself.
class WithRegisterFile final : public PeModel {
 public:
  WithRegisterFile(std::unique_ptr<PeModel> mac, int accesses)
      : mac_(std::move(mac)), accesses_(accesses) {}
  PeThroughput at(const Format& a, const Format& b) const override {
    PeThroughput t = mac_->at(a, b);
    t.energy_pj_per_mac *= 1.0 + double(accesses_);
    return t;
  }
  double area_um2() const override { return mac_->area_um2(); }

 private:
  std::unique_ptr<PeModel> mac_;
  int accesses_;
};
}  // namespace

std::unique_ptr<PeModel> make_pe(const PeConfig& config, const EnergyTable& table) {
  for (const auto& e : schema::pe_types())
    if (config.type == e.name) {
      std::unique_ptr<PeModel> pe = e.make(config, table);
      if (config.rf_accesses_per_mac > 0)
        return std::make_unique<WithRegisterFile>(std::move(pe), config.rf_accesses_per_mac);
      return pe;
    }
  throw InputError(fmt::format("pe.type = {}: unknown PE type: must be one of {}",
                               config.type.empty() ? "''" : config.type,
                               join(pe_type_names(), " | ")));
}

}  // namespace lpsim
