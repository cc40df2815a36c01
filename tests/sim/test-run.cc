// End-to-end runs of small scenarios through ns-3: bytes accounting, determinism, schedules.
#include "common/csv-writer.h"
#include "sim/run.h"
#include "tests/sim/run-output.h"
#include "tests/sim/tiny-scenario.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
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
    REQUIRE(eval.size() == 3); // t=0 and 2 round ends
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
    c.diagnostics.rtoWarningShare = 0; // any stall: the warning line
    std::ostringstream err;
    std::streambuf* const saved = std::cerr.rdbuf(err.rdbuf());
    const RunSummary s = RunScenario(c, lossy);
    c.diagnostics.rtoWarningShare = 1; // never
    std::ostringstream quiet;
    std::cerr.rdbuf(quiet.rdbuf());
    RunScenario(c, TempDir("retx-lossy-quiet"));
    std::cerr.rdbuf(saved);
    INFO(err.str());
    CHECK(err.str().find("warning: TCP retransmission timeouts stalled") != std::string::npos);
    CHECK(err.str().find("device 0's") != std::string::npos);
    CHECK(err.str().find("phase") != std::string::npos);
    CHECK(quiet.str().find("warning") == std::string::npos);
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
    // Each timeout waited at least the minimum RTO; the stall is within the run.
    const double stall = std::stod(summary.at("rto_stall_s"));
    CHECK(std::stod(devices[0].at("rto_wait_s")) >= 0.2 * std::stod(devices[0].at("tcp_timeouts")));
    CHECK(std::stod(devices[1].at("rto_wait_s")) == 0);
    CHECK(stall > 0);
    CHECK(stall <= std::stod(devices[0].at("rto_wait_s")));
    CHECK(stall <= s.simTimeS);
}

TEST_CASE("Each device's time parts add up to the run's simulated time", "[sim][run]")
{
    const char* const PARTS[] = {"device_compute_s", "server_compute_s", "queue_s", "comm_s",
                                 "connect_s",        "sync_s",           "idle_s"};
    for (const char* schedule : {"splitfed_v2", "sequential"})
    {
        INFO(schedule);
        ScenarioConfig c = Tiny(schedule, 3);
        const std::string dir = TempDir(std::string("time-parts-") + schedule);
        const RunSummary s = RunScenario(c, dir);
        const auto summary = ReadCsv(dir + "/summary.csv").at(0);
        double means = 0;
        for (const char* p : PARTS)
        {
            means += std::stod(summary.at(std::string("mean_") + p));
        }
        CHECK(means == Approx(s.simTimeS).epsilon(1e-12));
        for (const auto& row : ReadCsv(dir + "/devices.csv"))
        {
            INFO("device " << row.at("device"));
            double sum = 0;
            for (const char* p : PARTS)
            {
                CHECK(std::stod(row.at(p)) >= 0);
                sum += std::stod(row.at(p));
            }
            CHECK(sum == Approx(s.simTimeS).epsilon(1e-12));
            CHECK(std::stod(row.at("connect_s")) > 0);
            CHECK(std::stod(row.at("sync_s")) > 0); // START and weights every phase
            CHECK(std::stod(row.at("idle_s")) > 0); // waiting for the others at least once
            CHECK(std::stod(row.at("comm_s")) > 0);
        }
        if (std::string(schedule) == "sequential")
        {
            // One device trains at a time: each waits for the others' turns, so idle is at
            // least what the other devices spent in steps.
            const auto rows = ReadCsv(dir + "/devices.csv");
            double steps = 0;
            for (const auto& row : rows)
            {
                for (const char* p : {"device_compute_s", "server_compute_s", "queue_s", "comm_s"})
                {
                    steps += std::stod(row.at(p));
                }
            }
            for (const auto& row : rows)
            {
                double own = 0;
                for (const char* p : {"device_compute_s", "server_compute_s", "queue_s", "comm_s"})
                {
                    own += std::stod(row.at(p));
                }
                CHECK(std::stod(row.at("idle_s")) >= steps - own);
            }
        }
    }
}

TEST_CASE("Training over the network lowers the loss", "[sim][run]")
{
    ScenarioConfig c = Tiny("splitfed_v2", 2);
    c.training.epochs = 6;
    const std::string dir = TempDir("loss");
    const RunSummary s = RunScenario(c, dir);
    const auto eval = ReadCsv(dir + "/eval.csv");
    REQUIRE(eval.size() == 7); // t=0 and 6 round ends
    CHECK(std::stod(eval.back().at("test_loss")) < std::stod(eval.front().at("test_loss")));
    CHECK(s.finalAccuracy > 0.3); // 10 classes: chance is 0.1
    CHECK(s.simTimeS > 0);
}

TEST_CASE("Evaluation at t=0 and on a step or time clock, at phase ends", "[sim][run]")
{
    // 3 devices, 4 steps each per round, averaged every 2 steps: phase ends after 6, 12, 18 and
    // 24 device steps (2 rounds).
    ScenarioConfig c = Tiny("splitfed_v2", 3);
    c.schedule.syncEverySteps = 2;
    SECTION("default: t=0 and every round end")
    {
        const std::string dir = TempDir("eval-default");
        RunScenario(c, dir);
        const auto eval = ReadCsv(dir + "/eval.csv");
        REQUIRE(eval.size() == 3);
        CHECK(eval[0].at("sim_time_s") == "0");
        CHECK(eval[0].at("steps") == "0");
        CHECK(eval[0].at("round") == "0");
        CHECK(eval[0].at("cum_bytes_up") == "0");
        CHECK(std::stod(eval[0].at("test_accuracy")) < 0.3); // 10 classes, untrained
        CHECK(eval[1].at("steps") == "12");
        CHECK(eval[2].at("steps") == "24");
    }
    SECTION("every 5 steps: the first phase end at or after each multiple of 5")
    {
        c.training.evalEverySteps = 5;
        c.training.evalAtStart = false;
        const std::string dir = TempDir("eval-steps");
        RunScenario(c, dir);
        const auto eval = ReadCsv(dir + "/eval.csv");
        std::vector<std::string> steps, rounds;
        for (const auto& r : eval)
        {
            steps.push_back(r.at("steps"));
            rounds.push_back(r.at("round"));
        }
        // 5 -> 6, 10 -> 12 (also round 1's end), 15 -> 18, 20 -> 24 (round 2's end); one row per
        // step count: the round-end evaluation at 12 is the clock's.
        CHECK(steps == std::vector<std::string>{"6", "12", "18", "24"});
        CHECK(rounds == std::vector<std::string>{"0", "1", "1", "2"});
    }
    SECTION("every T simulated seconds: at the first phase end after each multiple of T")
    {
        // A reference that evaluates at every phase end gives the phase ends' instants.
        c.training.evalEverySteps = 1;
        const std::string ref = TempDir("eval-ref");
        RunScenario(c, ref);
        const auto refEval = ReadCsv(ref + "/eval.csv");
        REQUIRE(refEval.size() == 5); // t=0 and 4 phase ends
        std::vector<double> phaseEnds;
        for (size_t i = 1; i < refEval.size(); ++i)
        {
            phaseEnds.push_back(std::stod(refEval[i].at("sim_time_s")));
        }
        const double every = phaseEnds.back() / 5;
        c.training.evalEverySteps = 0;
        c.training.evalEveryS = every;
        const std::string dir = TempDir("eval-time");
        RunScenario(c, dir);
        const auto eval = ReadCsv(dir + "/eval.csv");
        // t=0, the round ends (phase ends 2 and 4), and for each multiple k*T the first phase
        // end at or after it.
        std::set<size_t> expected = {1, 3};
        double next = every;
        for (size_t p = 0; p < phaseEnds.size(); ++p)
        {
            if (phaseEnds[p] >= next)
            {
                expected.insert(p);
                next = (std::floor(phaseEnds[p] / every) + 1) * every;
            }
        }
        CHECK(expected.size() >= 3); // the clock added a point the round ends do not have
        REQUIRE(eval.size() == 1 + expected.size());
        CHECK(eval[0].at("steps") == "0");
        size_t row = 1;
        for (size_t p : expected)
        {
            CHECK(eval[row].at("steps") == std::to_string(6 * (p + 1)));
            CHECK(std::stod(eval[row].at("sim_time_s")) == phaseEnds[p]);
            ++row;
        }
        // Evaluation takes no simulated time: the same steps at the same instants.
        CHECK(Slurp(dir + "/steps.csv") == Slurp(ref + "/steps.csv"));
    }
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
    CHECK(eval.size() == 3);
}

TEST_CASE("Diverging training ends the run with a diverged event, not an error", "[sim][run]")
{
    for (const std::string method : {"none", "ms", "topk"})
    {
        ScenarioConfig c = Tiny("splitfed_v2", 2);
        c.uplink.method = method;
        c.optimizer.lr = 1e12; // blows the weights up within a few steps
        c.training.epochs = 3;
        c.training.evalAtStart = false; // else the initial weights' evaluation is the last one
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

TEST_CASE("Per-device cuts: one cut for all, however spelled, is today's run byte for byte",
          "[sim][run]")
{
    for (const char* schedule : {"sequential", "splitfed_v1", "splitfed_v2"})
    {
        INFO(schedule);
        ScenarioConfig plain = Tiny(schedule, 2);
        plain.model.cut = "deep";
        ScenarioConfig explicitCuts = Tiny(schedule, 2);
        explicitCuts.model.cut = "shallow"; // overridden by every device
        explicitCuts.network.devices[0].cut = "deep";
        explicitCuts.network.devices[1].cut = "medium"; // the same layer as "deep" here
        const std::string a = TempDir(std::string("cut-plain-") + schedule);
        const std::string b = TempDir(std::string("cut-explicit-") + schedule);
        RunScenario(plain, a);
        RunScenario(explicitCuts, b);
        for (const char* f : {"/steps.csv", "/eval.csv", "/events.csv", "/devices.csv"})
        {
            INFO(f);
            const std::string x = Slurp(a + f);
            REQUIRE(!x.empty());
            REQUIRE(x == Slurp(b + f));
        }
    }
}

TEST_CASE("Per-device cuts: two cuts train over the network, each device at its own bytes",
          "[sim][run]")
{
    for (const char* schedule : {"sequential", "splitfed_v1", "splitfed_v2"})
    {
        INFO(schedule);
        ScenarioConfig c = Tiny(schedule, 2);
        c.uplink = CodecConfig{}; // none: 4 bytes per activation, easy to count
        c.network.devices[1].cut = "deep";
        const std::string dir = TempDir(std::string("two-cuts-") + schedule);
        RunScenario(c, dir);
        const auto eval = ReadCsv(dir + "/eval.csv");
        REQUIRE(eval.size() == 3);
        CHECK(std::stod(eval.back().at("test_loss")) < std::stod(eval.front().at("test_loss")));
        // activations: 32 values per sample at device 0's cut, 16 at device 1's
        const auto steps = ReadCsv(dir + "/steps.csv");
        std::map<std::string, uint64_t> perSample;
        for (const auto& s : steps)
        {
            perSample[s.at("device")] = std::stoull(s.at("bytes_up")) / std::stoull(s.at("batch"));
        }
        CHECK(perSample.at("0") > perSample.at("1"));
        const auto devices = ReadCsv(dir + "/devices.csv");
        REQUIRE(devices.size() == 2);
        CHECK(devices[0].at("bytes_up") != devices[1].at("bytes_up"));
        // the deeper device holds more weights: its synchronisation carries more
        CHECK(std::stoull(devices[1].at("bytes_sync")) > std::stoull(devices[0].at("bytes_sync")));
        // leakage.csv: a row per evaluation and cut; device 0's cut's is eval.csv's cut_dcor_sq
        const auto leakage = ReadCsv(dir + "/leakage.csv");
        REQUIRE(leakage.size() == 2 * eval.size());
        for (size_t i = 0; i < eval.size(); ++i)
        {
            const auto& shallow = leakage[2 * i];
            const auto& deep = leakage[2 * i + 1];
            CHECK(shallow.at("cut") == "shallow");
            CHECK(deep.at("cut") == "deep");
            CHECK(shallow.at("sim_time_s") == eval[i].at("sim_time_s"));
            CHECK(deep.at("round") == eval[i].at("round"));
            CHECK(shallow.at("cut_dcor_sq") == eval[i].at("cut_dcor_sq"));
            const double d = std::stod(deep.at("cut_dcor_sq"));
            CHECK((d > 0 && d <= 1));
            CHECK(deep.at("cut_dcor_sq") != shallow.at("cut_dcor_sq"));
        }
    }
    // one cut: no leakage.csv (eval.csv's cut_dcor_sq is the whole story)
    const std::string one = TempDir("one-cut");
    RunScenario(Tiny("splitfed_v2", 2), one);
    CHECK_FALSE(std::ifstream(one + "/leakage.csv").good());
}

TEST_CASE("schedule.max_active_devices lets at most that many devices of a phase train at once",
          "[sim][run]")
{
    // Six devices of two steps each, one round of SplitFed v2. A device trains between its
    // first step's end and its last step's end (at least): with the limit, no more than two
    // such spans overlap; without it all six do.
    const auto maxOverlap = [](const std::string& dir) {
        std::map<int, std::pair<double, double>> span; // device -> (first, last) step end
        for (const auto& r : ReadCsv(dir + "/steps.csv"))
        {
            const int d = std::stoi(r.at("device"));
            const double t = std::stod(r.at("sim_time_s"));
            auto it = span.emplace(d, std::make_pair(t, t)).first;
            it->second.first = std::min(it->second.first, t);
            it->second.second = std::max(it->second.second, t);
        }
        REQUIRE(span.size() == 6);
        int most = 0;
        for (const auto& [d, s] : span)
        {
            int n = 0;
            for (const auto& [e, o] : span)
            {
                n += o.first <= s.first && s.first < o.second ? 1 : 0;
            }
            most = std::max(most, n);
        }
        return most;
    };
    ScenarioConfig c = Tiny("splitfed_v2", 6);
    c.training.epochs = 1;
    const std::string all = TempDir("active-all");
    const double allS = RunScenario(c, all).simTimeS;
    CHECK(maxOverlap(all) == 6);
    // A limit of at least the phase's devices changes nothing.
    c.schedule.maxActiveDevices = 6;
    const std::string six = TempDir("active-six");
    RunScenario(c, six);
    CHECK(Slurp(all + "/steps.csv") == Slurp(six + "/steps.csv"));
    c.schedule.maxActiveDevices = 2;
    const std::string two = TempDir("active-two");
    const RunSummary s = RunScenario(c, two);
    CHECK(s.dropouts == 0);
    CHECK(ReadCsv(two + "/steps.csv").size() == 12);
    CHECK(maxOverlap(two) <= 2);
    CHECK(s.simTimeS > allS); // three waves of two on links that six devices did not fill
}
