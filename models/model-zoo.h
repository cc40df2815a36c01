// The model zoo: architectures by name, with their named cuts. See models/README.md for the
// layer lists, cut points and shapes.
#ifndef SLSIM_MODELS_MODEL_ZOO_H
#define SLSIM_MODELS_MODEL_ZOO_H

#include "models/layer.h"
#include "models/model-spec.h"

#include <memory>
#include <vector>

namespace slsim
{

struct Architecture
{
    std::vector<std::unique_ptr<Layer>> layers;
    /// The device part is layers [0, cut); cut == layers.size() for cut "none".
    size_t cut = 0;
};

/// Builds the (uninitialised, unbound) layers of model.name for model.input / classes / width and
/// resolves model.cut. The architecture can depend on the cut (resnet18 "shallow" uses the plain
/// block as layer1.0). Throws InputError ("model.<field>: ...") on invalid configuration.
Architecture BuildArchitecture(const ModelConfig& model, uint64_t seed);

/// Builds the layers of a spec for a per-sample input (shapes checked first: InputError
/// "model.layers[i]..."; the last layer must give `classes` values) and resolves the cut
/// (models/model-spec.h ResolveCut). Unnamed layers with parameters are named by their index.
Architecture BuildFromSpec(const ModelSpec& spec, const Shape& input, int classes,
                           const std::string& cut, uint64_t seed);

} // namespace slsim

#endif
