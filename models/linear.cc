// Linear layer: y = W x + b on one sample per column.
#include "models/gemm.h"
#include "models/layers.h"

#include <cmath>

namespace slsim
{

Linear::Linear(Shape input, int outFeatures, bool bias)
    : Layer(std::move(input)),
      m_in(static_cast<int>(m_input.Numel())),
      m_outFeatures(outFeatures),
      m_bias(bias)
{
    SLSIM_ASSERT(m_input.Rank() == 1 && outFeatures > 0);
}

Shape
Linear::OutputShape() const
{
    return Shape{m_outFeatures};
}

size_t
Linear::ParameterCount() const
{
    return static_cast<size_t>(m_in) * m_outFeatures + (m_bias ? m_outFeatures : 0);
}

void
Linear::Bind(float* params, float* grads, float*)
{
    m_w = params;
    m_gw = grads;
    const size_t nw = static_cast<size_t>(m_in) * m_outFeatures;
    m_b = m_bias ? params + nw : nullptr;
    m_gb = m_bias ? grads + nw : nullptr;
}

void
Linear::Init(Rng& rng)
{
    // torch.nn.Linear.reset_parameters: kaiming_uniform_(a = sqrt(5)) gives U(-1/sqrt(in), ..),
    // and the bias U(-1/sqrt(in), 1/sqrt(in)).
    const double bound = 1.0 / std::sqrt(static_cast<double>(m_in));
    for (size_t i = 0; i < static_cast<size_t>(m_in) * m_outFeatures; ++i)
    {
        m_w[i] = static_cast<float>((2.0 * rng.Uniform() - 1.0) * bound);
    }
    for (int i = 0; m_bias && i < m_outFeatures; ++i)
    {
        m_b[i] = static_cast<float>((2.0 * rng.Uniform() - 1.0) * bound);
    }
}

const float*
Linear::Forward(const float* input, int batch, bool)
{
    m_x = input;
    m_batch = batch;
    // PyTorch's out x in row-major W is the col-major in x out matrix W^T
    MapF y(Reserve(m_out, static_cast<size_t>(m_outFeatures) * batch), m_outFeatures, batch);
    Gemm(true, false, m_outFeatures, batch, m_in, m_w, m_in, input, m_in, y.data(), m_outFeatures,
         false); // Y = W X
    if (m_bias)
    {
        y.colwise() += ConstMapVF(m_b, m_outFeatures); // + b
    }
    return m_out.data();
}

const float*
Linear::Backward(const float* gradOutput, bool needInputGradient)
{
    ConstMapF g(gradOutput, m_outFeatures, m_batch);
    Gemm(false, true, m_in, m_outFeatures, m_batch, m_x, m_in, gradOutput, m_outFeatures, m_gw,
         m_in, false); // dL/dW^T = X G^T
    if (m_bias)
    {
        // dL/db = sum_n g_n, added sample by sample in a fixed order: Eigen's vectorised rowwise
        // sum peels rows by buffer alignment, which made results differ from run to run.
        MapVF gb(m_gb, m_outFeatures);
        gb.setZero();
        for (Eigen::Index n = 0; n < g.cols(); ++n)
        {
            gb += g.col(n);
        }
    }
    if (!needInputGradient)
    {
        return nullptr;
    }
    Gemm(false, false, m_in, m_batch, m_outFeatures, m_w, m_in, gradOutput, m_outFeatures,
         Reserve(m_gradIn, static_cast<size_t>(m_in) * m_batch), m_in, false); // dL/dX = W^T G
    return m_gradIn.data();
}

Flops
Linear::FlopsPerSample() const
{
    const double mac = static_cast<double>(m_in) * m_outFeatures;
    // backward: dW (one GEMM) and dX (one GEMM), each as large as the forward GEMM
    return {2.0 * mac + (m_bias ? m_outFeatures : 0), 4.0 * mac + (m_bias ? m_outFeatures : 0)};
}

void
Linear::AppendTensors(std::vector<NamedTensor>& out)
{
    out.push_back({TensorName("weight"), Shape{m_outFeatures, m_in}, m_w, NamedTensor::PARAMETER});
    if (m_bias)
    {
        out.push_back({TensorName("bias"), Shape{m_outFeatures}, m_b, NamedTensor::PARAMETER});
    }
}

} // namespace slsim
