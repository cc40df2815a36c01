#include "common/error.h"
#include "compression/npy-io.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace slsim;

namespace
{

std::vector<uint8_t>
Npy(const std::string& dict, size_t dataBytes)
{
    std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    b.push_back(static_cast<uint8_t>(dict.size()));
    b.push_back(static_cast<uint8_t>(dict.size() >> 8));
    b.insert(b.end(), dict.begin(), dict.end());
    b.resize(b.size() + dataBytes, 0);
    return b;
}

} // namespace

TEST_CASE("npy round trip and header layout", "[npy]")
{
    const std::vector<float> x = {1, 2, 3, 4, 5, 6};
    const auto bytes = SerializeNpy(Shape{2, 3}, x.data());
    CHECK((bytes.size() - 24) % 64 == 0);
    const NpyArray a = ParseNpy(bytes.data(), bytes.size(), "x.npy");
    CHECK(a.shape == Shape{2, 3});
    CHECK(a.data == x);
    const auto one = SerializeNpy(Shape{3}, x.data());
    CHECK(std::string(one.begin() + 10, one.end()).find("(3,)") != std::string::npos);
    const NpyArray s = ParseNpy(one.data(), one.size(), "x.npy");
    CHECK(s.shape == Shape{3});
    const auto scalar = SerializeNpy(Shape{}, x.data());
    CHECK(ParseNpy(scalar.data(), scalar.size(), "s.npy").data.size() == 1);
}

TEST_CASE("npy reader rejects what it cannot read, naming the file", "[npy]")
{
    auto bad = [](const std::vector<uint8_t>& b) { return ParseNpy(b.data(), b.size(), "in.npy"); };
    const std::string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    CHECK(bad(Npy(ok, 8)).data.size() == 2);
    CHECK_THROWS_WITH(bad(Npy(ok, 7)), Catch::StartsWith("in.npy: ") && Catch::Contains("8 data"));
    CHECK_THROWS_WITH(bad(Npy(ok, 12)), Catch::Contains("file has 12"));
    CHECK_THROWS_WITH(bad(Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16)),
                      Catch::Contains("dtype '<f8'"));
    CHECK_THROWS_WITH(bad(Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8)),
                      Catch::Contains("fortran_order"));
    CHECK_THROWS_WITH(bad(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8)),
                      Catch::Contains("shape"));
    CHECK_THROWS_WITH(bad(Npy("{'descr': '<f4', 'shape': (2,), }", 8)), Catch::Contains("lacks"));
    CHECK_THROWS_WITH(bad(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", 8)),
                      Catch::Contains("malformed"));
    CHECK_THROWS_WITH(
        bad(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536, 2), }", 8)),
        Catch::Contains("2^32"));
    CHECK_THROWS_WITH(bad({1, 2, 3}), Catch::Contains("magic"));
    auto truncated = Npy(ok, 8);
    truncated[8] = 0xff; // header length beyond the file
    CHECK_THROWS_WITH(bad(truncated), Catch::Contains("exceeds the file"));
    CHECK_THROWS_WITH(ReadNpy("/nonexistent/x.npy"), "/nonexistent/x.npy: cannot open for reading");
    // Every prefix of a valid file is rejected.
    const auto good = Npy(ok, 8);
    for (size_t len = 0; len < good.size(); ++len)
    {
        const std::vector<uint8_t> p(good.begin(), good.begin() + len);
        CHECK_THROWS_AS(bad(p), InputError);
    }
}

TEST_CASE("fuzz finding: an npy header key holding a newline is refused on one line", "[npy]")
{
    // Found by fuzz/run's npy target: the message quoted the key, newline included (two lines
    // from the CLI); control characters are now written \xNN.
    const auto b = Npy("{'descr': '<f4', 'fortran_or\nder': False, 'shape': (1,), }\n", 4);
    CHECK_THROWS_WITH(ParseNpy(b.data(), b.size(), "in.npy"),
                      Catch::StartsWith("in.npy: not a float32 .npy file: ")
                          && Catch::Contains("'fortran_or\\x0ader'") && !Catch::Contains("\n"));
}
