// The layer interface of the engine (Eigen inside; not for simulator translation units).
//
// A layer maps a batch of NCHW samples to a batch of outputs. Data are float32; a batch of N
// samples of shape CxHxW is the col-major (C*H*W x N) matrix whose column n is sample n, which is
// exactly the NCHW buffer (MiniDNN's one-sample-per-column convention).
//
// Parameters of all layers of a partition live in one flat buffer (and their gradients in a
// second one) that layers alias through Bind (mlpack style): optimizer steps, hand-off and
// averaging work on the flat buffer. Non-trainable state (BN running statistics) lives in a third
// flat buffer. Each layer owns its output and input-gradient buffers; they grow to the largest
// batch seen and are reused, so steady-state steps do not allocate.
#ifndef SLSIM_MODELS_LAYER_H
#define SLSIM_MODELS_LAYER_H

#include "common/error.h"
#include "common/rng.h"
#include "common/shape.h"
#include "models/split-model.h"
#include "models/thread-pool.h"

#include <Eigen/Core>
#include <string>
#include <vector>

namespace slsim
{

using MatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using VectorF = Eigen::Matrix<float, Eigen::Dynamic, 1>;
using MapF = Eigen::Map<MatrixF>;
using ConstMapF = Eigen::Map<const MatrixF>;
using MapVF = Eigen::Map<VectorF>;
using ConstMapVF = Eigen::Map<const VectorF>;

/// Sum of v[0..n) in an order that depends only on n (8 interleaved partial sums, combined
/// pairwise), so results are bit-reproducible whatever the buffer's alignment; still vectorisable.
inline float
SumFixedOrder(const float* v, size_t n)
{
    float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
    {
        for (int j = 0; j < 8; ++j)
        {
            lane[j] += v[i + static_cast<size_t>(j)];
        }
    }
    for (; i < n; ++i)
    {
        lane[i % 8] += v[i];
    }
    return ((lane[0] + lane[4]) + (lane[1] + lane[5]))
           + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

/// Activation and gradient buffers: aligned to EIGEN_MAX_ALIGN_BYTES so that Eigen's vectorised
/// reductions (which peel to the first aligned element) sum in the same order in every model
/// instance; split and unsplit models then produce bit-identical results.
using Buffer = std::vector<float, Eigen::aligned_allocator<float>>;

/// Grows `v` to at least n elements (never shrinks, so a smaller batch does not reallocate later).
inline float*
Reserve(Buffer& v, size_t n)
{
    if (v.size() < n)
    {
        v.resize(n);
    }
    return v.data();
}

class Layer
{
  public:
    explicit Layer(Shape input)
        : m_input(std::move(input))
    {
    }

    virtual ~Layer() = default;
    Layer(const Layer&) = delete;
    Layer& operator=(const Layer&) = delete;

    /// "Conv2d", "BatchNorm2d", ...
    virtual std::string Type() const = 0;

    const Shape& InputShape() const
    {
        return m_input;
    }

    virtual Shape OutputShape() const = 0;

    /// Trainable parameters and non-trainable state (running statistics) counts, in floats.
    virtual size_t ParameterCount() const
    {
        return 0;
    }

    virtual size_t BufferCount() const
    {
        return 0;
    }

    /// Aliases this layer's slices of the partition's flat buffers.
    virtual void Bind(float* /*params*/, float* /*grads*/, float* /*buffers*/)
    {
    }

    /// PyTorch's default initialisation for the module type, drawn from `rng`.
    virtual void Init(Rng& /*rng*/)
    {
    }

    /// The layer's own random stream, if it draws during training (dropout masks); saved and
    /// restored by run-state checkpoints (Partition::SaveTrainingState).
    virtual Rng* RandomStream()
    {
        return nullptr;
    }

    /// Forward pass over `batch` samples; keeps `input` (the caller keeps it alive until Backward).
    /// Returns the output, owned by the layer, valid until the next Forward.
    virtual const float* Forward(const float* input, int batch, bool training) = 0;
    /// Backward pass for the last Forward: overwrites the parameter gradients and returns the
    /// gradient w.r.t. the input (owned by the layer), or nullptr when !needInputGradient.
    virtual const float* Backward(const float* gradOutput, bool needInputGradient) = 0;
    /// FLOPs per sample (a multiply-add counts as 2).
    virtual Flops FlopsPerSample() const = 0;

    /// The layer's state tensors under "<module name>.<tensor>", PyTorch order.
    virtual void AppendTensors(std::vector<NamedTensor>& /*out*/)
    {
    }

    /// Module path used for checkpoint names ("features.0", "layer1.0").
    void SetModuleName(const std::string& name)
    {
        m_moduleName = name;
        OnModuleName();
    }

    const std::string& ModuleName() const
    {
        return m_moduleName;
    }

  protected:
    virtual void OnModuleName()
    {
    }

    std::string TensorName(const char* leaf) const
    {
        return m_moduleName.empty() ? std::string(leaf) : m_moduleName + "." + leaf;
    }

    Shape m_input;
    std::string m_moduleName;
};

} // namespace slsim

#endif
