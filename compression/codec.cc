#include "compression/codec.h"

#include "common/byte-io.h"
#include "common/csv-writer.h"
#include "common/error.h"
#include "compression/dense-codecs.h"
#include "compression/ms-codec.h"
#include "compression/topk-codec.h"
#include "compression/wire-header.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
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

namespace
{

/// "none, fp16 or ms": the codecs whose row satisfies `pred`.
template <class Pred>
std::string
NamesWhere(Pred pred)
{
    std::vector<std::string> names;
    for (const CodecInfo& c : Codecs())
    {
        if (pred(c))
        {
            names.push_back(c.name);
        }
    }
    std::string list;
    for (size_t i = 0; i < names.size(); ++i)
    {
        list += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    }
    return list;
}

/// A codec of fixed cost (cost bits per element): the budget must cover it.
std::function<void(CodecConfig&, double)>
FixedBudget(double cost)
{
    return [cost](CodecConfig& c, double b) {
        if (b < cost)
        {
            throw InputError("budget_bits_per_element: " + c.method + " needs " + Num(cost)
                             + " bits per element, got " + Num(b));
        }
    };
}

CodecInfo
CastRow(CodecId id, const char* name, double bits)
{
    CodecInfo r;
    r.wireId = static_cast<uint8_t>(id);
    r.name = name;
    const uint64_t bytes = static_cast<uint64_t>(bits) / 8;
    r.payloadSize = [bytes](const WireHeader& h) { return bytes * h.n; };
    r.resolveBudget = FixedBudget(bits);
    r.nominalBits = [bits](const CodecConfig&) { return bits; };
    r.make = [id](const CodecConfig&) { return std::make_unique<CastCodec>(id); };
    r.decode = DecodeCastPayload;
    return r;
}

/// topk and randtopk: values plus a bitmap or u32 indices.
CodecInfo
TopKRow(CodecId id, const char* name, bool randomized)
{
    CodecInfo r;
    r.wireId = static_cast<uint8_t>(id);
    r.name = name;
    r.sparse = true;
    r.indexed = true;
    r.flags = FLAG_U32_INDEX;
    r.payloadSize = [](const WireHeader& h) {
        return 4 * h.k + ((h.flags & FLAG_U32_INDEX) ? 4 * h.k : PackedBytes(h.n, 1));
    };
    r.resolveBudget = [](CodecConfig& c, double b) {
        const double f = TopKFraction(b, c.index);
        if (f < 0)
        {
            throw InputError("budget_bits_per_element: " + c.method
                             + " with a bitmap needs at least 1 bit per element, got " + Num(b));
        }
        c.sparsity = std::max(0.0, 1.0 - std::min(1.0, f));
    };
    r.nominalBits = [](const CodecConfig& c) {
        const double f = 1.0 - c.sparsity;
        const double bitmap = 1.0 + 32.0 * f;
        const double u32 = 64.0 * f;
        return c.index == "bitmap" ? bitmap : c.index == "u32" ? u32 : std::min(bitmap, u32);
    };
    r.make = [randomized](const CodecConfig& c) {
        const IndexMode index = c.index == "bitmap" ? IndexMode::BITMAP
                                : c.index == "u32"  ? IndexMode::U32
                                                    : IndexMode::AUTO;
        return std::make_unique<TopKCodec>(c.sparsity, index, randomized, c.randtopkA);
    };
    r.decode = DecodeTopKPayload;
    return r;
}

std::vector<CodecInfo>&
Registry()
{
    static std::vector<CodecInfo> rows = [] {
        std::vector<CodecInfo> v;
        v.push_back(CastRow(CodecId::NONE, "none", 32));
        v.push_back(CastRow(CodecId::FP16, "fp16", 16));
        v.push_back(CastRow(CodecId::BF16, "bf16", 16));

        CodecInfo q;
        q.wireId = static_cast<uint8_t>(CodecId::QUANTIZE);
        q.name = "quantize";
        q.minBits = 1;
        q.maxBits = 16;
        q.flags = FLAG_STOCHASTIC;
        q.payloadSize = [](const WireHeader& h) { return 8 + PackedBytes(h.n, h.bits); };
        q.resolveBudget = [](CodecConfig& c, double b) {
            if (b < 1)
            {
                throw InputError("budget_bits_per_element: quantize needs at least 1 bit per "
                                 "element, got "
                                 + Num(b));
            }
            c.bits = static_cast<int>(std::min(16.0, std::floor(b + 1e-9)));
        };
        q.nominalBits = [](const CodecConfig& c) { return static_cast<double>(c.bits); };
        q.make = [](const CodecConfig& c) {
            return std::make_unique<QuantizeCodec>(c.bits, c.stochastic);
        };
        q.decode = DecodeQuantizePayload;
        v.push_back(q);

        v.push_back(TopKRow(CodecId::TOPK, "topk", false));
        v.push_back(TopKRow(CodecId::RANDTOPK, "randtopk", true));

        CodecInfo ms;
        ms.wireId = static_cast<uint8_t>(CodecId::MS);
        ms.name = "ms";
        ms.minBits = 1;
        ms.maxBits = 8;
        ms.sparse = true;
        ms.flags = FLAG_FLOOR | FLAG_SIGNED;
        ms.payloadSize = [](const WireHeader& h) {
            return 4 * h.k + PackedBytes(h.n, h.bits)
                   + ((h.flags & FLAG_SIGNED) ? PackedBytes(h.n, 1) : 0);
        };
        ms.resolveBudget = [](CodecConfig& c, double b) {
            const double fixedBits = c.bits + (c.signedValues ? 1.0 : 0.0);
            if (b < fixedBits)
            {
                throw InputError("budget_bits_per_element: ms with " + std::to_string(c.bits)
                                 + "-bit codes" + (c.signedValues ? " and a sign bit" : "")
                                 + " needs at least " + Num(fixedBits) + " bits per element, got "
                                 + Num(b));
            }
            c.sparsity = std::max(0.0, 1.0 - std::min(1.0, (b - fixedBits) / 32.0));
        };
        ms.nominalBits = [](const CodecConfig& c) {
            return c.bits + (c.signedValues ? 1.0 : 0.0) + 32.0 * (1.0 - c.sparsity);
        };
        ms.make = [](const CodecConfig& c) {
            return std::make_unique<MsCodec>(c.sparsity, c.bits, c.floorCodes, c.signedValues);
        };
        ms.decode = DecodeMsPayload;
        v.push_back(ms);
        return v;
    }();
    return rows;
}

} // namespace

const std::vector<CodecInfo>&
Codecs()
{
    return Registry();
}

const CodecInfo*
FindCodec(const std::string& name)
{
    for (const CodecInfo& c : Registry())
    {
        if (c.name == name)
        {
            return &c;
        }
    }
    return nullptr;
}

const CodecInfo*
FindCodec(uint8_t wireId)
{
    for (const CodecInfo& c : Registry())
    {
        if (c.wireId == wireId)
        {
            return &c;
        }
    }
    return nullptr;
}

std::vector<std::string>
CodecNames()
{
    std::vector<std::string> names;
    for (const CodecInfo& c : Registry())
    {
        names.push_back(c.name);
    }
    return names;
}

void
RegisterCodec(CodecInfo row)
{
    if (FindCodec(row.name) || FindCodec(row.wireId) || row.wireId == 0)
    {
        throw std::logic_error("RegisterCodec: name '" + row.name + "' or wire id "
                               + std::to_string(row.wireId) + " is taken or invalid");
    }
    Registry().push_back(std::move(row));
}

void
ValidateCodecConfig(const CodecConfig& c)
{
    const std::string& m = c.method;
    const CodecInfo* row = FindCodec(m);
    if (!row)
    {
        throw InputError("method: unknown codec '" + m + "' (expected "
                         + NamesWhere([](const CodecInfo&) { return true; }) + ")");
    }
    if (!(c.sparsity >= 0.0 && c.sparsity <= 1.0))
    {
        throw InputError("sparsity: must be in [0, 1] (fraction not sent as values), got "
                         + Num(c.sparsity));
    }
    if (row->maxBits > 0 && (c.bits < row->minBits || c.bits > row->maxBits))
    {
        throw InputError("bits: must be " + std::to_string(row->minBits) + ".."
                         + std::to_string(row->maxBits) + " for " + m + ", got "
                         + std::to_string(c.bits));
    }
    if (c.index != "auto" && c.index != "bitmap" && c.index != "u32")
    {
        throw InputError("index: must be auto, bitmap or u32, got '" + c.index + "'");
    }
    if (!(c.randtopkA >= 0.0 && c.randtopkA <= 1.0))
    {
        throw InputError("randtopk_a: must be in [0, 1], got " + Num(c.randtopkA));
    }

    const struct
    {
        bool on;
        uint8_t flag;
        const char* key;
    } flags[] = {{c.floorCodes, FLAG_FLOOR, "floor"},
                 {c.signedValues, FLAG_SIGNED, "signed"},
                 {c.stochastic, FLAG_STOCHASTIC, "stochastic"}};

    for (const auto& f : flags)
    {
        if (f.on && !(row->flags & f.flag))
        {
            const uint8_t flag = f.flag;
            throw InputError(
                std::string(f.key) + ": only applies to "
                + NamesWhere([flag](const CodecInfo& r) { return (r.flags & flag) != 0; })
                + ", not " + m);
        }
    }
    if (!(c.budgetBitsPerElement >= 0.0) || !std::isfinite(c.budgetBitsPerElement))
    {
        throw InputError("budget_bits_per_element: must be >= 0 (0 = off), got "
                         + Num(c.budgetBitsPerElement));
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
    const CodecInfo* row = FindCodec(c.method);
    if (!row)
    {
        throw InputError("method: unknown codec '" + c.method + "'");
    }
    row->resolveBudget(c, b);
    return c;
}

double
NominalBitsPerElement(const CodecConfig& config)
{
    const CodecConfig c = ResolveBudget(config);
    const CodecInfo* row = FindCodec(c.method);
    if (!row)
    {
        throw InputError("method: unknown codec '" + c.method + "'");
    }
    return row->nominalBits(c);
}

std::unique_ptr<Codec>
MakeCodec(const CodecConfig& config)
{
    ValidateCodecConfig(config);
    const CodecConfig c = ResolveBudget(config);
    return FindCodec(c.method)->make(c);
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
        throw DecodeError(std::string(CodecIdName(h.codec)) + " " + h.shape.ToString() + ": "
                          + std::to_string(h.n) + " elements exceed the decoder's limit of "
                          + std::to_string(maxElements));
    }
    const uint8_t* payload = data + reader.Position();
    out.resize(h.n);
    FindCodec(static_cast<uint8_t>(h.codec))->decode(h, payload, out.data()); // ReadHeader found it
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
    return den == 0 ? std::numeric_limits<double>::infinity() : std::sqrt(num / den);
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
