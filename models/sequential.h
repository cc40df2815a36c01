// Sequential: a Partition made of layers, with one flat parameter buffer, one flat gradient
// buffer, one flat buffer of running statistics and its own optimizer.
#ifndef SLSIM_MODELS_SEQUENTIAL_H
#define SLSIM_MODELS_SEQUENTIAL_H

#include "models/layer.h"
#include "models/optimizer.h"

#include <memory>
#include <vector>

namespace slsim
{

class Sequential : public Partition
{
  public:
    /// Takes the layers (non-empty, each one's input shape the previous one's output shape) and
    /// binds them to freshly allocated flat buffers (zero until InitParameters).
    Sequential(std::vector<std::unique_ptr<Layer>> layers, const OptimizerConfig& opt);

    /// PyTorch default init of every layer in order, drawing from `rng`.
    void InitParameters(Rng& rng);

    Shape InputShape() const override;
    Shape OutputShape() const override;
    const float* Forward(const float* input, int batch, bool training) override;
    const float* Backward(const float* gradOutput) override;
    void Step() override;
    void SetLearningRate(double lr) override;
    size_t ParameterCount() const override;
    size_t StateSize() const override;
    void GetState(float* out) const override;
    void SetState(const float* in) override;
    Flops FlopsPerSample() const override;
    void SaveTrainingState(ByteWriter& out) const override;
    void LoadTrainingState(ByteReader& in) override;

    void SetInputGradientNeeded(bool needed) override
    {
        m_needInputGradient = needed;
    }

    const float* Parameters() const override
    {
        return m_params.data();
    }

    const float* Gradients() const override
    {
        return m_grads.data();
    }

    std::vector<NamedTensor> NamedTensors() override;
    std::string Summary() const override;

    size_t LayerCount() const
    {
        return m_layers.size();
    }

    Layer& GetLayer(size_t i)
    {
        return *m_layers[i];
    }

    float* MutableParameters()
    {
        return m_params.data();
    }

  private:
    std::vector<std::unique_ptr<Layer>> m_layers;
    std::vector<float> m_params;
    std::vector<float> m_grads;
    std::vector<float> m_buffers;
    Optimizer m_optimizer;
    bool m_needInputGradient = true;
    int m_batch = 0;
};

} // namespace slsim

#endif
