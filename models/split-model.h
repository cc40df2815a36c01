// Public API of the neural-network engine: a model split at a cut into a device and a server
// partition, each with its own flat parameter buffer and optimizer.
//
// This header deliberately includes no Eigen: simulator translation units stay light. Batches are
// NCHW, row-major, flattened float32 (the PyTorch layout); labels are int32 class indices.
#ifndef SLSIM_MODELS_SPLIT_MODEL_H
#define SLSIM_MODELS_SPLIT_MODEL_H

#include "common/byte-io.h"
#include "common/shape.h"
#include "models/model-spec.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace slsim
{

struct ModelConfig
{
    std::string name = "mlp";            // mlp | lenet5 | vgg11_bn | vgg19_bn | resnet18 | custom
    double width = 1.0;                  // channel/width multiplier (presets)
    std::string cut = "shallow";         // shallow | medium | deep | "<layer index>" | layer name
                                         // | none
    std::string headCut;                 // U-shaped: where the server part ends and the device's
                                         // head begins (as cut; "" = not U-shaped)
    std::vector<int> hidden = {128, 64}; // mlp only: hidden layer sizes
    std::vector<LayerSpec> layers;       // custom only: the layers (models/model-spec.h)
    std::string initFrom;                // a safetensors checkpoint to start from ("" = init)
    Shape input;                         // per-sample input, e.g. {1,28,28} or {3,32,32} or {64}
    int classes = 10;
    int threads = 0; // 0 = DefaultThreadCount() (process-wide; results do not depend on it)
};

struct OptimizerConfig
{
    std::string name = "sgd"; // sgd | adam
    double lr = 0.1, momentum = 0.9, weightDecay = 5e-4;
    bool nesterov = false;
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    std::string schedule = "constant"; // constant | step | multistep | cosine
    int stepEpochs = 30;
    std::vector<int> milestones;
    double gamma = 0.1;
    int totalEpochs = 1; // cosine T_max
};

/// Learning rate at the start of `epoch` (0-based), as torch.optim.lr_scheduler stepped once per
/// epoch (cosine: eta_min = 0, closed form). Throws InputError for an unknown schedule.
double LearningRateAt(const OptimizerConfig& opt, int epoch);

/// Floating-point operations per sample (a multiply-add counts as 2).
struct Flops
{
    double forward = 0;
    double backward = 0;
};

/// A named tensor of a partition's state, for checkpoints (PyTorch name and layout).
struct NamedTensor
{
    enum Kind
    {
        PARAMETER, // trainable, float32
        BUFFER,    // running statistic, float32
        COUNTER    // num_batches_tracked: held as one float, stored as int64 in checkpoints
    };

    std::string name; // e.g. "features.0.weight"
    Shape shape;      // PyTorch shape (OIHW conv weight, out x in linear weight, {} for a counter)
    float* data;
    Kind kind;
};

/// One side of the split: a sequence of layers, one flat parameter buffer, its own optimizer.
class Partition
{
  public:
    virtual ~Partition() = default;
    virtual Shape InputShape() const = 0;  // per sample, e.g. {3,32,32}
    virtual Shape OutputShape() const = 0; // per sample, e.g. {64,16,16} or {classes}
    /// input: batch * InputShape().Numel() floats, NCHW. Returns the output (batch *
    /// OutputShape().Numel(), NCHW), valid until the next Forward. training=false: BN uses
    /// running stats, dropout off. `input` must stay valid until Backward.
    virtual const float* Forward(const float* input, int batch, bool training) = 0;
    /// gradOutput has the output's size. Computes (overwrites) the parameter gradients of the last
    /// Forward's batch and returns the gradient w.r.t. the input (valid until the next call;
    /// nullptr if SetInputGradientNeeded(false)).
    virtual const float* Backward(const float* gradOutput) = 0;
    virtual void Step() = 0; // one optimizer step with the current gradients
    virtual void SetLearningRate(double lr) = 0;
    virtual size_t ParameterCount() const = 0; // trainable parameters
    /// Full state for hand-off and FedAvg: trainable parameters then BN running stats (as floats,
    /// num_batches_tracked included), fixed order.
    virtual size_t StateSize() const = 0;
    virtual void GetState(float* out) const = 0;
    virtual void SetState(const float* in) = 0;
    virtual Flops FlopsPerSample() const = 0;
    /// Run-state checkpoints (sim/run-state.h): what training carries beyond GetState: the
    /// optimizer's buffers and step count, and the layers' random streams (dropout masks).
    /// LoadTrainingState throws DecodeError when the saved state does not fit this partition.
    virtual void SaveTrainingState(ByteWriter& out) const = 0;
    virtual void LoadTrainingState(ByteReader& in) = 0;

    // ---- additions beyond the simulator contract ----
    /// Skip the input-gradient computation (the first partition of a model does not need it).
    virtual void SetInputGradientNeeded(bool needed) = 0;
    /// Parameters, their gradients (after Backward) and the state tensors under PyTorch names.
    virtual const float* Parameters() const = 0;
    virtual const float* Gradients() const = 0;
    virtual std::vector<NamedTensor> NamedTensors() = 0;
    /// One line per layer: index, type, output shape, parameters, forward FLOPs.
    virtual std::string Summary() const = 0;
};

struct SplitModel
{
    std::unique_ptr<Partition> device; // input -> cut activations
    std::unique_ptr<Partition> server; // cut activations -> logits (U-shaped: -> server output)
    /// U-shaped split learning (model.head_cut; labels never leave the device): the device's
    /// head, server output -> logits. Null for a plain split.
    std::unique_ptr<Partition> head;
};

/// Builds both partitions (and the head, with model.head_cut) with seeded init (PyTorch's default
/// init schemes, drawn from Rng(seed, "init") over the layers in order, as BuildModel does).
/// Throws InputError for an unknown model name or a cut that does not exist ("model.cut: ...",
/// "model.head_cut: ...": it must lie strictly between the cut and the last layer). Sets the
/// process-wide thread count from model.threads.
SplitModel BuildSplitModel(const ModelConfig& model, const OptimizerConfig& opt, uint64_t seed);

/// The same model unsplit (all layers in one partition; the architecture and initial weights are
/// those BuildSplitModel gives for model.cut, so the two can be compared step for step).
std::unique_ptr<Partition> BuildModel(const ModelConfig& model, const OptimizerConfig& opt,
                                      uint64_t seed);

/// Names of the valid cuts for a model (for validation and docs); numeric cuts "1".."L-1" are
/// also accepted by BuildSplitModel. Throws InputError for an unknown model name.
std::vector<std::string> CutNames(const std::string& modelName);

/// Shape of the cut activations per sample without building the model.
Shape CutShape(const ModelConfig& model);

/// What `slsim validate` shows of a model: layers, the cut, FLOPs and parameters per side.
struct ModelInfo
{
    size_t layers = 0;
    size_t cut = 0; // device-side layers
    Shape cutShape; // per sample
    Flops deviceFlops, serverFlops;
    size_t deviceParameters = 0, serverParameters = 0;
    // U-shaped (model.head_cut): the server part is layers [cut, headCut), the device's head
    // [headCut, layers); server* then count the middle only, head* the head. headCut 0: none.
    size_t headCut = 0;
    Shape headCutShape; // per sample: the server's output
    Flops headFlops;
    size_t headParameters = 0;
};

/// Builds the layers (unbound, no weights) and sums per side. Throws InputError as BuildModel.
ModelInfo DescribeModel(const ModelConfig& model);

struct LossResult
{
    double loss = 0;
    int correct = 0;
};

/// Mean softmax cross-entropy over the batch; writes dLoss/dLogits (batch*classes) into
/// gradLogits if non-null. Labels outside [0, classes) throw InputError.
LossResult SoftmaxCrossEntropy(const float* logits, const int32_t* labels, int batch, int classes,
                               float* gradLogits);

/// Sets the engine's process-wide thread count (models/thread-pool.h); 0 = DefaultThreadCount().
/// Results are bit-identical for every count.
void SetThreadCount(int threads);

/// The CPUs this process may use (its affinity mask) divided by SLSIM_CONCURRENT_RUNS (a positive
/// integer, the number of runs sharing them; `slsim sweep -j N` sets N), at least 1.
int DefaultThreadCount();

/// Writes the device and server state to a safetensors file under PyTorch names (the model's
/// full state_dict, loadable with torch's load_state_dict). Throws InputError naming the file.
void SaveCheckpoint(const std::string& path, SplitModel& model);
void SaveCheckpoint(const std::string& path, Partition& model);
/// Partitions one after the other in one file (e.g. a device part and a server part). Reads only.
void SaveCheckpoint(const std::string& path, const std::vector<const Partition*>& parts);
/// Reads a safetensors file into the model; every tensor of the model must be present with the
/// right shape and dtype (F32; I64 for num_batches_tracked). Throws InputError naming the file.
void LoadCheckpoint(const std::string& path, SplitModel& model);
void LoadCheckpoint(const std::string& path, Partition& model);

} // namespace slsim

#endif
