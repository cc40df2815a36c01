// Portable, seeded random streams.
//
// One named stream per purpose (init, shuffle, partition, augment, codec, network...), derived from
// (seed, stream name, index) with SplitMix64, so that adding a consumer of randomness never shifts
// another's numbers. The generator is xoshiro256**; the few transforms we need (uniform, normal,
// integer in range, shuffle) are written here because std:: distributions differ between library
// versions and would break byte-identical results across machines.
#ifndef SLSIM_COMMON_RNG_H
#define SLSIM_COMMON_RNG_H

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace slsim
{

class Rng
{
  public:
    /// A stream for `purpose` (e.g. "init") and optional `index` (e.g. a device id) from the
    /// run's seed.
    Rng(uint64_t seed, std::string_view purpose, uint64_t index = 0);

    uint64_t NextU64();
    /// Uniform in [0, 1), 53 random bits.
    double Uniform();
    /// Uniform integer in [0, n), unbiased (rejection sampling, then x % n). n > 0.
    uint64_t UniformInt(uint64_t n);
    /// Standard normal (Box-Muller with a cached second value).
    double Normal();

    /// Fisher-Yates shuffle.
    template <typename T>
    void Shuffle(std::vector<T>& v)
    {
        for (size_t i = v.size(); i > 1; --i)
        {
            size_t j = static_cast<size_t>(UniformInt(i));
            std::swap(v[i - 1], v[j]);
        }
    }

  private:
    uint64_t m_s[4];
    bool m_hasSpare = false;
    double m_spare = 0.0;
};

/// FNV-1a 64-bit hash (used to name streams; stable across platforms).
uint64_t HashString(std::string_view s);

} // namespace slsim

#endif
