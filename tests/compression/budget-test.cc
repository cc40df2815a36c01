// Budgets in bits per element resolve to each codec's parameters; configuration errors.
#include "common/error.h"
#include "compression/codec.h"

#include <catch2/catch.hpp>

using namespace slsim;

namespace
{

CodecConfig
WithBudget(const char* method, double budget)
{
    CodecConfig c;
    c.method = method;
    c.budgetBitsPerElement = budget;
    return c;
}

} // namespace

TEST_CASE("budgets resolve to the paper's equal-budget settings", "[budget]")
{
    CHECK(ResolveBudget(WithBudget("ms", 2.32)).sparsity == Approx(0.99));
    CHECK(ResolveBudget(WithBudget("ms", 2.32)).bits == 2);
    CHECK(ResolveBudget(WithBudget("topk", 2.32)).sparsity == Approx(0.95875));
    CHECK(ResolveBudget(WithBudget("randtopk", 2.32)).sparsity == Approx(0.95875));
    CHECK(ResolveBudget(WithBudget("quantize", 3)).bits == 3);
    CHECK(ResolveBudget(WithBudget("quantize", 2.32)).bits == 2);
    CHECK(ResolveBudget(WithBudget("topk", 1.5)).sparsity == Approx(1 - 1.5 / 64)); // u32
    CHECK(ResolveBudget(WithBudget("ms", 2.32)).budgetBitsPerElement == 0);
    for (const char* m : {"ms", "topk", "randtopk"})
    {
        CHECK(NominalBitsPerElement(WithBudget(m, 2.32)) == Approx(2.32));
    }
    CHECK(NominalBitsPerElement(WithBudget("quantize", 3)) == 3);
    // The resolved codecs meet the budget on a real shape (header aside).
    const Shape shape{256, 64, 16, 16};
    const double n = 256.0 * 64 * 16 * 16;
    for (const char* m : {"ms", "topk", "randtopk", "quantize"})
    {
        auto codec = MakeCodec(WithBudget(m, 2.32));
        CHECK(8.0 * codec->EncodedSize(shape) / n <= 2.32 + 1e-3);
        CHECK(8.0 * codec->EncodedSize(shape) / n >= 2.0);
    }
    CHECK_THROWS_WITH(ResolveBudget(WithBudget("fp16", 8)),
                      "budget_bits_per_element: fp16 needs 16 bits per element, got 8");
    CHECK_THROWS_WITH(ResolveBudget(WithBudget("ms", 1.5)), Catch::StartsWith("budget_bits"));
}

TEST_CASE("KeepCount is floor((1 - r) n) robust to representation error", "[budget]")
{
    CHECK(KeepCount(100, 0.99) == 1);
    CHECK(KeepCount(256 * 64 * 16 * 16, 0.99) == 41943);
    CHECK(KeepCount(16, 0.75) == 4);
    CHECK(KeepCount(10, 0.0) == 10);
    CHECK(KeepCount(10, 1.0) == 0);
    CHECK(KeepCount(0, 0.5) == 0);
    CHECK(KeepCount(7, 0.5) == 3);
}

TEST_CASE("configuration errors name the field", "[config]")
{
    CodecConfig c;
    c.method = "ms";
    c.bits = 12;
    CHECK_THROWS_WITH(ValidateCodecConfig(c), "bits: must be 1..8 for ms, got 12");
    CHECK_THROWS_AS(MakeCodec(c), InputError);
    c.bits = 2;
    c.sparsity = 1.5;
    CHECK_THROWS_WITH(ValidateCodecConfig(c), Catch::StartsWith("sparsity: must be in [0, 1]"));
    c = CodecConfig();
    c.method = "zip";
    CHECK_THROWS_WITH(ValidateCodecConfig(c), Catch::StartsWith("method: unknown codec 'zip'"));
    c = CodecConfig();
    c.method = "topk";
    c.index = "u64";
    CHECK_THROWS_WITH(ValidateCodecConfig(c), Catch::StartsWith("index:"));
    c.index = "auto";
    c.floorCodes = true;
    CHECK_THROWS_WITH(ValidateCodecConfig(c), Catch::StartsWith("floor:"));
    c = CodecConfig();
    c.method = "quantize";
    c.bits = 17;
    CHECK_THROWS_WITH(ValidateCodecConfig(c), "bits: must be 1..16 for quantize, got 17");
    c.bits = 3;
    c.randtopkA = -1;
    CHECK_THROWS_WITH(ValidateCodecConfig(c), Catch::StartsWith("randtopk_a:"));
    c = CodecConfig();
    c.method = "ms";
    c.budgetBitsPerElement = 1;
    CHECK_THROWS_WITH(ValidateCodecConfig(c), Catch::StartsWith("budget_bits_per_element:"));
    CHECK_NOTHROW(ValidateCodecConfig(CodecConfig()));
}

TEST_CASE("error metrics", "[metrics]")
{
    const float x[] = {3, 4};
    const float y[] = {3, 0};
    const float z[] = {0, 0};
    CHECK(RelativeL2Error(x, y, 2) == Approx(0.8));
    CHECK(RelativeL2Error(z, z, 2) == 0);
    CHECK(std::isinf(RelativeL2Error(z, x, 2)));
    CHECK(L2Error(x, y, 2) == Approx(4));
    const MessageStats s = MeasureMessage(x, y, 2, 10);
    CHECK(s.bitsPerElement == 40);
    CHECK(s.relL2Error == Approx(0.8));
}
