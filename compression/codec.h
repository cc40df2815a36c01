// Codec interface, configuration, registry, budgets and error metrics.
//
// A codec turns one tensor (n float32 values, NCHW, row-major) into a self-describing blob and
// back. Every blob starts with the common header documented in compression/wire-header.h; the
// payload of each codec is documented at the top of the header that implements it:
//   none, fp16, bf16, quantize  -> compression/dense-codecs.h
//   topk, randtopk              -> compression/topk-codec.h
//   ms                          -> compression/ms-codec.h (with the paper's Fig. 1 worked example)
// Sizes are data-independent, so EncodedSize(shape) is exact before anything is encoded.
#ifndef SLSIM_COMPRESSION_CODEC_H
#define SLSIM_COMPRESSION_CODEC_H

#include "common/rng.h"
#include "common/shape.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace slsim
{

/// Plain configuration of one codec (one direction of one link). The JSON keys a scenario uses
/// are the field names in ValidateCodecConfig's messages: method, sparsity, bits, index,
/// randtopk_a, floor, signed, stochastic, budget_bits_per_element.
struct CodecConfig
{
    std::string method = "none"; // none | fp16 | bf16 | quantize | topk | randtopk | ms
    double sparsity = 0.99;      // topk/randtopk/ms: fraction NOT sent as values
    int bits = 2;                // ms: 1..8 code bits; quantize: 1..16
    std::string index = "auto";  // topk/randtopk: auto | bitmap | u32
    double randtopkA = 0.1;
    bool floorCodes = false;         // ms: Algorithm 1's floor instead of round-half-even + clamp
    bool signedValues = false;       // ms: sign bit + top-k on |x| (cuts without ReLU)
    bool stochastic = false;         // quantize: unbiased stochastic rounding (QSGD-style)
    double budgetBitsPerElement = 0; // > 0: choose sparsity/bits to meet this budget instead
};

/// Checks ranges and combinations; throws InputError whose message starts with the field name
/// relative to the codec object, e.g. "bits: must be 1..8 for ms, got 12" (the caller prefixes
/// the JSON path "codec.uplink.").
void ValidateCodecConfig(const CodecConfig& config);

/// Returns the configuration with budgetBitsPerElement (if > 0) turned into the codec's own
/// parameter, and budgetBitsPerElement reset to 0. Header bytes are ignored (per-element cost):
///   quantize: bits = floor(budget), 1..16;   none 32, fp16/bf16 16 bits (budget must cover it)
///   ms:       keep bits, kept fraction f = (budget - bits - signed) / 32
///   topk, randtopk: bitmap f = (budget - 1) / 32, u32 f = budget / 64, auto: the larger f
/// sparsity = 1 - f. Throws InputError("budget_bits_per_element: ...") when it cannot be met.
/// Example: 2.32 bits -> ms 0.99 @ 2 bits, topk/randtopk 0.95875 (4.125 % kept), quantize 3 bits.
CodecConfig ResolveBudget(const CodecConfig& config);

/// Asymptotic bits per element of a resolved configuration (no header), e.g. 2.32 for ms
/// 0.99 @ 2 bits. For topk with index auto this is the smaller of bitmap and u32.
double NominalBitsPerElement(const CodecConfig& config);

/// Number of values kept: floor((1 - sparsity) * n), with a 1e-9 relative tolerance so that
/// representation error (e.g. 1 - 0.99 = 0.010000000000000009, or a budget of 2.32 bits) does not
/// lose or gain a value. Clamped to [0, n].
uint64_t KeepCount(uint64_t n, double sparsity);

class Codec
{
  public:
    virtual ~Codec() = default;
    virtual std::string Name() const = 0;
    /// Exact size in bytes, header included, of Encode's output for this shape
    /// (data-independent for every codec here).
    virtual size_t EncodedSize(const Shape& shape) const = 0;
    /// Encodes x (shape.Numel() floats, NCHW) into out (cleared first; capacity reused).
    /// rng: used by randomized codecs (randtopk, stochastic quantize). Throws InputError for a
    /// shape the wire format cannot hold, or non-finite input to quantize/topk/randtopk/ms.
    virtual void Encode(const float* x, const Shape& shape, std::vector<uint8_t>& out, Rng& rng)
        = 0;
    /// Decodes a blob (any codec's blob: the header says which); throws DecodeError on malformed
    /// input. out is resized to the blob's Numel().
    virtual Shape Decode(const uint8_t* data, size_t size, std::vector<float>& out) = 0;
};

/// Builds a codec (validates the configuration and resolves a budget first).
std::unique_ptr<Codec> MakeCodec(const CodecConfig& config);

struct WireHeader;

/// One row of the codec registry: everything about a codec outside its kernel file. Adding a
/// codec is its kernel file plus one row (in Codecs() below, or RegisterCodec from elsewhere).
struct CodecInfo
{
    uint8_t wireId = 0;   // the header's codec byte (compression/wire-header.h)
    std::string name;     // CodecConfig::method, the scenario's and the CLI's name
    int minBits = 0;      // the bits parameter and header byte: minBits..maxBits;
    int maxBits = 0;      // 0..0: unused (the header carries 0)
    bool sparse = false;  // uses sparsity; the header's k counts the values kept (k <= n)
    bool indexed = false; // uses index (auto | bitmap | u32) and randtopk_a
    uint8_t flags = 0;    // header flags it may carry (FLAG_FLOOR, FLAG_SIGNED, ...); the
                          // config's floor, signed and stochastic are refused without theirs
    /// Exact payload bytes after the header, for a header already checked against this row.
    std::function<uint64_t(const WireHeader&)> payloadSize;
    /// Turns config.budgetBitsPerElement (> 0) into the codec's own parameter (sparsity or
    /// bits); throws InputError("budget_bits_per_element: ...") when it cannot be met.
    std::function<void(CodecConfig&, double budget)> resolveBudget;
    /// Asymptotic bits per element of a resolved configuration (no header).
    std::function<double(const CodecConfig&)> nominalBits;
    /// Builds the codec from a validated, resolved configuration.
    std::function<std::unique_ptr<Codec>(const CodecConfig&)> make;
    /// Decodes the payload of a validated header into out (header.n floats).
    std::function<void(const WireHeader&, const uint8_t* payload, float* out)> decode;
};

/// The rows, shipped codecs first (none, fp16, bf16, quantize, topk, randtopk, ms).
const std::vector<CodecInfo>& Codecs();

/// The row of a method name or a wire id; nullptr when none.
const CodecInfo* FindCodec(const std::string& name);
const CodecInfo* FindCodec(uint8_t wireId);

/// The method names, in registry order.
std::vector<std::string> CodecNames();

/// Adds a row for a codec defined outside this file (a test, an extension). Throws
/// std::logic_error when its name or wire id is taken. Register before use, not concurrently.
void RegisterCodec(CodecInfo row);

/// Largest tensor DecodeAny accepts by default: 2^28 elements (1 GiB of floats). Most layouts
/// grow with n, but topk/randtopk with u32 indices cost 8k bytes whatever n is, so a 40-byte
/// blob could otherwise claim a 2^32-element tensor and make the decoder allocate 16 GiB.
constexpr uint64_t DEFAULT_MAX_DECODE_ELEMENTS = uint64_t{1} << 28;

/// Decodes any blob by its header; throws DecodeError for a malformed blob or one whose tensor
/// has more than maxElements elements (checked before anything is allocated).
Shape DecodeAny(const uint8_t* data, size_t size, std::vector<float>& out,
                uint64_t maxElements = DEFAULT_MAX_DECODE_ELEMENTS);

/// ||x - y||_2 / ||x||_2 (0 when both are zero; +inf when only x is zero). Accumulates in double.
double RelativeL2Error(const float* x, const float* y, size_t n);

/// ||x - y||_2 (absolute, as in the paper's Fig. 1 and Fig. 2).
double L2Error(const float* x, const float* y, size_t n);

/// Per-message measurements the simulator records.
struct MessageStats
{
    uint64_t n = 0;            // elements in the tensor
    uint64_t bytes = 0;        // blob size, header included
    double bitsPerElement = 0; // 8 * bytes / n (0 for an empty tensor)
    double relL2Error = 0;     // RelativeL2Error(x, reconstruction)
};

/// Measures one message: x the original, y the decoded reconstruction, bytes the blob size.
MessageStats MeasureMessage(const float* x, const float* y, uint64_t n, uint64_t bytes);

} // namespace slsim

#endif
