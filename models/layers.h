// The layer types: Linear, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d (global average pool
// as a special case), Flatten, Dropout and the ResNet basic block.
//
// Layouts follow PyTorch so that checkpoints exchange directly: Linear weight is out x in
// row-major, Conv2d weight OIHW, BatchNorm2d has weight, bias, running_mean, running_var and
// num_batches_tracked.
#ifndef SLSIM_MODELS_LAYERS_H
#define SLSIM_MODELS_LAYERS_H

#include "models/gemm.h"
#include "models/layer.h"

#include <cstdint>
#include <memory>

namespace slsim
{

/// y = W x + b, W: out x in (PyTorch layout, i.e. the col-major in x out matrix W^T).
class Linear : public Layer
{
  public:
    Linear(Shape input, int outFeatures, bool bias = true);

    std::string Type() const override
    {
        return "Linear";
    }

    Shape OutputShape() const override;
    size_t ParameterCount() const override;
    void Bind(float* params, float* grads, float* buffers) override;
    void Init(Rng& rng) override;
    const float* Forward(const float* input, int batch, bool training) override;
    const float* Backward(const float* gradOutput, bool needInputGradient) override;
    Flops FlopsPerSample() const override;
    void AppendTensors(std::vector<NamedTensor>& out) override;

  private:
    int m_in;
    int m_outFeatures;
    bool m_bias;
    float* m_w = nullptr;
    float* m_b = nullptr;
    float* m_gw = nullptr;
    float* m_gb = nullptr;
    const float* m_x = nullptr;
    int m_batch = 0;
    Buffer m_out;
    Buffer m_gradIn;
};

/// 2-D convolution (square kernel, stride, zero padding) by im2col + GEMM over a chunk of the
/// batch at once: Cols (chunk*P x C*K*K) * W^T (C*K*K x O) = Y (chunk*P x O), P = OH*OW.
class Conv2d : public Layer
{
  public:
    Conv2d(Shape input, int outChannels, int kernel, int stride, int padding, bool bias);

    std::string Type() const override
    {
        return "Conv2d";
    }

    Shape OutputShape() const override;
    size_t ParameterCount() const override;
    void Bind(float* params, float* grads, float* buffers) override;
    void Init(Rng& rng) override;
    const float* Forward(const float* input, int batch, bool training) override;
    const float* Backward(const float* gradOutput, bool needInputGradient) override;
    Flops FlopsPerSample() const override;
    void AppendTensors(std::vector<NamedTensor>& out) override;

  private:
    struct GroupBuffers
    {
        Buffer cols;         // padded samples, or im2col of a chunk of samples (stride-2 backward)
        Buffer y;            // cnt*P x O GEMM output, or the padded output gradient
        Buffer g;            // cnt*P x O: the group's output gradient, [o][n][p]
        Buffer dx;           // cnt*HW x C: the group's input gradient, [c][n][hw]
        Buffer dW;           // the group's O x C*K*K weight gradient
        bool padded = false; // cols holds the group's padded samples of the last forward
    };

    void Im2Col(const float* input, int first, int count, float* cols) const;
    void Col2Im(const float* cols, int first, int count, float* gradInput) const;
    int ChunkSize(int batch) const;
    bool PerSample() const;
    const float* PaddedSample(int n, GroupBuffers& tb) const;
    const float* PaddedGroup(int first, int count, GroupBuffers& tb) const;
    int64_t GemmRows(int batch, const std::vector<int64_t>& perSample, int64_t sampleStride,
                     std::vector<int64_t>& stacked) const;
    void ForwardSamples(int begin, int end, GroupBuffers& tb);
    void BackwardSamples(int begin, int end, GroupBuffers& tb, const float* gradOutput,
                         float* gradIn, float* gradWeight, float* gradBias);
    void BackwardBatched(int begin, int end, GroupBuffers& tb, const float* gradOutput,
                         float* gradIn, float* gradWeight, float* gradBias);
    int GroupsFor(int batch) const;
    void ForwardRange(int begin, int end, GroupBuffers& tb);
    void BackwardRange(int begin, int end, GroupBuffers& tb, const float* gradOutput, float* gradIn,
                       float* gradWeight, float* gradBias);

    int m_c, m_h, m_w;
    int m_o, m_k, m_stride, m_pad, m_oh, m_ow;
    bool m_bias;
    float* m_weight = nullptr;
    float* m_b = nullptr;
    float* m_gWeight = nullptr;
    float* m_gb = nullptr;
    const float* m_x = nullptr;
    int m_batch = 0;
    int m_groups = 1; // sample groups of the last forward (the backward splits the same way)
    std::vector<GroupBuffers> m_groupBuffers;
    PackedRhs m_packedW; // the weights in the GEMM kernel's format (per-sample products)
    std::vector<int64_t> m_rowOffset; // per output position: offset in the padded sample
    std::vector<int64_t> m_colOffset; // per kernel tap (c, kh, kw): offset in the padded sample
    // stride 1: dX as an implicit GEMM over the padded output gradient (empty otherwise)
    std::vector<int64_t> m_gradRowOffset; // per input position
    std::vector<int64_t> m_gradColOffset; // per flipped tap (o, kh, kw)
    // fewer than 32 output positions: the rows of a group's stacked samples (one GEMM per group)
    std::vector<int64_t> m_batchRowOffset;
    std::vector<int64_t> m_batchGradRowOffset;
    Buffer m_weightFlip; // O*K*K x C, col-major
    Buffer m_out;
    Buffer m_gradIn;
};

/// Batch normalisation over (N, H, W) per channel, as torch.nn.BatchNorm2d (eps 1e-5,
/// momentum 0.1: running = (1 - m) running + m batch, running_var uses the unbiased variance).
class BatchNorm2d : public Layer
{
  public:
    explicit BatchNorm2d(Shape input, double momentum = 0.1, double eps = 1e-5);

    std::string Type() const override
    {
        return "BatchNorm2d";
    }

    Shape OutputShape() const override
    {
        return m_input;
    }

    size_t ParameterCount() const override;
    size_t BufferCount() const override;
    void Bind(float* params, float* grads, float* buffers) override;
    void Init(Rng& rng) override;
    const float* Forward(const float* input, int batch, bool training) override;
    const float* Backward(const float* gradOutput, bool needInputGradient) override;
    Flops FlopsPerSample() const override;
    void AppendTensors(std::vector<NamedTensor>& out) override;

    /// Fuses the ReLU that follows: Forward returns max(y, 0) and Backward takes the gradient
    /// w.r.t. that rectified output (masked here by [output > 0], as ReLU::Backward would); the
    /// ReLU layer itself then passes through (ReLU::SetPassThrough). Bit-identical to the pair.
    void FuseRelu()
    {
        m_relu = true;
    }

  private:
    int m_c;
    int m_plane; // H*W
    bool m_relu = false;
    double m_momentum, m_eps;
    float* m_gamma = nullptr;
    float* m_beta = nullptr;
    float* m_gGamma = nullptr;
    float* m_gBeta = nullptr;
    float* m_runMean = nullptr;
    float* m_runVar = nullptr;
    float* m_tracked = nullptr;
    int m_batch = 0;
    bool m_training = false;
    const float* m_x = nullptr;  // input of the last forward (xhat is recomputed from it)
    Buffer m_mean;               // per channel: the mean used to normalise (batch or running)
    std::vector<double> m_meanD; // per channel: the batch mean in double
    Buffer m_invStd;             // per channel
    Buffer m_planeSums;          // per plane (n, c): partial sums, summed per channel in n order
    Buffer m_maskedPlanes;       // fused ReLU backward: one masked gradient plane per pool slot
    Buffer m_scale;              // per channel: gamma invstd, mean g, mean g xhat (backward)
    Buffer m_out;
    Buffer m_gradIn;
};

/// y[i] = max(x[i], 0) (NaN propagates), vectorised; the buffers must not overlap.
void ReluForward(float* __restrict y, const float* __restrict x, int64_t n);
/// dx[i] = g[i] if y[i] > 0 else 0 (y: the ReLU's output), vectorised, branch-free.
void ReluBackward(float* __restrict dx, const float* __restrict g, const float* __restrict y,
                  int64_t n);

class ReLU : public Layer
{
  public:
    explicit ReLU(Shape input)
        : Layer(std::move(input))
    {
    }

    std::string Type() const override
    {
        return "ReLU";
    }

    Shape OutputShape() const override
    {
        return m_input;
    }

    const float* Forward(const float* input, int batch, bool training) override;
    const float* Backward(const float* gradOutput, bool needInputGradient) override;
    Flops FlopsPerSample() const override;

    /// The layer before has applied this ReLU (BatchNorm2d::FuseRelu): Forward returns its input
    /// and Backward its output gradient unchanged.
    void SetPassThrough()
    {
        m_passThrough = true;
    }

  private:
    int m_batch = 0;
    bool m_passThrough = false;
    Buffer m_out;
    Buffer m_gradIn;
};

/// Max pooling, square window, no padding (ties: the first maximum in scan order, as PyTorch).
class MaxPool2d : public Layer
{
  public:
    MaxPool2d(Shape input, int kernel, int stride);

    std::string Type() const override
    {
        return "MaxPool2d";
    }

    Shape OutputShape() const override;
    const float* Forward(const float* input, int batch, bool training) override;
    const float* Backward(const float* gradOutput, bool needInputGradient) override;
    Flops FlopsPerSample() const override;

  private:
    int m_c, m_h, m_w, m_k, m_stride, m_oh, m_ow;
    int m_batch = 0;
    Buffer m_out;
    std::vector<int32_t> m_argmax; // index within the input plane
    Buffer m_gradIn;
};

/// Average pooling with a kh x kw window and stride, no padding. AvgPool2d(input, H, W, 1) is the
/// global average pool (AdaptiveAvgPool2d(1)).
class AvgPool2d : public Layer
{
  public:
    AvgPool2d(Shape input, int kernelH, int kernelW, int stride);
    static std::unique_ptr<AvgPool2d> Global(const Shape& input);

    std::string Type() const override
    {
        return "AvgPool2d";
    }

    Shape OutputShape() const override;
    const float* Forward(const float* input, int batch, bool training) override;
    const float* Backward(const float* gradOutput, bool needInputGradient) override;
    Flops FlopsPerSample() const override;

  private:
    int m_c, m_h, m_w, m_kh, m_kw, m_stride, m_oh, m_ow;
    int m_batch = 0;
    Buffer m_out;
    Buffer m_gradIn;
};

/// CxHxW -> C*H*W; the NCHW buffer is passed through unchanged.
class Flatten : public Layer
{
  public:
    explicit Flatten(Shape input)
        : Layer(std::move(input))
    {
    }

    std::string Type() const override
    {
        return "Flatten";
    }

    Shape OutputShape() const override
    {
        return Shape{m_input.Numel()};
    }

    const float* Forward(const float* input, int, bool) override
    {
        return input;
    }

    const float* Backward(const float* gradOutput, bool needInputGradient) override
    {
        return needInputGradient ? gradOutput : nullptr;
    }

    Flops FlopsPerSample() const override
    {
        return {};
    }
};

/// Inverted dropout (PyTorch): training keeps each value with probability 1 - p and scales it by
/// 1 / (1 - p); eval is the identity. Masks come from the layer's own seeded stream.
class Dropout : public Layer
{
  public:
    Dropout(Shape input, double p, uint64_t seed, uint64_t streamIndex);

    std::string Type() const override
    {
        return "Dropout";
    }

    Shape OutputShape() const override
    {
        return m_input;
    }

    const float* Forward(const float* input, int batch, bool training) override;
    const float* Backward(const float* gradOutput, bool needInputGradient) override;
    Flops FlopsPerSample() const override;

    Rng* RandomStream() override
    {
        return &m_rng;
    }

    /// Tests: reuse the last mask instead of drawing a new one (for numerical gradient checks).
    void FreezeMask(bool frozen)
    {
        m_frozen = frozen;
    }

  private:
    double m_p;
    Rng m_rng;
    bool m_frozen = false;
    bool m_training = false;
    int m_batch = 0;
    Buffer m_mask; // 0 or 1/(1-p)
    Buffer m_out;
    Buffer m_gradIn;
};

/// ResNet basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), shortcut = identity
/// or conv1x1(stride)-BN ("downsample.0/1") when the shape changes. plain = true gives the paper's
/// shallow-cut block: bn2(conv2(bn1(conv1(x)))) then ReLU, with no skip and no middle ReLU.
class BasicBlock : public Layer
{
  public:
    BasicBlock(Shape input, int planes, int stride, bool plain = false);

    std::string Type() const override
    {
        return m_plain ? "PlainBlock" : "BasicBlock";
    }

    Shape OutputShape() const override;
    size_t ParameterCount() const override;
    size_t BufferCount() const override;
    void Bind(float* params, float* grads, float* buffers) override;
    void Init(Rng& rng) override;
    const float* Forward(const float* input, int batch, bool training) override;
    const float* Backward(const float* gradOutput, bool needInputGradient) override;
    Flops FlopsPerSample() const override;
    void AppendTensors(std::vector<NamedTensor>& out) override;

  protected:
    void OnModuleName() override;

  private:
    bool m_plain;
    int64_t m_outNumel; // per sample (cached: Shape copies would allocate in the hot path)
    std::unique_ptr<Conv2d> m_conv1;
    std::unique_ptr<BatchNorm2d> m_bn1;
    std::unique_ptr<ReLU> m_relu1;
    std::unique_ptr<Conv2d> m_conv2;
    std::unique_ptr<BatchNorm2d> m_bn2;
    std::unique_ptr<Conv2d> m_dsConv; // null: identity shortcut
    std::unique_ptr<BatchNorm2d> m_dsBn;
    const float* m_x = nullptr;
    int m_batch = 0;
    Buffer m_out;
    Buffer m_gradOut; // gradient after the final ReLU
    Buffer m_gradIn;
};

} // namespace slsim

#endif
