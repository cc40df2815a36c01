#include "compression/codec.h"

#include "common/byte-io.h"
#include "common/csv-writer.h"
#include "common/error.h"
#include "compression/dense-codecs.h"
#include "compression/ms-codec.h"
#include "compression/topk-codec.h"
#include "compression/wire-header.h"

#include <cmath>
#include <string>

namespace slsim
{

namespace
{

std::string
Num(double v)
{
    return FormatDouble(v);
}

/// Kept fraction f of topk/randtopk for a per-element budget, and whether it uses a bitmap.
double
TopKFraction(double budget, const std::string& index)
{
    const double bitmap = (budget - 1.0) / 32.0;
    const double u32 = budget / 64.0;
    if (index == "bitmap")
    {
        return bitmap;
    }
    if (index == "u32")
    {
        return u32;
    }
    return std::max(bitmap, u32);
}

} // namespace

uint64_t
KeepCount(uint64_t n, double sparsity)
{
    const double t = (1.0 - sparsity) * static_cast<double>(n);
    const double k = std::floor(t + 1e-9 * std::max(1.0, t));
    if (!(k > 0))
    {
        return 0;
    }
    return k >= static_cast<double>(n) ? n : static_cast<uint64_t>(k);
}

std::vector<std::string>
CodecNames()
{
    return {"none", "fp16", "bf16", "quantize", "topk", "randtopk", "ms"};
}

void
ValidateCodecConfig(const CodecConfig& c)
{
    const std::string& m = c.method;
    if (m != "none" && m != "fp16" && m != "bf16" && m != "quantize" && m != "topk" &&
        m != "randtopk" && m != "ms")
    {
        throw InputError("method: unknown codec '" + m +
                         "' (expected none, fp16, bf16, quantize, topk, randtopk or ms)");
    }
    if (!(c.sparsity >= 0.0 && c.sparsity <= 1.0))
    {
        throw InputError("sparsity: must be in [0, 1] (fraction not sent as values), got " +
                         Num(c.sparsity));
    }
    if (m == "ms" && (c.bits < 1 || c.bits > 8))
    {
        throw InputError("bits: must be 1..8 for ms, got " + std::to_string(c.bits));
    }
    if (m == "quantize" && (c.bits < 1 || c.bits > 16))
    {
        throw InputError("bits: must be 1..16 for quantize, got " + std::to_string(c.bits));
    }
    if (c.index != "auto" && c.index != "bitmap" && c.index != "u32")
    {
        throw InputError("index: must be auto, bitmap or u32, got '" + c.index + "'");
    }
    if (!(c.randtopkA >= 0.0 && c.randtopkA <= 1.0))
    {
        throw InputError("randtopk_a: must be in [0, 1], got " + Num(c.randtopkA));
    }
    if (c.floorCodes && m != "ms")
    {
        throw InputError("floor: only applies to ms, not " + m);
    }
    if (c.signedValues && m != "ms")
    {
        throw InputError("signed: only applies to ms (topk and randtopk always select by |x|), "
                         "not " +
                         m);
    }
    if (c.stochastic && m != "quantize")
    {
        throw InputError("stochastic: only applies to quantize, not " + m);
    }
    if (!(c.budgetBitsPerElement >= 0.0) || !std::isfinite(c.budgetBitsPerElement))
    {
        throw InputError("budget_bits_per_element: must be >= 0 (0 = off), got " +
                         Num(c.budgetBitsPerElement));
    }
    if (c.budgetBitsPerElement > 0)
    {
        ResolveBudget(c); // throws when the budget cannot be met
    }
}

CodecConfig
ResolveBudget(const CodecConfig& config)
{
    CodecConfig c = config;
    const double b = c.budgetBitsPerElement;
    if (!(b > 0))
    {
        return c;
    }
    c.budgetBitsPerElement = 0;
    const std::string prefix = "budget_bits_per_element: ";
    auto fixed = [&](double cost) {
        if (b < cost)
        {
            throw InputError(prefix + c.method + " needs " + Num(cost) +
                             " bits per element, got " + Num(b));
        }
    };
    if (c.method == "none")
    {
        fixed(32);
    }
    else if (c.method == "fp16" || c.method == "bf16")
    {
        fixed(16);
    }
    else if (c.method == "quantize")
    {
        if (b < 1)
        {
            throw InputError(prefix + "quantize needs at least 1 bit per element, got " + Num(b));
        }
        c.bits = static_cast<int>(std::min(16.0, std::floor(b + 1e-9)));
    }
    else if (c.method == "ms")
    {
        const double fixedBits = c.bits + (c.signedValues ? 1.0 : 0.0);
        if (b < fixedBits)
        {
            throw InputError(prefix + "ms with " + std::to_string(c.bits) + "-bit codes" +
                             (c.signedValues ? " and a sign bit" : "") + " needs at least " +
                             Num(fixedBits) + " bits per element, got " + Num(b));
        }
        c.sparsity = std::max(0.0, 1.0 - std::min(1.0, (b - fixedBits) / 32.0));
    }
    else if (c.method == "topk" || c.method == "randtopk")
    {
        const double f = TopKFraction(b, c.index);
        if (f < 0)
        {
            throw InputError(prefix + c.method + " with a bitmap needs at least 1 bit per element, "
                                                 "got " +
                             Num(b));
        }
        c.sparsity = std::max(0.0, 1.0 - std::min(1.0, f));
    }
    return c;
}

double
NominalBitsPerElement(const CodecConfig& config)
{
    const CodecConfig c = ResolveBudget(config);
    const double f = 1.0 - c.sparsity;
    if (c.method == "none")
    {
        return 32;
    }
    if (c.method == "fp16" || c.method == "bf16")
    {
        return 16;
    }
    if (c.method == "quantize")
    {
        return c.bits;
    }
    if (c.method == "ms")
    {
        return c.bits + (c.signedValues ? 1.0 : 0.0) + 32.0 * f;
    }
    const double bitmap = 1.0 + 32.0 * f;
    const double u32 = 64.0 * f;
    if (c.index == "bitmap")
    {
        return bitmap;
    }
    if (c.index == "u32")
    {
        return u32;
    }
    return std::min(bitmap, u32);
}

std::unique_ptr<Codec>
MakeCodec(const CodecConfig& config)
{
    ValidateCodecConfig(config);
    const CodecConfig c = ResolveBudget(config);
    if (c.method == "none")
    {
        return std::make_unique<CastCodec>(CodecId::NONE);
    }
    if (c.method == "fp16")
    {
        return std::make_unique<CastCodec>(CodecId::FP16);
    }
    if (c.method == "bf16")
    {
        return std::make_unique<CastCodec>(CodecId::BF16);
    }
    if (c.method == "quantize")
    {
        return std::make_unique<QuantizeCodec>(c.bits, c.stochastic);
    }
    if (c.method == "ms")
    {
        return std::make_unique<MsCodec>(c.sparsity, c.bits, c.floorCodes, c.signedValues);
    }
    const IndexMode index = c.index == "bitmap" ? IndexMode::BITMAP
                            : c.index == "u32"  ? IndexMode::U32
                                                : IndexMode::AUTO;
    return std::make_unique<TopKCodec>(c.sparsity, index, c.method == "randtopk", c.randtopkA);
}

Shape
DecodeAny(const uint8_t* data, size_t size, std::vector<float>& out, uint64_t maxElements)
{
    if (data == nullptr && size != 0)
    {
        throw DecodeError("null blob");
    }
    ByteReader reader(data, size);
    const WireHeader h = ReadHeader(reader); // checks the exact size before anything is allocated
    if (h.n > maxElements)
    {
        throw DecodeError(std::string(CodecIdName(h.codec)) + " " + h.shape.ToString() + ": " +
                          std::to_string(h.n) + " elements exceed the decoder's limit of " +
                          std::to_string(maxElements));
    }
    const uint8_t* payload = data + reader.Position();
    out.resize(h.n);
    switch (h.codec)
    {
    case CodecId::NONE:
    case CodecId::FP16:
    case CodecId::BF16:
        DecodeCastPayload(h, payload, out.data());
        break;
    case CodecId::QUANTIZE:
        DecodeQuantizePayload(h, payload, out.data());
        break;
    case CodecId::TOPK:
    case CodecId::RANDTOPK:
        DecodeTopKPayload(h, payload, out.data());
        break;
    case CodecId::MS:
        DecodeMsPayload(h, payload, out.data());
        break;
    }
    return h.shape;
}

double
L2Error(const float* x, const float* y, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; ++i)
    {
        const double d = static_cast<double>(x[i]) - static_cast<double>(y[i]);
        s += d * d;
    }
    return std::sqrt(s);
}

double
RelativeL2Error(const float* x, const float* y, size_t n)
{
    double num = 0;
    double den = 0;
    for (size_t i = 0; i < n; ++i)
    {
        const double d = static_cast<double>(x[i]) - static_cast<double>(y[i]);
        num += d * d;
        den += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    }
    if (num == 0)
    {
        return 0;
    }
    return den == 0 ? INFINITY : std::sqrt(num / den);
}

MessageStats
MeasureMessage(const float* x, const float* y, uint64_t n, uint64_t bytes)
{
    MessageStats s;
    s.n = n;
    s.bytes = bytes;
    s.bitsPerElement = n > 0 ? 8.0 * static_cast<double>(bytes) / static_cast<double>(n) : 0.0;
    s.relL2Error = RelativeL2Error(x, y, static_cast<size_t>(n));
    return s;
}

} // namespace slsim
