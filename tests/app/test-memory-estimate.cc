// app/memory-estimate.h with per-device cuts (each device's part at its own cut, a server part per
// distinct cut or per device with splitfed_v1, a device part per distinct cut for the agreed
// states) and U-shaped runs (the head in the device part, the server output and head gradient
// frames of every step).
#include "app/memory-estimate.h"
#include "app/scenario-loader.h"
#include "compression/codec.h"
#include "models/split-model.h"
#include "tests/test-support.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace slsim;
using namespace slsim::test;

namespace
{

constexpr double NODE_BYTES = 256 * 1024; // app/memory-estimate.cc's per-device ns-3 state

/// The MLP flatten, fc1, relu | fc2, relu | fc3 on synthetic 16-value samples; one device per cut
/// in `cuts` (empty: model.cut "shallow" for all).
ScenarioConfig
Mlp(const std::string& schedule, const std::vector<std::string>& cuts, int devices = 4)
{
    Json s{{"name", "m"},
           {"dataset",
            {{"name", "synthetic"},
             {"synthetic", {{"train", 64}, {"test", 32}, {"classes", 4}, {"shape", {16}}}}}},
           {"model", {{"name", "mlp"}, {"hidden", {12, 8}}, {"cut", "shallow"}, {"threads", 1}}},
           {"schedule", {{"kind", schedule}}},
           {"training", {{"batch_size", 8}, {"epochs", 1}}},
           {"devices", {{"count", devices}}}};
    if (!cuts.empty())
    {
        s["devices"] = {{"list", Json::array()}};
        for (const std::string& c : cuts)
        {
            s["devices"]["list"].push_back({{"cut", c}});
        }
    }
    return LoadScenario(s, ".");
}

} // namespace

TEST_CASE("memory estimate: per-device cuts count each part at its own cut")
{
    for (const char* schedule : {"splitfed_v2", "splitfed_v1", "sequential"})
    {
        INFO(schedule);
        const bool v1 = std::string(schedule) == "splitfed_v1";
        // Every device at one cut: all copies of a part are equal.
        const MemoryEstimate shallow = EstimateMemory(Mlp(schedule, {}));
        ScenarioConfig all = Mlp(schedule, {});
        all.model.cut = "deep";
        const MemoryEstimate deep = EstimateMemory(all);
        REQUIRE(shallow.deviceCopies == 5); // 4 devices + the evaluation copy
        REQUIRE(shallow.serverCopies == (v1 ? 4 : 1));
        const double dS = shallow.deviceBytes / 5, dD = deep.deviceBytes / 5;
        const double sS = shallow.serverBytes / shallow.serverCopies;
        const double sD = deep.serverBytes / deep.serverCopies;
        REQUIRE(dS < dD); // fc2 moves to the device
        REQUIRE(sS > sD);

        // Two devices at each cut, device 0 (evaluated) shallow.
        const MemoryEstimate mixed
            = EstimateMemory(Mlp(schedule, {"shallow", "deep", "deep", "shallow"}));
        // evaluation copy + 4 devices' own parts + one per cut for the agreed states
        CHECK(mixed.deviceCopies == 7);
        CHECK(mixed.deviceBytes == Approx((1 + 2 + 1) * dS + (2 + 1) * dD).epsilon(1e-12));
        // a server part per distinct cut; per device at its cut with per-device copies
        CHECK(mixed.serverCopies == (v1 ? 4 : 2));
        CHECK(mixed.serverBytes == Approx(v1 ? 2 * sS + 2 * sD : sS + sD).epsilon(1e-12));
        CHECK(mixed.models == Approx(mixed.deviceBytes + mixed.serverBytes).epsilon(1e-12));
        // each device's frames at its own cut
        CHECK(mixed.network == Approx((shallow.network + deep.network) / 2).epsilon(1e-12));
        CHECK(mixed.Describe().find("= 7 device parts ") != std::string::npos);
    }
}

TEST_CASE("memory estimate: U-shaped counts the head and the two extra frames of a step")
{
    ScenarioConfig c = Mlp("sequential", {}, 2);
    c.model.headCut = "deep";
    c.headDownlink.method = "fp16";
    c.headUplink.method = "quantize";
    c.headUplink.bits = 4;
    const MemoryEstimate e = EstimateMemory(c);
    const ModelInfo m = DescribeModel(c.model);
    REQUIRE(m.headParameters == 36); // fc3: 8 x 4 + 4
    const auto bytes = [](const CodecConfig& codec, const Shape& s) {
        return static_cast<double>(MakeCodec(ResolveBudget(codec))->EncodedSize(s));
    };
    // per step: activations up (batch 8 x 12), server output down and head gradient up (8 x 8),
    // gradient down; a sync: the device's front and head
    const double frames
        = bytes(c.uplink, Shape{8, 12}) + bytes(c.headDownlink, Shape{8, 8})
          + bytes(c.headUplink, Shape{8, 8}) + bytes(c.downlink, Shape{8, 12})
          + bytes(c.sync, Shape{static_cast<int64_t>(m.deviceParameters + m.headParameters)});
    CHECK(e.network == Approx(2 * (NODE_BYTES + 2 * frames)).epsilon(1e-12));
    // model copies: the device part holds front and head (SGD momentum: 3 floats per parameter)
    CHECK(e.deviceBytes
          == Approx(3 * 4.0 * 3 * static_cast<double>(m.deviceParameters + m.headParameters))
                 .epsilon(1e-12));
    CHECK(e.serverBytes
          == Approx(4.0 * 3 * static_cast<double>(m.serverParameters)).epsilon(1e-12));
}
