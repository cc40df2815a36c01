// End-to-end runs of small scenarios through ns-3: bytes accounting, determinism, schedules.
#include "common/csv-writer.h"
#include "sim/run.h"
#include "tests/sim/run-output.h"
#include "tests/sim/tiny-scenario.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

using namespace slsim;

TEST_CASE("Bytes up equal what the sockets carried, frame by frame", "[sim][run]")
{
    ScenarioConfig c = Tiny("splitfed_v2", 3);
    const std::string dir = TempDir("bytes");
    const RunSummary s = RunScenario(c, dir);
    const auto steps = ReadCsv(dir + "/steps.csv");
    // 240 samples over 3 devices, batch 20: 4 steps each per round, 2 rounds.
    REQUIRE(steps.size() == 3 * 4 * 2);
    auto codec = MakeCodec(c.uplink);
    auto down = MakeCodec(c.downlink);
    uint64_t up = 0;
    for (const auto& r : steps)
    {
        const int64_t batch = std::stoll(r.at("batch"));
        // frame prefix + message header + u32 batch + one label byte each + the codec blob
        const uint64_t expected
            = 4 + 16 + 4 + static_cast<uint64_t>(batch) + codec->EncodedSize(Shape{batch, 32});
        REQUIRE(std::stoull(r.at("bytes_up")) == expected);
        REQUIRE(std::stoull(r.at("bytes_down")) == 4 + 16 + down->EncodedSize(Shape{batch, 32}));
        up += expected;
    }
    REQUIRE(s.bytesUp == up);
    REQUIRE(std::stoull(steps.back().at("cum_bytes_up")) == up);
    const auto summary = ReadCsv(dir + "/summary.csv");
    REQUIRE(std::stoull(summary.at(0).at("bytes_up")) == up);
    const auto eval = ReadCsv(dir + "/eval.csv");
    REQUIRE(eval.size() == 2);
    REQUIRE(std::stoull(eval.back().at("cum_bytes_up")) == up);
}

TEST_CASE("Same scenario and seed give byte-identical CSV", "[sim][run]")
{
    for (const char* schedule : {"sequential", "splitfed_v1", "splitfed_v2"})
    {
        ScenarioConfig c = Tiny(schedule, 2);
        c.uplink.method = "randtopk"; // randomised codec: its stream must be seeded too
        c.uplink.sparsity = 0.8;
        const std::string a = TempDir(std::string("det-a-") + schedule);
        const std::string b = TempDir(std::string("det-b-") + schedule);
        RunScenario(c, a);
        RunScenario(c, b);
        INFO(schedule);
        for (const char* f : {"/steps.csv", "/eval.csv", "/events.csv", "/devices.csv"})
        {
            const std::string x = Slurp(a + f);
            REQUIRE(!x.empty());
            REQUIRE(x == Slurp(b + f));
        }
    }
}

TEST_CASE("A lossy link's retransmissions and timeouts appear in summary.csv and devices.csv",
          "[sim][run]")
{
    ScenarioConfig c = Tiny("splitfed_v2", 2);
    const std::string clean = TempDir("retx-clean");
    const RunSummary s0 = RunScenario(c, clean);
    CHECK(s0.tcpTimeouts == 0);
    CHECK(ReadCsv(clean + "/summary.csv").at(0).at("tcp_timeouts") == "0");
    for (const auto& row : ReadCsv(clean + "/devices.csv"))
    {
        CHECK(row.at("tcp_timeouts") == "0");
    }

    c.network.devices[0].loss = 0.1;
    const std::string lossy = TempDir("retx-lossy");
    const RunSummary s = RunScenario(c, lossy);
    INFO(s.tcpRetransmissions << " retransmissions, " << s.tcpTimeouts << " timeouts");
    const auto summary = ReadCsv(lossy + "/summary.csv").at(0);
    CHECK(std::stoull(summary.at("tcp_retransmissions")) == s.tcpRetransmissions);
    CHECK(std::stoull(summary.at("tcp_timeouts")) == s.tcpTimeouts);
    CHECK(std::stoull(summary.at("bytes_retransmitted")) == s.bytesRetransmitted);
    CHECK(s.tcpRetransmissions > 0);
    CHECK(s.tcpTimeouts > 0);
    CHECK(s.bytesRetransmitted > 0);
    const auto devices = ReadCsv(lossy + "/devices.csv");
    REQUIRE(devices.size() == 2);
    CHECK(std::stoull(devices[0].at("tcp_retransmissions")) > 0);
    CHECK(std::stoull(devices[0].at("tcp_timeouts")) > 0);
    CHECK(std::stoull(devices[0].at("wire_losses")) > 0);
    CHECK(devices[1].at("tcp_timeouts") == "0");
    CHECK(devices[1].at("wire_losses") == "0");
    // The per-device rows add up to the run's totals, and the bytes to what the steps sent.
    CHECK(std::stoull(devices[0].at("tcp_timeouts")) + std::stoull(devices[1].at("tcp_timeouts"))
          == s.tcpTimeouts);
    CHECK(std::stoull(devices[0].at("bytes_up")) + std::stoull(devices[1].at("bytes_up"))
          == s.bytesUp);
}

TEST_CASE("Training over the network lowers the loss", "[sim][run]")
{
    ScenarioConfig c = Tiny("splitfed_v2", 2);
    c.training.epochs = 6;
    const std::string dir = TempDir("loss");
    const RunSummary s = RunScenario(c, dir);
    const auto eval = ReadCsv(dir + "/eval.csv");
    REQUIRE(eval.size() == 6);
    CHECK(std::stod(eval.back().at("test_loss")) < std::stod(eval.front().at("test_loss")));
    CHECK(s.finalAccuracy > 0.3); // 10 classes: chance is 0.1
    CHECK(s.simTimeS > 0);
}

TEST_CASE("A device that drops out for good does not hang the run", "[sim][run][faults]")
{
    ScenarioConfig c = Tiny("splitfed_v2", 3);
    c.faults.timeoutS = 2;
    OutageConfig o;
    o.device = 1;
    o.fromS = 0.05; // mid-round
    c.faults.outages.push_back(o);
    const std::string dir = TempDir("dropout");
    const RunSummary s = RunScenario(c, dir);
    CHECK(s.rounds == 2);
    CHECK(s.dropouts >= 1);
    const std::string events = Slurp(dir + "/events.csv");
    CHECK(events.find("offline") != std::string::npos);
    CHECK(events.find("timeout") != std::string::npos);
    const auto eval = ReadCsv(dir + "/eval.csv");
    CHECK(eval.size() == 2);
}

TEST_CASE("Diverging training ends the run with a diverged event, not an error", "[sim][run]")
{
    for (const std::string method : {"none", "ms", "topk"})
    {
        ScenarioConfig c = Tiny("splitfed_v2", 2);
        c.uplink.method = method;
        c.optimizer.lr = 1e12; // blows the weights up within a few steps
        c.training.epochs = 3;
        const std::string dir = TempDir("diverge-" + method);
        RunSummary s;
        REQUIRE_NOTHROW(s = RunScenario(c, dir));
        CHECK(s.diverged);
        const auto steps = ReadCsv(dir + "/steps.csv");
        CHECK(steps.size() < 3 * 12); // stopped early: 240 samples / 20 per batch = 12 steps/epoch
        const auto events = ReadCsv(dir + "/events.csv");
        REQUIRE(!events.empty());
        CHECK(events.back().at("event") == "diverged");
        CHECK(events.back().at("device") == "-1");
        const auto summary = ReadCsv(dir + "/summary.csv").at(0);
        CHECK(summary.at("diverged") == "1");
        // It diverged before its first evaluation (a round end): no accuracy, not a 0.
        CHECK(std::isnan(s.finalAccuracy));
        CHECK(summary.at("final_accuracy").empty());
        CHECK(summary.at("best_accuracy").empty());
        CHECK(summary.at("final_loss").empty());
    }
    // A healthy run says so too.
    const std::string dir = TempDir("no-diverge");
    CHECK_FALSE(RunScenario(Tiny("splitfed_v2", 2), dir).diverged);
    CHECK(ReadCsv(dir + "/summary.csv").at(0).at("diverged") == "0");
}
