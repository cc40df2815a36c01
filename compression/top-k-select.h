// Exact O(n) top-k threshold selection over a float tensor (radix select on order-preserving
// 32-bit keys), shared by topk, randtopk and ms.
//
// Keys: by value, key(x) maps the float's bits so that unsigned key order equals float order
// (-0.0 is folded to +0.0 first, so ties are float equality); by magnitude, key = bits &
// 0x7fffffff. The select makes one histogram pass over all n keys (11 high bits, four interleaved
// sub-histograms so runs of equal values do not serialise on one counter), then narrows the one
// bin that holds the k-th largest key with two more 11/10-bit passes over its candidates only.
// Ties at the threshold are broken by index: the selected set is every element above the
// threshold plus the lowest-index `tiesTaken` elements equal to it. This makes the selection
// fully deterministic and independent of the selection algorithm.
#ifndef SLSIM_COMPRESSION_TOP_K_SELECT_H
#define SLSIM_COMPRESSION_TOP_K_SELECT_H

#include <cstdint>
#include <cstring>
#include <vector>

namespace slsim
{

/// Order-preserving key of a float compared by value (-0.0 and +0.0 share a key).
inline uint32_t
ValueKey(float x)
{
    x += 0.0f; // -0.0 + 0.0 = +0.0 in round-to-nearest: ties are float equality
    uint32_t u;
    std::memcpy(&u, &x, 4);
    const uint32_t mask = static_cast<uint32_t>(-static_cast<int32_t>(u >> 31)) | 0x80000000u;
    return u ^ mask;
}

/// Key of |x|.
inline uint32_t
MagnitudeKey(float x)
{
    uint32_t u;
    std::memcpy(&u, &x, 4);
    return u & 0x7fffffffu;
}

/// Inverse of ValueKey (returns +0.0 for the zero key).
inline float
ValueFromKey(uint32_t key)
{
    const uint32_t u = (key & 0x80000000u) ? (key ^ 0x80000000u) : ~key;
    float x;
    std::memcpy(&x, &u, 4);
    return x;
}

inline float
MagnitudeFromKey(uint32_t key)
{
    float x;
    std::memcpy(&x, &key, 4);
    return x;
}

struct TopKThreshold
{
    uint32_t key = 0;        // key of the k-th largest element
    float threshold = 0;     // its value (by value) or magnitude (by magnitude)
    uint64_t countAbove = 0; // elements with key > key
    uint64_t tiesTotal = 0;  // elements with key == key
    uint64_t tiesTaken = 0;  // k - countAbove, in [1, tiesTotal]
};

class TopKSelector
{
  public:
    /// Finds the threshold of the k largest (by value, or by |x| when magnitude) of x[0..n).
    /// Requires 1 <= k <= n. Throws InputError("<what>: input has a non-finite value") for NaN
    /// or infinity anywhere in x.
    TopKThreshold Select(const float* x, uint64_t n, uint64_t k, bool magnitude, const char* what);

    /// Reference implementation (full sort of a copy), for tests.
    static TopKThreshold SelectBySort(const float* x, uint64_t n, uint64_t k, bool magnitude);

  private:
    std::vector<uint32_t> m_candidates;
    std::vector<uint32_t> m_next;
};

} // namespace slsim

#endif
