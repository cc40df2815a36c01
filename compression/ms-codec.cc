#include "compression/ms-codec.h"

#include "common/byte-io.h"
#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace slsim
{

namespace
{

constexpr size_t BLOCK = 1024; // codes per block: stays in L1 and is a multiple of 8

/// Round half to even for 0 <= y <= 256 (the current rounding mode is the default
/// round-to-nearest-even): adding 2^23 leaves no fraction bits. Same result as std::nearbyint
/// (and torch.round) on this range, but vectorises.
inline float
RoundHalfEvenSmall(float y)
{
    return (y + 8388608.0f) - 8388608.0f;
}

inline float
LoadF32(const uint8_t* p)
{
    float v;
    std::memcpy(&v, p, 4);
    return v;
}

/// Codes of one block, branch-free so that it vectorises: selected elements (a > T, or a == T
/// when every tie is taken) get L; the others clamp((a * L) / T rounded, 0, L - 1), or 0 when
/// T <= 0. Partial ties are fixed up by the caller.
template <bool Abs, bool Floor>
void
ComputeCodes(const float* xb, size_t m, float T, bool allTies, bool positiveT, float tDiv,
             uint8_t L, uint8_t* codes)
{
    const float lf = L;
    const float lMinus1 = static_cast<float>(L - 1);
    const float keep = positiveT ? 1.0f : 0.0f;
    const uint8_t tieSel = allTies ? 1 : 0;
    for (size_t j = 0; j < m; ++j)
    {
        const float a = Abs ? std::fabs(xb[j]) : xb[j];
        // y = (a * L) / T, as torch computes flat * L / T in float32; clamped before use.
        float y = (a * lf) / tDiv;
        y = std::min(std::max(y, 0.0f), 256.0f) * keep;
        float q = Floor ? static_cast<float>(static_cast<int>(y)) : RoundHalfEvenSmall(y);
        q = std::min(q, lMinus1);
        const uint8_t sel = static_cast<uint8_t>((a > T) | ((a == T) & tieSel));
        const uint8_t code = static_cast<uint8_t>(q);
        codes[j] = sel ? L : code;
    }
}

void
CheckFinite(const float* x, uint64_t n, const char* what)
{
    uint32_t bad = 0;
    for (uint64_t i = 0; i < n; ++i)
    {
        uint32_t u;
        std::memcpy(&u, x + i, 4);
        bad |= static_cast<uint32_t>((u & 0x7fffffffu) >= 0x7f800000u);
    }
    if (bad)
    {
        throw InputError(std::string(what) + ": input has a non-finite value (NaN or inf)");
    }
}

/// Code i of `Bits` bits from an LSB-first stream of `size` bytes.
template <unsigned Bits>
inline uint32_t
CodeAt(const uint8_t* p, size_t size, uint64_t i)
{
    const uint64_t bit = i * Bits;
    const size_t byte = static_cast<size_t>(bit >> 3);
    const unsigned off = static_cast<unsigned>(bit & 7);
    uint32_t w = p[byte];
    if (off + Bits > 8 && byte + 1 < size)
    {
        w |= static_cast<uint32_t>(p[byte + 1]) << 8;
    }
    return (w >> off) & ((1u << Bits) - 1);
}

void
CheckPadding(const uint8_t* p, uint64_t count, unsigned bits, const char* what)
{
    const uint64_t used = (count * bits) & 7;
    if (used != 0 && (p[PackedBytes(count, bits) - 1] >> used) != 0)
    {
        throw DecodeError(std::string("ms: non-zero padding bits after the last ") + what);
    }
}

template <unsigned Bits>
void
DecodeLoop(const WireHeader& h, const uint8_t* vals, const uint8_t* codes, const uint8_t* signs,
           const float* level, float* out)
{
    constexpr uint32_t L = (1u << Bits) - 1;
    const size_t codeBytes = PackedBytes(h.n, Bits);
    const size_t signBytes = PackedBytes(h.n, 1);
    // Blocks of 8 elements (8 codes = Bits bytes, 8 sign bits = 1 byte) without a branch per
    // element: the value index j advances by (c == L), the value read at a clamped index (never
    // past the k values) and selected; too many L codes is found after the block.
    static const uint8_t zeroValue[4] = {0, 0, 0, 0};
    const uint8_t* valBase = h.k > 0 ? vals : zeroValue;
    const uint64_t lastVal = h.k > 0 ? h.k - 1 : 0;
    uint64_t j = 0;
    uint64_t i = 0;
    for (; i + 8 <= h.n && j <= h.k; i += 8)
    {
        uint64_t word = 0;
        const uint8_t* cp = codes + (i / 8) * Bits;
        for (unsigned b = 0; b < Bits; ++b)
        {
            word |= static_cast<uint64_t>(cp[b]) << (8 * b);
        }
        const uint32_t sbyte = signs != nullptr ? signs[i / 8] : 0u;
        for (unsigned e = 0; e < 8; ++e)
        {
            const auto c = static_cast<uint32_t>((word >> (e * Bits)) & L);
            const uint32_t isL = c == L ? 1u : 0u;
            const float sent = LoadF32(valBase + 4 * std::min(j, lastVal));
            uint32_t u;
            const float lv = level[c];
            std::memcpy(&u, &lv, 4);
            u ^= ((sbyte >> e) & 1u) << 31; // the sign bit: -level[c]
            float v;
            std::memcpy(&v, &u, 4);
            out[i + e] = isL ? sent : v;
            j += isL;
        }
    }
    if (j > h.k)
    {
        // find the element at which the values ran out, for the message
        j = 0;
        for (i = 0;; ++i)
        {
            if (CodeAt<Bits>(codes, codeBytes, i) == L)
            {
                if (j == h.k)
                {
                    break; // the loop below throws at this element
                }
                ++j;
            }
        }
    }
    for (; i < h.n; ++i)
    {
        const uint32_t c = CodeAt<Bits>(codes, codeBytes, i);
        if (c == L)
        {
            if (j == h.k)
            {
                throw DecodeError("ms: more codes equal to " + std::to_string(L)
                                  + " than the k = " + std::to_string(h.k) + " values (at element "
                                  + std::to_string(i) + ")");
            }
            out[i] = LoadF32(vals + 4 * j++);
        }
        else
        {
            float v = level[c];
            if (signs != nullptr && CodeAt<1>(signs, signBytes, i))
            {
                v = -v;
            }
            out[i] = v;
        }
    }
    if (j != h.k)
    {
        throw DecodeError("ms: " + std::to_string(j) + " codes equal to " + std::to_string(L)
                          + " but k = " + std::to_string(h.k) + " values");
    }
}

} // namespace

void
PackCodes(const uint8_t* c, size_t count, unsigned bits, uint8_t* dst)
{
    const size_t bytes = PackedBytes(count, bits);
    switch (bits)
    {
    case 8:
        std::memcpy(dst, c, count);
        return;
    case 4:
        // Two codes (bytes c0, c1 of a 16-bit load) -> c0 | c1 << 4: vectorises.
        for (size_t j = 0; j < bytes; ++j)
        {
            uint16_t w;
            std::memcpy(&w, c + 2 * j, 2);
            dst[j] = static_cast<uint8_t>(w | (w >> 4));
        }
        return;
    case 2:
        // Four codes c0..c3 (bytes of a 32-bit load) -> c0 | c1 << 2 | c2 << 4 | c3 << 6.
        for (size_t j = 0; j < bytes; ++j)
        {
            uint32_t w;
            std::memcpy(&w, c + 4 * j, 4);
            dst[j] = static_cast<uint8_t>(w | (w >> 6) | (w >> 12) | (w >> 18));
        }
        return;
    case 1:
        // Eight 0/1 bytes (a 64-bit load) -> one byte, bit e = byte e: the multiply moves byte e
        // to bit 56 + e without carries.
        for (size_t j = 0; j < bytes; ++j)
        {
            uint64_t w;
            std::memcpy(&w, c + 8 * j, 8);
            dst[j] = static_cast<uint8_t>((w * 0x0102040810204080ull) >> 56);
        }
        return;
    default:
        // 3, 5, 6, 7 bits: eight codes (a 64-bit load) -> `bits` bytes (LSB-first, so code e
        // moves from bit 8e to bit bits*e); the last group writes only the bytes that remain.
        for (size_t g = 0; g * bits < bytes; ++g)
        {
            uint64_t w;
            std::memcpy(&w, c + 8 * g, 8);
            uint64_t packed = 0;
            for (unsigned e = 0; e < 8; ++e)
            {
                packed |= ((w >> (8 * e)) & 0xffu) << (bits * e);
            }
            std::memcpy(dst + bits * g, &packed, std::min<size_t>(bits, bytes - bits * g));
        }
    }
}

MsCodec::MsCodec(double sparsity, int bits, bool floorCodes, bool signedValues)
    : m_sparsity(sparsity),
      m_bits(static_cast<unsigned>(bits)),
      m_floor(floorCodes),
      m_signed(signedValues)
{
    SLSIM_ASSERT(bits >= 1 && bits <= 8 && sparsity >= 0 && sparsity <= 1);
}

std::string
MsCodec::Name() const
{
    return "ms";
}

size_t
MsCodec::EncodedSize(const Shape& shape) const
{
    WireHeader h;
    h.codec = CodecId::MS;
    h.bits = static_cast<uint8_t>(m_bits);
    h.flags = static_cast<uint8_t>((m_floor ? FLAG_FLOOR : 0) | (m_signed ? FLAG_SIGNED : 0));
    h.n = CheckEncodableShape(shape, "ms");
    h.k = KeepCount(h.n, m_sparsity);
    return HeaderSize(shape.Rank()) + PayloadSize(h);
}

void
MsCodec::Encode(const float* x, const Shape& shape, std::vector<uint8_t>& out, Rng& /* rng */)
{
    WireHeader h;
    h.codec = CodecId::MS;
    h.bits = static_cast<uint8_t>(m_bits);
    h.flags = static_cast<uint8_t>((m_floor ? FLAG_FLOOR : 0) | (m_signed ? FLAG_SIGNED : 0));
    h.shape = shape;
    h.n = CheckEncodableShape(shape, "ms");
    h.k = KeepCount(h.n, m_sparsity);
    out.clear();
    WriteHeader(out, h);
    const size_t headerSize = out.size();
    out.resize(headerSize + PayloadSize(h));
    uint8_t* vals = out.data() + headerSize;
    uint8_t* codeDst = vals + 4 * h.k;
    uint8_t* signDst = codeDst + PackedBytes(h.n, m_bits);
    const uint64_t n = h.n;
    if (n == 0)
    {
        return;
    }

    // T and the tie rule. k = 0: T = +inf selects nothing and makes every code 0.
    float T = INFINITY;
    bool allTies = true;
    uint64_t tiesLeft = 0;
    if (h.k > 0)
    {
        const TopKThreshold t = m_selector.Select(x, n, h.k, m_signed, "ms");
        T = t.threshold;
        allTies = t.tiesTaken == t.tiesTotal;
        tiesLeft = t.tiesTaken;
    }
    else
    {
        CheckFinite(x, n, "ms");
    }
    const uint8_t L = static_cast<uint8_t>((1u << m_bits) - 1);
    // T <= 0 (fewer than k positive elements): every non-selected code is 0 (scale 0).
    const bool positiveT = T > 0;
    const float tDiv = positiveT ? T : 1.0f;
    const bool useFloor = m_floor;
    const bool useAbs = m_signed;

    uint8_t codes[BLOCK];
    uint8_t signs[BLOCK];
    uint64_t written = 0;
    for (uint64_t start = 0; start < n; start += BLOCK)
    {
        const size_t m = static_cast<size_t>(std::min<uint64_t>(BLOCK, n - start));
        const float* xb = x + start;
        if (useAbs)
        {
            useFloor ? ComputeCodes<true, true>(xb, m, T, allTies, positiveT, tDiv, L, codes)
                     : ComputeCodes<true, false>(xb, m, T, allTies, positiveT, tDiv, L, codes);
        }
        else
        {
            useFloor ? ComputeCodes<false, true>(xb, m, T, allTies, positiveT, tDiv, L, codes)
                     : ComputeCodes<false, false>(xb, m, T, allTies, positiveT, tDiv, L, codes);
        }
        for (size_t j = m; j < ((m + 7) & ~size_t{7}); ++j)
        {
            codes[j] = 0;
        }
        // Values in index order; ties beyond the quota keep their ordinary code.
        if (allTies)
        {
            // Eight codes per 64-bit word: the bytes equal to L are found without a branch per
            // element (exact zero-byte test of w ^ L..L; the padding codes are 0 != L), then
            // visited in index order.
            const uint64_t pattern = 0x0101010101010101ull * L;
            const uint64_t low7 = 0x7f7f7f7f7f7f7f7full;
            for (size_t j0 = 0; j0 < m; j0 += 8)
            {
                uint64_t w;
                std::memcpy(&w, codes + j0, 8);
                const uint64_t d = w ^ pattern;
                uint64_t hit = ~(((d & low7) + low7) | d | low7); // bit 8e+7: byte e == L
                while (hit != 0)
                {
                    const auto e = static_cast<size_t>(__builtin_ctzll(hit)) >> 3;
                    hit &= hit - 1;
                    std::memcpy(vals + 4 * written++, xb + j0 + e, 4);
                }
            }
        }
        else
        {
            for (size_t j = 0; j < m; ++j)
            {
                if (codes[j] == L)
                {
                    std::memcpy(vals + 4 * written++, xb + j, 4);
                }
                else if (tiesLeft > 0 && (useAbs ? std::fabs(xb[j]) : xb[j]) == T)
                {
                    codes[j] = L;
                    --tiesLeft;
                    std::memcpy(vals + 4 * written++, xb + j, 4);
                }
            }
        }
        PackCodes(codes, m, m_bits, codeDst + start * m_bits / 8);
        if (useAbs)
        {
            for (size_t j = 0; j < m; ++j)
            {
                signs[j] = xb[j] < 0.0f ? 1 : 0;
            }
            for (size_t j = m; j < ((m + 7) & ~size_t{7}); ++j)
            {
                signs[j] = 0;
            }
            PackCodes(signs, m, 1, signDst + start / 8);
        }
    }
    SLSIM_ASSERT(written == h.k);
}

Shape
MsCodec::Decode(const uint8_t* data, size_t size, std::vector<float>& out)
{
    return DecodeAny(data, size, out);
}

void
DecodeMsPayload(const WireHeader& h, const uint8_t* payload, float* out)
{
    const unsigned bits = h.bits;
    const bool isSigned = (h.flags & FLAG_SIGNED) != 0;
    const uint8_t* vals = payload;
    const uint8_t* codes = vals + 4 * h.k;
    const uint8_t* signs = isSigned ? codes + PackedBytes(h.n, bits) : nullptr;
    float T = 0;
    for (uint64_t j = 0; j < h.k; ++j)
    {
        const float v = LoadF32(vals + 4 * j);
        if (!std::isfinite(v))
        {
            throw DecodeError("ms: value " + std::to_string(j) + " is not finite");
        }
        const float a = isSigned ? std::fabs(v) : v;
        T = j == 0 ? a : std::min(T, a);
    }
    if (h.n == 0)
    {
        return;
    }
    CheckPadding(codes, h.n, bits, "code");
    if (signs != nullptr)
    {
        CheckPadding(signs, h.n, 1, "sign bit");
    }
    const uint32_t L = (1u << bits) - 1;
    float level[256];
    const float step = T / static_cast<float>(L); // decoder: c * (T / L), as the reference code
    for (uint32_t c = 0; c < 256; ++c)
    {
        level[c] = static_cast<float>(c) * step;
    }
    switch (bits)
    {
    case 1:
        return DecodeLoop<1>(h, vals, codes, signs, level, out);
    case 2:
        return DecodeLoop<2>(h, vals, codes, signs, level, out);
    case 3:
        return DecodeLoop<3>(h, vals, codes, signs, level, out);
    case 4:
        return DecodeLoop<4>(h, vals, codes, signs, level, out);
    case 5:
        return DecodeLoop<5>(h, vals, codes, signs, level, out);
    case 6:
        return DecodeLoop<6>(h, vals, codes, signs, level, out);
    case 7:
        return DecodeLoop<7>(h, vals, codes, signs, level, out);
    default:
        return DecodeLoop<8>(h, vals, codes, signs, level, out);
    }
}

} // namespace slsim
