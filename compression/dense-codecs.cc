#include "compression/dense-codecs.h"

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

namespace
{

inline uint32_t
Bits(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

/// lo = min, hi = max of x[0..n) (0, 0 when n = 0), exactly as a sequential std::min/std::max
/// scan gives them, bit for bit (of equal values, -0.0 and +0.0, the first one seen); throws
/// InputError naming the first non-finite element. Vectorisable: 8 independent lanes.
void
MinMaxFinite(const float* x, uint64_t n, float& lo, float& hi)
{
    lo = 0;
    hi = 0;
    if (n == 0)
    {
        return;
    }
    float mn[8];
    float mx[8];
    int bad[8];
    for (int j = 0; j < 8; ++j)
    {
        mn[j] = x[0];
        mx[j] = x[0];
        bad[j] = 0;
    }
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8)
    {
        for (int j = 0; j < 8; ++j)
        {
            const float v = x[i + static_cast<uint64_t>(j)];
            mn[j] = v < mn[j] ? v : mn[j];
            mx[j] = mx[j] < v ? v : mx[j];
            bad[j] |= !(std::fabs(v) <= 3.4028234663852886e38f); // NaN or inf
        }
    }
    int anyBad = 0;
    lo = mn[0];
    hi = mx[0];
    for (int j = 0; j < 8; ++j)
    {
        anyBad |= bad[j];
        lo = mn[j] < lo ? mn[j] : lo;
        hi = hi < mx[j] ? mx[j] : hi;
    }
    for (; i < n; ++i)
    {
        anyBad |= !(std::fabs(x[i]) <= 3.4028234663852886e38f);
        lo = x[i] < lo ? x[i] : lo;
        hi = hi < x[i] ? x[i] : hi;
    }
    if (anyBad)
    {
        for (uint64_t k = 0; k < n; ++k)
        {
            if (!std::isfinite(x[k]))
            {
                throw InputError("quantize: input has a non-finite value (NaN or inf) at element "
                                 + std::to_string(k));
            }
        }
    }
    // A zero extreme: the sequential scan keeps the first element equal to it (sign of zero).
    for (float* e : {&lo, &hi})
    {
        if (*e == 0.0f)
        {
            for (uint64_t k = 0; k < n; ++k)
            {
                if (x[k] == 0.0f)
                {
                    *e = x[k];
                    break;
                }
            }
        }
    }
}

inline float
FromBits(uint32_t u)
{
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

WireHeader
MakeHeader(CodecId id, const Shape& shape, uint8_t bits, uint8_t flags)
{
    WireHeader h;
    h.codec = id;
    h.bits = bits;
    h.flags = flags;
    h.shape = shape;
    h.n = CheckEncodableShape(shape, CodecIdName(id));
    return h;
}

} // namespace

namespace
{

/// c ? a : b without a branch (the vectoriser gives up on the ternaries of these conversions).
inline uint32_t
Pick(bool c, uint32_t a, uint32_t b)
{
    return b ^ ((a ^ b) & (0u - static_cast<uint32_t>(c)));
}

/// FloatToHalf on the bits of a float.
inline uint16_t
HalfFromBits(uint32_t x)
{
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t ax = x & 0x7fffffffu;
    // NaN: keep the top payload bits, force quiet.
    const uint32_t nan = sign | 0x7e00u | ((ax >> 13) & 0x3ffu);
    // >= 65520 rounds to infinity (65504 is the largest half).
    const uint32_t inf = sign | 0x7c00u;
    // Below 2^-14: a half subnormal (or zero); v = |f| * 2^24 < 1024 is exact, and adding 2^23
    // rounds it to an integer half to even (the default rounding mode, as std::nearbyint).
    const float v = FromBits(Pick(ax < 0x38800000u, ax, 0u)) * 16777216.0f;
    const uint32_t sub = sign | (Bits((v + 8388608.0f)) - 0x4b000000u);
    // Normal: rebias the exponent (127 - 15 = 112) and round 23 -> 10 mantissa bits to even.
    const uint32_t t = ax - 0x38000000u;
    const uint32_t normal = sign | ((t + 0xfffu + ((t >> 13) & 1u)) >> 13);
    const uint32_t r = Pick(ax > 0x7f800000u, nan,
                            Pick(ax >= 0x477ff000u, inf, Pick(ax < 0x38800000u, sub, normal)));
    return static_cast<uint16_t>(r);
}

#if defined(__x86_64__)
/// Whether the CPU has AVX2 and F16C (a runtime check, so that the build stays portable; every
/// AVX2 CPU has F16C).
bool
HasAvx2F16c()
{
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
    return has;
}

/// FloatToBf16 of 8 floats (the same formula on the bit pattern), in 32-bit lanes.
__attribute__((target("avx2,f16c"))) inline __m256i
Bf16x8(const float* x)
{
    const __m256i u = _mm256_castps_si256(_mm256_loadu_ps(x));
    const __m256i high = _mm256_srli_epi32(u, 16);
    const __m256i lsb = _mm256_and_si256(high, _mm256_set1_epi32(1));
    const __m256i rounded = _mm256_srli_epi32(
        _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb), 16);
    const __m256i nan = _mm256_or_si256(high, _mm256_set1_epi32(0x40)); // quiet NaN
    const __m256i isNan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)),
                                             _mm256_set1_epi32(0x7f800000));
    return _mm256_blendv_epi8(rounded, nan, isNan);
}

/// FloatToHalf (FP16) or FloatToBf16 of x[0 .. m) into p, for the largest m <= n from which the
/// rest is less than 16 elements; returns m. fp16: F16C's vcvtps2ph (round to nearest even), the
/// same halves as HalfFromBits for all 2^32 floats (checked exhaustively once; NaN: quiet, top
/// payload bits kept), 3.4 -> ~2.4 ms on the benchmark tensor where the portable loop is
/// compute-bound; bf16: Bf16x8. STREAM: non-temporal stores (stream-store.h) after a scalar head
/// that aligns p + 2i to 32 bytes (p must be even). The input is prefetched a page ahead.
template <bool FP16, bool STREAM>
__attribute__((target("avx2,f16c"))) uint64_t
NarrowAvx2(const float* x, uint64_t n, uint8_t* p)
{
    uint64_t i = 0;
    for (; STREAM && i < n && (reinterpret_cast<uintptr_t>(p + 2 * i) & 31) != 0; ++i)
    {
        const uint16_t v = FP16 ? FloatToHalf(x[i]) : FloatToBf16(x[i]);
        std::memcpy(p + 2 * i, &v, 2);
    }
    for (; i + 16 <= n; i += 16)
    {
        PrefetchAhead(x + i);
        __m256i h;
        if constexpr (FP16)
        {
            constexpr int round = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
            h = _mm256_set_m128i(_mm256_cvtps_ph(_mm256_loadu_ps(x + i + 8), round),
                                 _mm256_cvtps_ph(_mm256_loadu_ps(x + i), round));
        }
        else
        {
            // packus keeps 0..0xffff exactly and interleaves the 128-bit lanes (a0-3 b0-3 a4-7
            // b4-7); the permute puts them in order
            h = _mm256_permute4x64_epi64(_mm256_packus_epi32(Bf16x8(x + i), Bf16x8(x + i + 8)),
                                         0xd8);
        }
        auto* dst = reinterpret_cast<__m256i*>(p + 2 * i); // x86 is little-endian
        STREAM ? _mm256_stream_si256(dst, h) : _mm256_storeu_si256(dst, h);
    }
    if (STREAM)
    {
        _mm_sfence();
    }
    return i;
}

/// HalfToFloat (FP16) or Bf16ToFloat of the halves at p into out[0 .. m), as NarrowAvx2 (8 at a
/// time; STREAM aligns out + i to 32 bytes). fp16: F16C's vcvtph2ps, which quiets a signalling
/// NaN (sets the float's bit 22) where HalfToFloat keeps its bits: the bit is cleared again in
/// those lanes, so the floats are HalfToFloat's for all 2^16 halves (tested). bf16: a shift.
template <bool FP16, bool STREAM>
__attribute__((target("avx2,f16c"))) uint64_t
WidenAvx2(const uint8_t* p, uint64_t n, float* out)
{
    uint64_t i = 0;
    for (; STREAM && i < n && (reinterpret_cast<uintptr_t>(out + i) & 31) != 0; ++i)
    {
        uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        out[i] = FP16 ? HalfToFloat(v) : Bf16ToFloat(v);
    }
    for (; i + 8 <= n; i += 8)
    {
        PrefetchAhead(p + 2 * i);
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * i));
        const __m256i wide = _mm256_cvtepu16_epi32(h);
        __m256 f;
        if constexpr (FP16)
        {
            // signalling NaN: 0x7c00 < (h & 0x7fff) < 0x7e00 (exponent 31, quiet bit 9 clear)
            const __m256i a = _mm256_and_si256(wide, _mm256_set1_epi32(0x7fff));
            const __m256i snan = _mm256_and_si256(_mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x7c00)),
                                                  _mm256_cmpgt_epi32(_mm256_set1_epi32(0x7e00), a));
            const __m256i quietBit = _mm256_and_si256(snan, _mm256_set1_epi32(0x00400000));
            f = _mm256_xor_ps(_mm256_cvtph_ps(h), _mm256_castsi256_ps(quietBit));
        }
        else
        {
            f = _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
        }
        STREAM ? _mm256_stream_ps(out + i, f) : _mm256_storeu_ps(out + i, f);
    }
    if (STREAM)
    {
        _mm_sfence();
    }
    return i;
}
#endif

/// FloatToHalf (FP16) or FloatToBf16 of x[0 .. n) into p: AVX2/F16C where the CPU has them,
/// streamed when asked (p even), then the portable branch-free conversions (they vectorise).
template <bool FP16>
void
NarrowAll(const float* x, uint64_t n, uint8_t* p, [[maybe_unused]] bool stream)
{
    uint64_t i = 0;
#if defined(__x86_64__)
    if (HasAvx2F16c())
    {
        i = stream ? NarrowAvx2<FP16, true>(x, n, p) : NarrowAvx2<FP16, false>(x, n, p);
    }
#endif
    for (; i < n; ++i)
    {
        const uint16_t v = FP16 ? HalfFromBits(Bits(x[i])) : FloatToBf16(x[i]);
        std::memcpy(p + 2 * i, &v, 2);
    }
}

/// HalfToFloat (FP16) or Bf16ToFloat of the n halves at p into out, as NarrowAll.
template <bool FP16>
void
WidenAll(const uint8_t* p, uint64_t n, float* out, [[maybe_unused]] bool stream)
{
    uint64_t i = 0;
#if defined(__x86_64__)
    if (HasAvx2F16c())
    {
        i = stream ? WidenAvx2<FP16, true>(p, n, out) : WidenAvx2<FP16, false>(p, n, out);
    }
#endif
    for (; i < n; ++i)
    {
        uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        out[i] = FP16 ? HalfToFloat(v) : Bf16ToFloat(v);
    }
}

} // namespace

// The conversions below compute every case and select (no branch, no call), so that the codec
// loops vectorise; results are those of IEEE round-to-nearest-even conversion.
uint16_t
FloatToHalf(float f)
{
    return HalfFromBits(Bits(f));
}

float
HalfToFloat(uint16_t h)
{
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t e = (h >> 10) & 0x1fu;
    const uint32_t m = h & 0x3ffu;
    const uint32_t sub = Bits(static_cast<float>(m) * 5.9604644775390625e-8f); // m * 2^-24, exact
    const uint32_t special = 0x7f800000u | (m << 13);
    const uint32_t normal = ((e + 112) << 23) | (m << 13);
    return FromBits(sign | Pick(e == 0, sub, Pick(e == 31, special, normal)));
}

uint16_t
FloatToBf16(float f)
{
    const uint32_t x = Bits(f);
    const uint32_t nan = (x >> 16) | 0x40u; // quiet NaN
    const uint32_t rounded = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
    return static_cast<uint16_t>(Pick((x & 0x7fffffffu) > 0x7f800000u, nan, rounded));
}

float
Bf16ToFloat(uint16_t h)
{
    return FromBits(static_cast<uint32_t>(h) << 16);
}

// ---------------------------------------------------------------------------------------------

CastCodec::CastCodec(CodecId id)
    : m_id(id)
{
    SLSIM_ASSERT(id == CodecId::NONE || id == CodecId::FP16 || id == CodecId::BF16);
}

std::string
CastCodec::Name() const
{
    return CodecIdName(m_id);
}

size_t
CastCodec::EncodedSize(const Shape& shape) const
{
    const WireHeader h = MakeHeader(m_id, shape, 0, 0);
    return HeaderSize(shape.Rank()) + PayloadSize(h);
}

void
CastCodec::Encode(const float* x, const Shape& shape, std::vector<uint8_t>& out, Rng& /* rng */)
{
    const WireHeader h = MakeHeader(m_id, shape, 0, 0);
    // Every payload byte is written below: resize without clear() so that a reused buffer of the
    // same size is not zero-filled first (a second pass over 2-4 bytes per element).
    std::vector<uint8_t> head;
    WriteHeader(head, h);
    const size_t at = head.size();
    out.resize(at + PayloadSize(h));
    std::memcpy(out.data(), head.data(), at);
    uint8_t* p = out.data() + at;
    const uint64_t n = h.n; // a local: the stores through p could alias h.n
    // Large outputs are streamed past the caches (stream-store.h; halves need an even address)
    const bool stream
        = UseStreamingStores(4 * n, PayloadSize(h)) && (reinterpret_cast<uintptr_t>(p) & 1) == 0;
    if (m_id == CodecId::NONE)
    {
        CopyBytes(p, x, 4 * n); // x86 is little-endian
    }
    else if (m_id == CodecId::FP16)
    {
        NarrowAll<true>(x, n, p, stream);
    }
    else
    {
        NarrowAll<false>(x, n, p, stream);
    }
}

Shape
CastCodec::Decode(const uint8_t* data, size_t size, std::vector<float>& out)
{
    return DecodeAny(data, size, out);
}

void
DecodeCastPayload(const WireHeader& h, const uint8_t* p, float* out)
{
    const uint64_t n = h.n;
    if (h.codec == CodecId::NONE)
    {
        CopyBytes(out, p, 4 * n); // x86 is little-endian
        return;
    }
    // Large outputs are streamed past the caches (stream-store.h).
    const bool stream = UseStreamingStores(2 * n, 4 * n);
    if (h.codec == CodecId::FP16)
    {
        WidenAll<true>(p, n, out, stream);
    }
    else
    {
        WidenAll<false>(p, n, out, stream);
    }
}

// ---------------------------------------------------------------------------------------------

QuantizeCodec::QuantizeCodec(int bits, bool stochastic)
    : m_bits(static_cast<unsigned>(bits)),
      m_stochastic(stochastic)
{
    SLSIM_ASSERT(bits >= 1 && bits <= 16);
}

std::string
QuantizeCodec::Name() const
{
    return "quantize";
}

size_t
QuantizeCodec::EncodedSize(const Shape& shape) const
{
    const WireHeader h = MakeHeader(CodecId::QUANTIZE, shape, static_cast<uint8_t>(m_bits), 0);
    return HeaderSize(shape.Rank()) + PayloadSize(h);
}

void
QuantizeCodec::Encode(const float* x, const Shape& shape, std::vector<uint8_t>& out, Rng& rng)
{
    const WireHeader h = MakeHeader(CodecId::QUANTIZE, shape, static_cast<uint8_t>(m_bits),
                                    m_stochastic ? FLAG_STOCHASTIC : 0);
    float lo = 0;
    float hi = 0;
    MinMaxFinite(x, h.n, lo, hi);
    out.clear();
    WriteHeader(out, h);
    ByteWriter w(out);
    w.PutF32(lo);
    w.PutF32(hi);
    const size_t at = out.size();
    out.resize(at + PackedBytes(h.n, m_bits)); // zero-filled
    const uint32_t L = (1u << m_bits) - 1;
    const double range = static_cast<double>(hi) - static_cast<double>(lo);
    // s in double: (max - min) can overflow float32 for finite inputs of opposite sign.
    const double s = range > 0 ? L / range : 0.0;
    uint8_t* dst = out.data() + at;
    uint64_t i = 0;
    if (!m_stochastic && m_bits <= 8)
    {
        // Blocks of 8 codes fill exactly `bits` bytes (LSB-first): codes of a block are computed
        // by a vectorisable loop, then packed into one 64-bit word (no per-code bit writer).
        uint32_t codes[8];
        for (; i + 8 <= h.n; i += 8, dst += m_bits)
        {
            for (int j = 0; j < 8; ++j)
            {
                const double y = (static_cast<double>(x[i + static_cast<uint64_t>(j)])
                                  - static_cast<double>(lo))
                                 * s;
                // nearbyint(y) for 0 <= y < 2^51 (here y <= L (1 + 2^-52)): adding and removing
                // 2^52 rounds to nearest even, and the compiler vectorises it (nearbyint it does
                // not)
                const double r = (y + 0x1p52) - 0x1p52;
                const double c = std::min(std::max(r, 0.0), static_cast<double>(L));
                codes[j] = static_cast<uint32_t>(static_cast<int32_t>(c));
            }
            uint64_t word = 0;
            for (unsigned j = 0; j < 8; ++j)
            {
                word |= static_cast<uint64_t>(codes[j]) << (j * m_bits);
            }
            for (unsigned k = 0; k < m_bits; ++k)
            {
                dst[k] = static_cast<uint8_t>(word >> (8 * k));
            }
        }
    }
    BitWriter bw(dst); // the rest (all of it when stochastic or bits > 8)
    for (; i < h.n; ++i)
    {
        const double y = (static_cast<double>(x[i]) - static_cast<double>(lo)) * s;
        double c = m_stochastic ? std::floor(y + rng.Uniform()) : std::nearbyint(y);
        c = std::min(std::max(c, 0.0), static_cast<double>(L));
        bw.Put(static_cast<uint32_t>(c), m_bits);
    }
    bw.Flush();
}

Shape
QuantizeCodec::Decode(const uint8_t* data, size_t size, std::vector<float>& out)
{
    return DecodeAny(data, size, out);
}

void
DecodeQuantizePayload(const WireHeader& h, const uint8_t* p, float* out)
{
    ByteReader r(p, 8);
    const float lo = r.GetF32();
    const float hi = r.GetF32();
    if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi)
    {
        throw DecodeError("quantize: min/max must be finite with min <= max");
    }
    const uint32_t L = (1u << h.bits) - 1;
    const float step = static_cast<float>((static_cast<double>(hi) - static_cast<double>(lo)) / L);
    const size_t bytes = PackedBytes(h.n, h.bits);
    const unsigned bits = h.bits;
    uint64_t i = 0;
    size_t used = 0;
    if (bits <= 8)
    {
        // whole blocks of 8 codes = `bits` bytes each; the bit reader takes the rest and checks
        // the padding
        const uint64_t mask = (uint64_t{1} << bits) - 1;
        for (; i + 8 <= h.n; i += 8, used += bits)
        {
            uint64_t word = 0;
            for (unsigned k = 0; k < bits; ++k)
            {
                word |= static_cast<uint64_t>(p[8 + used + k]) << (8 * k);
            }
            for (unsigned j = 0; j < 8; ++j)
            {
                out[i + j] = lo + static_cast<float>((word >> (j * bits)) & mask) * step;
            }
        }
    }
    BitReader br(p + 8 + used, bytes - used);
    for (; i < h.n; ++i)
    {
        out[i] = lo + static_cast<float>(br.Get(h.bits)) * step;
    }
    br.CheckPaddingZero();
}

} // namespace slsim
