// Conv2d by im2col + one GEMM per chunk of the batch.
//
// For a chunk of `cnt` samples the im2col matrix Cols is (cnt*P x C*K*K), col-major, P = OH*OW:
// column j = (c, kh, kw) holds, for every sample n and output position p, the input value that
// the kernel tap (kh, kw) of channel c sees at p (0 in the padding). Then
//   Y  (cnt*P x O)   = Cols * W^T          (PyTorch's OIHW weight is the col-major CKK x O W^T)
//   dW^T (CKK x O)  += Cols^T * G
//   dCols           = G * W               -> col2im -> dX
// Y's layout is [o][n][p]; it is scattered to NCHW ([n][o][p]) with the bias added. The chunk
// size bounds the im2col buffer; when the whole batch fits in one chunk the forward's Cols is
// reused by the backward.
#include "models/gemm.h"
#include "models/layers.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace slsim
{

namespace
{
// Largest im2col buffer per chunk, in floats (16 MiB): big enough that the GEMM has hundreds of
// rows even for late layers, small enough to stay friendly to the caches and to memory.
constexpr size_t MAX_COLS_FLOATS = size_t{1} << 22;
// Below this many multiply-adds per layer and batch a conv runs on one thread.
constexpr double PARALLEL_MIN_MACS = 1 << 20;
/// dst[ox * stride] += src[ox] for ox in [lo, hi); dst (dX) and src (dCols) never alias.
inline void
AddStrided(float* __restrict dst, const float* __restrict src, int lo, int hi, int stride)
{
    if (stride == 1)
    {
        for (int ox = lo; ox < hi; ++ox)
        {
            dst[ox] += src[ox];
        }
        return;
    }
    for (int ox = lo; ox < hi; ++ox)
    {
        dst[ox * stride] += src[ox];
    }
}

} // namespace

Conv2d::Conv2d(Shape input, int outChannels, int kernel, int stride, int padding, bool bias)
    : Layer(std::move(input))
    , m_o(outChannels)
    , m_k(kernel)
    , m_stride(stride)
    , m_pad(padding)
    , m_bias(bias)
{
    SLSIM_ASSERT(m_input.Rank() == 3 && kernel > 0 && stride > 0 && padding >= 0);
    m_c = static_cast<int>(m_input.dims[0]);
    m_h = static_cast<int>(m_input.dims[1]);
    m_w = static_cast<int>(m_input.dims[2]);
    m_oh = (m_h + 2 * m_pad - m_k) / m_stride + 1;
    m_ow = (m_w + 2 * m_pad - m_k) / m_stride + 1;
    SLSIM_ASSERT_MSG(m_oh > 0 && m_ow > 0, "Conv2d: input smaller than the kernel");
}

Shape
Conv2d::OutputShape() const
{
    return Shape{m_o, m_oh, m_ow};
}

size_t
Conv2d::ParameterCount() const
{
    return static_cast<size_t>(m_o) * m_c * m_k * m_k + (m_bias ? m_o : 0);
}

void
Conv2d::Bind(float* params, float* grads, float*)
{
    const size_t nw = static_cast<size_t>(m_o) * m_c * m_k * m_k;
    m_weight = params;
    m_gWeight = grads;
    m_b = m_bias ? params + nw : nullptr;
    m_gb = m_bias ? grads + nw : nullptr;
}

void
Conv2d::Init(Rng& rng)
{
    // torch.nn.Conv2d.reset_parameters: kaiming_uniform_(a = sqrt(5)) = U(-1/sqrt(fan_in), ..),
    // fan_in = C*K*K; the bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    const double bound = 1.0 / std::sqrt(static_cast<double>(m_c) * m_k * m_k);
    const size_t nw = static_cast<size_t>(m_o) * m_c * m_k * m_k;
    for (size_t i = 0; i < nw; ++i)
    {
        m_weight[i] = static_cast<float>((2.0 * rng.Uniform() - 1.0) * bound);
    }
    for (int i = 0; m_bias && i < m_o; ++i)
    {
        m_b[i] = static_cast<float>((2.0 * rng.Uniform() - 1.0) * bound);
    }
}

int
Conv2d::ChunkSize(int batch) const
{
    const size_t perSample = static_cast<size_t>(m_oh) * m_ow * m_c * m_k * m_k;
    const size_t n = std::max<size_t>(1, MAX_COLS_FLOATS / perSample);
    return static_cast<int>(std::min<size_t>(n, static_cast<size_t>(batch)));
}

void
Conv2d::Im2Col(const float* input, int first, int count, float* cols) const
{
    const int kk = m_k * m_k;
    const int ckk = m_c * kk;
    const size_t p = static_cast<size_t>(m_oh) * m_ow;
    const size_t rows = static_cast<size_t>(count) * p;
#pragma omp parallel for schedule(static) if (rows * ckk >= PARALLEL_MIN_WORK)
    for (int j = 0; j < ckk; ++j)
    {
        const int c = j / kk;
        const int kh = (j / m_k) % m_k;
        const int kw = j % m_k;
        // valid output columns: 0 <= ox*s - pad + kw < W
        const int oxLo = std::min(m_ow, std::max(0, (m_pad - kw + m_stride - 1) / m_stride));
        const int oxHi = std::max(oxLo, std::min(m_ow, (m_w + m_pad - kw - 1) / m_stride + 1));
        float* col = cols + static_cast<size_t>(j) * rows;
        for (int n = 0; n < count; ++n)
        {
            const float* plane
                = input
                  + (static_cast<size_t>(first + n) * m_c + c) * static_cast<size_t>(m_h) * m_w;
            float* dst = col + static_cast<size_t>(n) * p;
            for (int oy = 0; oy < m_oh; ++oy, dst += m_ow)
            {
                const int iy = oy * m_stride - m_pad + kh;
                if (iy < 0 || iy >= m_h)
                {
                    std::fill(dst, dst + m_ow, 0.0f);
                    continue;
                }
                const float* row = plane + static_cast<size_t>(iy) * m_w - m_pad + kw;
                std::fill(dst, dst + oxLo, 0.0f);
                if (m_stride == 1)
                {
                    std::memcpy(dst + oxLo, row + oxLo, sizeof(float) * (oxHi - oxLo));
                }
                else
                {
                    for (int ox = oxLo; ox < oxHi; ++ox)
                    {
                        dst[ox] = row[ox * m_stride];
                    }
                }
                std::fill(dst + oxHi, dst + m_ow, 0.0f);
            }
        }
    }
}

void
Conv2d::Col2Im(const float* cols, int first, int count, float* gradInput) const
{
    const size_t p = static_cast<size_t>(m_oh) * m_ow;
    const size_t rows = static_cast<size_t>(count) * p;
    const int planes = count * m_c;
#pragma omp parallel for schedule(static) if (rows * m_c * m_k * m_k >= PARALLEL_MIN_WORK)
    for (int nc = 0; nc < planes; ++nc)
    {
        const int n = nc / m_c;
        const int c = nc % m_c;
        float* plane
            = gradInput
              + (static_cast<size_t>(first + n) * m_c + c) * static_cast<size_t>(m_h) * m_w;
        std::fill(plane, plane + static_cast<size_t>(m_h) * m_w, 0.0f);
        for (int kh = 0; kh < m_k; ++kh)
        {
            for (int kw = 0; kw < m_k; ++kw)
            {
                const int j = (c * m_k + kh) * m_k + kw;
                const int oxLo
                    = std::min(m_ow, std::max(0, (m_pad - kw + m_stride - 1) / m_stride));
                const int oxHi
                    = std::max(oxLo, std::min(m_ow, (m_w + m_pad - kw - 1) / m_stride + 1));
                const float* src
                    = cols + static_cast<size_t>(j) * rows + static_cast<size_t>(n) * p;
                for (int oy = 0; oy < m_oh; ++oy, src += m_ow)
                {
                    const int iy = oy * m_stride - m_pad + kh;
                    if (iy < 0 || iy >= m_h)
                    {
                        continue;
                    }
                    AddStrided(plane + static_cast<size_t>(iy) * m_w - m_pad + kw, src, oxLo, oxHi,
                               m_stride); // dX[c, iy, ix] += dCols[(n, p), j]
                }
            }
        }
    }
}

int
Conv2d::ThreadsFor(int batch) const
{
#ifdef _OPENMP
    const double macs = static_cast<double>(batch) * m_o * m_c * m_k * m_k * m_oh * m_ow;
    if (batch >= 2 && macs >= PARALLEL_MIN_MACS && !omp_in_parallel())
    {
        return std::min(batch, std::max(1, omp_get_max_threads()));
    }
#endif
    return 1;
}

void
Conv2d::ForwardRange(int begin, int end, ThreadBuffers& tb)
{
    const int ckk = m_c * m_k * m_k;
    const size_t p = static_cast<size_t>(m_oh) * m_ow;
    const int chunk = ChunkSize(end - begin);
    float* cols = Reserve(tb.cols, static_cast<size_t>(chunk) * p * ckk);
    float* y = Reserve(tb.y, static_cast<size_t>(chunk) * p * m_o);
    float* out = m_out.data();
    for (int first = begin; first < end; first += chunk)
    {
        const int cnt = std::min(chunk, end - first);
        const auto rows = static_cast<int64_t>(cnt * p);
        Im2Col(m_x, first, cnt, cols);
        Gemm(false, false, rows, m_o, ckk, cols, rows, m_weight, ckk, y, rows,
             false); // Y = Cols W^T
        for (int n = 0; n < cnt; ++n)
        {
            for (int o = 0; o < m_o; ++o)
            {
                const float* src = y + static_cast<size_t>(o) * rows + static_cast<size_t>(n) * p;
                float* dst = out + (static_cast<size_t>(first + n) * m_o + o) * p;
                const float b = m_bias ? m_b[o] : 0.0f;
                for (size_t i = 0; i < p; ++i)
                {
                    dst[i] = src[i] + b; // out[n, o, p] = Y[(n, p), o] + b[o]
                }
            }
        }
    }
    tb.colsValid = end - begin <= chunk;
}

const float*
Conv2d::Forward(const float* input, int batch, bool)
{
    m_x = input;
    m_batch = batch;
    Reserve(m_out, static_cast<size_t>(batch) * m_o * m_oh * m_ow);
    // One parallel region per layer: each thread convolves its own contiguous range of samples
    // with its own im2col buffer and a single-threaded GEMM (one fork/join instead of several).
    const int parts = ThreadsFor(batch);
    m_parts = parts;
    if (m_threads.size() < static_cast<size_t>(parts))
    {
        m_threads.resize(static_cast<size_t>(parts));
    }
    PrepareGemmThreads(parts);
#pragma omp parallel num_threads(parts) if (parts > 1)
    {
#ifdef _OPENMP
        const int t = omp_get_thread_num();
#else
        const int t = 0;
#endif
        ForwardRange(batch * t / parts, batch * (t + 1) / parts, m_threads[static_cast<size_t>(t)]);
    }
    return m_out.data();
}

void
Conv2d::BackwardRange(int begin, int end, ThreadBuffers& tb, const float* gradOutput, float* gradIn,
                      float* gradWeight, float* gradBias)
{
    const int ckk = m_c * m_k * m_k;
    const size_t p = static_cast<size_t>(m_oh) * m_ow;
    const int chunk = ChunkSize(end - begin);
    float* cols = Reserve(tb.cols, static_cast<size_t>(chunk) * p * ckk);
    float* g = Reserve(tb.y, static_cast<size_t>(chunk) * p * m_o);
    for (int o = 0; gradBias && o < m_o; ++o)
    {
        gradBias[o] = 0.0f;
    }
    for (int first = begin; first < end; first += chunk)
    {
        const int cnt = std::min(chunk, end - first);
        const auto rows = static_cast<int64_t>(cnt * p);
        for (int n = 0; n < cnt; ++n)
        {
            for (int o = 0; o < m_o; ++o)
            {
                std::memcpy(g + static_cast<size_t>(o) * rows + static_cast<size_t>(n) * p,
                            gradOutput + (static_cast<size_t>(first + n) * m_o + o) * p,
                            sizeof(float) * p); // G[(n, p), o] = dL/dout[n, o, p]
            }
        }
        if (!tb.colsValid)
        {
            Im2Col(m_x, first, cnt, cols);
        }
        // dW^T (+)= Cols^T G
        Gemm(true, false, ckk, m_o, rows, cols, rows, g, rows, gradWeight, ckk, first > begin);
        for (int o = 0; gradBias && o < m_o; ++o)
        {
            gradBias[o] += SumFixedOrder(g + static_cast<size_t>(o) * rows,
                                         static_cast<size_t>(rows)); // db = sum_(n,p) G
        }
        if (gradIn)
        {
            Gemm(false, true, rows, ckk, m_o, g, rows, m_weight, ckk, cols, rows,
                 false); // dCols = G W
            Col2Im(cols, first, cnt, gradIn);
        }
    }
    tb.colsValid = false;
}

const float*
Conv2d::Backward(const float* gradOutput, bool needInputGradient)
{
    const int batch = m_batch;
    const int parts = m_parts;
    const size_t nw = static_cast<size_t>(m_o) * m_c * m_k * m_k;
    float* gradIn = needInputGradient
                        ? Reserve(m_gradIn, static_cast<size_t>(batch) * m_c * m_h * m_w)
                        : nullptr;
    // Thread 0 writes the gradients in place; the others into their own buffers, summed below in
    // thread order (deterministic for a given thread count).
    for (int t = 1; t < parts; ++t)
    {
        Reserve(m_threads[static_cast<size_t>(t)].gw, nw + static_cast<size_t>(m_o));
    }
    PrepareGemmThreads(parts);
#pragma omp parallel num_threads(parts) if (parts > 1)
    {
#ifdef _OPENMP
        const int t = omp_get_thread_num();
#else
        const int t = 0;
#endif
        ThreadBuffers& tb = m_threads[static_cast<size_t>(t)];
        float* gw = t == 0 ? m_gWeight : tb.gw.data();
        float* gb = m_bias ? (t == 0 ? m_gb : tb.gw.data() + nw) : nullptr;
        BackwardRange(batch * t / parts, batch * (t + 1) / parts, tb, gradOutput, gradIn, gw, gb);
    }
    if (parts > 1)
    {
        const size_t total = nw + (m_bias ? static_cast<size_t>(m_o) : 0);
#pragma omp parallel for schedule(static) if (total >= PARALLEL_MIN_WORK)
        for (size_t i = 0; i < total; ++i)
        {
            float* dst = i < nw ? m_gWeight + i : m_gb + (i - nw);
            for (int t = 1; t < parts; ++t)
            {
                *dst += m_threads[static_cast<size_t>(t)].gw[i];
            }
        }
    }
    return gradIn;
}

Flops
Conv2d::FlopsPerSample() const
{
    const double mac = static_cast<double>(m_o) * m_c * m_k * m_k * m_oh * m_ow;
    const double bias = m_bias ? static_cast<double>(m_o) * m_oh * m_ow : 0.0;
    return {2.0 * mac + bias, 4.0 * mac + bias}; // backward: dW and dX GEMMs
}

void
Conv2d::AppendTensors(std::vector<NamedTensor>& out)
{
    out.push_back(
        {TensorName("weight"), Shape{m_o, m_c, m_k, m_k}, m_weight, NamedTensor::PARAMETER});
    if (m_bias)
    {
        out.push_back({TensorName("bias"), Shape{m_o}, m_b, NamedTensor::PARAMETER});
    }
}

} // namespace slsim
