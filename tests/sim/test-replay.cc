// Network-only replay (training.replay): a run that reuses the training of a finished run gives
// the CSVs a real run over the same network would, and refuses references it cannot stand for.
#include "app/commands.h"
#include "app/scenario-loader.h"
#include "common/error.h"
#include "tests/test-support.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace slsim;
using slsim::test::ErrorOf;

namespace
{

const std::string ROOT = std::string(SLSIM_BINARY_DIR) + "/test-replay";

/// Three devices, a few steps per round, several phases (splitfed_v1 syncs every 2 steps) and a
/// randomized downlink codec, so that codec randomness is exercised too.
Json
Base(const std::string& schedule)
{
    return ParseJsonText(R"({
      "name": "replay-tiny", "seed": 7,
      "dataset": {"name": "synthetic", "synthetic": {"train": 240, "test": 100}},
      "partition": {"kind": "dirichlet", "alpha": 0.5},
      "model": {"name": "mlp", "hidden": [32, 16], "cut": "shallow", "threads": 1},
      "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
      "training": {"batch_size": 20, "epochs": 3},
      "codec": {"uplink": {"method": "ms", "sparsity": 0.9, "bits": 2},
                "downlink": {"method": "quantize", "bits": 4, "stochastic": true},
                "sync": {"method": "fp16"}},
      "network": {"bottleneck_mbps": 100, "bottleneck_delay_ms": 1, "server_gflops": 50},
      "devices": {"count": 3, "uplink_mbps": 5, "downlink_mbps": 20, "delay_ms": 3, "gflops": 2},
      "schedule": {"kind": ")"
                             + schedule + R"(", "sync_every_steps": 2}
    })",
                         "test scenario");
}

/// Network B: other rates, delays, device speeds and server.
Json
OnNetworkB(Json doc)
{
    SetPath(doc, "network",
            ParseJsonText(R"({"bottleneck_mbps": 7, "bottleneck_delay_ms": 20,
                                               "server_gflops": 3, "server_workers": 2})",
                          "network B"));
    SetPath(doc, "devices",
            ParseJsonText(R"({"count": 3,
        "uplink_mbps": {"dist": "uniform", "min": 0.5, "max": 4},
        "downlink_mbps": {"dist": "choice", "values": [2, 50]},
        "delay_ms": {"dist": "uniform", "min": 1, "max": 60},
        "gflops": {"dist": "uniform", "min": 0.2, "max": 8}})",
                          "devices B"));
    return doc;
}

std::string
Slurp(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// `slsim run` on the document into ROOT/<name>; returns the wall seconds.
double
Run(const Json& doc, const std::string& name)
{
    const std::string dir = ROOT + "/" + name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::ofstream(dir + ".json") << doc.dump(2);
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(RunCommand({dir + ".json", "--out", dir, "--quiet"}) == 0);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Json
ReplayOf(Json doc, const std::string& name)
{
    SetPath(doc, "training.replay", ROOT + "/" + name);
    return doc;
}

/// steps.csv, eval.csv and events.csv byte for byte (none holds a wall-time column).
void
RequireSameCsv(const std::string& a, const std::string& b)
{
    for (const char* file : {"steps.csv", "eval.csv", "events.csv"})
    {
        INFO(file);
        REQUIRE(Slurp(ROOT + "/" + a + "/" + file) == Slurp(ROOT + "/" + b + "/" + file));
    }
}

} // namespace

TEST_CASE("replay: splitfed_v1 on the reference's own network gives its CSVs", "[replay]")
{
    const Json a = Base("splitfed_v1");
    const double full = Run(a, "v1-a");
    const double replay = Run(ReplayOf(a, "v1-a"), "v1-a-replay");
    RequireSameCsv("v1-a", "v1-a-replay");
    const Json m = ParseJsonText(Slurp(ROOT + "/v1-a-replay/manifest.json"), "manifest");
    CHECK(m["replay_source"] == ROOT + "/v1-a");
    CHECK(m["scenario"]["training"]["replay"] == ROOT + "/v1-a");
    WARN("tiny mlp: full run " << full << " s, replay " << replay << " s");
}

TEST_CASE("replay: splitfed_v1 on another network gives what a real run there gives", "[replay]")
{
    const Json a = Base("splitfed_v1");
    Run(a, "v1-a2");
    Run(OnNetworkB(a), "v1-b");
    Run(ReplayOf(OnNetworkB(a), "v1-a2"), "v1-b-replay");
    RequireSameCsv("v1-b", "v1-b-replay");
    // The network did change the timing (otherwise this test would prove nothing).
    CHECK(Slurp(ROOT + "/v1-a2/steps.csv") != Slurp(ROOT + "/v1-b/steps.csv"));
}

TEST_CASE("replay: sequential on another network gives what a real run there gives", "[replay]")
{
    const Json a = Base("sequential");
    Run(a, "seq-a");
    Run(ReplayOf(a, "seq-a"), "seq-a-replay");
    RequireSameCsv("seq-a", "seq-a-replay");
    Run(OnNetworkB(a), "seq-b");
    Run(ReplayOf(OnNetworkB(a), "seq-a"), "seq-b-replay");
    RequireSameCsv("seq-b", "seq-b-replay");
}

TEST_CASE("replay: references it cannot stand for are rejected", "[replay]")
{
    const Json a = Base("splitfed_v1");
    Run(a, "v1-ref");
    const Json replay = ReplayOf(a, "v1-ref");

    Json v2 = replay;
    SetPath(v2, "schedule.kind", "splitfed_v2");
    CHECK(ErrorOf(v2)
          == "training.replay: the splitfed_v2 schedule trains in arrival order, so its results "
             "depend on the network; replay needs sequential or splitfed_v1");

    Json cut = replay;
    SetPath(cut, "model.cut", "1");
    CHECK_THAT(ErrorOf(cut), Catch::StartsWith("training.replay: model.cut differs from the "
                                               "reference's"));
    Json lr = replay;
    SetPath(lr, "optimizer.lr", 0.1);
    CHECK_THAT(ErrorOf(lr), Catch::StartsWith("training.replay: optimizer.lr differs"));
    Json devices = replay;
    SetPath(devices, "devices.count", 4);
    CHECK_THAT(ErrorOf(devices), Catch::StartsWith("training.replay: devices.count differs"));

    // Network values, the time budget and threads may differ.
    CHECK(ErrorOf(OnNetworkB(replay)).empty());
    Json budget = replay;
    SetPath(budget, "training.time_budget_s", 5);
    SetPath(budget, "model.threads", 2);
    CHECK(ErrorOf(budget).empty());

    Json missing = a;
    SetPath(missing, "training.replay", ROOT + "/no-such-run");
    CHECK(ErrorOf(missing)
          == "training.replay: " + ROOT
                 + "/no-such-run/manifest.json: not found (expected the folder "
                   "of a finished `slsim run`)");
    std::filesystem::create_directories(ROOT + "/half-run");
    std::filesystem::copy_file(ROOT + "/v1-ref/manifest.json", ROOT + "/half-run/manifest.json",
                               std::filesystem::copy_options::overwrite_existing);
    SetPath(missing, "training.replay", ROOT + "/half-run");
    CHECK_THAT(ErrorOf(missing), Catch::Contains("half-run/steps.csv: not found"));

    // Through the executable: exit code 2 and one line naming the path.
    std::ofstream(ROOT + "/v2.json") << v2.dump();
    const std::string cmd = std::string(SLSIM_BINARY_DIR) + "/slsim run " + ROOT + "/v2.json --out "
                            + ROOT + "/v2-out 2> " + ROOT + "/v2.err";
    const int status = std::system(cmd.c_str());
    CHECK(WEXITSTATUS(status) == 2);
    const std::string err = Slurp(ROOT + "/v2.err");
    CHECK_THAT(err, Catch::Contains("training.replay: the splitfed_v2 schedule"));
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
}

TEST_CASE("replay: a device time-out during the replay fails the run", "[replay]")
{
    const Json a = Base("splitfed_v1");
    Run(a, "v1-to");
    Json outage = ReplayOf(a, "v1-to");
    SetPath(outage, "faults",
            ParseJsonText(R"({"timeout_s": 0.5,
                                  "outages": [{"device": 1, "from_s": 0.1}]})",
                          "faults"));
    std::filesystem::remove_all(ROOT + "/v1-to-replay");
    std::filesystem::create_directories(ROOT + "/v1-to-replay");
    std::ofstream(ROOT + "/v1-to-replay.json") << outage.dump();
    try
    {
        RunCommand({ROOT + "/v1-to-replay.json", "--out", ROOT + "/v1-to-replay", "--quiet"});
        FAIL("the replay ran through a time-out");
    }
    catch (const InputError& e)
    {
        CHECK_THAT(e.what(), Catch::Contains("training.replay: device 1 timed out at"));
    }
    // A failed run leaves no result files.
    CHECK_FALSE(std::filesystem::exists(ROOT + "/v1-to-replay/steps.csv"));
}

TEST_CASE("replay: a reference made before newer keys existed replays at their defaults",
          "[replay]")
{
    const Json a = Base("splitfed_v1");
    Run(a, "v1-old");
    // Make the reference look like one written before the evaluation clocks, the energy model
    // and the RTO warning existed: their keys gone from the manifest, no evaluation at t=0.
    const std::string ref = ROOT + "/v1-old";
    Json m = ParseJsonText(Slurp(ref + "/manifest.json"), "manifest");
    Json& s = m["scenario"];
    REQUIRE(s["training"].contains("eval_every_steps"));
    REQUIRE(s["training"].contains("eval_at_start"));
    REQUIRE(s["diagnostics"].contains("rto_warning_share"));
    s["training"].erase("eval_every_steps");
    s["training"].erase("eval_every_s");
    s["training"].erase("eval_at_start");
    s["diagnostics"].erase("rto_warning_share");
    size_t energyKeys = 0;
    for (Json& device : s["devices"]["list"])
    {
        for (const char* key : {"radio_tx_w", "radio_rx_w", "radio_idle_w"})
        {
            energyKeys += device.erase(key);
        }
    }
    CHECK(energyKeys == 9);
    std::ofstream(ref + "/manifest.json") << m.dump(2);
    std::istringstream eval(Slurp(ref + "/eval.csv"));
    std::string header, line, kept;
    std::getline(eval, header);
    REQUIRE(header.rfind("sim_time_s,round,steps,", 0) == 0); // steps is the third column
    size_t dropped = 0;
    while (std::getline(eval, line))
    {
        const size_t first = line.find(',');
        const size_t second = line.find(',', first + 1);
        if (line.substr(second + 1, line.find(',', second + 1) - second - 1) == "0")
        {
            ++dropped;
            continue;
        }
        kept += line + "\n";
    }
    REQUIRE(dropped == 1);
    std::ofstream(ref + "/eval.csv") << header << "\n" << kept;

    // The scenario leaves the new keys at their defaults (eval_at_start: true): it replays, and
    // evaluates where the reference did, so not at t=0 (a missing eval_at_start is false).
    Run(ReplayOf(a, "v1-old"), "v1-old-replay");
    for (const char* file : {"steps.csv", "eval.csv"})
    {
        INFO(file);
        REQUIRE(Slurp(ref + "/" + file) == Slurp(ROOT + "/v1-old-replay/" + file));
    }
    const Json replayed = ParseJsonText(Slurp(ROOT + "/v1-old-replay/manifest.json"), "manifest");
    CHECK(replayed["scenario"]["training"]["eval_at_start"] == false);

    // A new key set away from its default still differs, named with the default it stands for.
    Json clock = ReplayOf(a, "v1-old");
    SetPath(clock, "training.eval_every_steps", 2);
    CHECK(ErrorOf(clock)
          == "training.replay: training.eval_every_steps differs from the reference's (absent, so "
             "0 in "
                 + ref + "/manifest.json, 2 here); a replay needs the same training");
}
