// Conv2d as implicit GEMMs: the im2col matrix is never written, the GEMM packs it straight from
// the zero-padded input through offset tables (GatherMatrix).
//
// The im2col matrix of `cnt` samples, Cols (cnt*P x C*K*K), P = OH*OW: row (n, oy, ox), column
// j = (c, kh, kw) holds the input value that the kernel tap (kh, kw) of channel c sees at output
// (oy, ox) of sample n (0 in the padding). Then
//   Y  (cnt*P x O)   = b + Cols * W^T      (PyTorch's OIHW weight is the col-major CKK x O W^T)
//   dW (O x CKK)     = G^T * Cols
//   dX               = Gcols * Wflip       (stride 1: the output gradient padded by K-1-pad
//                                           against the flipped kernels; no col2im)
// With >= 32 output positions the products are per sample (cnt = 1) and read and write the NCHW
// planes in place. With fewer (late 4x4 and 2x2 layers) a group of samples is one product whose
// Y ([o][n][p]) and dX ([c][n][hw]) are copied to NCHW and whose G is copied from it: copies of
// one tensor each, where im2col + col2im moved K*K times that. Stride 2 keeps dCols = G W and a
// col2im scatter for dX.
//
// Threads (issue 14): the batch is split into groups whose number depends only on the layer and
// the batch size (never on the thread count); each group is one task of the pool with its own
// buffers, and the weight gradients of the groups are summed in group order. Results are then
// bit-identical for any thread count.
#include "models/gemm.h"
#include "models/layers.h"
#include "models/thread-pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace slsim
{

namespace
{
// Largest im2col buffer per chunk, in floats (8 MiB): big enough that the GEMM has hundreds of
// rows even for late layers, small enough to stay friendly to the caches and to memory (one per
// group, MAX_GROUPS groups).
constexpr size_t MAX_COLS_FLOATS = size_t{1} << 21;
// Below this many multiply-adds per layer and batch a conv is one group (one task).
constexpr double PARALLEL_MIN_MACS = 1 << 20;
// Most groups a batch is split into: 4 keeps two threads balanced when one of them gets less CPU
// (it takes fewer groups) while the per-group GEMMs stay large; the weight-gradient reduction
// costs (groups - 1) passes over the weights.
constexpr int MAX_GROUPS = 4;
// Fewest GEMM rows (samples x output positions) per group: below it, groups are merged (late
// layers with 2x2 outputs would otherwise run 4 tiny GEMMs).
constexpr int64_t MIN_GROUP_ROWS = 128;
// Output positions (OH*OW) from which a conv multiplies sample by sample, straight from and into
// the NCHW buffers with the weights packed once; below it, per-sample products are too thin for
// the GEMM kernel (24-row panels) and a chunk of samples is one GEMM with its result scattered.
constexpr int64_t PER_SAMPLE_MIN_POSITIONS = 32;

/// Per-group weight and bias gradients of groups 1.. (group 0 writes in place), shared by all
/// layers: a layer's backward sums them before it returns.
Buffer&
GroupGradients()
{
    static Buffer g;
    return g;
}

/// dst[i] += src[i] for i in [0, n)
void
AddInto(float* __restrict dst, const float* __restrict src, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
    {
        dst[i] += src[i];
    }
}

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

/// dst[j + i ld] = src[i + j m] for i < m, j < n (dst = src^T, src col-major m x n), in 8 x 8
/// tiles: the weight gradient's OIHW layout from the GEMM's O x CKK result, where a plain loop
/// wrote one element per cache line.
void
TransposeInto(float* __restrict dst, int64_t ld, const float* __restrict src, int64_t m, int64_t n)
{
    constexpr int64_t TILE = 8;
    for (int64_t j0 = 0; j0 < n; j0 += TILE)
    {
        const int64_t j1 = std::min(n, j0 + TILE);
        for (int64_t i0 = 0; i0 < m; i0 += TILE)
        {
            const int64_t i1 = std::min(m, i0 + TILE);
            for (int64_t i = i0; i < i1; ++i)
            {
                for (int64_t j = j0; j < j1; ++j)
                {
                    dst[j + i * ld] = src[i + j * m];
                }
            }
        }
    }
}

/// dst (channels x (h + 2 pad) x (w + 2 pad)) = x (channels x h x w) with a zero border.
void
PadPlanes(const float* x, int channels, int h, int w, int pad, float* dst)
{
    const size_t wp = static_cast<size_t>(w) + 2 * static_cast<size_t>(pad);
    const size_t hp = static_cast<size_t>(h) + 2 * static_cast<size_t>(pad);
    if (w < 8)
    {
        // narrow planes (4x4, 2x2 layers): one pass of selects; memset/memcpy calls of a few
        // floats each cost more than the copy
        for (int c = 0; c < channels; ++c)
        {
            const float* plane = x + static_cast<size_t>(c) * h * w;
            float* out = dst + static_cast<size_t>(c) * hp * wp;
            for (int py = 0; py < static_cast<int>(hp); ++py)
            {
                const int iy = py - pad;
                const bool rowIn = iy >= 0 && iy < h;
                const float* row = plane + static_cast<ptrdiff_t>(rowIn ? iy : 0) * w;
                for (int px = 0; px < static_cast<int>(wp); ++px)
                {
                    const int ix = px - pad;
                    const bool in = rowIn && ix >= 0 && ix < w;
                    out[static_cast<size_t>(py) * wp + px] = in ? row[in ? ix : 0] : 0.0f;
                }
            }
        }
        return;
    }
    // one memset of the whole padded tensor, then the rows copied 8 floats at a time inline: a
    // fill + memcpy + fill per row of 8-32 floats spent more in libc calls than in copying
    std::memset(dst, 0, sizeof(float) * static_cast<size_t>(channels) * hp * wp);
    for (int c = 0; c < channels; ++c)
    {
        float* plane = dst + static_cast<size_t>(c) * hp * wp;
        for (int iy = 0; iy < h; ++iy)
        {
            float* row = plane + (static_cast<size_t>(iy) + static_cast<size_t>(pad)) * wp + pad;
            const float* src = x + (static_cast<size_t>(c) * h + iy) * w;
            int ix = 0;
            for (; ix + 8 <= w; ix += 8)
            {
                std::memcpy(row + ix, src + ix, 8 * sizeof(float)); // one vector move
            }
            if (ix < w)
            {
                // the last 8 floats again (w >= 8): overlaps, no tail loop
                std::memcpy(row + w - 8, src + w - 8, 8 * sizeof(float));
            }
        }
    }
}

/// Offsets of a conv's implicit im2col matrix in a padded (channels x hp x wp) tensor: rows =
/// output positions (oy, ox) -> oy s wp + ox s, columns = taps (c, kh, kw) -> (c hp + kh) wp + kw.
void
ImplicitOffsets(int oh, int ow, int stride, int channels, int k, int64_t hp, int64_t wp,
                std::vector<int64_t>& rows, std::vector<int64_t>& cols)
{
    for (int oy = 0; oy < oh; ++oy)
    {
        for (int ox = 0; ox < ow; ++ox)
        {
            rows.push_back(static_cast<int64_t>(oy) * stride * wp
                           + static_cast<int64_t>(ox) * stride);
        }
    }
    for (int c = 0; c < channels; ++c)
    {
        for (int kh = 0; kh < k; ++kh)
        {
            for (int kw = 0; kw < k; ++kw)
            {
                cols.push_back((c * hp + kh) * wp + kw);
            }
        }
    }
}

} // namespace

Conv2d::Conv2d(Shape input, int outChannels, int kernel, int stride, int padding, bool bias)
    : Layer(std::move(input)),
      m_o(outChannels),
      m_k(kernel),
      m_stride(stride),
      m_pad(padding),
      m_bias(bias)
{
    SLSIM_ASSERT(m_input.Rank() == 3 && kernel > 0 && stride > 0 && padding >= 0);
    m_c = static_cast<int>(m_input.dims[0]);
    m_h = static_cast<int>(m_input.dims[1]);
    m_w = static_cast<int>(m_input.dims[2]);
    m_oh = (m_h + 2 * m_pad - m_k) / m_stride + 1;
    m_ow = (m_w + 2 * m_pad - m_k) / m_stride + 1;
    SLSIM_ASSERT_MSG(m_oh > 0 && m_ow > 0, "Conv2d: input smaller than the kernel");
    // Cols_n (P x C*K*K) read in place from the zero-padded sample (implicit GEMM):
    // Cols_n[(oy, ox), (c, kh, kw)] = padded[c][oy s + kh][ox s + kw]
    ImplicitOffsets(m_oh, m_ow, m_stride, m_c, m_k, m_h + 2 * m_pad, m_w + 2 * m_pad, m_rowOffset,
                    m_colOffset);
    if (m_stride == 1 && m_pad <= m_k - 1)
    {
        // stride 1: dX is the convolution of G zero-padded by K-1-pad with the flipped kernels,
        // dX_n[(iy, ix), c] = sum_(o, kh, kw) Gpad[o][iy + kh][ix + kw] W[o][c][K-1-kh][K-1-kw]
        const int q = m_k - 1 - m_pad;
        ImplicitOffsets(m_h, m_w, 1, m_o, m_k, m_oh + 2 * q, m_ow + 2 * q, m_gradRowOffset,
                        m_gradColOffset);
    }
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
    ParallelFor(0, ckk, rows * ckk, [&](int64_t jj) {
        const int j = static_cast<int>(jj);
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
    });
}

void
Conv2d::Col2Im(const float* cols, int first, int count, float* gradInput) const
{
    const size_t p = static_cast<size_t>(m_oh) * m_ow;
    const size_t rows = static_cast<size_t>(count) * p;
    const int planes = count * m_c;
    ParallelFor(0, planes, rows * m_c * m_k * m_k, [&](int64_t ncc) {
        const int nc = static_cast<int>(ncc);
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
    });
}

int
Conv2d::GroupsFor(int batch) const
{
    // depends on the layer and the batch only, never on the thread count (see the top)
    const double macs = static_cast<double>(batch) * m_o * m_c * m_k * m_k * m_oh * m_ow;
    if (batch < 2 || macs < PARALLEL_MIN_MACS)
    {
        return 1;
    }
    const int64_t rows = static_cast<int64_t>(batch) * m_oh * m_ow;
    const auto byRows = static_cast<int>(std::max<int64_t>(1, rows / MIN_GROUP_ROWS));
    return std::min({batch, MAX_GROUPS, byRows});
}

bool
Conv2d::PerSample() const
{
    return static_cast<int64_t>(m_oh) * m_ow >= PER_SAMPLE_MIN_POSITIONS;
}

const float*
Conv2d::PaddedSample(int n, GroupBuffers& tb) const
{
    const float* x = m_x + static_cast<size_t>(n) * m_c * m_h * m_w;
    if (m_pad == 0)
    {
        return x;
    }
    float* dst = Reserve(tb.cols, static_cast<size_t>(m_c) * (m_h + 2 * m_pad) * (m_w + 2 * m_pad));
    PadPlanes(x, m_c, m_h, m_w, m_pad, dst);
    return dst;
}

int64_t
Conv2d::GemmRows(int batch, const std::vector<int64_t>& perSample, int64_t sampleStride,
                 std::vector<int64_t>& stacked) const
{
    const auto positions = static_cast<int64_t>(perSample.size());
    if (PerSample())
    {
        return positions;
    }
    // the largest group: batch * (g + 1) / groups - batch * g / groups <= ceil(batch / groups)
    const int64_t count = (batch + m_groups - 1) / m_groups;
    if (static_cast<int64_t>(stacked.size()) != count * positions)
    {
        stacked.clear();
        for (int64_t n = 0; n < count; ++n)
        {
            for (const int64_t r : perSample)
            {
                stacked.push_back(n * sampleStride + r); // sample n's rows, strictly increasing
            }
        }
    }
    return count * positions;
}

void
Conv2d::ForwardSamples(int begin, int end, GroupBuffers& tb)
{
    const size_t p = static_cast<size_t>(m_oh) * m_ow;
    for (int n = begin; n < end; ++n)
    {
        // out_n (P x O, ld P: the sample's NCHW planes) = b + Cols_n W^T, Cols_n read in place
        const GatherMatrix cols{PaddedSample(n, tb), m_rowOffset.data(), m_colOffset.data()};
        float* dst = m_out.data() + static_cast<size_t>(n) * m_o * p;
        for (int o = 0; o < m_o; ++o)
        {
            std::fill(dst + o * p, dst + (o + 1) * p, m_bias ? m_b[o] : 0.0f);
        }
        m_packedW.MultiplyAdd(cols, dst, static_cast<int64_t>(p));
    }
}

void
Conv2d::BackwardSamples(int begin, int end, GroupBuffers& tb, const float* gradOutput,
                        float* gradIn, float* gradWeight, float* gradBias)
{
    const int64_t ckk = static_cast<int64_t>(m_c) * m_k * m_k;
    const size_t p = static_cast<size_t>(m_oh) * m_ow;
    const auto ip = static_cast<int64_t>(p);
    float* dCols
        = gradIn && m_gradRowOffset.empty() ? Reserve(tb.y, p * static_cast<size_t>(ckk)) : nullptr;
    float* dW = Reserve(tb.dW, static_cast<size_t>(ckk) * m_o);
    for (int o = 0; gradBias && o < m_o; ++o)
    {
        gradBias[o] = 0.0f;
    }
    for (int n = begin; n < end; ++n)
    {
        const GatherMatrix cols{PaddedSample(n, tb), m_rowOffset.data(), m_colOffset.data()};
        // G_n (P x O, ld P) is the sample's NCHW output gradient, read in place
        const float* gn = gradOutput + static_cast<size_t>(n) * m_o * p;
        // dW (O x CKK) (+)= G_n^T Cols_n (the gathered Cols_n is the GEMM's packed right side)
        GemmGatheredRhs(true, m_o, ckk, ip, gn, ip, cols, dW, m_o, n > begin);
        for (int o = 0; gradBias && o < m_o; ++o)
        {
            gradBias[o] += SumFixedOrder(gn + o * p, p); // db = sum_(n,p) G
        }
        if (gradIn && !m_gradRowOffset.empty())
        {
            // dX_n (HW x C, ld HW: the sample's NCHW planes) = Gcols_n Wflip, implicit GEMM
            const int q = m_k - 1 - m_pad;
            const float* gp = gn;
            if (q > 0)
            {
                float* buf
                    = Reserve(tb.y, static_cast<size_t>(m_o) * (m_oh + 2 * q) * (m_ow + 2 * q));
                PadPlanes(gn, m_o, m_oh, m_ow, q, buf);
                gp = buf;
            }
            const GatherMatrix gcols{gp, m_gradRowOffset.data(), m_gradColOffset.data()};
            const size_t hw = static_cast<size_t>(m_h) * m_w;
            float* dx = gradIn + static_cast<size_t>(n) * m_c * hw;
            std::fill(dx, dx + m_c * hw, 0.0f);
            m_packedW.MultiplyAdd(gcols, dx, static_cast<int64_t>(hw));
        }
        else if (gradIn)
        {
            std::fill(dCols, dCols + p * static_cast<size_t>(ckk), 0.0f);
            m_packedW.MultiplyAdd(false, gn, ip, dCols, ip); // dCols_n = G_n W
            Col2Im(dCols, n, 1, gradIn);
        }
    }
    TransposeInto(gradWeight, ckk, dW, m_o, ckk); // OIHW = dW^T, col-major CKK x O
}

const float*
Conv2d::PaddedGroup(int first, int count, GroupBuffers& tb) const
{
    const float* x = m_x + static_cast<size_t>(first) * m_c * m_h * m_w;
    if (m_pad == 0)
    {
        return x;
    }
    float* dst = Reserve(tb.cols,
                         static_cast<size_t>(count) * m_c * (m_h + 2 * m_pad) * (m_w + 2 * m_pad));
    PadPlanes(x, count * m_c, m_h, m_w, m_pad, dst); // the group's planes are contiguous
    return dst;
}

void
Conv2d::ForwardRange(int begin, int end, GroupBuffers& tb)
{
    if (PerSample())
    {
        ForwardSamples(begin, end, tb);
        return;
    }
    // Few output positions: the whole group is one implicit GEMM, rows (n, oy, ox) of the
    // stacked padded samples, Y (cnt*P x O, col-major: [o][n][p]) = b + Cols W^T
    const int cnt = end - begin;
    const size_t p = static_cast<size_t>(m_oh) * m_ow;
    const size_t rows = static_cast<size_t>(cnt) * p;
    float* y = Reserve(tb.y, rows * static_cast<size_t>(m_o));
    for (int o = 0; o < m_o; ++o)
    {
        std::fill(y + o * rows, y + (o + 1) * rows, m_bias ? m_b[o] : 0.0f);
    }
    const GatherMatrix cols{PaddedGroup(begin, cnt, tb), m_batchRowOffset.data(),
                            m_colOffset.data()};
    tb.padded = true;
    m_packedW.MultiplyAdd(cols, static_cast<int64_t>(rows), y, static_cast<int64_t>(rows));
    float* out = m_out.data() + static_cast<size_t>(begin) * m_o * p;
    for (int n = 0; n < cnt; ++n)
    {
        for (int o = 0; o < m_o; ++o)
        {
            const float* src = y + o * rows + n * p;
            float* dst = out + (static_cast<size_t>(n) * m_o + o) * p;
            std::copy(src, src + p, dst); // out[n, o, p] = Y[(n, p), o]
        }
    }
}

const float*
Conv2d::Forward(const float* input, int batch, bool)
{
    m_x = input;
    m_batch = batch;
    Reserve(m_out, static_cast<size_t>(batch) * m_o * m_oh * m_ow);
    // One task per group of samples: its own im2col buffer and a single-threaded GEMM (one
    // fork/join per layer). A single group parallelises inside (im2col, GEMM tiles).
    const int groups = GroupsFor(batch);
    m_groups = groups;
    if (m_groupBuffers.size() < static_cast<size_t>(groups))
    {
        m_groupBuffers.resize(static_cast<size_t>(groups));
    }
    PrepareGemmThreads(groups); // one GEMM workspace per group (task)
    const int64_t rows = GemmRows(batch, m_rowOffset,
                                  static_cast<int64_t>(m_c) * (m_h + 2 * m_pad) * (m_w + 2 * m_pad),
                                  m_batchRowOffset);
    // W^T (C*K*K x O, col-major: the OIHW buffer) packed once for all samples
    const int64_t ckk = static_cast<int64_t>(m_c) * m_k * m_k;
    m_packedW.Pack(false, rows, m_o, ckk, m_weight, ckk);
    RunTasks(groups, [&](int64_t g, int) {
        const auto begin = static_cast<int>(batch * g / groups);
        const auto end = static_cast<int>(batch * (g + 1) / groups);
        ForwardRange(begin, end, m_groupBuffers[static_cast<size_t>(g)]);
    });
    return m_out.data();
}

void
Conv2d::BackwardBatched(int begin, int end, GroupBuffers& tb, const float* gradOutput,
                        float* gradIn, float* gradWeight, float* gradBias)
{
    const int cnt = end - begin;
    const int64_t ckk = static_cast<int64_t>(m_c) * m_k * m_k;
    const size_t p = static_cast<size_t>(m_oh) * m_ow;
    const size_t rows = static_cast<size_t>(cnt) * p;
    const auto ir = static_cast<int64_t>(rows);
    const float* go = gradOutput + static_cast<size_t>(begin) * m_o * p;
    float* g = Reserve(tb.g, rows * static_cast<size_t>(m_o));
    for (int n = 0; n < cnt; ++n)
    {
        for (int o = 0; o < m_o; ++o)
        {
            const float* src = go + (static_cast<size_t>(n) * m_o + o) * p;
            std::copy(src, src + p, g + o * rows + n * p); // G[(n, p), o] = dL/dout[n, o, p]
        }
    }
    // dW (O x CKK) = G^T Cols, the group's Cols gathered from its padded samples
    // the forward's padded samples when they are still there
    const float* padded = tb.padded && m_pad > 0 ? tb.cols.data() : PaddedGroup(begin, cnt, tb);
    const GatherMatrix cols{padded, m_batchRowOffset.data(), m_colOffset.data()};
    float* dW = Reserve(tb.dW, static_cast<size_t>(ckk) * m_o);
    GemmGatheredRhs(true, m_o, ckk, ir, g, ir, cols, dW, m_o, false);
    TransposeInto(gradWeight, ckk, dW, m_o, ckk); // OIHW = dW^T, col-major CKK x O
    for (int o = 0; gradBias && o < m_o; ++o)
    {
        gradBias[o] = SumFixedOrder(g + o * rows, rows); // db = sum_(n,p) G
    }
    if (!gradIn)
    {
        return;
    }
    // dX (cnt*HW x C, col-major: [c][n][hw]) = Gcols Wflip, rows (n, iy, ix) of the stacked
    // output gradients padded by K-1-pad (stride 1, see the constructor)
    const int q = m_k - 1 - m_pad;
    const float* gp = go;
    if (q > 0)
    {
        float* buf
            = Reserve(tb.y, rows / p * static_cast<size_t>(m_o) * (m_oh + 2 * q) * (m_ow + 2 * q));
        PadPlanes(go, cnt * m_o, m_oh, m_ow, q, buf);
        gp = buf;
    }
    const GatherMatrix gcols{gp, m_batchGradRowOffset.data(), m_gradColOffset.data()};
    const size_t hw = static_cast<size_t>(m_h) * m_w;
    const size_t xrows = static_cast<size_t>(cnt) * hw;
    float* dx = Reserve(tb.dx, xrows * static_cast<size_t>(m_c));
    std::fill(dx, dx + xrows * static_cast<size_t>(m_c), 0.0f);
    m_packedW.MultiplyAdd(gcols, static_cast<int64_t>(xrows), dx, static_cast<int64_t>(xrows));
    float* gi = gradIn + static_cast<size_t>(begin) * m_c * hw;
    for (int n = 0; n < cnt; ++n)
    {
        for (int c = 0; c < m_c; ++c)
        {
            const float* src = dx + c * xrows + n * hw;
            std::copy(src, src + hw, gi + (static_cast<size_t>(n) * m_c + c) * hw);
        }
    }
}

void
Conv2d::BackwardRange(int begin, int end, GroupBuffers& tb, const float* gradOutput, float* gradIn,
                      float* gradWeight, float* gradBias)
{
    const int ckk = m_c * m_k * m_k;
    const size_t p = static_cast<size_t>(m_oh) * m_ow;
    const int chunk = ChunkSize(end - begin);
    if (PerSample())
    {
        BackwardSamples(begin, end, tb, gradOutput, gradIn, gradWeight, gradBias);
        return;
    }
    if (!gradIn || !m_gradRowOffset.empty())
    {
        BackwardBatched(begin, end, tb, gradOutput, gradIn, gradWeight, gradBias);
        return;
    }
    // Few output positions and stride 2: im2col over chunks of samples, one GEMM each, dCols
    // scattered back by col2im
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
        Im2Col(m_x, first, cnt, cols);
        tb.padded = false;
        for (int n = 0; n < cnt; ++n)
        {
            for (int o = 0; o < m_o; ++o)
            {
                std::memcpy(g + static_cast<size_t>(o) * rows + static_cast<size_t>(n) * p,
                            gradOutput + (static_cast<size_t>(first + n) * m_o + o) * p,
                            sizeof(float) * p); // G[(n, p), o] = dL/dout[n, o, p]
            }
        }
        // dW^T (+)= Cols^T G
        Gemm(true, false, ckk, m_o, rows, cols, rows, g, rows, gradWeight, ckk, first > begin);
        for (int o = 0; gradBias && o < m_o; ++o)
        {
            gradBias[o] += SumFixedOrder(g + static_cast<size_t>(o) * rows,
                                         static_cast<size_t>(rows)); // db = sum_(n,p) G
        }
        Gemm(false, true, rows, ckk, m_o, g, rows, m_weight, ckk, cols, rows,
             false); // dCols = G W
        Col2Im(cols, first, cnt, gradIn);
    }
}

const float*
Conv2d::Backward(const float* gradOutput, bool needInputGradient)
{
    const int batch = m_batch;
    const int groups = m_groups;
    const size_t nw = static_cast<size_t>(m_o) * m_c * m_k * m_k;
    const size_t stride = nw + static_cast<size_t>(m_o); // one group's weight and bias gradients
    float* gradIn = needInputGradient
                        ? Reserve(m_gradIn, static_cast<size_t>(batch) * m_c * m_h * m_w)
                        : nullptr;
    // Group 0 writes the gradients in place; the others into the shared scratch, summed below in
    // group order.
    float* scratch = Reserve(GroupGradients(), static_cast<size_t>(groups - 1) * stride);
    PrepareGemmThreads(groups); // one GEMM workspace per group (task)
    const int64_t ckk = static_cast<int64_t>(m_c) * m_k * m_k;
    if (gradIn && !m_gradRowOffset.empty())
    {
        // Wflip (O*K*K x C): Wflip[(o, kh, kw), c] = W[o][c][K-1-kh][K-1-kw], packed once
        const int64_t okk = static_cast<int64_t>(m_o) * m_k * m_k;
        float* wf = Reserve(m_weightFlip, static_cast<size_t>(okk) * m_c);
        const int kk = m_k * m_k;
        for (int o = 0; o < m_o; ++o)
        {
            for (int c = 0; c < m_c; ++c)
            {
                for (int t = 0; t < kk; ++t)
                {
                    wf[o * kk + t + c * okk] = m_weight[(o * m_c + c) * kk + (kk - 1 - t)];
                }
            }
        }
        const int q = m_k - 1 - m_pad;
        const int64_t rows = GemmRows(batch, m_gradRowOffset,
                                      static_cast<int64_t>(m_o) * (m_oh + 2 * q) * (m_ow + 2 * q),
                                      m_batchGradRowOffset);
        m_packedW.Pack(false, rows, m_c, okk, wf, okk);
    }
    else if (PerSample() && gradIn)
    {
        // W (O x C*K*K) = the transpose of the col-major C*K*K x O OIHW buffer, packed once
        m_packedW.Pack(true, static_cast<int64_t>(m_oh) * m_ow, ckk, m_o, m_weight, ckk);
    }
    RunTasks(groups, [&](int64_t g, int) {
        float* gw = g == 0 ? m_gWeight : scratch + static_cast<size_t>(g - 1) * stride;
        float* gb = m_bias ? (g == 0 ? m_gb : gw + nw) : nullptr;
        const auto begin = static_cast<int>(batch * g / groups);
        const auto end = static_cast<int>(batch * (g + 1) / groups);
        BackwardRange(begin, end, m_groupBuffers[static_cast<size_t>(g)], gradOutput, gradIn, gw,
                      gb);
    });
    if (groups > 1)
    {
        // gradient += group g's, g = 1, 2, ... in order for every element (blocks vectorise)
        auto reduce = [&](float* dst, size_t offset, int64_t count) {
            ParallelBlocks(count, static_cast<size_t>(count) * static_cast<size_t>(groups),
                           [&](int64_t lo, int64_t hi) {
                               for (int g = 1; g < groups; ++g)
                               {
                                   AddInto(dst + lo,
                                           scratch + static_cast<size_t>(g - 1) * stride + offset
                                               + static_cast<size_t>(lo),
                                           hi - lo);
                               }
                           });
        };
        reduce(m_gWeight, 0, static_cast<int64_t>(nw));
        if (m_bias)
        {
            reduce(m_gb, nw, m_o);
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
