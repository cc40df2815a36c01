// Schedules (sim/schedule.h): phases of sequential and SplitFed, time-outs, the phase end (FedAvg
// weighted by shard size, hand-off, server copies), replay validity, and the registry, to which
// this file adds a toy schedule (the whole of what a new schedule takes: one class, one row) and
// runs it through the apps.
#include "common/error.h"
#include "sim/fed-avg.h"
#include "sim/run.h"
#include "sim/schedule.h"
#include "sim/server-side.h"
#include "tests/sim/tiny-scenario.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace slsim;

namespace
{

/// A server side whose "sync codec" is raw float32 and that records what the schedule asks of it.
class FakeServer : public ServerSide
{
  public:
    Flops FlopsPerSample() const override
    {
        return Flops{};
    }

    void SetRound(int) override
    {
    }

    ServerResult Step(int, const uint8_t*, size_t, std::vector<uint8_t>&) override
    {
        return ServerResult{};
    }

    void DecodeState(const uint8_t* blob, size_t size, std::vector<float>& state) override
    {
        state.resize(size / 4);
        std::memcpy(state.data(), blob, size);
        ++decoded;
    }

    void EncodeState(const std::vector<float>& state, std::vector<uint8_t>& out) override
    {
        out = Blob(state);
        ++encoded;
    }

    void AverageCopies(const std::vector<int>& devices, const std::vector<size_t>& samples) override
    {
        copiesAveraged = devices;
        copySamples = samples;
    }

    void DeviceTimedOut(int, double) override
    {
    }

    EvalResult Evaluate(const std::vector<float>*) override
    {
        return EvalResult{};
    }

    static std::vector<uint8_t> Blob(const std::vector<float>& state)
    {
        std::vector<uint8_t> out(state.size() * 4);
        std::memcpy(out.data(), state.data(), out.size());
        return out;
    }

    int decoded = 0, encoded = 0;
    std::vector<int> copiesAveraged;
    std::vector<size_t> copySamples;
};

ScheduleContext
Context(std::vector<int> steps, int sync = 0)
{
    ScheduleContext c;
    c.stepsPerEpoch = steps;
    for (int s : steps)
    {
        c.shardSizes.push_back(static_cast<size_t>(s) * 10);
    }
    c.syncEverySteps = sync;
    return c;
}

using Plan = std::vector<std::pair<int, int>>;

// The toy schedule: one class and one registration row. Devices train one at a time in reverse
// order, for two steps each, and average nothing (hand-off).
class ReverseToySchedule : public Schedule
{
  public:
    explicit ReverseToySchedule(const ScheduleContext& c)
        : m_devices(c.Devices())
    {
    }

    void BeginRound() override
    {
        m_next = m_devices - 1;
    }

    PhasePlan NextPhase() override
    {
        PhasePlan p;
        if (m_next >= 0)
        {
            p.devices.emplace_back(m_next--, 2);
        }
        return p;
    }

    void PhaseResult(int, bool) override
    {
    }

    void ClosePhase(const std::map<int, std::vector<uint8_t>>& reports, ServerSide& server,
                    AgreedState& agreed) override
    {
        HandOff(reports, server, agreed);
    }

    bool PerDeviceServerCopies() const override
    {
        return false;
    }

    bool SupportsReplay() const override
    {
        return true;
    }

  private:
    int m_devices;
    int m_next = -1;
};

const bool TOY_REGISTERED = RegisterSchedule("toy_reverse", [](const ScheduleContext& c) {
    return std::make_unique<ReverseToySchedule>(c);
});

} // namespace

TEST_CASE("schedule sequential: one device at a time, a whole pass each, hand-off")
{
    auto s = MakeSchedule("sequential", Context({3, 5, 2}));
    CHECK_FALSE(s->PerDeviceServerCopies());
    CHECK(s->SupportsReplay());
    for (int round = 0; round < 2; ++round)
    {
        s->BeginRound();
        CHECK(s->NextPhase().devices == Plan{{0, 3}});
        s->PhaseResult(0, true);
        CHECK(s->NextPhase().devices == Plan{{1, 5}});
        s->PhaseResult(1, false); // a time-out changes nothing for the others
        CHECK(s->NextPhase().devices == Plan{{2, 2}});
        CHECK(s->NextPhase().devices.empty());
    }

    FakeServer server;
    AgreedState agreed;
    std::map<int, std::vector<uint8_t>> reports;
    reports[1] = FakeServer::Blob({1.5f, -2.0f});
    s->ClosePhase(reports, server, agreed);
    CHECK(agreed.valid);
    CHECK(agreed.blob == reports[1]); // handed on as it came, not re-encoded
    CHECK(agreed.weights == std::vector<float>{1.5f, -2.0f});
    CHECK(server.encoded == 0);
    CHECK(server.copiesAveraged.empty());
}

TEST_CASE("schedule splitfed: every device in parallel, sync every k steps, time-outs sit out")
{
    auto s = MakeSchedule("splitfed_v2", Context({5, 2, 4}, 2));
    s->BeginRound();
    CHECK(s->NextPhase().devices == Plan{{0, 2}, {1, 2}, {2, 2}});
    s->PhaseResult(0, true);
    s->PhaseResult(1, true);
    s->PhaseResult(2, false); // timed out: out for the rest of the round
    CHECK(s->NextPhase().devices == Plan{{0, 2}});
    s->PhaseResult(0, true);
    CHECK(s->NextPhase().devices == Plan{{0, 1}});
    s->PhaseResult(0, true);
    CHECK(s->NextPhase().devices.empty());
    s->BeginRound(); // invited again next round
    CHECK(s->NextPhase().devices == Plan{{0, 2}, {1, 2}, {2, 2}});

    auto once = MakeSchedule("splitfed_v1", Context({5, 2}));
    once->BeginRound();
    CHECK(once->NextPhase().devices == Plan{{0, 5}, {1, 2}});
    once->PhaseResult(0, true);
    once->PhaseResult(1, true);
    CHECK(once->NextPhase().devices.empty());
}

TEST_CASE("schedule splitfed: the phase end is FedAvg weighted by shard size")
{
    // shard sizes 30 and 10: weights 3/4 and 1/4
    FakeServer server;
    std::map<int, std::vector<uint8_t>> reports;
    reports[0] = FakeServer::Blob({4.0f, 0.0f});
    reports[2] = FakeServer::Blob({0.0f, 8.0f});
    ScheduleContext c = Context({3, 7, 1});

    auto v2 = MakeSchedule("splitfed_v2", c);
    CHECK_FALSE(v2->PerDeviceServerCopies());
    CHECK_FALSE(v2->SupportsReplay());
    AgreedState agreed;
    v2->ClosePhase(reports, server, agreed);
    CHECK(agreed.valid);
    CHECK(agreed.weights == std::vector<float>{3.0f, 2.0f});
    CHECK(agreed.blob == FakeServer::Blob({3.0f, 2.0f})); // encoded for the next START
    CHECK(server.decoded == 2);
    CHECK(server.copiesAveraged.empty()); // one shared server model

    auto v1 = MakeSchedule("splitfed_v1", c);
    CHECK(v1->PerDeviceServerCopies());
    CHECK(v1->SupportsReplay());
    v1->ClosePhase(reports, server, agreed);
    CHECK(server.copiesAveraged == std::vector<int>{0, 2});
    CHECK(server.copySamples == std::vector<size_t>{30, 10});
}

TEST_CASE("FedAvg: sum_i (n_i / n) theta_i in double, rounded once")
{
    CHECK(FedAvg({{1.0f, 2.0f}}, {7}) == std::vector<float>{1.0f, 2.0f});
    CHECK(FedAvg({{0.0f}, {1.0f}, {2.0f}}, {1, 1, 2}) == std::vector<float>{1.25f});
    // 0.1f three times, equal weights: the double mean rounds back to 0.1f exactly
    CHECK(FedAvg({{0.1f}, {0.1f}, {0.1f}}, {1, 1, 1}) == std::vector<float>{0.1f});
}

TEST_CASE("schedule registry: kinds, replay validity, unknown kinds, a toy schedule in one row")
{
    REQUIRE(TOY_REGISTERED);
    const auto kinds = ScheduleKinds();
    CHECK(kinds
          == std::vector<std::string>{"sequential", "splitfed_v1", "splitfed_v2", "toy_reverse"});
    CHECK(ScheduleSupportsReplay("sequential"));
    CHECK(ScheduleSupportsReplay("splitfed_v1"));
    CHECK_FALSE(ScheduleSupportsReplay("splitfed_v2"));
    CHECK(ScheduleSupportsReplay("toy_reverse"));
    try
    {
        MakeSchedule("async", Context({1}));
        FAIL("no error");
    }
    catch (const InputError& e)
    {
        CHECK(std::string(e.what()).find("schedule.kind") == 0);
        CHECK(std::string(e.what()).find("'async'") != std::string::npos);
    }

    auto toy = MakeSchedule("toy_reverse", Context({4, 4, 4}));
    toy->BeginRound();
    CHECK(toy->NextPhase().devices == Plan{{2, 2}});
    CHECK(toy->NextPhase().devices == Plan{{1, 2}});
    CHECK(toy->NextPhase().devices == Plan{{0, 2}});
    CHECK(toy->NextPhase().devices.empty());
}

TEST_CASE("schedule registry: the toy schedule runs a whole scenario through the apps")
{
    ScenarioConfig c = Tiny("toy_reverse", 3);
    c.training.epochs = 1;
    const auto dir = std::filesystem::temp_directory_path() / "slsim-test-toy-schedule";
    std::filesystem::remove_all(dir);
    const RunSummary s = RunScenario(c, dir.string());
    CHECK(s.steps == 6); // 3 devices, 2 steps each
    CHECK(s.rounds == 1);
    // steps.csv: device 2 first, then 1, then 0 (column 5, "device")
    std::ifstream in((dir / "steps.csv").string());
    std::string line;
    std::getline(in, line);
    std::vector<std::string> order;
    while (std::getline(in, line))
    {
        std::stringstream cells(line);
        std::string cell;
        for (int i = 0; i < 5; ++i)
        {
            std::getline(cells, cell, ',');
        }
        order.push_back(cell);
    }
    CHECK(order == std::vector<std::string>{"2", "2", "1", "1", "0", "0"});
    std::filesystem::remove_all(dir);
}

namespace
{

SplitModel
MlpAt(const std::string& cut)
{
    ModelConfig m;
    m.name = "mlp";
    m.hidden = {6, 5};
    m.input = Shape{4};
    m.classes = 3;
    m.cut = cut;
    m.threads = 1;
    return BuildSplitModel(m, OptimizerConfig(), 9);
}

/// Every value of p's tensors set to `v` (so that averages are easy to name).
void
Fill(Partition& p, float v)
{
    for (const NamedTensor& t : p.NamedTensors())
    {
        std::fill(t.data, t.data + t.shape.Numel(), v);
    }
}

/// name -> first value of each of p's tensors.
std::map<std::string, float>
Firsts(Partition& p)
{
    std::map<std::string, float> out;
    for (const NamedTensor& t : p.NamedTensors())
    {
        out[t.name] = t.data[0];
    }
    return out;
}

} // namespace

TEST_CASE("FedAvg over two cuts: each tensor averaged over the copies that hold it", "[sim]")
{
    // mlp 4 -> fc1 6 -> relu -> fc2 5 -> relu -> fc3 3: "shallow" cuts after fc1's ReLU,
    // "deep" after fc2's. A device at shallow holds fc1, one at deep fc1 and fc2; the server part
    // at shallow holds fc2 and fc3, the one at deep fc3.
    SplitModel shallow = MlpAt("shallow"), deep = MlpAt("deep");
    REQUIRE(Firsts(*shallow.device).count("fc1.weight") == 1);
    REQUIRE(Firsts(*shallow.device).count("fc2.weight") == 0);
    REQUIRE(Firsts(*deep.device).count("fc2.weight") == 1);
    Fill(*shallow.device, 1); // trained on 1 sample
    Fill(*deep.device, 5);    // trained on 3 samples
    Fill(*shallow.server, 9); // served the shallow device's steps (1 sample)
    Fill(*deep.server, 3);    // served the deep device's (3 samples)
    SharedTensorAverage avg;
    avg.Add(*shallow.device, 1);
    avg.Add(*deep.device, 3);
    avg.Add(*shallow.server, 1);
    avg.Add(*deep.server, 3);
    for (Partition* p :
         {shallow.device.get(), deep.device.get(), shallow.server.get(), deep.server.get()})
    {
        avg.Install(*p);
    }
    // fc1: devices (1*1 + 3*5)/4 = 4; fc2: deep device and shallow server (3*5 + 1*9)/4 = 6;
    // fc3: both server parts (1*9 + 3*3)/4 = 4.5
    for (Partition* p : {shallow.device.get(), deep.device.get()})
    {
        CHECK(Firsts(*p).at("fc1.weight") == 4.0f);
        CHECK(Firsts(*p).at("fc1.bias") == 4.0f);
    }
    CHECK(Firsts(*deep.device).at("fc2.weight") == 6.0f);
    CHECK(Firsts(*shallow.server).at("fc2.weight") == 6.0f);
    CHECK(Firsts(*shallow.server).at("fc3.weight") == 4.5f);
    CHECK(Firsts(*deep.server).at("fc3.bias") == 4.5f);

    // A partition that contributed nothing receives the averages of what others held; a tensor
    // no contributor held keeps its values.
    SplitModel other = MlpAt("deep");
    Fill(*other.device, -1);
    SharedTensorAverage onlyShallow;
    onlyShallow.Add(*shallow.device, 2);
    onlyShallow.Install(*other.device);
    CHECK(Firsts(*other.device).at("fc1.weight") == 4.0f);
    CHECK(Firsts(*other.device).at("fc2.weight") == -1.0f);
}
