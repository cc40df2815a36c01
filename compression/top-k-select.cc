#include "compression/top-k-select.h"

#include "common/error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <string>

namespace slsim
{

namespace
{

constexpr uint32_t ABS_INF = 0x7f800000u;

/// Walks a histogram from the top bin down; returns the bin holding the k-th largest and adds
/// the counts of the bins above it to countAbove. k is 1-based rank within the histogram.
uint32_t
FindBin(const uint64_t* hist, uint32_t bins, uint64_t k, uint64_t& countAbove)
{
    uint64_t above = 0;
    for (uint32_t b = bins; b-- > 0;)
    {
        if (above + hist[b] >= k)
        {
            countAbove += above;
            return b;
        }
        above += hist[b];
    }
    SLSIM_ASSERT_MSG(false, "k exceeds the histogram total");
    return 0;
}

template <typename KeyFn>
TopKThreshold
SelectByHistogram(const float* x, uint64_t n, uint64_t k, KeyFn keyOf, std::vector<uint32_t>& cand,
                  std::vector<uint32_t>& next, const char* what)
{
    // Pass 1: histogram of the top 11 key bits, four interleaved copies, and a finiteness check.
    static constexpr uint32_t BINS1 = 2048;
    std::array<uint32_t, 4 * BINS1> h4{};
    uint32_t bad = 0;
    uint64_t i = 0;
    // u32 counters suffice: n < 2^32 (wire format), so one copy counts at most n/4 + 1 < 2^31.
    for (; i + 4 <= n; i += 4)
    {
        uint32_t u[4];
        std::memcpy(u, x + i, 16);
        for (int j = 0; j < 4; ++j)
        {
            bad |= static_cast<uint32_t>((u[j] & 0x7fffffffu) >= ABS_INF);
            ++h4[static_cast<uint32_t>(j) * BINS1 + (keyOf(x[i + static_cast<uint64_t>(j)]) >> 21)];
        }
    }
    for (; i < n; ++i)
    {
        uint32_t u;
        std::memcpy(&u, x + i, 4);
        bad |= static_cast<uint32_t>((u & 0x7fffffffu) >= ABS_INF);
        ++h4[keyOf(x[i]) >> 21];
    }
    if (bad)
    {
        throw InputError(std::string(what) + ": input has a non-finite value (NaN or inf)");
    }
    std::array<uint64_t, BINS1> hist{};
    for (uint32_t b = 0; b < BINS1; ++b)
    {
        hist[b] = uint64_t{h4[b]} + h4[BINS1 + b] + h4[2 * BINS1 + b] + h4[3 * BINS1 + b];
    }
    TopKThreshold t;
    uint64_t rank = k;
    const uint32_t bin1 = FindBin(hist.data(), BINS1, rank, t.countAbove);
    rank = k - t.countAbove;

    // Pass 2: gather the keys of that bin.
    cand.clear();
    for (i = 0; i < n; ++i)
    {
        const uint32_t key = keyOf(x[i]);
        if ((key >> 21) == bin1)
        {
            cand.push_back(key);
        }
    }
    // Level 2: bits 20..10, level 3: bits 9..0, over the candidates only.
    std::array<uint64_t, BINS1> h2{};
    for (uint32_t key : cand)
    {
        ++h2[(key >> 10) & 0x7ff];
    }
    uint64_t above2 = 0;
    const uint32_t bin2 = FindBin(h2.data(), BINS1, rank, above2);
    t.countAbove += above2;
    rank -= above2;
    next.clear();
    for (uint32_t key : cand)
    {
        if (((key >> 10) & 0x7ff) == bin2)
        {
            next.push_back(key);
        }
    }
    std::array<uint64_t, 1024> h3{};
    for (uint32_t key : next)
    {
        ++h3[key & 0x3ff];
    }
    uint64_t above3 = 0;
    const uint32_t bin3 = FindBin(h3.data(), 1024, rank, above3);
    t.countAbove += above3;
    t.key = (bin1 << 21) | (bin2 << 10) | bin3;
    t.tiesTotal = h3[bin3];
    t.tiesTaken = k - t.countAbove;
    return t;
}

/// Sampling front end: estimate bounds [lo, hi] around the k-th largest key from a strided
/// sample, then one pass over x counts keys above hi and gathers the few keys inside the bounds;
/// the exact threshold is selected among those. The result is exact whatever the sample says:
/// when the bounds miss (unlucky or adversarial data) it falls back to the histogram select.
template <typename KeyFn>
TopKThreshold
SelectImpl(const float* x, uint64_t n, uint64_t k, KeyFn keyOf, std::vector<uint32_t>& cand,
           std::vector<uint32_t>& next, const char* what)
{
    constexpr uint64_t SAMPLE = 16384;
    if (n < 8 * SAMPLE)
    {
        return SelectByHistogram(x, n, k, keyOf, cand, next, what);
    }
    next.resize(SAMPLE);
    for (uint64_t j = 0; j < SAMPLE; ++j)
    {
        next[j] = keyOf(x[j * n / SAMPLE]);
    }
    std::sort(next.begin(), next.end(), std::greater<uint32_t>());
    // Rank of the k-th largest in the sample, +- 4 standard deviations of a binomial, + slack.
    const double p = static_cast<double>(k) / static_cast<double>(n);
    const double r = p * SAMPLE;
    const double margin = 4.0 * std::sqrt(SAMPLE * p * (1.0 - p)) + 8.0;
    const uint32_t hi = r - margin < 0.5 ? UINT32_MAX : next[static_cast<uint64_t>(r - margin)];
    const uint32_t lo = r + margin >= SAMPLE - 1 ? 0 : next[static_cast<uint64_t>(r + margin)];
    const uint32_t width = hi - lo;
    uint64_t above = 0;
    uint32_t bad = 0;
    // Blocks of 64: a vectorisable loop computes keys, counts and flags; a branch-free loop
    // appends the candidates of the blocks that have one (about a third of them at 1 % kept):
    // every key is stored at the end and the end advances by one when it is in the band.
    constexpr uint64_t B = 64;
    uint32_t keys[B];
    size_t count = 0;
    cand.resize(std::max<size_t>(cand.size(), 4 * B));
    for (uint64_t start = 0; start < n; start += B)
    {
        const uint64_t m = std::min<uint64_t>(B, n - start);
        const float* xb = x + start;
        uint32_t aboveBlock = 0;
        uint32_t inBlock = 0;
        for (uint64_t j = 0; j < m; ++j)
        {
            uint32_t u;
            std::memcpy(&u, xb + j, 4);
            bad |= static_cast<uint32_t>((u & 0x7fffffffu) >= ABS_INF);
            const uint32_t key = keyOf(xb[j]);
            keys[j] = key;
            aboveBlock += static_cast<uint32_t>(key > hi);
            inBlock |= static_cast<uint32_t>(key - lo <= width); // lo <= key <= hi
        }
        above += aboveBlock;
        if (inBlock)
        {
            if (count + B > cand.size())
            {
                cand.resize(2 * cand.size());
            }
            uint32_t* dst = cand.data() + count;
            size_t w = 0;
            for (uint64_t j = 0; j < m; ++j)
            {
                dst[w] = keys[j];
                w += static_cast<size_t>(keys[j] - lo <= width);
            }
            count += w;
        }
    }
    cand.resize(count);
    if (bad)
    {
        throw InputError(std::string(what) + ": input has a non-finite value (NaN or inf)");
    }
    if (!(above < k && above + cand.size() >= k))
    {
        return SelectByHistogram(x, n, k, keyOf, cand, next, what);
    }
    const uint64_t rank = k - above; // 1-based rank of the threshold among the candidates
    std::nth_element(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(rank - 1), cand.end(),
                     std::greater<uint32_t>());
    TopKThreshold t;
    t.key = cand[rank - 1];
    t.countAbove = above;
    for (uint32_t key : cand)
    {
        t.countAbove += key > t.key;
        t.tiesTotal += key == t.key;
    }
    t.tiesTaken = k - t.countAbove;
    return t;
}

// Functors (not function pointers) so that the key computation inlines into the passes.
struct ValueKeyFn
{
    uint32_t operator()(float x) const
    {
        return ValueKey(x);
    }
};

struct MagnitudeKeyFn
{
    uint32_t operator()(float x) const
    {
        return MagnitudeKey(x);
    }
};

} // namespace

TopKThreshold
TopKSelector::Select(const float* x, uint64_t n, uint64_t k, bool magnitude, const char* what)
{
    SLSIM_ASSERT(k >= 1 && k <= n);
    TopKThreshold t;
    if (magnitude)
    {
        t = SelectImpl(x, n, k, MagnitudeKeyFn(), m_candidates, m_next, what);
        t.threshold = MagnitudeFromKey(t.key);
    }
    else
    {
        t = SelectImpl(x, n, k, ValueKeyFn(), m_candidates, m_next, what);
        t.threshold = ValueFromKey(t.key);
    }
    SLSIM_ASSERT(t.tiesTaken >= 1 && t.tiesTaken <= t.tiesTotal);
    return t;
}

TopKThreshold
TopKSelector::SelectBySort(const float* x, uint64_t n, uint64_t k, bool magnitude)
{
    SLSIM_ASSERT(k >= 1 && k <= n);
    std::vector<uint32_t> keys(n);
    for (uint64_t i = 0; i < n; ++i)
    {
        keys[i] = magnitude ? MagnitudeKey(x[i]) : ValueKey(x[i]);
    }
    std::sort(keys.begin(), keys.end(), std::greater<uint32_t>());
    TopKThreshold t;
    t.key = keys[k - 1];
    t.threshold = magnitude ? MagnitudeFromKey(t.key) : ValueFromKey(t.key);
    for (uint32_t key : keys)
    {
        t.countAbove += key > t.key;
        t.tiesTotal += key == t.key;
    }
    t.tiesTaken = k - t.countAbove;
    return t;
}

} // namespace slsim
