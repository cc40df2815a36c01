// `slsim codec` through RunCodecCommand.
#include "app/codec-command.h"
#include "common/error.h"
#include "compression/npy-io.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace slsim;

namespace
{

std::string
TempDir()
{
    char tmpl[] = "/tmp/slsim-codec-test-XXXXXX";
    const char* d = mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    return d;
}

} // namespace

TEST_CASE("slsim codec encodes an npy file and reports one JSON line", "[command]")
{
    const std::string dir = TempDir();
    const std::vector<float> fig1 = {2.2f, 0.8f, 1.2f, 0.4f, 1.8f, 0.2f, 3.1f, 2.0f,
                                     2.1f, 0.2f, 1.1f, 1.7f, 0.3f, 2.8f, 1.4f, 0.9f};
    WriteNpy(dir + "/x.npy", Shape{4, 4}, fig1.data());
    std::ostringstream out;
    CHECK(RunCodecCommand({"--method", "ms", "--sparsity", "0.75", "--bits", "2", "--in",
                           dir + "/x.npy", "--out", dir + "/y.npy", "--wire", dir + "/w.bin"},
                          out)
          == 0);
    const std::string line = out.str();
    CHECK(line.rfind("{\"method\":\"ms\",\"shape\":[4,4],\"n\":16,\"k\":4,\"bytes\":40,"
                     "\"bits_per_element\":20,\"rel_l2_error\":0.1",
                     0)
          == 0);
    CHECK(line.back() == '\n');
    const NpyArray y = ReadNpy(dir + "/y.npy");
    CHECK(y.shape == Shape{4, 4});
    CHECK(y.data[6] == 3.1f);
    std::ifstream wire(dir + "/w.bin", std::ios::binary | std::ios::ate);
    CHECK(wire.tellg() == 40);

    std::ostringstream help;
    CHECK(RunCodecCommand({"--help"}, help) == 0);
    CHECK(help.str().find("usage: slsim codec") == 0);

    CHECK_THROWS_WITH(RunCodecCommand({"--method", "ms", "--bits", "12", "--in", dir + "/x.npy",
                                       "--out", dir + "/y.npy"},
                                      out),
                      "codec --bits: must be 1..8 for ms, got 12");
    CHECK_THROWS_WITH(
        RunCodecCommand({"--method", "ms", "--in", dir + "/missing.npy", "--out", dir + "/y.npy"},
                        out),
        Catch::Contains("missing.npy: cannot open"));
    CHECK_THROWS_WITH(RunCodecCommand({"--method", "ms", "--sparsity", "x"}, out),
                      "--sparsity: expected a number, got 'x'");
    CHECK_THROWS_WITH(RunCodecCommand({"--bogus"}, out), Catch::Contains("unknown argument"));
    CHECK_THROWS_AS(RunCodecCommand({"--method", "ms"}, out), InputError);
    // Refused as scenarios refuse them, naming the flag or the file, writing nothing.
    std::remove((dir + "/y.npy").c_str());
    CHECK_THROWS_WITH(RunCodecCommand({"--method", "topk", "--sparsity", "1", "--in",
                                       dir + "/x.npy", "--out", dir + "/y.npy"},
                                      out),
                      "codec --sparsity: must be in [0, 1) (fraction not sent as values), got 1");
    const std::vector<float> withNan = {1.0f, std::nanf(""), 2.0f};
    WriteNpy(dir + "/nan.npy", Shape{3}, withNan.data());
    for (const char* method : {"ms", "none", "quantize"})
    {
        CHECK_THROWS_WITH(RunCodecCommand({"--method", method, "--sparsity", "0.5", "--in",
                                           dir + "/nan.npy", "--out", dir + "/y.npy"},
                                          out),
                          dir + "/nan.npy: element 1 is NaN (codec inputs must be finite)");
    }
    CHECK(!std::ifstream(dir + "/y.npy"));
    for (const char* f : {"/x.npy", "/y.npy", "/w.bin", "/nan.npy"})
    {
        std::remove((dir + f).c_str());
    }
    rmdir(dir.c_str());
}
