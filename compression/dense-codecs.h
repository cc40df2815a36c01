// Dense codecs: none (fp32), fp16, bf16 casts and uniform b-bit quantization (the paper's QU).
//
// Payloads after the common header (compression/wire-header.h), n = number of elements:
//   none (id 1):     n x float32 LE                                   4n bytes
//   fp16 (id 2):     n x IEEE binary16 LE, round to nearest even;     2n bytes
//                    overflow -> inf, NaN stays NaN (quiet)
//   bf16 (id 3):     n x bfloat16 LE (high half of the float32),      2n bytes
//                    round to nearest even, NaN stays NaN (quiet)
//   quantize (id 4): float32 min, float32 max, then n codes of b bits  8 + ceil(n b / 8) bytes
//                    (bits = b in the header, LSB-first, zero padding)
// Quantize, L = 2^b - 1, per tensor: s = L / (max - min);
//   deterministic:  c = nearbyint((x - min) * s)  (round half to even), clamped to [0, L]
//   stochastic:     c = floor((x - min) * s + u), u ~ U[0, 1) from the codec's Rng stream,
//                   clamped to [0, L]; E[c] = (x - min) s, so E[decode] = x (unbiased, QSGD-style)
//   decode:         x = min + c * ((max - min) / L)  (float32); max == min -> every code 0, x = min
//   |x - decode| <= (max - min) / (2L) deterministic, < (max - min) / L stochastic.
// The quantize encoder rejects NaN/inf input; the decoder rejects non-finite min/max, min > max
// and non-zero padding. The casts accept any input (NaN and inf survive the round trip).
//
// Worked example: quantize, b = 2, x = [0, 1, 2, 3.1] (shape 4): min 0, max 3.1, s = 3 / 3.1,
//   codes 0 1 2 3 -> one byte 0b11_10_01_00 = 0xE4; blob = 16-byte header (04 02 00 01 | 04 00 00
//   00 | 00 00 00 00 after the magic) + 00 00 00 00 | 66 66 46 40 | E4 (25 bytes);
//   decodes to 0, 1.0333, 2.0667, 3.1.
#ifndef SLSIM_COMPRESSION_DENSE_CODECS_H
#define SLSIM_COMPRESSION_DENSE_CODECS_H

#include "compression/codec.h"
#include "compression/wire-header.h"

namespace slsim
{

/// IEEE binary16 conversions (round to nearest even; scalar reference, portable).
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);
/// bfloat16 conversions (round to nearest even).
uint16_t FloatToBf16(float f);
float Bf16ToFloat(uint16_t h);

/// none, fp16 or bf16 (the cast codecs).
class CastCodec : public Codec
{
  public:
    explicit CastCodec(CodecId id);
    std::string Name() const override;
    size_t EncodedSize(const Shape& shape) const override;
    void Encode(const float* x, const Shape& shape, std::vector<uint8_t>& out, Rng& rng) override;
    Shape Decode(const uint8_t* data, size_t size, std::vector<float>& out) override;

  private:
    CodecId m_id;
};

class QuantizeCodec : public Codec
{
  public:
    /// bits 1..16.
    QuantizeCodec(int bits, bool stochastic);
    std::string Name() const override;
    size_t EncodedSize(const Shape& shape) const override;
    void Encode(const float* x, const Shape& shape, std::vector<uint8_t>& out, Rng& rng) override;
    Shape Decode(const uint8_t* data, size_t size, std::vector<float>& out) override;

  private:
    unsigned m_bits;
    bool m_stochastic;
};

/// Decode payloads of a validated header into out[0..n).
void DecodeCastPayload(const WireHeader& header, const uint8_t* payload, float* out);
void DecodeQuantizePayload(const WireHeader& header, const uint8_t* payload, float* out);

} // namespace slsim

#endif
