// Byte and bit packing: the worked examples of common/byte-io.h byte for byte, and the reader's
// refusals (truncation, trailing bytes, non-zero padding).
#include "common/byte-io.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

using namespace slsim;

namespace
{

std::vector<uint8_t>
Bytes(std::initializer_list<int> values)
{
    std::vector<uint8_t> out;
    for (int v : values)
    {
        out.push_back(static_cast<uint8_t>(v));
    }
    return out;
}

} // namespace

TEST_CASE("ByteWriter: the header's worked example, little-endian", "[common][byte-io]")
{
    std::vector<uint8_t> out;
    ByteWriter w(out);
    w.PutU8(0x01);
    w.PutU16(0x0203);
    w.PutU32(0x04050607);
    w.PutF32(1.0f);
    CHECK(out == Bytes({0x01, 0x03, 0x02, 0x07, 0x06, 0x05, 0x04, 0x00, 0x00, 0x80, 0x3f}));

    out.clear();
    w.PutU64(0x0102030405060708ULL);
    const float values[2] = {-2.0f, 0.5f};
    w.PutF32Array(values, 2);
    const uint8_t raw[2] = {0xaa, 0xbb};
    w.PutBytes(raw, 2);
    CHECK(out
          == Bytes({0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // u64
                    0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3f, // -2.0f, 0.5f
                    0xaa, 0xbb}));
}

TEST_CASE("ByteReader reads back what ByteWriter wrote and refuses to over-read",
          "[common][byte-io]")
{
    const auto bytes
        = Bytes({0x01, 0x03, 0x02, 0x07, 0x06, 0x05, 0x04, 0x00, 0x00, 0x80, 0x3f, 0xee});
    ByteReader r(bytes.data(), bytes.size());
    CHECK(r.GetU8() == 0x01);
    CHECK(r.GetU16() == 0x0203);
    CHECK(r.GetU32() == 0x04050607);
    CHECK(r.GetF32() == 1.0f);
    CHECK(r.Position() == 11);
    CHECK(r.Remaining() == 1);
    CHECK_THROWS_WITH(r.ExpectEnd(), "decode: 1 trailing bytes after payload");
    CHECK_THROWS_WITH(r.GetU16(), "decode: truncated: need 2 bytes for u16 at offset 11, have 1");
    CHECK(r.Position() == 11); // a failed read consumes nothing
    CHECK(*r.Take(1, "tail") == 0xee);
    r.ExpectEnd();
    CHECK_THROWS_AS(r.GetU8(), DecodeError);
    float f[1];
    CHECK_THROWS_WITH(r.GetF32Array(f, 1),
                      "decode: truncated: need 4 bytes for f32 array at offset 12, have 0");
}

TEST_CASE("BitWriter: 3-bit codes 5, 2, 7, 1 pack LSB-first into d5 03", "[common][byte-io]")
{
    const uint32_t codes[4] = {5, 2, 7, 1};
    std::vector<uint8_t> out(PackedBytes(4, 3), 0);
    REQUIRE(out.size() == 2);
    BitWriter w(out.data());
    for (uint32_t c : codes)
    {
        w.Put(c, 3);
    }
    w.Flush();
    CHECK(out == Bytes({0xd5, 0x03}));

    BitReader r(out.data(), out.size());
    for (uint32_t c : codes)
    {
        CHECK(r.Get(3) == c);
    }
    r.CheckPaddingZero();

    const auto padded = Bytes({0xd5, 0x13}); // bit 12 (padding) set
    BitReader bad(padded.data(), padded.size());
    for (int i = 0; i < 4; ++i)
    {
        bad.Get(3);
    }
    CHECK_THROWS_WITH(bad.CheckPaddingZero(), "decode: non-zero padding bits after the last code");
    BitReader shortStream(out.data(), 1);
    shortStream.Get(3);
    shortStream.Get(3);
    CHECK_THROWS_WITH(shortStream.Get(3), "decode: bit stream truncated");
}

TEST_CASE("bit packing round-trips every width 1..32", "[common][byte-io]")
{
    for (unsigned bits = 1; bits <= 32; ++bits)
    {
        const uint64_t mask = (uint64_t{1} << bits) - 1;
        std::vector<uint32_t> codes;
        for (uint64_t i = 0; i < 11; ++i)
        {
            codes.push_back(static_cast<uint32_t>((i * 0x9E3779B97F4A7C15ULL >> 7) & mask));
        }
        codes.push_back(static_cast<uint32_t>(mask)); // all ones
        std::vector<uint8_t> out(PackedBytes(codes.size(), bits), 0);
        BitWriter w(out.data());
        for (uint32_t c : codes)
        {
            w.Put(c, bits);
        }
        w.Flush();
        BitReader r(out.data(), out.size());
        for (uint32_t c : codes)
        {
            REQUIRE(r.Get(bits) == c);
        }
        r.CheckPaddingZero();
    }
    CHECK(PackedBytes(0, 7) == 0);
    CHECK(PackedBytes(1, 1) == 1);
    CHECK(PackedBytes(8, 1) == 1);
    CHECK(PackedBytes(9, 1) == 2);
    CHECK(PackedBytes(3, 32) == 12);
}

TEST_CASE("frame prefix: a 70000-byte payload is preceded by 70 11 01 00", "[common][byte-io]")
{
    std::vector<uint8_t> out;
    ByteWriter w(out);
    w.PutFramePrefix(70000);
    REQUIRE(out.size() == FRAME_LENGTH_BYTES);
    CHECK(out == Bytes({0x70, 0x11, 0x01, 0x00}));
    CHECK(ReadFramePrefix(out.data()) == 70000);
    out.clear();
    w.PutFramePrefix(0);
    CHECK(out == Bytes({0, 0, 0, 0}));
}
