// The model zoo: networks of the seed papers, by name.
#pragma once

#include <string>
#include <vector>

#include "models/graph.h"

namespace lpsim {

struct ZooEntry {
  std::string name;         // e.g. "resnet74"
  std::string dataset;      // default dataset, e.g. "cifar100"
  std::string description;  // one line, with the source of the configuration
};

// Every zoo network, in a stable order.
const std::vector<ZooEntry>& zoo();

// Builds the named network with inferred shapes for `dataset` (which sets the
// input shape and class count; "" = the entry's default dataset).
// Throws InputError listing the known names for an unknown model or dataset.
Graph make_model(const std::string& name, const std::string& dataset = "");

// Dataset facts the synthesizer needs.
struct DatasetInfo {
  std::string name;
  std::int64_t train_samples = 0;  // samples per epoch
  std::int64_t test_samples = 0;
  std::vector<std::int64_t> input_shape;  // per sample, e.g. {3, 32, 32}
  std::int64_t classes = 0;               // or vocabulary size for language models
};
const DatasetInfo& dataset_info(const std::string& name);  // InputError if unknown
std::vector<std::string> dataset_names();

// Whether zoo model `model` can be built for `dataset` (its input shape fits:
// image models need their exact image shape, language models any token
// sequence [T]). False for an unknown model; InputError for an unknown dataset.
bool model_accepts(const std::string& model, const std::string& dataset);

}  // namespace lpsim
