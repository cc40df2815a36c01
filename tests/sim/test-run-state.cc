// Run-state checkpoints and resume (sim/run-state.h): a run stopped at a round start and resumed
// trains exactly as an uninterrupted one; damaged or foreign states and unsupported scenarios are
// refused with an InputError.
#include "common/error.h"
#include "sim/run-state.h"
#include "sim/run.h"
#include "tests/sim/run-output.h"
#include "tests/sim/tiny-scenario.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

using namespace slsim;

namespace
{

/// A column of a CSV file, row by row.
std::vector<std::string>
Column(const std::string& file, const std::string& column)
{
    std::vector<std::string> out;
    for (const auto& row : ReadCsv(file))
    {
        out.push_back(row.at(column));
    }
    return out;
}

/// steps.csv's training columns by (device, step counter).
std::map<std::pair<std::string, std::string>, std::string>
StepsByDevice(const std::string& file)
{
    std::map<std::pair<std::string, std::string>, std::string> out;
    for (const auto& row : ReadCsv(file))
    {
        out[{row.at("device"), row.at("step")}] = row.at("round") + " " + row.at("phase") + " "
                                                  + row.at("batch") + " " + row.at("loss");
    }
    return out;
}

ScenarioConfig
Resumable(const std::string& schedule, int devices)
{
    ScenarioConfig c = Tiny(schedule, devices);
    c.optimizer.momentum = 0.9; // momentum buffers must survive the resume
    c.optimizer.schedule = "cosine";
    c.training.epochs = 4;
    c.training.saveEveryRounds = 100; // only checkpoints/final: the final weights
    return c;
}

} // namespace

TEST_CASE("A run stopped at a round start and resumed trains bit for bit as an uninterrupted one",
          "[sim][run-state]")
{
    const auto [schedule, devices] = GENERATE(std::make_pair(std::string("sequential"), 2),
                                              std::make_pair(std::string("splitfed_v1"), 2),
                                              std::make_pair(std::string("splitfed_v2"), 1));
    CAPTURE(schedule, devices);
    const ScenarioConfig c = Resumable(schedule, devices);
    const std::string whole = TempDir("run-state-whole");
    const std::string parts = TempDir("run-state-parts");
    const std::string state = parts + ".run-state";
    std::filesystem::remove(state);
    const RunSummary a = RunScenario(c, whole);
    REQUIRE_FALSE(a.stopped);

    RunControl stop;
    stop.statePath = state;
    stop.fingerprint = "tiny";
    stop.stopAtRound = 2;
    const RunSummary b = RunScenario(c, parts, stop);
    REQUIRE(b.stopped);
    REQUIRE(b.rounds == 2);
    REQUIRE(std::filesystem::exists(state));
    REQUIRE_FALSE(std::filesystem::exists(parts + "/eval.csv")); // a stop writes no results
    const RunStateInfo info = ReadRunStateInfo(state);
    CHECK(info.round == 2);
    CHECK(info.fingerprint == "tiny");

    RunControl resume = stop;
    resume.stopAtRound = 0;
    resume.resume = true;
    const RunSummary r = RunScenario(c, parts, resume);
    REQUIRE_FALSE(r.stopped);
    CHECK(r.resumedFromRound == 2);
    CHECK(r.rounds == 4);
    CHECK(r.steps == a.steps);
    CHECK(r.bytesUp == a.bytesUp);
    CHECK(r.bytesDown == a.bytesDown);
    CHECK(r.bytesSync == a.bytesSync);
    // The training, row by row and bit for bit (shortest round-trip text of the same floats).
    for (const char* column : {"test_accuracy", "test_loss", "round", "steps", "cum_bytes_up"})
    {
        CAPTURE(column);
        CHECK(Column(whole + "/eval.csv", column) == Column(parts + "/eval.csv", column));
    }
    // Each device's steps (devices training in parallel finish them in an order that the
    // reconnection may change: rows keyed by device and step).
    CHECK(StepsByDevice(whole + "/steps.csv") == StepsByDevice(parts + "/steps.csv"));
    // The final weights, byte for byte: the evaluated model, every device part, the server.
    for (const auto& entry : std::filesystem::directory_iterator(whole + "/checkpoints/final"))
    {
        const std::string name = entry.path().filename().string();
        CAPTURE(name);
        CHECK(Slurp(entry.path().string()) == Slurp(parts + "/checkpoints/final/" + name));
    }
    // Simulated time goes on from the checkpoint: later by the devices' reconnection only.
    CHECK(r.simTimeS >= a.simTimeS);
    CHECK(r.simTimeS < a.simTimeS + 1.0);
    std::filesystem::remove(state);
}

TEST_CASE("A damaged or foreign run state is refused with an InputError naming the file",
          "[sim][run-state]")
{
    const ScenarioConfig c = Resumable("sequential", 1);
    const std::string out = TempDir("run-state-damaged");
    const std::string state = out + ".run-state";
    RunControl stop;
    stop.statePath = state;
    stop.stopAtRound = 1;
    REQUIRE(RunScenario(c, out, stop).stopped);
    const std::string bytes = Slurp(state);

    RunControl resume = stop;
    resume.stopAtRound = 0;
    resume.resume = true;
    // Truncated anywhere after the header (as a crash mid-write would leave a non-atomic file).
    for (const size_t keep : {bytes.size() - 1, bytes.size() / 2, size_t(60)})
    {
        CAPTURE(keep);
        std::ofstream(state, std::ios::binary) << bytes.substr(0, keep);
        const std::string e = InputErrorOf([&] { RunScenario(c, out, resume); });
        CHECK(e.find(state) == 0);
        CHECK(e.find('\n') == std::string::npos);
    }
    std::ofstream(state, std::ios::binary) << "not a run state";
    CHECK(InputErrorOf([&] { RunScenario(c, out, resume); }).find("not a slsim run state")
          != std::string::npos);
    // The state of a run with more devices does not fit this one.
    std::ofstream(state, std::ios::binary) << bytes;
    const ScenarioConfig other = Resumable("sequential", 2);
    CHECK(InputErrorOf([&] { RunScenario(other, out, resume); }).find("does not fit")
          != std::string::npos);
    std::filesystem::remove(state);
}

TEST_CASE("Scenarios whose network depends on absolute time are refused for a run state",
          "[sim][run-state]")
{
    ScenarioConfig c = Tiny("sequential", 2);
    CHECK(InputErrorOf([&] { CheckResumable(c); }).empty());
    ScenarioConfig outage = c;
    outage.faults.outages.push_back(OutageConfig{1, 0.5, 2.0});
    CHECK(InputErrorOf([&] { CheckResumable(outage); }).find("faults.outages")
          != std::string::npos);
    ScenarioConfig churn = c;
    churn.faults.churn.meanOnS = 10;
    churn.faults.churn.meanOffS = 1;
    CHECK(InputErrorOf([&] { CheckResumable(churn); }).find("faults.churn") != std::string::npos);
    ScenarioConfig battery = c;
    battery.network.devices[1].batteryJ = 100;
    CHECK(InputErrorOf([&] { CheckResumable(battery); }).find("network.devices[1]")
          != std::string::npos);
    ScenarioConfig wifi = c;
    wifi.network.devices[0].access = "wifi";
    CHECK(InputErrorOf([&] { CheckResumable(wifi); }).find("access wifi") != std::string::npos);
    ScenarioConfig replay = c;
    replay.training.replay = "somewhere";
    CHECK(InputErrorOf([&] { CheckResumable(replay); }).find("training.replay")
          != std::string::npos);
}
