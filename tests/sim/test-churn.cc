// Device churn: the interval file, the exponential draws, and runs whose events.csv holds
// exactly the listed transitions (and the model's, the same for the same seed).
#include "common/error.h"
#include "common/rng.h"
#include "sim/churn.h"
#include "sim/run.h"
#include "tests/sim/run-output.h"
#include "tests/sim/tiny-scenario.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

using namespace slsim;

namespace
{

/// events.csv rows whose event starts with "churn_", as "time,device,event".
std::vector<std::string>
ChurnEvents(const std::string& dir)
{
    std::vector<std::string> out;
    for (const auto& row : ReadCsv(dir + "/events.csv"))
    {
        if (row.at("event").rfind("churn_", 0) == 0)
        {
            out.push_back(row.at("sim_time_s") + "," + row.at("device") + "," + row.at("event"));
        }
    }
    return out;
}

} // namespace

TEST_CASE("A churn file's rows become off intervals; on_s empty means for good", "[sim][churn]")
{
    const std::string f
        = WriteTempFile("churn-ok.csv", "# comment\ndevice,off_s,on_s\n1, 0.5, 2\n\n"
                                        "3,1,\n1,2,2.5\n");
    const std::vector<ChurnInterval> v = ReadChurnIntervals(f);
    REQUIRE(v.size() == 3);
    CHECK(v[0].device == 1);
    CHECK(v[0].offS == 0.5);
    CHECK(v[0].onS == 2);
    CHECK(v[0].line == 3);
    CHECK(v[1].device == 3);
    CHECK(std::isinf(v[1].onS));
    CHECK(v[1].line == 5);
    CHECK(v[2].offS == 2); // touching the previous interval is not an overlap
}

TEST_CASE("A bad churn file names the file and line", "[sim][churn]")
{
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"device,from,to\n", ":1: header must be \"device,off_s,on_s\""},
        {"device,off_s,on_s\n0,1\n", ":2: expected 3 fields, got 2"},
        {"device,off_s,on_s\n1.5,1,2\n", ":2: device must be an integer >= 0"},
        {"device,off_s,on_s\n-1,1,2\n", ":2: device must be an integer >= 0"},
        {"device,off_s,on_s\n0,x,2\n", ":2:"},
        {"device,off_s,on_s\n0,-1,2\n", ":2: off_s must be in [0, 1e9] s"},
        {"device,off_s,on_s\n0,2,2\n", ":2: on_s must be in (off_s, 1e9] s"},
        {"device,off_s,on_s\n0,3,5\n1,0,9\n0,1,4\n",
         ":4: device 0's interval overlaps the one at line 2"},
        {"device,off_s,on_s\n0,1,\n0,7,8\n", ":3: device 0's interval overlaps the one at line 2"},
    };
    for (size_t i = 0; i < cases.size(); ++i)
    {
        const std::string f
            = WriteTempFile("churn-bad-" + std::to_string(i) + ".csv", cases[i].first);
        const std::string e = InputErrorOf([&] { ReadChurnIntervals(f); });
        INFO(cases[i].first);
        CHECK(e.find(f + cases[i].second) == 0);
    }
    CHECK(InputErrorOf([] {
              ReadChurnIntervals("/nonexistent/churn.csv");
          }).find("/nonexistent/churn.csv")
          == 0);
}

TEST_CASE("Exponential draws have the given mean", "[sim][churn]")
{
    Rng rng(3, "churn", 0);
    const int n = 200000;
    double sum = 0, sumSq = 0;
    for (int i = 0; i < n; ++i)
    {
        const double x = ExponentialDraw(rng, 2.0);
        REQUIRE(x >= 0);
        sum += x;
        sumSq += x * x;
    }
    const double mean = sum / n;
    // The standard error of the mean is 2 / sqrt(n) = 0.0045: 4 of them.
    CHECK(std::abs(mean - 2.0) < 0.018);
    CHECK(std::abs(sumSq / n - mean * mean - 4.0) < 0.15); // variance mean^2
}

TEST_CASE("Listed churn intervals give exactly the listed events at the listed times",
          "[sim][churn][run]")
{
    ScenarioConfig c = Tiny("splitfed_v2", 3);
    c.faults.timeoutS = 0.5;
    c.faults.churn.intervals = {{1, 0.05, 0.25, 2}, {1, 0.4, 0.6, 3}, {2, 0.125, INFINITY, 4}};
    const std::string dir = TempDir("churn-listed");
    const RunSummary s = RunScenario(c, dir);
    REQUIRE(s.simTimeS > 0.6);
    CHECK(ChurnEvents(dir)
          == std::vector<std::string>{"0.05,1,churn_off", "0.125,2,churn_off", "0.25,1,churn_on",
                                      "0.4,1,churn_off", "0.6,1,churn_on"});
    CHECK(s.rounds == 2); // the run completes without device 2
}

TEST_CASE("The churn model completes, records its events, and repeats for the same seed",
          "[sim][churn][run]")
{
    ScenarioConfig c = Tiny("splitfed_v2", 3);
    c.faults.timeoutS = 0.5;
    c.faults.churn.meanOnS = 0.3;
    c.faults.churn.meanOffS = 0.1;
    const std::string a = TempDir("churn-model-a");
    const std::string b = TempDir("churn-model-b");
    const RunSummary s = RunScenario(c, a); // horizon 0: the model runs until the run stops
    CHECK(s.rounds == 2);
    const std::vector<std::string> events = ChurnEvents(a);
    REQUIRE(events.size() >= 2);
    RunScenario(c, b);
    CHECK(Slurp(a + "/events.csv") == Slurp(b + "/events.csv"));
    CHECK(Slurp(a + "/steps.csv") == Slurp(b + "/steps.csv"));
    // Each device alternates off, on, off, ... starting on.
    for (int d = 0; d < 3; ++d)
    {
        std::string expect = "churn_off";
        for (const std::string& e : events)
        {
            if (e.find("," + std::to_string(d) + ",") != std::string::npos)
            {
                CHECK(e.substr(e.rfind(',') + 1) == expect);
                expect = expect == "churn_off" ? "churn_on" : "churn_off";
            }
        }
    }
    // A horizon stops new switch-offs: nothing goes off at or after it.
    c.faults.churn.horizonS = 0.2;
    const std::string h = TempDir("churn-model-horizon");
    RunScenario(c, h);
    for (const std::string& e : ChurnEvents(h))
    {
        if (e.find("churn_off") != std::string::npos)
        {
            CHECK(std::stod(e.substr(0, e.find(','))) < 0.2);
        }
    }
    c.seed = 8;
    const std::string o = TempDir("churn-model-other-seed");
    RunScenario(c, o);
    CHECK(ChurnEvents(o) != ChurnEvents(h));
}
