// RNG stream goldens. The first values of each named stream for a seed are fixed forever: they
// make results identical across machines, compilers and library versions, and any change here
// changes every shipped scenario's numbers. The integer values were checked against an independent
// Python transcription of FNV-1a, SplitMix64 and xoshiro256** (Blackman & Vigna).
#include "common/rng.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

using namespace slsim;

TEST_CASE("HashString is FNV-1a 64", "[common][rng]")
{
    CHECK(HashString("") == 0xCBF29CE484222325ULL); // the FNV offset basis
    CHECK(HashString("init") == 0xF5D2AFC57AB57213ULL);
}

TEST_CASE("named streams: first values for fixed seeds", "[common][rng]")
{
    struct Golden
    {
        uint64_t seed;
        const char* purpose;
        uint64_t index;
        uint64_t first[3];
    };

    const Golden goldens[] = {
        {42, "init", 0, {0x1f2eaa20025283bfULL, 0xcd0ae14011258c2bULL, 0xd76a03e69b3261fbULL}},
        {42, "shuffle", 0, {0xa7b4754bdff75c87ULL, 0x09f78b6ae6c63d46ULL, 0x3239e66703434ecfULL}},
        {42, "init", 3, {0x5ff19280ea22b683ULL, 0xf850b8ae6164696aULL, 0x9df371392a8b1468ULL}},
        {0, "partition", 0, {0xc55ae294314f24f4ULL, 0x7f07f06ad8235c7aULL, 0x843140352e40027fULL}},
    };
    for (const Golden& g : goldens)
    {
        Rng r(g.seed, g.purpose, g.index);
        for (uint64_t expected : g.first)
        {
            CHECK(r.NextU64() == expected);
        }
    }
}

TEST_CASE("transforms: Uniform, UniformInt, Shuffle and Normal goldens", "[common][rng]")
{
    Rng u(1, "uniform");
    CHECK(u.Uniform() == 0.89358368246351227); // (x >> 11) * 2^-53: exact
    CHECK(u.Uniform() == 0.88324973840636267);
    CHECK(u.Uniform() == 0.81555646024809747);

    Rng k(7, "sampling", 2);
    std::vector<uint64_t> draws;
    for (int i = 0; i < 4; ++i)
    {
        draws.push_back(k.UniformInt(10));
    }
    CHECK(draws == std::vector<uint64_t>{8, 7, 3, 8});

    Rng s(7, "shuffle");
    std::vector<int> v{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    s.Shuffle(v);
    CHECK(v == std::vector<int>{2, 3, 5, 7, 9, 0, 4, 8, 6, 1});

    // Normal goes through libm's log, sin and cos, which may differ in the last bit between
    // libm versions: checked to 1e-14 relative rather than exactly.
    Rng n(7, "normal");
    const double normals[4]
        = {-1.2216385765375781, 0.54265622434614058, 1.5899927612256961, -1.6086280436641669};
    for (double expected : normals)
    {
        CHECK(n.Normal() == Approx(expected).epsilon(1e-14));
    }
}

TEST_CASE("UniformInt covers 0..n-1 evenly", "[common][rng]")
{
    Rng r(3, "uniform-int");
    uint64_t counts[6] = {};
    for (int i = 0; i < 60000; ++i)
    {
        const uint64_t x = r.UniformInt(6);
        REQUIRE(x < 6);
        ++counts[x];
    }
    for (uint64_t c : counts)
    {
        CHECK(c > 9600); // expected 10000, sd ~91: 4 sd below
        CHECK(c < 10400);
    }
    CHECK(r.UniformInt(1) == 0);
}
