#include "common/error.h"
#include "models/data/dataset.h"

#include <algorithm>
#include <cmath>

namespace slsim
{

BatchMaker::BatchMaker(const Dataset& data, const DatasetConfig& config)
    : m_data(data)
{
    const size_t c = static_cast<size_t>(data.channels);
    SLSIM_ASSERT(data.channels >= 1 && data.height >= 1 && data.width >= 1);
    SLSIM_ASSERT(data.pixels.size() == data.Size() * data.SampleSize());
    std::vector<double> mean = config.mean;
    std::vector<double> std = config.std;
    if (mean.empty() || std.empty())
    {
        std::vector<double> m, s;
        StandardNormalisation(data.name.empty() ? config.name : data.name, data.channels, m, s);
        if (mean.empty())
        {
            mean = m;
        }
        if (std.empty())
        {
            std = s;
        }
    }
    // One value stands for every channel.
    if (mean.size() == 1)
    {
        mean.assign(c, mean[0]);
    }
    if (std.size() == 1)
    {
        std.assign(c, std[0]);
    }
    if (mean.size() != c)
    {
        throw InputError("dataset.mean: " + std::to_string(mean.size()) + " values for "
                         + std::to_string(c) + " channels");
    }
    if (std.size() != c)
    {
        throw InputError("dataset.std: " + std::to_string(std.size()) + " values for "
                         + std::to_string(c) + " channels");
    }
    for (size_t i = 0; i < c; ++i)
    {
        if (!(std[i] > 0.0) || !std::isfinite(std[i]) || !std::isfinite(mean[i]))
        {
            throw InputError("dataset.std[" + std::to_string(i) + "]: must be finite and > 0");
        }
    }
    m_mean = mean;
    m_std = std;
    // y = (v / 255 - mean) / std, tabulated for the 256 pixel values of each channel.
    m_lut.resize(c * 256);
    for (size_t ch = 0; ch < c; ++ch)
    {
        for (int v = 0; v < 256; ++v)
        {
            m_lut[ch * 256 + static_cast<size_t>(v)]
                = static_cast<float>((v / 255.0 - mean[ch]) / std[ch]);
        }
    }
    // The paper's CIFAR crop pads 32x32 images by 4 (an eighth of the side); smaller images get
    // the same fraction (MNIST 28 -> 3, digits 8 -> 1) so a crop never loses most of the object.
    m_pad = std::clamp(data.height / 8, 1, 4);
}

void
BatchMaker::Make(const uint32_t* indices, size_t count, bool augment, Rng& rng, float* out,
                 int32_t* labels) const
{
    const int c = m_data.channels;
    const int h = m_data.height;
    const int w = m_data.width;
    const size_t hw = static_cast<size_t>(h) * static_cast<size_t>(w);
    const size_t sample = static_cast<size_t>(c) * hw;
    const size_t n = m_data.Size();
    for (size_t b = 0; b < count; ++b)
    {
        const size_t idx = indices[b];
        SLSIM_ASSERT_MSG(idx < n, "BatchMaker: sample index out of range");
        labels[b] = m_data.labels[idx];
        const uint8_t* src = m_data.Sample(idx);
        float* dst = out + b * sample;
        if (!augment)
        {
            for (int ch = 0; ch < c; ++ch)
            {
                const float* lut = m_lut.data() + static_cast<size_t>(ch) * 256;
                const uint8_t* s = src + static_cast<size_t>(ch) * hw;
                float* d = dst + static_cast<size_t>(ch) * hw;
                for (size_t p = 0; p < hw; ++p)
                {
                    d[p] = lut[s[p]];
                }
            }
            continue;
        }
        // torchvision order: RandomCrop(size, padding=pad) then RandomHorizontalFlip(0.5).
        // The crop's top-left corner in the padded image is uniform in [0, 2*pad]^2, so the
        // source offset is corner - pad in [-pad, pad]; outside the image the pixel is 0.
        const int oy
            = static_cast<int>(rng.UniformInt(static_cast<uint64_t>(2 * m_pad + 1))) - m_pad;
        const int ox
            = static_cast<int>(rng.UniformInt(static_cast<uint64_t>(2 * m_pad + 1))) - m_pad;
        const bool flip = rng.Uniform() < 0.5;
        for (int ch = 0; ch < c; ++ch)
        {
            const float* lut = m_lut.data() + static_cast<size_t>(ch) * 256;
            const uint8_t* s = src + static_cast<size_t>(ch) * hw;
            float* d = dst + static_cast<size_t>(ch) * hw;
            const float zero = lut[0];
            for (int y = 0; y < h; ++y)
            {
                const int sy = y + oy;
                float* row = d + static_cast<size_t>(y) * static_cast<size_t>(w);
                if (sy < 0 || sy >= h)
                {
                    std::fill(row, row + w, zero);
                    continue;
                }
                const uint8_t* srow = s + static_cast<size_t>(sy) * static_cast<size_t>(w);
                for (int x = 0; x < w; ++x)
                {
                    // Flip after the crop: output column x reads cropped column w-1-x.
                    const int sx = (flip ? (w - 1 - x) : x) + ox;
                    row[x] = (sx < 0 || sx >= w) ? zero : lut[srow[sx]];
                }
            }
        }
    }
}

} // namespace slsim
