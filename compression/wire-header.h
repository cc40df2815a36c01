// The common header that starts every codec blob (all fields little-endian).
//
//   offset  size  field
//   0       4     magic "SLC1" (0x53 0x4C 0x43 0x31)
//   4       1     codec id: 1 none, 2 fp16, 3 bf16, 4 quantize, 5 topk, 6 randtopk, 7 ms
//   5       1     bits: code width (quantize 1..16, ms 1..8), 0 for the other codecs
//   6       1     flags: bit0 floor codes (ms), bit1 signed (ms), bit2 stochastic (quantize),
//                 bit3 u32 indices instead of a bitmap (topk, randtopk); other bits must be 0,
//                 and a flag is only allowed on the codecs named here
//   7       1     rank R, 0..8 (0 = scalar, one element)
//   8       4*R   dims, u32 each, outermost first (NCHW)
//   8+4R    4     k: number of float32 values in the payload (topk, randtopk, ms; 0 otherwise)
//   12+4R   ...   payload (codec specific; see the codec's header)
//
// Header size: 12 + 4R bytes (28 for an NCHW tensor). n = product of dims must be < 2^32
// (positions are u32), and k <= n. The decoder checks the blob size against the exact size the
// header implies before it allocates or reads the payload, so a truncated or padded blob, or a
// header that claims a huge tensor, is rejected up front.
//
// Worked example: a 4x4 ms blob with k = 4 and 2-bit round-half-even codes starts
//   53 4C 43 31 | 07 | 02 | 00 | 02 | 04 00 00 00 | 04 00 00 00 | 04 00 00 00
//   magic         ms   b=2  flg  R=2  dim0 = 4      dim1 = 4      k = 4        (20 bytes)
#ifndef SLSIM_COMPRESSION_WIRE_HEADER_H
#define SLSIM_COMPRESSION_WIRE_HEADER_H

#include "common/byte-io.h"
#include "common/shape.h"

#include <cstdint>
#include <vector>

namespace slsim
{

enum class CodecId : uint8_t
{
    NONE = 1,
    FP16 = 2,
    BF16 = 3,
    QUANTIZE = 4,
    TOPK = 5,
    RANDTOPK = 6,
    MS = 7,
};

constexpr uint8_t FLAG_FLOOR = 1;
constexpr uint8_t FLAG_SIGNED = 2;
constexpr uint8_t FLAG_STOCHASTIC = 4;
constexpr uint8_t FLAG_U32_INDEX = 8;
constexpr size_t MAX_RANK = 8;

struct WireHeader
{
    CodecId codec = CodecId::NONE;
    uint8_t bits = 0;
    uint8_t flags = 0;
    Shape shape;
    uint64_t n = 0; // shape.Numel()
    uint64_t k = 0;
};

/// Header bytes for a shape of this rank.
inline size_t
HeaderSize(size_t rank)
{
    return 12 + 4 * rank;
}

/// Name of a codec id ("ms"), or "unknown".
const char* CodecIdName(CodecId id);

/// Checks that a shape fits the wire format (rank <= 8, dims in [0, 2^32), n < 2^32) and returns
/// n. Throws InputError naming the codec.
uint64_t CheckEncodableShape(const Shape& shape, const char* codecName);

/// Appends the header to out.
void WriteHeader(std::vector<uint8_t>& out, const WireHeader& header);

/// Reads and validates the header (magic, codec id, bits, flags, rank, n, k) and leaves the
/// reader at the payload. Throws DecodeError.
WireHeader ReadHeader(ByteReader& reader);

/// Exact payload size implied by a validated header (everything after the header).
uint64_t PayloadSize(const WireHeader& header);

} // namespace slsim

#endif
