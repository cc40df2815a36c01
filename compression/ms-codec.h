// MS: mask-encoded sparsification (Zhou et al., ECAI 2024; docs/method.md).
//
// Encoding of x (n floats, NCHW flattened), sparsity r, code bits b, L = 2^b - 1:
//   k = KeepCount(n, r) = floor((1 - r) n). Select the k largest elements of the WHOLE tensor by
//   value (signed variant: by |x|); ties at the threshold go to the lowest indices. T = the
//   smallest selected value (magnitude). Selected elements get the reserved code L; every other
//   element gets q = nearbyint((a * L) / T) (round half to even, float32 arithmetic as torch does,
//   a = x or |x|), clamped to [0, L - 1]; with the floor option q = floor((a * L) / T), clamped.
//   When T <= 0 (fewer than k positive elements) every non-selected code is 0.
// Decoding: T = min over the values (of |v| when signed); code L takes the next value in order,
//   any other code c becomes c * (T / L) (float32), negated when its sign bit is set.
//   With k = 0 there are no values and every element decodes to 0 (T = 0).
// How Encode computes it (same bytes either way, tests/compression/ms-codec-test.cc): for n >=
//   2^18 and b <= 3 in an AVX2 build, ONE pass over x. A sample of 8192 cache lines brackets T in
//   [tLo, tHi]; the codes are thresholds of a (code >= c iff a >= B_c(T), B_c found once by
//   bisection), so the pass writes every code that is the same for all T in [tLo, tHi] (a > tHi: L;
//   a < tLo and no B_c between B_c(tLo) and B_c(tHi): the thresholds' count), and lists the rest
//   with their values: those in [tLo, tHi] give the exact T (nth_element), then the listed elements
//   get their codes and the selected ones their value slots, in index order. If T falls outside the
//   bounds, or for other n and b, EncodeTwoPass: an exact O(n) select pass (top-k-select.h),
//   then a code pass.
// The encoder rejects NaN/inf input (InputError); the decoder rejects non-finite values, a count
// of code-L entries different from k, and non-zero padding bits.
//
// Payload after the common header (compression/wire-header.h; codec id 7, bits = b,
// flags bit0 = floor, bit1 = signed, k = number of values):
//   4k bytes                the k selected values, float32 LE, in ascending index order
//   ceil(n b / 8) bytes     n codes of b bits, LSB-first (code i in bits [i b, (i+1) b))
//   ceil(n / 8) bytes       signed variant only: n sign bits, bit i = (x_i < 0), LSB-first
//                           (read only where the code is not L; the value carries its own sign)
// Size: 12 + 4R + 4k + ceil(n b / 8) [+ ceil(n / 8)] bytes; b + 32 k / n (+1) bits per element.
// At r = 0.99, b = 2: 2.32 bits per element (13.79x smaller than fp32).
//
// Worked example (the paper's Fig. 1, tests/compression/ms-codec-test.cc): x (4x4) =
//   2.2 0.8 1.2 0.4 / 1.8 0.2 3.1 2.0 / 2.1 0.2 1.1 1.7 / 0.3 2.8 1.4 0.9, k = 4 (r = 0.75), b = 2.
//   values = 2.2 3.1 2.1 2.8 (index order), T = 2.1, levels 0, 0.7, 1.4.
//   codes (round-half-even + clamp) = 3 1 2 1 / 2 0 3 2 / 3 0 2 2 / 0 3 2 1
//   reconstruction = 2.2 .7 1.4 .7 / 1.4 0 3.1 1.4 / 2.1 0 1.4 1.4 / 0 2.8 1.4 .7,
//   L2 error 1.02 (plain top-4: 4.06).
//   Blob (40 bytes) = header (20 bytes, see wire-header.h)
//     + values  CD CC 0C 40 | 66 66 46 40 | 66 66 06 40 | 33 33 33 40   (2.2 3.1 2.1 2.8)
//     + codes   67 B2 A3 6C   (byte 0 = codes 3,1,2,1 -> 0b01_10_01_11 = 0x67, LSB first)
//   i.e. 20 bytes of payload, as in the paper (64 bytes of fp32).
#ifndef SLSIM_COMPRESSION_MS_CODEC_H
#define SLSIM_COMPRESSION_MS_CODEC_H

#include "compression/codec.h"
#include "compression/top-k-select.h"
#include "compression/wire-header.h"

namespace slsim
{

class MsCodec : public Codec
{
  public:
    /// sparsity in [0, 1], bits 1..8.
    MsCodec(double sparsity, int bits, bool floorCodes, bool signedValues);
    std::string Name() const override;
    size_t EncodedSize(const Shape& shape) const override;
    void Encode(const float* x, const Shape& shape, std::vector<uint8_t>& out, Rng& rng) override;
    Shape Decode(const uint8_t* data, size_t size, std::vector<float>& out) override;

    /// The same bytes as Encode by the reference route: an exact top-k select pass, then a code
    /// pass (Encode uses it for small inputs, b > 3, and when the fused pass's sample misses).
    void EncodeTwoPass(const float* x, const Shape& shape, std::vector<uint8_t>& out);

    /// How Encode's fused pass went so far: finished, or missed (T outside the sample's bounds:
    /// the two-pass encoder ran after it). Calls that never tried it count in neither.
    struct FusedStats
    {
        uint64_t finished = 0;
        uint64_t missed = 0;
    };

    const FusedStats& GetFusedStats() const
    {
        return m_fusedStats;
    }

  private:
    void EncodeImpl(const float* x, const Shape& shape, std::vector<uint8_t>& out, bool fused);
    /// One pass over x (see ms-codec.cc); false when it cannot finish exactly (nothing valid
    /// written then).
    bool EncodeFused(const float* x, uint64_t n, uint64_t k, uint8_t* vals, uint8_t* codeDst,
                     uint8_t* signDst);
    void EncodeTwoPassBody(const float* x, uint64_t n, uint64_t k, uint8_t* vals, uint8_t* codeDst,
                           uint8_t* signDst);

    double m_sparsity;
    unsigned m_bits;
    bool m_floor;
    bool m_signed;
    TopKSelector m_selector;
    // fused pass (ms-codec.cc): sample histogram, elements to finish, keys in [tLo, tHi]
    std::vector<uint32_t> m_hist;
    std::vector<uint32_t> m_fixIndex;
    std::vector<float> m_fixValue;
    std::vector<uint32_t> m_band;
    FusedStats m_fusedStats;
};

/// Decodes an ms payload (header already validated: size matches) into out[0..n).
void DecodeMsPayload(const WireHeader& header, const uint8_t* payload, float* out);

/// Packs codes[0..count) of `bits` bits LSB-first into dst[0..PackedBytes(count, bits)).
/// codes must hold zeros up to the next multiple of 8 entries. dst need not be zeroed.
void PackCodes(const uint8_t* codes, size_t count, unsigned bits, uint8_t* dst);

} // namespace slsim

#endif
