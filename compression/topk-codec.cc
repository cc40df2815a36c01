#include "compression/topk-codec.h"

#include "common/byte-io.h"
#include "common/error.h"
#include "compression/stream-store.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

namespace
{

/// Word w of a bitmap from its len <= 8 bytes (LSB-first: bit i = element 64 w + i).
inline uint64_t
BitmapWord(const uint8_t* bytes, size_t len)
{
    uint64_t word = 0;
    for (size_t t = 0; t < len; ++t)
    {
        word |= static_cast<uint64_t>(bytes[t]) << (8 * t);
    }
    return word;
}

DecodeError
TooManyBits(const char* name, uint64_t k)
{
    return DecodeError(std::string(name) + ": bitmap has more than k = " + std::to_string(k)
                       + " bits set");
}

/// Zeros dst[0 .. len) and writes the next values (vals + 4 j on, j advancing) at the set bits
/// of word: a bitmap scan (tzcnt, then clear the lowest set bit), no branch per element. Throws
/// DecodeError when the bits set so far exceed k, before reading a value beyond the k sent.
inline void
ScatterWord(uint64_t word, float* dst, size_t len, const uint8_t* vals, uint64_t k, uint64_t& j,
            const char* name)
{
    if (static_cast<uint64_t>(__builtin_popcountll(word)) > k - j)
    {
        throw TooManyBits(name, k);
    }
    std::fill(dst, dst + len, 0.0f);
    for (; word != 0; word &= word - 1)
    {
        std::memcpy(dst + __builtin_ctzll(word), vals + 4 * j++, 4);
    }
}

#if defined(__AVX2__)
/// Per byte m of a bitmap word, the lane permutation that moves 8 consecutive values into the
/// positions of m's set bits: lane l takes value popcount(m & ((1 << l) - 1)).
struct ExpandTable
{
    alignas(32) int32_t lane[256][8];
};

constexpr ExpandTable
MakeExpandTable()
{
    ExpandTable t{};
    for (unsigned i = 0; i < 256 * 8; ++i)
    {
        const unsigned below = (i / 8) & ((1u << (i % 8)) - 1); // the set bits below lane i % 8
        t.lane[i / 8][i % 8] = __builtin_popcount(below);
    }
    return t;
}

constexpr ExpandTable EXPAND = MakeExpandTable();

/// ScatterWord for whole blocks of 64, eight elements at a time without a branch: the next 8
/// values are loaded, moved to their lanes by one permute (EXPAND) and the unset lanes zeroed by
/// a mask. Runs while at least 64 values are left (so the 8-value loads stay inside the k sent),
/// and returns the first block it did not do. STREAM: non-temporal stores, out 16-byte aligned.
template <bool STREAM>
uint64_t
ScatterBlocksAvx2(const uint8_t* pos, const uint8_t* vals, uint64_t blocks, uint64_t k, uint64_t& j,
                  float* out, const char* name)
{
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    uint64_t b = 0;
    for (; b < blocks && k - j >= 64; ++b)
    {
        const uint64_t word = BitmapWord(pos + 8 * b, 8);
        if (static_cast<uint64_t>(__builtin_popcountll(word)) > k - j)
        {
            throw TooManyBits(name, k);
        }
        for (unsigned g = 0; g < 8; ++g)
        {
            const auto m = static_cast<uint32_t>((word >> (8 * g)) & 0xffu);
            const __m256 v = _mm256_loadu_ps(reinterpret_cast<const float*>(vals + 4 * j));
            const __m256 e = _mm256_permutevar8x32_ps(
                v, _mm256_load_si256(reinterpret_cast<const __m256i*>(EXPAND.lane[m])));
            const __m256i set = _mm256_cmpeq_epi32(
                _mm256_and_si256(_mm256_set1_epi32(static_cast<int32_t>(m)), bit), bit);
            const __m256 r = _mm256_and_ps(e, _mm256_castsi256_ps(set));
            float* dst = out + 64 * b + 8 * g;
            if (STREAM) // two 16-byte halves: malloc aligns large buffers to 16 bytes, not 32
            {
                _mm_stream_ps(dst, _mm256_castps256_ps128(r));
                _mm_stream_ps(dst + 4, _mm256_extractf128_ps(r, 1));
            }
            else
            {
                _mm256_storeu_ps(dst, r);
            }
            j += static_cast<uint64_t>(__builtin_popcount(m));
        }
    }
    if (STREAM)
    {
        _mm_sfence();
    }
    return b;
}
#endif

} // namespace

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
    // One pass over out and the bitmap, 64 elements (one bitmap word) at a time; the count of set
    // bits is checked per word before its values are read.
    const uint64_t blocks = h.n / 64;
    uint64_t j = 0;
    uint64_t b = 0;
#if defined(__AVX2__)
    // Large outputs are streamed past the caches (stream-store.h; out must be 16-byte aligned).
    if (UseStreamingStores(4 * h.k + bytes, 4 * h.n)
        && (reinterpret_cast<uintptr_t>(out) & 15) == 0)
    {
        b = ScatterBlocksAvx2<true>(pos, vals, blocks, h.k, j, out, name);
    }
    else
    {
        b = ScatterBlocksAvx2<false>(pos, vals, blocks, h.k, j, out, name);
    }
#endif
    for (; b < blocks; ++b)
    {
        ScatterWord(BitmapWord(pos + 8 * b, 8), out + 64 * b, 64, vals, h.k, j, name);
    }
    const uint64_t first = 64 * blocks; // the last, partial block
    ScatterWord(BitmapWord(pos + 8 * blocks, bytes - 8 * blocks), out + first, h.n - first, vals,
                h.k, j, name);
    if (j != h.k)
    {
        throw DecodeError(std::string(name) + ": bitmap has " + std::to_string(j)
                          + " bits set, expected k = " + std::to_string(h.k));
    }
}

} // namespace slsim
