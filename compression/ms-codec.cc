#include "compression/ms-codec.h"

#include "common/byte-io.h"
#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

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

/// The code of one element that is not selected: clamp((a * L) / T rounded, 0, L - 1) (floor
/// instead of rounding with the floor option), or 0 when keep = 0 (T <= 0). Non-decreasing in a
/// for fixed T > 0 and non-increasing in T for fixed a (IEEE multiplication, division, rounding
/// and clamping are monotone): the fused encoder's code boundaries rely on both.
template <bool Floor>
inline float
PlainCode(float a, float lf, float lMinus1, float tDiv, float keep)
{
    // y = (a * L) / T, as torch computes flat * L / T in float32; clamped before use.
    float y = (a * lf) / tDiv;
    y = std::min(std::max(y, 0.0f), 256.0f) * keep;
    const float q = Floor ? static_cast<float>(static_cast<int>(y)) : RoundHalfEvenSmall(y);
    return std::min(q, lMinus1);
}

/// Codes of one block, branch-free so that it vectorises: selected elements (a > T, or a == T
/// when every tie is taken) get L; the others PlainCode. Partial ties are fixed up by the caller.
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
        const float q = PlainCode<Floor>(a, lf, lMinus1, tDiv, keep);
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

/// Fused encoder (MsCodec::EncodeFused): inputs of at least FUSED_MIN_N elements, codes of at
/// most FUSED_MAX_BITS bits (2^b - 2 boundary comparisons per element), a sample of
/// FUSED_SAMPLE_LINES runs of 16 consecutive elements (one 64-byte line each).
constexpr uint64_t FUSED_MIN_N = uint64_t{1} << 18;
constexpr unsigned FUSED_MAX_BITS = 3;
constexpr uint64_t FUSED_SAMPLE_LINES = 8192;
constexpr uint64_t FUSED_LINE = 16;

/// B[c - 1] = the smallest float a >= 0 with PlainCode(a, T) >= c, for c = 1 .. L - 1 and T > 0.
/// PlainCode is non-decreasing in a, so PlainCode(a, T) = #{c : a >= B[c - 1]} for every a
/// (negative a: code 0, and B > 0). Bisection over the bit patterns of [0, T], which order as
/// the floats do; PlainCode(0, T) = 0 and PlainCode(T, T) = L - 1 bracket every boundary.
template <bool Floor>
void
CodeBoundaries(float T, unsigned L, float* B)
{
    const auto lf = static_cast<float>(L);
    const auto lMinus1 = static_cast<float>(L - 1);
    uint32_t top;
    std::memcpy(&top, &T, 4);
    SLSIM_ASSERT(PlainCode<Floor>(T, lf, lMinus1, T, 1.0f) == lMinus1);
    for (unsigned c = 1; c < L; ++c)
    {
        uint32_t lo = 0; // PlainCode(lo) < c <= PlainCode(hi)
        uint32_t hi = top;
        while (hi - lo > 1)
        {
            const uint32_t mid = lo + (hi - lo) / 2;
            float a;
            std::memcpy(&a, &mid, 4);
            (PlainCode<Floor>(a, lf, lMinus1, T, 1.0f) >= static_cast<float>(c) ? hi : lo) = mid;
        }
        std::memcpy(&B[c - 1], &hi, 4);
    }
}

/// What the fused pass knows before it runs: T lies in [tLo, tHi] (0 < tLo), and bLo / bHi are
/// the code boundaries for T = tLo / T = tHi (bLo[c] <= bHi[c]: PlainCode is non-increasing in T).
struct FusedBounds
{
    float tLo = 0;
    float tHi = 0;
    float bLo[8] = {};
    float bHi[8] = {};
};

/// Totals of the fused pass over the blocks.
struct FusedTotals
{
    uint64_t above = 0; // elements with a > tHi
    uint32_t bad = 0;   // non-zero: x has a NaN or an infinity
};

/// Writes code `code` of `bits` bits at position i of an LSB-first stream of `size` bytes: a
/// 16-bit read-modify-write (the code may reach into the next byte), a 1-byte one at the end.
inline void
SetCode(uint8_t* p, size_t size, uint64_t i, unsigned bits, uint32_t code)
{
    const uint64_t bit = i * bits;
    const auto byte = static_cast<size_t>(bit >> 3);
    const auto off = static_cast<unsigned>(bit & 7);
    const uint32_t mask = ((1u << bits) - 1) << off;
    if (byte + 1 < size)
    {
        uint16_t w;
        std::memcpy(&w, p + byte, 2); // x86 is little-endian
        w = static_cast<uint16_t>((w & ~mask) | (code << off));
        std::memcpy(p + byte, &w, 2);
    }
    else
    {
        p[byte] = static_cast<uint8_t>((p[byte] & ~mask) | (code << off));
    }
}

#if defined(__AVX2__)
/// The fused pass over one block xb[0..m) (m <= BLOCK; element base + j of x, base a multiple
/// of 8; codeDst / signDst point at the block's first code / sign byte). For every element,
/// a = x (|x| when Abs): a > tHi gets code L (surely selected); any other gets
/// #{c : a >= bHi[c]}, which is its final code unless a >= tLo (it may be selected) or a lies
/// in [bLo[c], bHi[c]) for some c (its code depends on where T falls in [tLo, tHi]). Those
/// elements, and the surely selected ones (their values go in index order), are appended to
/// idx/val (room for m entries); returns how many. Scalar version, for the last m % 8 elements
/// of FusedBlockAvx2, which writes the same bytes.
template <unsigned Bits, bool Abs>
size_t
FusedBlock(const float* xb, size_t m, uint64_t base, const FusedBounds& fb, uint8_t* codeDst,
           uint8_t* signDst, uint32_t* idx, float* val, FusedTotals& totals)
{
    constexpr unsigned NB = (1u << Bits) - 2;
    constexpr auto L = static_cast<uint8_t>((1u << Bits) - 1);
    // Locals, so that the stores to the byte buffers cannot alias them in the compiler's eyes.
    float bLo[NB + 1];
    float bHi[NB + 1];
    for (unsigned c = 0; c < NB; ++c)
    {
        bLo[c] = fb.bLo[c];
        bHi[c] = fb.bHi[c];
    }
    const float tLo = fb.tLo;
    const float tHi = fb.tHi;
    uint8_t codes[BLOCK];
    uint8_t flags[BLOCK];
    uint32_t aboveBlock = 0;
    uint32_t badBits = 0;
    for (size_t j = 0; j < m; ++j)
    {
        uint32_t u;
        std::memcpy(&u, xb + j, 4);
        badBits |= static_cast<uint32_t>((u & 0x7fffffffu) >= 0x7f800000u);
        const float a = Abs ? std::fabs(xb[j]) : xb[j];
        uint32_t qHi = 0;
        uint32_t qLo = 0;
        for (unsigned c = 0; c < NB; ++c)
        {
            qHi += static_cast<uint32_t>(a >= bHi[c]);
            qLo += static_cast<uint32_t>(a >= bLo[c]);
        }
        const auto sure = static_cast<uint32_t>(a > tHi);
        codes[j] = static_cast<uint8_t>(sure ? L : qHi);
        flags[j] = static_cast<uint8_t>(static_cast<uint32_t>(a >= tLo) | (qLo != qHi));
        aboveBlock += sure;
    }
    totals.above += aboveBlock;
    totals.bad |= badBits;
    const size_t padded = (m + 7) & ~size_t{7};
    for (size_t j = m; j < padded; ++j)
    {
        codes[j] = 0;
    }
    PackCodes(codes, m, Bits, codeDst);
    if (Abs)
    {
        uint8_t signs[BLOCK];
        for (size_t j = 0; j < m; ++j)
        {
            signs[j] = xb[j] < 0.0f ? 1 : 0;
        }
        for (size_t j = m; j < padded; ++j)
        {
            signs[j] = 0;
        }
        PackCodes(signs, m, 1, signDst);
    }
    size_t count = 0;
    for (size_t j = 0; j < m; ++j)
    {
        idx[count] = static_cast<uint32_t>(base + j);
        val[count] = xb[j];
        count += flags[j];
    }
    return count;
}

/// compress[m] = the positions of the set bits of m (ascending), then zeros: the permutation
/// that moves the flagged lanes of 8 to the front.
struct CompressTable
{
    uint8_t lanes[256][8];
};

constexpr CompressTable
MakeCompressTable()
{
    CompressTable t{};
    for (unsigned m = 0; m < 256; ++m)
    {
        unsigned w = 0;
        for (unsigned e = 0; e < 8; ++e)
        {
            if (m & (1u << e))
            {
                t.lanes[m][w++] = static_cast<uint8_t>(e);
            }
        }
    }
    return t;
}

constexpr CompressTable COMPRESS = MakeCompressTable();

/// Spread<b>(m): bit e of the 8-bit m moved to bit b e (one bit plane of 8 codes of b bits).
template <unsigned B>
struct SpreadTable
{
    uint32_t bits[256];
};

template <unsigned B>
constexpr SpreadTable<B>
MakeSpreadTable()
{
    SpreadTable<B> t{};
    for (unsigned m = 0; m < 256; ++m)
    {
        for (unsigned e = 0; e < 8; ++e)
        {
            t.bits[m] |= ((m >> e) & 1u) << (B * e);
        }
    }
    return t;
}

template <unsigned B>
constexpr SpreadTable<B> SPREAD = MakeSpreadTable<B>();

/// FusedBlock with AVX2, eight elements per vector: the codes as integer lanes (a sum of
/// comparison masks), sign bits by one movemask, and the flagged lanes appended by a permutation
/// from COMPRESS. 2-bit codes are packed 32 at a time: four vectors of codes narrowed to bytes
/// (packs, packus), four codes per byte by two multiply-adds (c0 + 4 c1, then + 16 (c2 + 4 c3)),
/// the bytes put in element order by one shuffle and one unpack; other widths bit plane by bit
/// plane (movemask + SPREAD) per vector. The last m % 8 elements go through FusedBlock.
/// Per 8 elements (b = 2, unsigned) about 25 instructions instead of 53 (the 8-at-a-time loop
/// also spilled to the stack): the b = 2 encode of the benchmark tensor 4.23 -> 3.53 ms on a
/// quiet Xeon (compression/README.md).
template <unsigned Bits, bool Abs>
__attribute__((noinline)) size_t
FusedBlockAvx2(const float* xb, size_t m, uint64_t base, const FusedBounds& fb, uint8_t* codeDst,
               uint8_t* signDst, uint32_t* idx, float* val, FusedTotals& totals)
{
    constexpr unsigned NB = (1u << Bits) - 2;
    static_assert(NB < 8, "the lower boundaries must fit one vector, with a sentinel");
    if constexpr (NB > 0)
    {
        // a > tHi implies qHi = NB (every boundary for T = tHi is <= tHi), so code L = qHi + 1
        SLSIM_ASSERT(fb.bHi[NB - 1] <= fb.tHi);
    }
    __m256 bHi[NB + 1];
    alignas(32) float lowTable[8];
    for (unsigned c = 0; c < 8; ++c)
    {
        lowTable[c] = c < NB ? fb.bLo[c] : INFINITY;
    }
    for (unsigned c = 0; c < NB; ++c)
    {
        bHi[c] = _mm256_set1_ps(fb.bHi[c]);
    }
    const __m256 bLo = _mm256_load_ps(lowTable);
    const __m256 tLo = _mm256_set1_ps(fb.tLo);
    const __m256 tHi = _mm256_set1_ps(fb.tHi);
    const __m256 zero = _mm256_setzero_ps();
    const __m256i absMask = _mm256_set1_epi32(0x7fffffff);
    const __m256i eight = _mm256_set1_epi32(8);
    __m256i at = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(base)),
                                  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256i badMax = _mm256_setzero_si256(); // the largest |x| bit pattern (> max finite: bad)
    __m256i aboveAcc = _mm256_setzero_si256();
    size_t count = 0;
    // Classifies the 8 elements at j: appends the flagged ones, writes their sign bits; returns
    // their codes.
    auto classify = [&](size_t j) {
        const __m256 v = _mm256_loadu_ps(xb + j);
        const __m256i ab = _mm256_and_si256(_mm256_castps_si256(v), absMask);
        badMax = _mm256_max_epu32(badMax, ab);
        const __m256 a = Abs ? _mm256_castsi256_ps(ab) : v;
        __m256i qHi = _mm256_setzero_si256();
        for (unsigned c = 0; c < NB; ++c)
        {
            // a mask lane is -1 where true: subtracting it counts the boundaries below a
            qHi = _mm256_sub_epi32(qHi, _mm256_castps_si256(_mm256_cmp_ps(a, bHi[c], _CMP_GE_OQ)));
        }
        const __m256i sure = _mm256_castps_si256(_mm256_cmp_ps(a, tHi, _CMP_GT_OQ));
        aboveAcc = _mm256_sub_epi32(aboveAcc, sure);
        // #{c : a >= bLo[c]} != qHi iff a >= bLo[qHi] (bLo is non-decreasing and bLo[c] <=
        // bHi[c]): one lookup of the next lower boundary (+inf past the last) replaces NB
        // comparisons.
        const __m256 next = _mm256_permutevar8x32_ps(bLo, qHi);
        const auto flags = static_cast<unsigned>(_mm256_movemask_ps(
            _mm256_or_ps(_mm256_cmp_ps(a, next, _CMP_GE_OQ), _mm256_cmp_ps(a, tLo, _CMP_GE_OQ))));
        if (Abs)
        {
            signDst[j / 8]
                = static_cast<uint8_t>(_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_LT_OQ)));
        }
        const __m256i perm = _mm256_cvtepu8_epi32(
            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(COMPRESS.lanes[flags])));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + count),
                            _mm256_permutevar8x32_epi32(at, perm));
        _mm256_storeu_ps(val + count, _mm256_permutevar8x32_ps(v, perm));
        count += static_cast<size_t>(__builtin_popcount(flags));
        at = _mm256_add_epi32(at, eight);
        return _mm256_sub_epi32(qHi, sure); // code L where sure
    };
    // Packs the 8 codes of the elements at j, bit plane by bit plane.
    auto packPlanes = [codeDst](__m256i q, size_t j) {
        uint32_t packed = 0;
        for (unsigned p = 0; p < Bits; ++p)
        {
            const auto plane = static_cast<unsigned>(_mm256_movemask_ps(
                _mm256_castsi256_ps(_mm256_slli_epi32(q, static_cast<int>(31 - p)))));
            packed |= (Bits == 1 ? plane : SPREAD<Bits>.bits[plane]) << p;
        }
        std::memcpy(codeDst + (j / 8) * Bits, &packed, Bits); // x86 is little-endian
    };
    size_t j = 0;
    if constexpr (Bits == 2)
    {
        const __m256i mul4 = _mm256_set1_epi16(0x0401);      // bytes 1, 4
        const __m256i mul16 = _mm256_set1_epi32(0x00100001); // words 1, 16
        // per 128-bit lane, byte 0 of dwords 0, 2, 1, 3 (see below), the rest zero
        const __m256i pick = _mm256_setr_epi8(
            0, 8, 4, 12, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, 0,
            8, 4, 12, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128);
        for (; j + 32 <= m; j += 32)
        {
            const __m256i q0 = classify(j);
            const __m256i q1 = classify(j + 8);
            const __m256i q2 = classify(j + 16);
            const __m256i q3 = classify(j + 24);
            // bytes, per 128-bit lane: q0[0..3] q2[0..3] q1[0..3] q3[0..3] | the same of [4..7]
            const __m256i b
                = _mm256_packus_epi16(_mm256_packs_epi32(q0, q2), _mm256_packs_epi32(q1, q3));
            // dwords, each one byte of 4 codes (LSB first): q0lo q2lo q1lo q3lo | q0hi ...
            const __m256i w = _mm256_madd_epi16(_mm256_maddubs_epi16(b, mul4), mul16);
            const __m256i g = _mm256_shuffle_epi8(w, pick); // q0lo q1lo q2lo q3lo | q0hi ...
            const __m128i out
                = _mm_unpacklo_epi8(_mm256_castsi256_si128(g), _mm256_extracti128_si256(g, 1));
            _mm_storel_epi64(reinterpret_cast<__m128i*>(codeDst + j / 4), out);
        }
    }
    for (; j + 8 <= m; j += 8)
    {
        packPlanes(classify(j), j);
    }
    alignas(32) uint32_t above[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(above), aboveAcc);
    for (uint32_t a : above)
    {
        totals.above += a;
    }
    const __m256i maxFinite = _mm256_set1_epi32(0x7f7fffff);
    totals.bad |= static_cast<uint32_t>(!_mm256_testc_si256(
        _mm256_cmpeq_epi32(_mm256_max_epu32(badMax, maxFinite), maxFinite), _mm256_set1_epi32(-1)));
    if (j < m)
    {
        count += FusedBlock<Bits, Abs>(xb + j, m - j, base + j, fb, codeDst + j / 8 * Bits,
                                       signDst + j / 8, idx + count, val + count, totals);
    }
    return count;
}

/// The fix-up after the fused pass (EncodeFused), eight listed entries at a time: entry e (element
/// idx[e], value val[e], in index order) is selected when a > T, or a == T while tiesLeft > 0
/// (ties to the lowest indices); selected values go to vals[written..] in order (a permutation
/// from COMPRESS); the exact code (L, or PlainCode with T) is written only where it differs from
/// the one the fused pass wrote (L for a > tHi, else #{c : a >= bHi[c]}). The last count % 8
/// entries, scalar. Returns the number of values written; tiesLeft is decremented.
template <unsigned Bits, bool Abs, bool Floor>
uint64_t
FixUpAvx2(const uint32_t* idx, const float* val, size_t count, float T, uint64_t& tiesLeft,
          const FusedBounds& fb, uint64_t k, uint8_t* vals, uint8_t* codeDst, size_t codeBytes)
{
    constexpr unsigned L = (1u << Bits) - 1;
    constexpr unsigned NB = L - 1;
    const auto lf = static_cast<float>(L);
    const auto lMinus1 = static_cast<float>(L - 1);
    __m256 bHi[NB + 1];
    for (unsigned c = 0; c < NB; ++c)
    {
        bHi[c] = _mm256_set1_ps(fb.bHi[c]);
    }
    const __m256 tHi = _mm256_set1_ps(fb.tHi);
    const __m256 tv = _mm256_set1_ps(T);
    const __m256 lfv = _mm256_set1_ps(lf);
    const __m256 lm1v = _mm256_set1_ps(lMinus1);
    const __m256 zero = _mm256_setzero_ps();
    const __m256 top = _mm256_set1_ps(256.0f);
    const __m256 shift = _mm256_set1_ps(8388608.0f);
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256i codeL = _mm256_set1_epi32(static_cast<int>(L));
    const __m256i laneBit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    alignas(32) int32_t finalCode[8];
    alignas(32) float packed[8];
    uint64_t written = 0;
    const size_t count8 = count & ~size_t{7};
    for (size_t e = 0; e < count8; e += 8)
    {
        const __m256 v = _mm256_loadu_ps(val + e);
        const __m256 a = Abs ? _mm256_and_ps(v, absMask) : v;
        auto sel = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(a, tv, _CMP_GT_OQ)));
        auto eq = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(a, tv, _CMP_EQ_OQ)));
        for (; eq != 0 && tiesLeft > 0; eq &= eq - 1) // ties at T: rare
        {
            sel |= eq & (0u - eq);
            --tiesLeft;
        }
        // PlainCode(a, T), as the scalar version: the same IEEE operations in the same order.
        __m256 y = _mm256_div_ps(_mm256_mul_ps(a, lfv), tv);
        y = _mm256_min_ps(_mm256_max_ps(y, zero), top);
        const __m256 q = Floor ? _mm256_round_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC)
                               : _mm256_sub_ps(_mm256_add_ps(y, shift), shift);
        const __m256i qi = _mm256_cvttps_epi32(_mm256_min_ps(q, lm1v));
        const __m256i selV = _mm256_cmpeq_epi32(
            _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(sel)), laneBit), laneBit);
        const __m256i code = _mm256_blendv_epi8(qi, codeL, selV);
        // the fused pass's code
        __m256i qHi = _mm256_setzero_si256();
        for (unsigned c = 0; c < NB; ++c)
        {
            qHi = _mm256_sub_epi32(qHi, _mm256_castps_si256(_mm256_cmp_ps(a, bHi[c], _CMP_GE_OQ)));
        }
        const __m256i before = _mm256_blendv_epi8(
            qHi, codeL, _mm256_castps_si256(_mm256_cmp_ps(a, tHi, _CMP_GT_OQ)));
        auto changed = 0xffu
                       & ~static_cast<unsigned>(_mm256_movemask_ps(
                           _mm256_castsi256_ps(_mm256_cmpeq_epi32(code, before))));
        if (changed != 0)
        {
            _mm256_store_si256(reinterpret_cast<__m256i*>(finalCode), code);
            for (; changed != 0; changed &= changed - 1)
            {
                const auto lane = static_cast<unsigned>(__builtin_ctz(changed));
                SetCode(codeDst, codeBytes, idx[e + lane], Bits,
                        static_cast<uint32_t>(finalCode[lane]));
            }
        }
        const __m256i perm = _mm256_cvtepu8_epi32(
            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(COMPRESS.lanes[sel])));
        const __m256 moved = _mm256_permutevar8x32_ps(v, perm);
        const auto taken = static_cast<unsigned>(__builtin_popcount(sel));
        if (written + 8 <= k)
        {
            // lanes past `taken` are overwritten by the next values (all k slots are written)
            _mm256_storeu_ps(reinterpret_cast<float*>(vals + 4 * written), moved);
        }
        else
        {
            _mm256_store_ps(packed, moved); // never write past the k values (the codes follow)
            std::memcpy(vals + 4 * written, packed, 4 * std::min<uint64_t>(taken, k - written));
        }
        written += taken;
    }
    uint8_t scratch[4];
    for (size_t e = count8; e < count; ++e)
    {
        const float v = val[e];
        const float a = Abs ? std::fabs(v) : v;
        const bool tie = (a == T) & (tiesLeft > 0);
        tiesLeft -= static_cast<uint64_t>(tie);
        const bool sel = (a > T) | tie;
        const float q = PlainCode<Floor>(a, lf, lMinus1, T, 1.0f);
        std::memcpy(sel ? vals + 4 * written : scratch, &v, 4);
        written += static_cast<uint64_t>(sel);
        SetCode(codeDst, codeBytes, idx[e], Bits, sel ? L : static_cast<uint32_t>(q));
    }
    return written;
}

/// FusedBlockAvx2 over all of x, in blocks; fills the fix list (grown as needed, never shrunk).
/// Returns the number of entries.
template <unsigned Bits, bool Abs>
size_t
FusedPass(const float* x, uint64_t n, const FusedBounds& fb, uint8_t* codeDst, uint8_t* signDst,
          std::vector<uint32_t>& idx, std::vector<float>& val, FusedTotals& totals)
{
    size_t count = 0;
    for (uint64_t start = 0; start < n; start += BLOCK)
    {
        const size_t m = static_cast<size_t>(std::min<uint64_t>(BLOCK, n - start));
        if (idx.size() < count + m)
        {
            idx.resize(std::max(2 * idx.size(), count + BLOCK));
            val.resize(idx.size());
        }
        count += FusedBlockAvx2<Bits, Abs>(x + start, m, start, fb, codeDst + start / 8 * Bits,
                                           signDst + start / 8, idx.data() + count,
                                           val.data() + count, totals);
    }
    return count;
}
#endif

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
    EncodeImpl(x, shape, out, true);
}

void
MsCodec::EncodeTwoPass(const float* x, const Shape& shape, std::vector<uint8_t>& out)
{
    EncodeImpl(x, shape, out, false);
}

void
MsCodec::EncodeImpl(const float* x, const Shape& shape, std::vector<uint8_t>& out, bool fused)
{
    WireHeader h;
    h.codec = CodecId::MS;
    h.bits = static_cast<uint8_t>(m_bits);
    h.flags = static_cast<uint8_t>((m_floor ? FLAG_FLOOR : 0) | (m_signed ? FLAG_SIGNED : 0));
    h.shape = shape;
    h.n = CheckEncodableShape(shape, "ms");
    h.k = KeepCount(h.n, m_sparsity);
    // Every payload byte is written below (values, packed codes and signs, padding included):
    // resize without clear() so that a reused buffer is not zero-filled first.
    std::vector<uint8_t> head;
    WriteHeader(head, h);
    const size_t headerSize = head.size();
    out.resize(headerSize + PayloadSize(h));
    std::memcpy(out.data(), head.data(), headerSize);
    uint8_t* vals = out.data() + headerSize;
    uint8_t* codeDst = vals + 4 * h.k;
    uint8_t* signDst = codeDst + PackedBytes(h.n, m_bits);
    if (h.n == 0)
    {
        return;
    }
    // The fused pass declines (returns false) for small or unusual inputs; the two-pass body
    // then rewrites every payload byte.
    if (!fused || !EncodeFused(x, h.n, h.k, vals, codeDst, signDst))
    {
        EncodeTwoPassBody(x, h.n, h.k, vals, codeDst, signDst);
    }
}

bool
MsCodec::EncodeFused(const float* x, uint64_t n, uint64_t k, uint8_t* vals, uint8_t* codeDst,
                     uint8_t* signDst)
{
#if !defined(__AVX2__)
    // Without AVX2 the scalar fused pass measured slower than the two passes (13.4 vs 12.4 ms at
    // -O3 on the benchmark tensor): the two-pass encoder does all the work.
    (void)x, (void)n, (void)k, (void)vals, (void)codeDst, (void)signDst;
    return false;
#else
    if (n < FUSED_MIN_N || k == 0 || m_bits > FUSED_MAX_BITS)
    {
        return false;
    }
    const bool useAbs = m_signed;
    auto keyOf = [useAbs](float v) { return useAbs ? MagnitudeKey(v) : ValueKey(v); };
    auto fromKey
        = [useAbs](uint32_t key) { return useAbs ? MagnitudeFromKey(key) : ValueFromKey(key); };
    // Bounds [tLo, tHi] around T from a sample of S = 16 * FUSED_SAMPLE_LINES keys: one run of 16
    // consecutive elements (one cache line) per stride of n / FUSED_SAMPLE_LINES, at a
    // pseudo-random offset (a fixed one would sample the same pixels of every map), counted in a
    // histogram of the top 16 key bits. Sample ranks r -+ (3.5 sd of the binomial + 16),
    // r = S k / n, rounded outward to whole bins. A wider margin misses less often (the 16
    // elements of a run are correlated in real activations) but leaves more elements to finish
    // after the pass (on the benchmark tensor, b = 2: 124k at 4 sd, 158k at 6 sd; 3.5 sd measured
    // fastest; an independent sample misses at 3.5 sd about once in 2,000 calls). The result is
    // exact whatever the sample says: when T is not in [tLo, tHi] (checked after the pass), the
    // two-pass encoder runs instead.
    const uint64_t stride = n / FUSED_SAMPLE_LINES; // >= 32 elements
    m_hist.assign(65536, 0);
    // The lines are cache misses: each is prefetched 16 lines ahead so that the misses overlap.
    // jitter in [0, stride - 15) by a multiply-shift (Lemire), not a division: two 64-bit
    // divisions per line were a tenth of the encode
    const uint64_t span = stride - FUSED_LINE + 1;
    auto lineAt = [x, stride, span](uint64_t j) {
        const uint32_t jitter
            = static_cast<uint32_t>(j) * 2654435761u; // Knuth's multiplicative hash
        return x + j * stride + ((jitter * span) >> 32);
    };
    for (uint64_t j = 0; j < FUSED_SAMPLE_LINES; ++j)
    {
        if (j + 16 < FUSED_SAMPLE_LINES)
        {
            __builtin_prefetch(lineAt(j + 16));
        }
        const float* line = lineAt(j);
        for (uint64_t e = 0; e < FUSED_LINE; ++e)
        {
            ++m_hist[keyOf(line[e]) >> 16];
        }
    }
    constexpr double S = FUSED_SAMPLE_LINES * FUSED_LINE;
    const double p = static_cast<double>(k) / static_cast<double>(n);
    const double margin = 3.5 * std::sqrt(S * p * (1.0 - p)) + 16.0;
    const double rankHi = p * S - margin; // 1-based sample ranks from the top
    const double rankLo = p * S + margin;
    if (rankHi < 1.0 || rankLo > S)
    {
        return false; // so few or so many kept that a bound would be missing
    }
    uint32_t hiBin = 0;
    uint32_t loBin = 0;
    double seen = 0;
    bool hiFound = false;
    for (uint32_t b = 65536; b-- > 0;)
    {
        seen += m_hist[b];
        if (!hiFound && seen >= rankHi)
        {
            hiBin = b;
            hiFound = true;
        }
        if (seen >= rankLo)
        {
            loBin = b;
            break;
        }
    }
    FusedBounds fb;
    fb.tHi = fromKey((hiBin << 16) | 0xffffu);
    fb.tLo = fromKey(loBin << 16);
    if (!(fb.tLo > 0.0f) || !std::isfinite(fb.tHi))
    {
        return false; // T may be <= 0 (no scale) or the sample met a NaN or infinity
    }
    const unsigned L = (1u << m_bits) - 1;
    if (m_floor)
    {
        CodeBoundaries<true>(fb.tLo, L, fb.bLo);
        CodeBoundaries<true>(fb.tHi, L, fb.bHi);
    }
    else
    {
        CodeBoundaries<false>(fb.tLo, L, fb.bLo);
        CodeBoundaries<false>(fb.tHi, L, fb.bHi);
    }

    FusedTotals totals;
    size_t count = 0;
    switch (m_bits * 2 + (useAbs ? 1 : 0))
    {
    case 2:
        count = FusedPass<1, false>(x, n, fb, codeDst, signDst, m_fixIndex, m_fixValue, totals);
        break;
    case 3:
        count = FusedPass<1, true>(x, n, fb, codeDst, signDst, m_fixIndex, m_fixValue, totals);
        break;
    case 4:
        count = FusedPass<2, false>(x, n, fb, codeDst, signDst, m_fixIndex, m_fixValue, totals);
        break;
    case 5:
        count = FusedPass<2, true>(x, n, fb, codeDst, signDst, m_fixIndex, m_fixValue, totals);
        break;
    case 6:
        count = FusedPass<3, false>(x, n, fb, codeDst, signDst, m_fixIndex, m_fixValue, totals);
        break;
    default:
        count = FusedPass<3, true>(x, n, fb, codeDst, signDst, m_fixIndex, m_fixValue, totals);
        break;
    }
    if (totals.bad)
    {
        throw InputError("ms: input has a non-finite value (NaN or inf)");
    }
    const uint32_t* idx = m_fixIndex.data();
    const float* val = m_fixValue.data();

    // The exact T: the k-th largest overall is the (k - above)-th largest key in [tLo, tHi].
    if (m_band.size() < count)
    {
        m_band.resize(count);
    }
    size_t bandCount = 0;
    for (size_t e = 0; e < count; ++e)
    {
        const float a = useAbs ? std::fabs(val[e]) : val[e];
        m_band[bandCount] = keyOf(val[e]);
        bandCount += static_cast<size_t>((a >= fb.tLo) & (a <= fb.tHi));
    }
    const uint64_t above = totals.above;
    if (!(above < k && above + bandCount >= k))
    {
        ++m_fusedStats.missed;
        return false; // T is outside [tLo, tHi]: an unrepresentative sample
    }
    const uint64_t rank = k - above;
    const auto band = m_band.begin();
    std::nth_element(band, band + static_cast<std::ptrdiff_t>(rank - 1),
                     band + static_cast<std::ptrdiff_t>(bandCount), std::greater<uint32_t>());
    const uint32_t tKey = m_band[rank - 1];
    uint64_t countAbove = above;
    uint64_t tiesTotal = 0;
    for (size_t e = 0; e < bandCount; ++e)
    {
        countAbove += m_band[e] > tKey;
        tiesTotal += m_band[e] == tKey;
    }
    uint64_t tiesLeft = k - countAbove; // ties at T go to the lowest indices
    const float T = fromKey(tKey);
    SLSIM_ASSERT(T >= fb.tLo && T <= fb.tHi && tiesLeft >= 1 && tiesLeft <= tiesTotal);

    // Fix-up in index order (FixUpAvx2).
    const size_t codeBytes = PackedBytes(n, m_bits);
    uint64_t written = 0;
    switch ((m_bits * 2 + (useAbs ? 1 : 0)) * 2 + (m_floor ? 1 : 0))
    {
#define SLSIM_MS_FIXUP(caseId, bits, abs, floor)                                                   \
    case caseId:                                                                                   \
        written = FixUpAvx2<bits, abs, floor>(idx, val, count, T, tiesLeft, fb, k, vals, codeDst,  \
                                              codeBytes);                                          \
        break;
        SLSIM_MS_FIXUP(4, 1, false, false)
        SLSIM_MS_FIXUP(5, 1, false, true)
        SLSIM_MS_FIXUP(6, 1, true, false)
        SLSIM_MS_FIXUP(7, 1, true, true)
        SLSIM_MS_FIXUP(8, 2, false, false)
        SLSIM_MS_FIXUP(9, 2, false, true)
        SLSIM_MS_FIXUP(10, 2, true, false)
        SLSIM_MS_FIXUP(11, 2, true, true)
        SLSIM_MS_FIXUP(12, 3, false, false)
        SLSIM_MS_FIXUP(13, 3, false, true)
        SLSIM_MS_FIXUP(14, 3, true, false)
        SLSIM_MS_FIXUP(15, 3, true, true)
#undef SLSIM_MS_FIXUP
    default:
        SLSIM_ASSERT(false);
    }
    SLSIM_ASSERT(written == k);
    ++m_fusedStats.finished;
    return true;
#endif
}

void
MsCodec::EncodeTwoPassBody(const float* x, uint64_t n, uint64_t k, uint8_t* vals, uint8_t* codeDst,
                           uint8_t* signDst)
{
    // T and the tie rule. k = 0: T = +inf selects nothing and makes every code 0.
    float T = INFINITY;
    bool allTies = true;
    uint64_t tiesLeft = 0;
    if (k > 0)
    {
        const TopKThreshold t = m_selector.Select(x, n, k, m_signed, "ms");
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
    SLSIM_ASSERT(written == k);
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
