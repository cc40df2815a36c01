// The device and server sides without ns-3 (sim/sides.h): one split step through the message
// bodies, state hand-over, replay sides against a real run (body sizes, numbers read back), and
// the compute-time model.
#include "common/error.h"
#include "sim/compute-model.h"
#include "sim/messages.h"
#include "sim/replay-sides.h"
#include "sim/run.h"
#include "sim/scenario-config.h"
#include "sim/sides.h"
#include "tests/sim/tiny-scenario.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

using namespace slsim;

TEST_CASE("sides: one split step through the ACTIVATIONS and GRADIENT bodies")
{
    const ScenarioConfig config = Tiny("splitfed_v2", 2);
    Sides sides = BuildSides(config);
    REQUIRE(sides.Devices() == 2);
    CHECK(sides.devices[0]->ShardSize() + sides.devices[1]->ShardSize() == 240);
    CHECK(sides.devices[0]->StepsPerEpoch()
          == static_cast<int>((sides.devices[0]->ShardSize() + 19) / 20));

    DeviceSide& device = *sides.devices[1];
    std::vector<uint8_t> body;
    const ForwardResult fwd = device.Forward(body);
    CHECK(fwd.batch == 20);
    CHECK(body.size() == 4 + 20 + fwd.activationBytes);
    CHECK(fwd.codecRelError >= 0);
    CHECK(fwd.codecRelError < 1);
    const ActivationsBody a = ReadActivationsBody(body.data(), body.size());
    CHECK(a.batch == 20);
    CHECK(a.blobSize == fwd.activationBytes);

    std::vector<uint8_t> gradient;
    const ServerResult s = sides.server->Step(1, body.data(), body.size(), gradient);
    CHECK(s.batch == 20);
    CHECK(std::isfinite(s.loss));
    CHECK(s.loss > 0);
    CHECK(s.correct >= 0);
    CHECK(s.correct <= 20);
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

TEST_CASE("sides: a shard smaller than the batch size is said on stderr, once")
{
    ScenarioConfig config = Tiny("splitfed_v2", 4); // 60 samples each
    std::ostringstream err;
    std::streambuf* old = std::cerr.rdbuf(err.rdbuf());
    BuildSides(config);
    const std::string quiet = err.str();
    config.training.batchSize = 100;
    BuildSides(config);
    std::cerr.rdbuf(old);
    CHECK(quiet.empty());
    const std::string said = err.str();
    CHECK(said.find("warning: 4 device(s) hold fewer samples than training.batch_size (100)")
          != std::string::npos);
    CHECK(said.find("(device 0: 60, device 1: 60, device 2: 60, ...)") != std::string::npos);
    CHECK(std::count(said.begin(), said.end(), '\n') == 1);
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

TEST_CASE("replay sides: the real run's body sizes and numbers, no compute")
{
    ScenarioConfig config = Tiny("sequential", 2);
    config.training.epochs = 1;
    const auto dir = std::filesystem::temp_directory_path() / "slsim-test-replay-sides";
    std::filesystem::remove_all(dir);
    RunScenario(config, dir.string());

    Sides training = BuildSides(config);
    config.training.replay = dir.string();
    Sides replay = BuildSides(config);
    REQUIRE(replay.Devices() == 2);
    for (int d = 0; d < 2; ++d)
    {
        CHECK(replay.devices[static_cast<size_t>(d)]->ShardSize()
              == training.devices[static_cast<size_t>(d)]->ShardSize());
    }

    std::vector<uint8_t> real, filler, realGrad, fillerGrad, realState, fillerState;
    const ForwardResult r = training.devices[1]->Forward(real);
    const ForwardResult f = replay.devices[1]->Forward(filler);
    CHECK(filler.size() == real.size());
    CHECK(f.activationBytes == r.activationBytes);
    CHECK(f.batch == r.batch);
    const ReplayActivationsBody key = ReadReplayActivationsBody(filler.data(), filler.size());
    CHECK(key.device == 1);
    CHECK(key.step == 1);

    training.server->Step(1, real.data(), real.size(), realGrad);
    const ServerResult s = replay.server->Step(1, filler.data(), filler.size(), fillerGrad);
    CHECK(fillerGrad.size() == realGrad.size());
    // the reference's first step of device 1 (round 0), read back exactly
    std::ifstream steps((dir / "steps.csv").string());
    std::string header, line;
    std::getline(steps, header);
    bool found = false;
    while (std::getline(steps, line))
    {
        // columns: sim_time_s,round,phase,step,device,batch,loss,...
        std::stringstream cells(line);
        std::vector<std::string> c;
        for (std::string v; std::getline(cells, v, ',');)
        {
            c.push_back(v);
        }
        if (c.at(3) == "1" && c.at(4) == "1")
        {
            CHECK(s.loss == std::stod(c.at(6)));
            found = true;
        }
    }
    CHECK(found);

    training.devices[1]->EncodeState(realState);
    replay.devices[1]->EncodeState(fillerState);
    CHECK(fillerState.size() == realState.size());
    CHECK_THROWS_AS(replay.server->DeviceTimedOut(1, 3.5), InputError);
    // no evaluation in the reference after a single completed step
    replay.devices[1]->Backward(fillerGrad.data(), fillerGrad.size());
    CHECK_THROWS_AS(replay.server->Evaluate(nullptr), InputError);
    std::filesystem::remove_all(dir);
}

TEST_CASE("sides: cut-layer leakage is measured after the uplink codec, on the fixed subset")
{
    // Tiny: 100 test samples, an MLP cut after its first hidden layer (32 values).
    ScenarioConfig config = Tiny("splitfed_v2", 2);
    config.training.leakageSamples = 64;
    config.uplink = CodecConfig{};
    config.uplink.method = "none";
    Sides none = BuildSides(config);
    const EvalResult plain = none.server->Evaluate(nullptr);
    // a cut of the input's own kind, well above what independence gives (0 +- 0.01 at n = 64)
    CHECK(plain.cutDcorSq > 0.3);
    CHECK(plain.cutDcorSq <= 1.0);
    // the same weights evaluated again: the same subset and stream, the same number
    CHECK(none.server->Evaluate(nullptr).cutDcorSq == plain.cutDcorSq);

    config.uplink.method = "topk";
    config.uplink.sparsity = 0.99; // 1 % of each message's values sent
    Sides topk = BuildSides(config);
    const EvalResult sparse = topk.server->Evaluate(nullptr);
    CHECK(std::isfinite(sparse.cutDcorSq));
    // what the server sees from a 1 % top-k reveals measurably less than the raw activations
    CHECK(sparse.cutDcorSq < plain.cutDcorSq - 0.05);
    // compress_eval changes the accuracy path, not the leakage: it is always measured as sent
    config.training.compressEval = false;
    CHECK(BuildSides(config).server->Evaluate(nullptr).cutDcorSq == sparse.cutDcorSq);

    // off, or a subset too small for the estimator: NaN (an empty cell in eval.csv)
    config.training.leakageSamples = 0;
    CHECK(std::isnan(BuildSides(config).server->Evaluate(nullptr).cutDcorSq));
    config.training.leakageSamples = 256; // more than the 100 test samples: all of them
    CHECK(std::isfinite(BuildSides(config).server->Evaluate(nullptr).cutDcorSq));
}

namespace
{

/// name -> values of every tensor of p.
std::map<std::string, std::vector<float>>
TensorsOf(Partition& p)
{
    std::map<std::string, std::vector<float>> out;
    for (const NamedTensor& t : p.NamedTensors())
    {
        out[t.name].assign(t.data, t.data + t.shape.Numel());
    }
    return out;
}

} // namespace

TEST_CASE("sides: per-device cuts train and the phase end merges the tensors they share")
{
    // Tiny's MLP 64 -> fc1 32 -> fc2 16 -> fc3: device 0 cuts after fc1 ("shallow"), device 1
    // after fc2 ("deep"); the sync codec is none, so the merged states are exact.
    for (const char* schedule : {"splitfed_v2", "splitfed_v1", "sequential"})
    {
        INFO(schedule);
        ScenarioConfig config = Tiny(schedule, 2);
        config.network.devices[1].cut = "deep";
        Sides sides = BuildSides(config);
        REQUIRE(sides.trainingServer->Copies() == 2); // one per cut, or per device for v1
        TrainingDevice& d0 = *sides.trainingDevices[0];
        TrainingDevice& d1 = *sides.trainingDevices[1];
        CHECK(d0.Model().OutputShape().Numel() == 32);
        CHECK(d1.Model().OutputShape().Numel() == 16);
        CHECK(sides.server->FlopsPerSampleFor(0).forward
              > sides.server->FlopsPerSampleFor(1).forward);

        // one step each, then the phase end
        std::map<int, std::vector<uint8_t>> reports;
        for (int d : {0, 1})
        {
            std::vector<uint8_t> body, gradient;
            sides.devices[d]->Forward(body);
            sides.server->Step(d, body.data(), body.size(), gradient);
            sides.devices[d]->Backward(gradient.data(), gradient.size());
            sides.devices[d]->EncodeState(reports[d]);
        }
        AgreedState agreed;
        if (std::string(schedule) == "sequential")
        {
            reports.erase(0); // one device per phase: device 1 hands on
        }
        sides.schedule->ClosePhase(reports, *sides.server, agreed);
        REQUIRE(agreed.valid);
        REQUIRE(agreed.groupBlobs.size() == 2);
        for (int d : {0, 1})
        {
            const std::vector<uint8_t>& blob = agreed.BlobFor(d);
            sides.devices[d]->LoadState(blob.data(), blob.size());
        }
        // every copy of a tensor agrees: fc1 on both devices, fc2 on device 1 and the shallow
        // server part, fc3 on both server copies
        auto t0 = TensorsOf(const_cast<Partition&>(d0.Model()));
        auto t1 = TensorsOf(const_cast<Partition&>(d1.Model()));
        auto s0 = TensorsOf(const_cast<Partition&>(sides.trainingServer->Copy(0)));
        auto s1 = TensorsOf(const_cast<Partition&>(sides.trainingServer->Copy(1)));
        CHECK(t0.at("fc1.weight") == t1.at("fc1.weight"));
        CHECK(t0.at("fc1.bias") == t1.at("fc1.bias"));
        CHECK(t1.at("fc2.weight") == s0.at("fc2.weight"));
        CHECK(s0.at("fc3.weight") == s1.at("fc3.weight"));
        CHECK(s1.count("fc2.weight") == 0);
        if (std::string(schedule) == "sequential")
        {
            // the hand-off: device 1's blob goes on unchanged to its own cut
            CHECK(agreed.BlobFor(1) == reports.at(1));
        }
        // the evaluated model is device 0's cut with server copy 0
        const EvalResult e = sides.server->Evaluate(&agreed.weights);
        CHECK(std::isfinite(e.loss));
        CHECK(agreed.weights.size() == d0.State().size());
    }
}

TEST_CASE("sides: per-device cuts measure the leakage at every distinct cut")
{
    ScenarioConfig config = Tiny("splitfed_v2", 3);
    config.network.devices[1].cut = "deep";
    config.network.devices[2].cut = "deep";
    Sides sides = BuildSides(config);
    // Before any phase end each cut's leakage is its first device's, here the seeded init: what
    // a run with every device at that cut measures.
    const EvalResult e = sides.server->Evaluate(nullptr);
    REQUIRE(e.groupCutDcorSq.size() == 2);
    CHECK(e.groupCutDcorSq[0] == e.cutDcorSq);
    CHECK(e.cutDcorSq == BuildSides(Tiny("splitfed_v2", 3)).server->Evaluate(nullptr).cutDcorSq);
    ScenarioConfig deep = Tiny("splitfed_v2", 3);
    deep.model.cut = "deep";
    CHECK(e.groupCutDcorSq[1] == BuildSides(deep).server->Evaluate(nullptr).cutDcorSq);
    CHECK(e.groupCutDcorSq[1] != e.cutDcorSq);
}
