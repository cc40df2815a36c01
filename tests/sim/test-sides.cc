// The device and server sides without ns-3 (sim/sides.h): one split step through the message
// bodies, state hand-over, and the compute-time model.
#include "common/error.h"
#include "sim/compute-model.h"
#include "sim/messages.h"
#include "sim/scenario-config.h"
#include "sim/sides.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace slsim;

namespace
{

ScenarioConfig
Tiny(const std::string& schedule, int devices)
{
    ScenarioConfig c;
    c.seed = 11;
    c.dataset.name = "synthetic";
    c.dataset.syntheticTrain = 120;
    c.dataset.syntheticTest = 40;
    c.model.name = "mlp";
    c.model.hidden = {16, 8};
    c.model.cut = "shallow";
    c.model.threads = 1;
    c.optimizer.lr = 0.05;
    c.uplink.method = "ms";
    c.uplink.sparsity = 0.5;
    c.uplink.bits = 2;
    c.schedule.kind = schedule;
    c.training.batchSize = 16;
    c.network.devices.assign(static_cast<size_t>(devices), DeviceProfile());
    return c;
}

} // namespace

TEST_CASE("sides: one split step through the ACTIVATIONS and GRADIENT bodies")
{
    const ScenarioConfig config = Tiny("splitfed_v2", 2);
    Sides sides = BuildSides(config);
    REQUIRE(sides.Devices() == 2);
    CHECK(sides.devices[0]->ShardSize() + sides.devices[1]->ShardSize() == 120);
    CHECK(sides.devices[0]->StepsPerEpoch()
          == static_cast<int>((sides.devices[0]->ShardSize() + 15) / 16));

    DeviceSide& device = *sides.devices[1];
    std::vector<uint8_t> body;
    const ForwardResult fwd = device.Forward(body);
    CHECK(fwd.batch == 16);
    CHECK(body.size() == 4 + 16 + fwd.activationBytes);
    CHECK(fwd.codecRelError >= 0);
    CHECK(fwd.codecRelError < 1);
    const ActivationsBody a = ReadActivationsBody(body.data(), body.size());
    CHECK(a.batch == 16);
    CHECK(a.blobSize == fwd.activationBytes);

    std::vector<uint8_t> gradient;
    const ServerResult s = sides.server->Step(1, body.data(), body.size(), gradient);
    CHECK(s.batch == 16);
    CHECK(std::isfinite(s.loss));
    CHECK(s.loss > 0);
    CHECK(s.correct >= 0);
    CHECK(s.correct <= 16);
    std::vector<float> g, x;
    // the gradient has the shape of the cut activations it answers
    CHECK(DecodeAny(gradient.data(), gradient.size(), g).dims
          == DecodeAny(a.blob, a.blobSize, x).dims);
    device.Backward(gradient.data(), gradient.size());

    // a malformed body is a DecodeError, not a crash
    std::vector<uint8_t> truncated(body.begin(), body.begin() + 10);
    CHECK_THROWS_AS(sides.server->Step(1, truncated.data(), truncated.size(), gradient),
                    DecodeError);
    CHECK_THROWS_AS(device.Backward(gradient.data(), gradient.size() - 1), DecodeError);
    CHECK(sides.wall->Seconds() > 0);
}

TEST_CASE("sides: weights out of one device and into another; per-device server copies")
{
    const ScenarioConfig config = Tiny("splitfed_v1", 3);
    Sides sides = BuildSides(config);
    CHECK(sides.schedule->PerDeviceServerCopies());
    std::vector<uint8_t> body, gradient, weights;
    sides.devices[0]->Forward(body);
    sides.server->Step(0, body.data(), body.size(), gradient);
    sides.devices[0]->Backward(gradient.data(), gradient.size());
    sides.devices[0]->EncodeState(weights);

    std::vector<float> state;
    sides.server->DecodeState(weights.data(), weights.size(), state);
    CHECK_FALSE(state.empty());
    sides.devices[2]->LoadState(weights.data(), weights.size());
    std::vector<uint8_t> again;
    sides.devices[2]->EncodeState(again);
    std::vector<float> state2;
    sides.server->DecodeState(again.data(), again.size(), state2);
    CHECK(state2 == state); // the identity sync codec carries the state exactly

    CHECK_THROWS_AS(sides.server->DecodeState(weights.data(), weights.size() - 4, state),
                    DecodeError);
    const EvalResult e = sides.server->Evaluate(&state);
    CHECK(e.accuracy >= 0);
    CHECK(e.accuracy <= 1);
    CHECK(std::isfinite(e.loss));
}

TEST_CASE("compute model: FLOPs per sample * batch / (GFLOP/s * 1e9)")
{
    const ComputeModel m(Flops{2e6, 4e6}, 2);
    CHECK(m.ForwardSeconds(10) == Approx(0.01));
    CHECK(m.BackwardSeconds(10) == Approx(0.02));
    CHECK(m.StepSeconds(10) == Approx(0.03));
    CHECK(m.ForwardSeconds(0) == 0);
}
