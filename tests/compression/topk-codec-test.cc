// topk: the index formats and the automatic choice between them.
#include "compression/codec.h"
#include "compression/wire-header.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace slsim;

TEST_CASE("topk worked example and index formats", "[topk]")
{
    const std::vector<float> x = {0.5f, -3, 0, 2};
    CodecConfig c;
    c.method = "topk";
    c.sparsity = 0.5;
    c.index = "bitmap";
    Rng rng(1, "codec");
    std::vector<uint8_t> blob;
    MakeCodec(c)->Encode(x.data(), Shape{4}, blob, rng);
    REQUIRE(blob.size() == 16 + 9);
    CHECK(std::vector<uint8_t>(blob.begin() + 16, blob.end())
          == std::vector<uint8_t>{0, 0, 0x40, 0xc0, 0, 0, 0, 0x40, 0x0a});
    std::vector<float> y;
    DecodeAny(blob.data(), blob.size(), y);
    CHECK(y == std::vector<float>{0, -3, 0, 2});

    c.index = "u32";
    MakeCodec(c)->Encode(x.data(), Shape{4}, blob, rng);
    REQUIRE(blob.size() == 16 + 16);
    CHECK(blob[6] == FLAG_U32_INDEX);
    CHECK(std::vector<uint8_t>(blob.begin() + 24, blob.end())
          == std::vector<uint8_t>{1, 0, 0, 0, 3, 0, 0, 0});
    DecodeAny(blob.data(), blob.size(), y);
    CHECK(y == std::vector<float>{0, -3, 0, 2});
}

TEST_CASE("topk index auto picks the smaller format", "[topk]")
{
    CodecConfig c;
    c.method = "topk";
    const Shape shape{256, 64, 16, 16};
    const uint64_t n = 256 * 64 * 16 * 16;
    c.sparsity = 0.99; // k = n / 100 > n / 32? no: u32 (8k) < bitmap (n/8 + 4k)
    const uint64_t k99 = KeepCount(n, 0.99);
    CHECK(MakeCodec(c)->EncodedSize(shape) == HeaderSize(4) + 8 * k99);
    c.sparsity = 0.95875; // the paper's SP: bitmap, 2.32 bits per element
    const uint64_t k = KeepCount(n, 0.95875);
    CHECK(MakeCodec(c)->EncodedSize(shape) == HeaderSize(4) + 4 * k + n / 8);
    CHECK(8.0 * MakeCodec(c)->EncodedSize(shape) / n == Approx(2.32).epsilon(1e-4));
    // The switch sits at k = n / 32.
    c.sparsity = 1.0 - 1.0 / 32;
    CHECK(MakeCodec(c)->EncodedSize(Shape{3200}) == HeaderSize(1) + 400 + 400);
}
