// A model as data: a list of layer specifications (the scenario's `model.layers`, and the form
// every zoo preset is written in), built into layers by one function. No Eigen here: the app reads
// and writes specs without the engine's headers.
//
// Layer types and their keys (PyTorch's names; 0 = not given):
//   conv            out_channels, kernel_size, stride (1), padding (0), bias (true), in_channels
//   linear          out_features, bias (true), in_features
//   batch_norm      num_features                          (BatchNorm2d, eps 1e-5, momentum 0.1)
//   relu
//   max_pool        kernel_size, stride (kernel_size)      (no padding)
//   avg_pool        kernel_size, stride (kernel_size)      (no padding)
//   global_avg_pool                                        (AdaptiveAvgPool2d(1))
//   flatten
//   dropout         p (0.5)
//   residual        planes, stride (1), plain (false), in_channels  (ResNet BasicBlock)
// The in_* keys are optional checks of the shape flowing in. A layer's `name` is its module path
// in checkpoints (`<name>.weight`) and a cut point; unnamed layers with parameters are named by
// their index, as in torch.nn.Sequential.
#ifndef SLSIM_MODELS_MODEL_SPEC_H
#define SLSIM_MODELS_MODEL_SPEC_H

#include "common/shape.h"

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace slsim
{

struct LayerSpec
{
    std::string type = "relu"; // see the list above
    std::string name;          // module path; "" = the index for layers with parameters
    int outChannels = 0;       // conv
    int outFeatures = 0;       // linear
    int planes = 0;            // residual
    int kernelSize = 0;        // conv, max_pool, avg_pool
    int stride = 0;            // 0 = the default (conv, residual: 1; pools: kernel_size)
    int padding = 0;           // conv
    bool bias = true;          // conv, linear
    double p = 0.5;            // dropout
    bool plain = false;        // residual: the paper's plain block (no skip, no middle ReLU)
    int inChannels = 0;        // conv, residual: checked against the input when > 0
    int inFeatures = 0;        // linear: checked when > 0
    int numFeatures = 0;       // batch_norm: checked when > 0

    bool operator==(const LayerSpec& o) const;
};

/// The layer types, in the order of the list above.
const std::vector<std::string>& LayerTypes();

/// Whether the key (JSON name, e.g. "out_channels") applies to the layer type.
bool LayerKeyApplies(const std::string& type, const std::string& key);

/// Checks one spec on its own (required keys, defaults resolved: stride 0 becomes the type's
/// default). Throws InputError naming `path` (e.g. "model.layers[3].kernel_size: ...").
void ResolveLayerSpec(LayerSpec& spec, const std::string& path);

/// A whole model: layers and named cut points (layer count on the device side).
struct ModelSpec
{
    std::vector<LayerSpec> layers;
    std::map<std::string, size_t> cuts; // shallow/medium/deep for the presets
};

struct ModelConfig;

/// The spec of a zoo preset (model.name, width, hidden, input, classes; resnet18's layers depend
/// on model.cut). Throws InputError ("model.<field>: ...") for an invalid configuration.
ModelSpec PresetSpec(const ModelConfig& model);

/// The spec the model config describes: its `layers` for "custom", else PresetSpec.
ModelSpec SpecOf(const ModelConfig& model);

/// Output shape of every layer for the given input (the shape checks without building layers).
/// Throws InputError naming "model.layers[i]..." for a layer that does not fit its input.
std::vector<Shape> SpecShapes(const ModelSpec& spec, const Shape& input);

/// Resolves a cut ("none", a named cut, a layer index 1..L-1 or a layer's name: the device part
/// ends after that layer) to the number of device-side layers (L for "none"). Throws InputError
/// "model.cut: ...".
size_t ResolveCut(const ModelSpec& spec, const std::string& cut);

/// Resolves a U-shaped model's head cut (named as a cut: the server part ends after that layer) to
/// the number of layers before the head, given the resolved cut: it must lie strictly between the
/// cut and the last layer (server and head keep at least one layer each). Throws InputError
/// "model.head_cut: ...".
size_t ResolveHeadCut(const ModelSpec& spec, const std::string& headCut, size_t cut);

} // namespace slsim

#endif
