#include "compression/topk-codec.h"

#include "common/byte-io.h"
#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace slsim
{

TopKCodec::TopKCodec(double sparsity, IndexMode index, bool randomized, double a)
    : m_sparsity(sparsity),
      m_index(index),
      m_randomized(randomized),
      m_a(a)
{
    SLSIM_ASSERT(sparsity >= 0 && sparsity <= 1 && a >= 0 && a <= 1);
}

std::string
TopKCodec::Name() const
{
    return m_randomized ? "randtopk" : "topk";
}

WireHeader
TopKCodec::Header(const Shape& shape) const
{
    WireHeader h;
    h.codec = m_randomized ? CodecId::RANDTOPK : CodecId::TOPK;
    h.shape = shape;
    h.n = CheckEncodableShape(shape, m_randomized ? "randtopk" : "topk");
    h.k = KeepCount(h.n, m_sparsity);
    bool u32 = m_index == IndexMode::U32;
    if (m_index == IndexMode::AUTO)
    {
        u32 = PackedBytes(h.n, 1) > 4 * h.k;
    }
    h.flags = u32 ? FLAG_U32_INDEX : 0;
    return h;
}

size_t
TopKCodec::EncodedSize(const Shape& shape) const
{
    return HeaderSize(shape.Rank()) + PayloadSize(Header(shape));
}

void
TopKCodec::Encode(const float* x, const Shape& shape, std::vector<uint8_t>& out, Rng& rng)
{
    const WireHeader h = Header(shape);
    const char* what = m_randomized ? "randtopk" : "topk";
    out.clear();
    WriteHeader(out, h);
    const size_t at = out.size();
    out.resize(at + PayloadSize(h)); // zero-filled: the bitmap starts empty
    uint8_t* vals = out.data() + at;
    uint8_t* pos = vals + 4 * h.k;
    const uint64_t n = h.n;
    const uint64_t k = h.k;
    m_selected.clear();
    if (k == 0)
    {
        for (uint64_t i = 0; i < n; ++i)
        {
            if (!std::isfinite(x[i]))
            {
                throw InputError(std::string(what) + ": input has a non-finite value (NaN or inf)");
            }
        }
    }
    else
    {
        const TopKThreshold t = m_selector.Select(x, n, k, true, what);
        uint64_t tiesLeft = t.tiesTaken;
        for (uint64_t i = 0; i < n; ++i)
        {
            const float a = std::fabs(x[i]);
            if (a > t.threshold || (a == t.threshold && tiesLeft > 0 && tiesLeft--))
            {
                m_selected.push_back(static_cast<uint32_t>(i));
            }
        }
        SLSIM_ASSERT(m_selected.size() == k);
        if (m_randomized && m_a > 0)
        {
            // State per position: 0 = rest, 1 = true top-k not drawn, 2 = drawn.
            m_top.swap(m_selected);
            m_mark.assign(n, 0);
            for (uint32_t i : m_top)
            {
                m_mark[i] = 1;
            }
            const double wTop = (1.0 - m_a) / static_cast<double>(k);
            const double wRest = n > k ? m_a / static_cast<double>(n - k) : 0.0;
            uint64_t remTop = k;
            uint64_t remRest = n - k;
            uint64_t fromTop = 0;
            for (uint64_t d = 0; d < k; ++d)
            {
                const double mTop = static_cast<double>(remTop) * wTop;
                const double mRest = static_cast<double>(remRest) * wRest;
                bool top;
                if (mTop + mRest <= 0)
                {
                    top = remTop > 0; // a = 1 with the rest exhausted, or a = 0
                }
                else
                {
                    top = rng.Uniform() * (mTop + mRest) < mTop;
                }
                if (top)
                {
                    --remTop;
                    ++fromTop;
                }
                else
                {
                    --remRest;
                }
            }
            // A uniform subset of fromTop true top-k positions (partial Fisher-Yates).
            for (uint64_t d = 0; d < fromTop; ++d)
            {
                const uint64_t j = d + rng.UniformInt(k - d);
                std::swap(m_top[d], m_top[j]);
                m_mark[m_top[d]] = 2;
            }
            // A uniform subset of k - fromTop other positions.
            const uint64_t fromRest = k - fromTop;
            if (fromRest * 2 <= n - k)
            {
                for (uint64_t d = 0; d < fromRest;) // rejection: at most half are taken
                {
                    const uint64_t i = rng.UniformInt(n);
                    if (m_mark[i] == 0)
                    {
                        m_mark[i] = 2;
                        ++d;
                    }
                }
            }
            else
            {
                m_top.clear(); // reuse as the list of the rest
                for (uint64_t i = 0; i < n; ++i)
                {
                    if (m_mark[i] == 0)
                    {
                        m_top.push_back(static_cast<uint32_t>(i));
                    }
                }
                const uint64_t rest = m_top.size();
                for (uint64_t d = 0; d < fromRest; ++d)
                {
                    const uint64_t j = d + rng.UniformInt(rest - d);
                    std::swap(m_top[d], m_top[j]);
                    m_mark[m_top[d]] = 2;
                }
            }
            m_selected.clear();
            for (uint64_t i = 0; i < n; ++i)
            {
                if (m_mark[i] == 2)
                {
                    m_selected.push_back(static_cast<uint32_t>(i));
                }
            }
            SLSIM_ASSERT(m_selected.size() == k);
        }
    }
    const bool u32 = (h.flags & FLAG_U32_INDEX) != 0;
    for (uint64_t j = 0; j < m_selected.size(); ++j)
    {
        const uint32_t i = m_selected[j];
        std::memcpy(vals + 4 * j, x + i, 4);
        if (u32)
        {
            pos[4 * j] = static_cast<uint8_t>(i);
            pos[4 * j + 1] = static_cast<uint8_t>(i >> 8);
            pos[4 * j + 2] = static_cast<uint8_t>(i >> 16);
            pos[4 * j + 3] = static_cast<uint8_t>(i >> 24);
        }
        else
        {
            pos[i >> 3] = static_cast<uint8_t>(pos[i >> 3] | (1u << (i & 7)));
        }
    }
}

Shape
TopKCodec::Decode(const uint8_t* data, size_t size, std::vector<float>& out)
{
    return DecodeAny(data, size, out);
}

void
DecodeTopKPayload(const WireHeader& h, const uint8_t* p, float* out)
{
    const char* name = CodecIdName(h.codec);
    const uint8_t* vals = p;
    const uint8_t* pos = p + 4 * h.k;
    for (uint64_t j = 0; j < h.k; ++j)
    {
        float v;
        std::memcpy(&v, vals + 4 * j, 4);
        if (!std::isfinite(v))
        {
            throw DecodeError(std::string(name) + ": value " + std::to_string(j)
                              + " is not finite");
        }
    }
    if (h.flags & FLAG_U32_INDEX)
    {
        std::fill(out, out + h.n, 0.0f);
        uint64_t prev = 0;
        for (uint64_t j = 0; j < h.k; ++j)
        {
            const uint32_t i = static_cast<uint32_t>(pos[4 * j])
                               | (static_cast<uint32_t>(pos[4 * j + 1]) << 8)
                               | (static_cast<uint32_t>(pos[4 * j + 2]) << 16)
                               | (static_cast<uint32_t>(pos[4 * j + 3]) << 24);
            if (i >= h.n || (j > 0 && i <= prev))
            {
                throw DecodeError(std::string(name) + ": index " + std::to_string(j) + " = "
                                  + std::to_string(i)
                                  + " is out of range or not strictly increasing");
            }
            prev = i;
            std::memcpy(out + i, vals + 4 * j, 4);
        }
        return;
    }
    const size_t bytes = PackedBytes(h.n, 1);
    if ((h.n & 7) != 0 && (pos[bytes - 1] >> (h.n & 7)) != 0)
    {
        throw DecodeError(std::string(name) + ": non-zero padding bits after the bitmap");
    }
    // The set bits are counted first (a vectorisable pass), so the scatter below needs no check
    // per bit; it then skips 64 positions per zero word.
    uint64_t set = 0;
    for (size_t b = 0; b < bytes; ++b)
    {
        set += static_cast<uint64_t>(__builtin_popcount(pos[b]));
    }
    if (set > h.k)
    {
        throw DecodeError(std::string(name) + ": bitmap has more than k = " + std::to_string(h.k)
                          + " bits set");
    }
    if (set != h.k)
    {
        throw DecodeError(std::string(name) + ": bitmap has " + std::to_string(set)
                          + " bits set, expected k = " + std::to_string(h.k));
    }
    // One pass over out: each 64-element block is zeroed and then gets its values, while it is
    // in cache.
    uint64_t j = 0;
    for (size_t b = 0; b < bytes; b += 8)
    {
        const size_t len = std::min<size_t>(8, bytes - b);
        const uint64_t first = 8 * static_cast<uint64_t>(b);
        std::fill(out + first, out + std::min<uint64_t>(h.n, first + 64), 0.0f);
        uint64_t word = 0;
        for (size_t t = 0; t < len; ++t)
        {
            word |= static_cast<uint64_t>(pos[b + t]) << (8 * t); // LSB-first: bit i = element i
        }
        while (word != 0)
        {
            const auto bit = static_cast<size_t>(__builtin_ctzll(word));
            word &= word - 1;
            std::memcpy(out + 8 * b + bit, vals + 4 * j++, 4);
        }
    }
}

} // namespace slsim
