// U-shaped split learning (model.head_cut; TrainingDevice with a head, TrainingServer with the
// middle): with `none` codecs a device's steps through the
// four message bodies give exactly the unsplit model's weights; a run's traffic is four frames per
// step of the sizes the codecs give, its time split adds the head's compute, and it is
// deterministic; its head's compute energy is charged when the head computes.
#include "common/error.h"
#include "models/safetensors.h"
#include "sim/compute-model.h"
#include "sim/messages.h"
#include "sim/run.h"
#include "sim/sides.h"
#include "tests/sim/run-output.h"
#include "tests/sim/tiny-scenario.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <map>

using namespace slsim;

namespace
{

/// The tiny MLP (flatten, fc1, relu | fc2, relu | fc3): the server holds fc2 and its ReLU, the
/// device the rest.
ScenarioConfig
TinyU(const std::string& schedule, int devices)
{
    ScenarioConfig c = Tiny(schedule, devices);
    c.model.headCut = "deep";
    return c;
}

std::vector<float>
StateOf(const Partition& p)
{
    std::vector<float> s(p.StateSize());
    p.GetState(s.data());
    return s;
}

/// The unsplit model trained on device 0's batches of a one-device scenario: the same data,
/// partition, shuffle and init as BuildSides gives the device.
struct Unsplit
{
    explicit Unsplit(const ScenarioConfig& config)
        : c(config),
          train(LoadDataset(c.dataset, true, c.seed)),
          cursor(Shard(), c.training.batchSize, Rng(c.seed, "shuffle", 0)),
          maker(train, c.dataset),
          augment(c.seed, "augment", 0)
    {
        mc = c.model;
        mc.input = train.SampleShape();
        mc.classes = train.classes;
        model = BuildModel(mc, c.optimizer, c.seed);
    }

    std::vector<uint32_t> Shard()
    {
        Rng partitionRng(c.seed, "partition");
        return PartitionDataset(train, 1, c.partition, partitionRng)[0];
    }

    /// One training step on the device's next batch.
    LossResult Step()
    {
        size_t batch = 0;
        const uint32_t* idx = cursor.Next(batch);
        x.resize(batch * static_cast<size_t>(mc.input.Numel()));
        y.resize(batch);
        maker.Make(idx, batch, c.dataset.augment, augment, x.data(), y.data());
        const int b = static_cast<int>(batch);
        g.resize(batch * static_cast<size_t>(mc.classes));
        const float* logits = model->Forward(x.data(), b, true);
        const LossResult r = SoftmaxCrossEntropy(logits, y.data(), b, mc.classes, g.data());
        model->Backward(g.data());
        model->Step();
        return r;
    }

    const ScenarioConfig& c;
    Dataset train;
    ShardCursor cursor;
    BatchMaker maker;
    Rng augment;
    ModelConfig mc;
    std::unique_ptr<Partition> model;
    std::vector<float> x, g;
    std::vector<int32_t> y;
};

} // namespace

TEST_CASE("U-shaped steps with none codecs give exactly the unsplit model's weights", "[sim][u]")
{
    ScenarioConfig c = TinyU("sequential", 1);
    c.uplink.method = "none";
    Sides sides = BuildSides(c);
    REQUIRE(sides.trainingServer);
    REQUIRE(sides.trainingDevices.size() == 1);
    TrainingDevice& device = *sides.trainingDevices[0];
    ServerSide& server = *sides.server;
    REQUIRE(device.HoldsHead());
    REQUIRE(server.UShaped());

    Unsplit whole(c);
    const auto together = [&]() {
        std::vector<float> s = device.State();
        const size_t front = device.Model().StateSize();
        const std::vector<float> middle = StateOf(sides.trainingServer->Copy(0));
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(front), middle.begin(), middle.end());
        return s; // front, middle, head: the unsplit order (no BN in this model)
    };
    const std::vector<float> init = together();
    REQUIRE(init == StateOf(*whole.model));

    for (int step = 0; step < 5; ++step)
    {
        std::vector<uint8_t> act, out, headGrad, grad;
        const ForwardResult f = device.Forward(act);
        CHECK(act.size() == f.activationBytes); // the blob alone: no labels on the wire
        const ServerResult first = server.Step(0, act.data(), act.size(), out);
        CHECK(first.batch == f.batch);
        CHECK(first.loss == 0); // the server never sees labels
        const HeadResult h = device.Head(out.data(), out.size(), headGrad);
        CHECK(h.headGradientBytes == headGrad.size());
        server.StepBackward(0, headGrad.data(), headGrad.size(), grad);
        device.Backward(grad.data(), grad.size());

        const LossResult r = whole.Step();
        CHECK(h.loss == r.loss);
        CHECK(h.correct == r.correct);
    }
    const std::vector<float> after = together();
    const std::vector<float> expected = StateOf(*whole.model);
    REQUIRE(after.size() == expected.size());
    CHECK(std::memcmp(after.data(), expected.data(), after.size() * sizeof(float)) == 0);
    CHECK(after != init);
}

TEST_CASE("U-shaped sides: malformed bodies and a head gradient without its forward", "[sim][u]")
{
    Sides sides = BuildSides(TinyU("splitfed_v1", 2));
    DeviceSide& device = *sides.devices[1];
    std::vector<uint8_t> act, out, headGrad, grad;
    device.Forward(act);
    CHECK_THROWS_AS(sides.server->StepBackward(1, act.data(), act.size(), grad), DecodeError);
    CHECK_THROWS_AS(sides.server->Step(1, act.data(), act.size() - 1, out), DecodeError);
    sides.server->Step(1, act.data(), act.size(), out);
    CHECK_THROWS_AS(device.Head(out.data(), out.size() - 1, headGrad), DecodeError);
    device.Head(out.data(), out.size(), headGrad);
    // the server output is not a head gradient's shape for device 0's copy
    CHECK_THROWS_AS(sides.server->StepBackward(0, headGrad.data(), headGrad.size(), grad),
                    DecodeError);
    CHECK_THROWS_AS(sides.server->StepBackward(1, act.data(), act.size(), grad), DecodeError);
    sides.server->StepBackward(1, headGrad.data(), headGrad.size(), grad);
    device.Backward(grad.data(), grad.size());
    // the device's state is its front and its head, both ways through the sync codec
    std::vector<uint8_t> weights;
    device.EncodeState(weights);
    std::vector<float> state;
    sides.server->DecodeState(weights.data(), weights.size(), state);
    CHECK(state.size() == 64 * 32 + 32 + 16 * 10 + 10); // fc1 and fc3; the input is 1x8x8
    sides.devices[0]->LoadState(weights.data(), weights.size());
    const EvalResult e = sides.server->Evaluate(&state);
    CHECK(e.accuracy >= 0);
    CHECK(std::isfinite(e.loss));
}

TEST_CASE("A U-shaped run: four frames per step of the codecs' sizes, time split, determinism",
          "[sim][u][run]")
{
    ScenarioConfig c = TinyU("splitfed_v1", 2);
    c.headDownlink.method = "fp16";
    c.headUplink.method = "quantize";
    c.headUplink.bits = 4;
    c.recordFrames = true;
    const std::string dir = TempDir("u-run");
    const RunSummary s = RunScenario(c, dir);
    const auto steps = ReadCsv(dir + "/steps.csv");
    REQUIRE(steps.size() == 2 * 6 * 2); // 120 samples each, batch 20, 2 rounds
    auto up = MakeCodec(c.uplink), down = MakeCodec(c.downlink);
    auto headDown = MakeCodec(c.headDownlink), headUp = MakeCodec(c.headUplink);
    const uint64_t frame = 4 + 16; // prefix and message header
    uint64_t total = 0;
    const double gflops = c.network.devices[0].gflops;
    for (const auto& r : steps)
    {
        const int64_t b = std::stoll(r.at("batch"));
        const uint64_t activations = frame + up->EncodedSize(Shape{b, 32});
        const uint64_t serverOutput = frame + headDown->EncodedSize(Shape{b, 16});
        const uint64_t headGradient = frame + headUp->EncodedSize(Shape{b, 16});
        const uint64_t gradient = frame + down->EncodedSize(Shape{b, 32});
        REQUIRE(std::stoull(r.at("bytes_up")) == activations + headGradient);
        REQUIRE(std::stoull(r.at("bytes_down")) == serverOutput + gradient);
        total += activations + headGradient;
        REQUIRE(std::stod(r.at("loss")) > 0); // from the device's head
        const double acc = std::stod(r.at("batch_accuracy"));
        REQUIRE((acc >= 0 && acc <= 1));
    }
    CHECK(s.bytesUp == total);
    // Device compute: front (fc1) and head (fc3) forward and backward; the server's: fc2's.
    Sides sides = BuildSides(c);
    const Flops front = sides.devices[0]->FlopsPerSample();
    const Flops head = sides.devices[0]->HeadFlopsPerSample();
    const Flops middle = sides.server->FlopsPerSample();
    const auto& r0 = steps.front();
    const double b0 = std::stod(r0.at("batch"));
    CHECK(std::stod(r0.at("device_compute_s"))
          == Approx((front.forward + front.backward + head.forward + head.backward) * b0
                    / (gflops * 1e9))
                 .epsilon(1e-9));
    CHECK(std::stod(r0.at("server_compute_s"))
          == Approx((middle.forward + middle.backward) * b0 / (c.network.serverGflops * 1e9))
                 .epsilon(1e-9));

    // frames.csv: every step is activations up, server_output down, head_gradient up, gradient
    // down, in that order per device.
    const auto frames = ReadCsv(dir + "/frames.csv");
    std::map<std::string, int> kinds;
    std::map<int, std::string> last;
    for (const auto& f : frames)
    {
        const std::string k = f.at("kind");
        ++kinds[k];
        const int d = std::stoi(f.at("device"));
        if (k == "server_output")
        {
            REQUIRE(last[d] == "activations");
        }
        if (k == "head_gradient")
        {
            REQUIRE(last[d] == "server_output");
            REQUIRE(f.at("direction") == "up");
        }
        if (k == "gradient")
        {
            REQUIRE(last[d] == "head_gradient");
        }
        if (k != "weights" && k != "start" && k != "hello" && k != "done")
        {
            last[d] = k;
        }
    }
    const int n = static_cast<int>(steps.size());
    CHECK(kinds["activations"] == n);
    CHECK(kinds["server_output"] == n);
    CHECK(kinds["head_gradient"] == n);
    CHECK(kinds["gradient"] == n);

    const std::string again = TempDir("u-run-again");
    RunScenario(c, again);
    for (const char* f : {"/steps.csv", "/eval.csv", "/devices.csv", "/frames.csv"})
    {
        INFO(f);
        REQUIRE(Slurp(dir + f) == Slurp(again + f));
    }
    const auto eval = ReadCsv(dir + "/eval.csv");
    CHECK(std::stod(eval.back().at("test_loss")) < std::stod(eval.front().at("test_loss")));
}

TEST_CASE("A U-shaped run with none codecs and one device ends with the unsplit model's weights",
          "[sim][u][run]")
{
    ScenarioConfig c = TinyU("sequential", 1);
    c.uplink.method = "none";
    c.training.epochs = 1;
    c.training.saveEveryRounds = 1;
    c.recordFrames = true;
    const std::string dir = TempDir("u-exact");
    RunScenario(c, dir);
    Unsplit whole(c);
    const auto steps = ReadCsv(dir + "/steps.csv");
    REQUIRE(steps.size() == 12); // 240 samples, batch 20
    for (size_t i = 0; i < steps.size(); ++i)
    {
        const LossResult r = whole.Step();
        REQUIRE(std::stod(steps[i].at("loss")) == r.loss); // shortest round-trip formatting
    }
    // The whole model as the run saved it (front, server, head under PyTorch names).
    const auto saved = ReadSafetensors(dir + "/checkpoints/final/model.safetensors");
    size_t tensors = 0;
    for (const NamedTensor& t : whole.model->NamedTensors())
    {
        INFO(t.name);
        REQUIRE(saved.count(t.name));
        const std::vector<float>& v = saved.at(t.name).values;
        REQUIRE(v.size() == static_cast<size_t>(t.shape.Numel()));
        REQUIRE(std::memcmp(v.data(), t.data, v.size() * sizeof(float)) == 0);
        ++tensors;
    }
    CHECK(tensors == saved.size());
    // Four frames per step, each 20 bytes of framing + a `none` blob of the tensor it carries.
    auto none = MakeCodec(c.uplink);
    const auto frames = ReadCsv(dir + "/frames.csv");
    std::map<std::string, uint64_t> bytes;
    for (const auto& f : frames)
    {
        bytes[f.at("kind")] += std::stoull(f.at("bytes"));
    }
    CHECK(bytes["activations"] == 12 * 20 + 12 * (none->EncodedSize(Shape{20, 32})));
    CHECK(bytes["server_output"] == 12 * 20 + 12 * (none->EncodedSize(Shape{20, 16})));
    CHECK(bytes["head_gradient"] == bytes["server_output"]);
    CHECK(bytes["gradient"] == bytes["activations"]);
}

TEST_CASE("A U-shaped device's head energy is charged where the head computes", "[sim][u][energy]")
{
    ScenarioConfig c = TinyU("splitfed_v1", 2);
    c.recordFrames = true;
    c.faults.timeoutS = 1;
    for (DeviceProfile& p : c.network.devices)
    {
        p.computeW = 5; // the radio draws nothing: all energy is compute
    }
    Sides sides = BuildSides(c);
    const double gflops = c.network.devices[1].gflops;
    const double forwardS
        = ComputeModel(sides.devices[1]->FlopsPerSample(), gflops).ForwardSeconds(20);
    const double headS
        = ComputeModel(sides.devices[1]->HeadFlopsPerSample(), gflops).StepSeconds(20);
    REQUIRE(headS > 0);

    // The totals: each step's compute energy is the power times its forward, head and backward.
    const std::string full = TempDir("u-energy");
    RunScenario(c, full);
    for (const auto& r : ReadCsv(full + "/steps.csv"))
    {
        REQUIRE(std::stod(r.at("compute_j"))
                == Approx(5 * std::stod(r.at("device_compute_s"))).epsilon(1e-12));
    }

    // A battery that holds device 1's first forward and half its head: it runs out at the
    // instant the head starts (the server output's arrival: headS before the head gradient
    // leaves), not at the step's end, and the step never completes.
    c.network.devices[1].batteryJ = 5 * (forwardS + headS / 2);
    const std::string dir = TempDir("u-energy-battery");
    const RunSummary s = RunScenario(c, dir);
    CHECK(s.batteryDropouts == 1);
    const double emptyAt = std::stod(ReadCsv(dir + "/devices.csv").at(1).at("battery_empty_s"));
    double headGradientAt = -1;
    for (const auto& f : ReadCsv(dir + "/frames.csv"))
    {
        if (f.at("device") == "1" && f.at("kind") == "head_gradient" && headGradientAt < 0)
        {
            headGradientAt = std::stod(f.at("sim_time_s"));
        }
    }
    REQUIRE(headGradientAt > 0);
    CHECK(emptyAt == Approx(headGradientAt - headS).margin(1e-9));
    for (const auto& r : ReadCsv(dir + "/steps.csv"))
    {
        CHECK(r.at("device") == "0");
    }
}
