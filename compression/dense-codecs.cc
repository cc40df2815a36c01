#include "compression/dense-codecs.h"

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

inline uint32_t
Bits(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
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

uint16_t
FloatToHalf(float f)
{
    const uint32_t x = Bits(f);
    const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
    const uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) // NaN: keep the top payload bits, force quiet
    {
        return static_cast<uint16_t>(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    }
    if (ax >= 0x477ff000u) // >= 65520 rounds to infinity (65504 is the largest half)
    {
        return static_cast<uint16_t>(sign | 0x7c00u);
    }
    if (ax < 0x38800000u) // below 2^-14: a half subnormal (or zero); v * 2^24 is exact
    {
        const float v = FromBits(ax) * 16777216.0f;
        return static_cast<uint16_t>(sign | static_cast<uint16_t>(std::nearbyint(v)));
    }
    // Normal: rebias the exponent (127 - 15 = 112) and round 23 -> 10 mantissa bits to even.
    const uint32_t t = ax - 0x38000000u;
    const uint32_t r = t + 0xfffu + ((t >> 13) & 1u);
    return static_cast<uint16_t>(sign | (r >> 13));
}

float
HalfToFloat(uint16_t h)
{
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t e = (h >> 10) & 0x1fu;
    const uint32_t m = h & 0x3ffu;
    if (e == 0)
    {
        const float v = static_cast<float>(m) * 5.9604644775390625e-8f; // m * 2^-24, exact
        return FromBits(Bits(v) | sign);
    }
    if (e == 31)
    {
        return FromBits(sign | 0x7f800000u | (m << 13));
    }
    return FromBits(sign | ((e + 112) << 23) | (m << 13));
}

uint16_t
FloatToBf16(float f)
{
    const uint32_t x = Bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
    {
        return static_cast<uint16_t>((x >> 16) | 0x40u); // quiet NaN
    }
    return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
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
    out.clear();
    WriteHeader(out, h);
    const size_t at = out.size();
    out.resize(at + PayloadSize(h));
    uint8_t* p = out.data() + at;
    if (m_id == CodecId::NONE)
    {
        if (h.n > 0)
        {
            std::memcpy(p, x, 4 * h.n); // x86 is little-endian
        }
        return;
    }
    const bool half = m_id == CodecId::FP16;
    for (uint64_t i = 0; i < h.n; ++i)
    {
        const uint16_t v = half ? FloatToHalf(x[i]) : FloatToBf16(x[i]);
        p[2 * i] = static_cast<uint8_t>(v);
        p[2 * i + 1] = static_cast<uint8_t>(v >> 8);
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
    if (h.codec == CodecId::NONE)
    {
        if (h.n > 0)
        {
            std::memcpy(out, p, 4 * h.n);
        }
        return;
    }
    const bool half = h.codec == CodecId::FP16;
    for (uint64_t i = 0; i < h.n; ++i)
    {
        const uint16_t v = static_cast<uint16_t>(p[2 * i] | (p[2 * i + 1] << 8));
        out[i] = half ? HalfToFloat(v) : Bf16ToFloat(v);
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
    const WireHeader h = MakeHeader(CodecId::QUANTIZE,
                                    shape,
                                    static_cast<uint8_t>(m_bits),
                                    m_stochastic ? FLAG_STOCHASTIC : 0);
    float lo = 0;
    float hi = 0;
    for (uint64_t i = 0; i < h.n; ++i)
    {
        if (!std::isfinite(x[i]))
        {
            throw InputError("quantize: input has a non-finite value (NaN or inf) at element " +
                             std::to_string(i));
        }
        lo = i == 0 ? x[i] : std::min(lo, x[i]);
        hi = i == 0 ? x[i] : std::max(hi, x[i]);
    }
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
    BitWriter bw(out.data() + at);
    for (uint64_t i = 0; i < h.n; ++i)
    {
        const double y = (static_cast<double>(x[i]) - lo) * s;
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
    const float step = static_cast<float>((static_cast<double>(hi) - lo) / L);
    BitReader br(p + 8, PackedBytes(h.n, h.bits));
    for (uint64_t i = 0; i < h.n; ++i)
    {
        out[i] = lo + static_cast<float>(br.Get(h.bits)) * step;
    }
    br.CheckPaddingZero();
}

} // namespace slsim
