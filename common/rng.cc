#include "common/rng.h"

#include <cmath>

namespace slsim
{
namespace
{

uint64_t
SplitMix64(uint64_t& x)
{
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t
Rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

} // namespace

uint64_t
HashString(std::string_view s)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (char c : s)
    {
        h ^= static_cast<unsigned char>(c); // bytes as 0..255 whatever char's signedness
        h *= 0x100000001B3ULL;
    }
    return h;
}

Rng::Rng(uint64_t seed, std::string_view purpose, uint64_t index)
{
    uint64_t x = seed ^ HashString(purpose);
    x = SplitMix64(x) ^ (index * 0xD1B54A32D192ED03ULL);
    for (auto& s : m_s)
    {
        s = SplitMix64(x);
    }
}

uint64_t
Rng::NextU64()
{
    // xoshiro256** (Blackman & Vigna)
    const uint64_t result = Rotl(m_s[1] * 5, 7) * 9;
    const uint64_t t = m_s[1] << 17;
    m_s[2] ^= m_s[0];
    m_s[3] ^= m_s[1];
    m_s[1] ^= m_s[2];
    m_s[0] ^= m_s[3];
    m_s[2] ^= t;
    m_s[3] = Rotl(m_s[3], 45);
    return result;
}

double
Rng::Uniform()
{
    return static_cast<double>(NextU64() >> 11) * 0x1.0p-53;
}

uint64_t
Rng::UniformInt(uint64_t n)
{
    // Rejection sampling: discard draws from the top partial block so every residue is equally
    // likely, then reduce.
    const uint64_t limit = UINT64_MAX - (UINT64_MAX % n + 1) % n;
    uint64_t x = NextU64();
    while (x > limit)
    {
        x = NextU64();
    }
    return x % n;
}

double
Rng::Normal()
{
    if (m_hasSpare)
    {
        m_hasSpare = false;
        return m_spare;
    }
    double u1 = Uniform();
    while (u1 <= 0.0)
    {
        u1 = Uniform();
    }
    const double u2 = Uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * M_PI * u2;
    m_spare = r * std::sin(theta);
    m_hasSpare = true;
    return r * std::cos(theta);
}

} // namespace slsim
