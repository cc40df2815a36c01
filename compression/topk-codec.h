// topk and randtopk: sparsification that sends k values and their positions.
//
// topk: the k = KeepCount(n, sparsity) elements of largest magnitude |x| over the whole tensor
//   (for post-ReLU input, x >= 0, this is the paper's by-value SP); ties at the threshold go to
//   the lowest indices. Every other element decodes to 0.
// randtopk (Zheng et al., IJCAI 2023): k positions drawn WITHOUT replacement from the categorical
//   distribution where each of the true top-k positions has mass (1 - a) / k and every other
//   position a / (n - k) (a = randtopk_a, default 0.1). Drawn from the codec's Rng stream: at each
//   of the k draws the group (top-k or rest) is chosen with probability proportional to its
//   remaining mass, then a position uniformly within the group (equal weights make this the same
//   distribution as drawing positions directly). The sent values are the true x at the drawn
//   positions (no rescaling), so decoding is identical to topk.
//
// Payload after the common header (compression/wire-header.h; codec id 5 topk / 6 randtopk,
// bits 0, k = number of values, flags bit3 = u32 indices):
//   4k bytes                  the k values, float32 LE, in ascending index order
//   then either a bitmap      ceil(n / 8) bytes, bit i (LSB-first) = 1 where a value goes,
//                             exactly k bits set, zero padding
//   or u32 indices            4k bytes, u32 LE, strictly increasing, each < n
// Index "auto" picks the smaller of the two for the shape (bitmap on a tie): bitmap iff
// ceil(n / 8) <= 4k, i.e. once k > n / 32. Sizes: 12 + 4R + 4k + ceil(n/8) or 12 + 4R + 8k bytes.
// The decoder rejects non-finite values, a wrong number of set bits, non-increasing or
// out-of-range indices and non-zero padding.
//
// Worked example: topk of x = [0.5, -3, 0, 2] (shape 4), k = 2, bitmap: values -3, 2
//   (00 00 40 C0 | 00 00 00 40), bitmap 0b1010 = 0A; payload 9 bytes, header 16 bytes.
#ifndef SLSIM_COMPRESSION_TOPK_CODEC_H
#define SLSIM_COMPRESSION_TOPK_CODEC_H

#include "compression/codec.h"
#include "compression/top-k-select.h"
#include "compression/wire-header.h"

namespace slsim
{

enum class IndexMode
{
    AUTO,
    BITMAP,
    U32,
};

class TopKCodec : public Codec
{
  public:
    /// randomized: randtopk with parameter a in [0, 1].
    TopKCodec(double sparsity, IndexMode index, bool randomized, double a);
    std::string Name() const override;
    size_t EncodedSize(const Shape& shape) const override;
    void Encode(const float* x, const Shape& shape, std::vector<uint8_t>& out, Rng& rng) override;
    Shape Decode(const uint8_t* data, size_t size, std::vector<float>& out) override;

  private:
    WireHeader Header(const Shape& shape) const;

    double m_sparsity;
    IndexMode m_index;
    bool m_randomized;
    double m_a;
    TopKSelector m_selector;
    std::vector<uint8_t> m_mark;      // randtopk: per-position state
    std::vector<uint32_t> m_top;      // randtopk: the true top-k positions
    std::vector<uint32_t> m_selected; // positions to send, ascending
};

void DecodeTopKPayload(const WireHeader& header, const uint8_t* payload, float* out);

} // namespace slsim

#endif
