// CopyBytes: memcpy's bytes, streamed or not, at any alignment.
#include "common/rng.h"
#include "compression/stream-store.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

using namespace slsim;

TEST_CASE("CopyBytes copies exactly the bytes, streamed or not, at any alignment", "[stream]")
{
    CHECK_FALSE(UseStreamingStores(STREAM_MIN_BYTES / 2, STREAM_MIN_BYTES / 2 - 1));
    CHECK(UseStreamingStores(STREAM_MIN_BYTES / 2, STREAM_MIN_BYTES / 2));
    Rng rng(9, "stream-store");
    const size_t big = STREAM_MIN_BYTES / 2 + 77; // streamed
    std::vector<uint8_t> src(big + 64);
    for (auto& b : src)
    {
        b = static_cast<uint8_t>(rng.NextU64());
    }
    std::vector<uint8_t> dst(big + 64);
    for (size_t bytes : {size_t{0}, size_t{1}, size_t{63}, size_t{1000}, big})
    {
        for (size_t from : {0, 3})
        {
            for (size_t to : {0, 1, 15})
            {
                INFO("bytes " << bytes << " src +" << from << " dst +" << to);
                std::fill(dst.begin(), dst.end(), uint8_t{0xa5});
                CopyBytes(dst.data() + to, src.data() + from, bytes);
                CHECK(std::memcmp(dst.data() + to, src.data() + from, bytes) == 0);
                // nothing outside the range is touched
                CHECK(std::count(dst.begin(), dst.begin() + static_cast<std::ptrdiff_t>(to), 0xa5)
                      == static_cast<std::ptrdiff_t>(to));
                CHECK(std::count(dst.begin() + static_cast<std::ptrdiff_t>(to + bytes), dst.end(),
                                 0xa5)
                      == static_cast<std::ptrdiff_t>(dst.size() - to - bytes));
            }
        }
    }
}
