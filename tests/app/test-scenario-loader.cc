// In-process tests of the scenario loader: defaults, overrides, devices, round trip, sweeps.
#include "app/device-resolver.h"
#include "app/fs-util.h"
#include "app/scenario-loader.h"
#include "app/sweep.h"
#include "common/error.h"
#include "common/rng.h"
#include "compression/codec.h"
#include "tests/test-support.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>

using namespace slsim;
using slsim::test::ErrorOf;

namespace
{

Json
Minimal()
{
    return ParseJsonText(R"({"name": "t", "dataset": {"name": "synthetic",
        "synthetic": {"train": 200, "test": 50}}, "model": {"name": "mlp", "hidden": [16]},
        "devices": {"count": 4}})",
                         "test");
}

} // namespace

TEST_CASE("defaults come from the structs and derived fields are filled", "[app][scenario]")
{
    const ScenarioConfig c = LoadScenario(Minimal(), ".");
    const ScenarioConfig d;
    CHECK(c.network.devices.size() == 4);
    CHECK(c.network.devices[0].uplinkMbps == DeviceProfile().uplinkMbps);
    CHECK(c.training.batchSize == d.training.batchSize);
    CHECK(c.schedule.kind == d.schedule.kind);
    CHECK(c.model.input == c.dataset.syntheticShape);
    CHECK(c.model.classes == c.dataset.syntheticClasses);
    CHECK(c.dataset.mean.size() == 1); // standard normalisation resolved
    CHECK(c.optimizer.totalEpochs == c.training.epochs);
}

TEST_CASE("overrides (set) reach any path and parse JSON or else a string", "[app][scenario]")
{
    Json doc = Minimal();
    ApplyOverride(doc, "codec.uplink.method=ms");
    ApplyOverride(doc, "codec.uplink.bits=3");
    ApplyOverride(doc, "codec.uplink.sparsity=0.95");
    ApplyOverride(doc, "devices.count=7");
    ApplyOverride(doc, "model.hidden[1]=8");
    const ScenarioConfig c = LoadScenario(doc, ".");
    CHECK(c.uplink.method == "ms");
    CHECK(c.uplink.bits == 3);
    CHECK(c.uplink.sparsity == 0.95);
    CHECK(c.network.devices.size() == 7);
    CHECK(c.model.hidden == std::vector<int>{16, 8});
    CHECK_THROWS_WITH(ApplyOverride(doc, "devices.count.x=1"),
                      Catch::Contains("devices.count is not an object"));
    CHECK_THROWS_WITH(ApplyOverride(doc, "model.hidden[5]=1"), Catch::Contains("past the end"));
    CHECK_THROWS_WITH(ApplyOverride(doc, "nokey"), Catch::Contains("key.path=value"));
    CHECK_THROWS_AS(ApplyOverride(doc, "a..b=1"), InputError);
}

TEST_CASE("errors name the JSON path", "[app][scenario]")
{
    Json doc = Minimal();
    doc["codec"]["uplink"] = {{"method", "ms"}, {"bits", 12}};
    CHECK_THAT(ErrorOf(doc), Catch::StartsWith("codec.uplink.bits: "));
    doc = Minimal();
    doc["devices"]["list"] = Json::array({Json::object(), {{"delay_ms", -1}}});
    doc["devices"].erase("count");
    CHECK(ErrorOf(doc) == "devices.list[1].delay_ms: must be in [0, 1e+12] ms, got -1");
    doc = Minimal();
    doc["trainig"] = Json::object();
    CHECK(ErrorOf(doc) == "trainig: unknown key (did you mean \"training\"?)");
}

TEST_CASE("device draws are seeded per device and within range", "[app][devices]")
{
    const Json spec = ParseJsonText(R"({"count": 50,
        "uplink_mbps": {"dist": "uniform", "min": 1, "max": 20},
        "delay_ms": {"dist": "lognormal", "median": 20, "sigma": 0.5, "max": 200},
        "loss": {"dist": "choice", "values": [0, 0.01], "weights": [3, 1]},
        "profiles": {"phone": {"gflops": 2}, "laptop": {"gflops": 20, "downlink_mbps": 50}},
        "profile": {"dist": "choice", "values": ["phone", "laptop"]}})",
                                    "t");
    const auto a = ResolveDevices(spec, "devices", 7, ".");
    const auto b = ResolveDevices(spec, "devices", 7, ".");
    const auto c = ResolveDevices(spec, "devices", 8, ".");
    REQUIRE(a.size() == 50);
    int phones = 0, lossy = 0;
    bool differs = false;
    for (size_t i = 0; i < a.size(); ++i)
    {
        CHECK(a[i].uplinkMbps == b[i].uplinkMbps);
        CHECK(a[i].delayMs == b[i].delayMs);
        CHECK(a[i].uplinkMbps >= 1);
        CHECK(a[i].uplinkMbps < 20);
        CHECK(a[i].delayMs > 0);
        CHECK(a[i].delayMs <= 200);
        CHECK((a[i].gflops == 2 || a[i].gflops == 20));
        CHECK((a[i].gflops == 20) == (a[i].downlinkMbps == 50));
        phones += a[i].gflops == 2;
        lossy += a[i].loss > 0;
        differs = differs || a[i].uplinkMbps != c[i].uplinkMbps;
    }
    CHECK(differs);
    CHECK(phones > 5);
    CHECK(phones < 45);
    CHECK(lossy > 2);
    CHECK(lossy < 30);
    // Device i's values do not depend on the device count.
    Json fewer = spec;
    fewer["count"] = 10;
    const auto f = ResolveDevices(fewer, "devices", 7, ".");
    CHECK(f[9].uplinkMbps == a[9].uplinkMbps);
    CHECK(f[9].gflops == a[9].gflops);
}

TEST_CASE("a CSV trace gives per-device values and its mistakes name the file and line",
          "[app][devices]")
{
    const std::string file = "test-app-trace.csv";
    {
        std::ofstream out(file);
        out << "device_id,uplink_mbps,delay_ms\n1,5,30\n0,2.5,10\n";
    }
    const Json spec = ParseJsonText(R"({"trace": "test-app-trace.csv", "gflops": 3})", "t");
    const auto d = ResolveDevices(spec, "devices", 1, ".");
    REQUIRE(d.size() == 2);
    CHECK(d[0].uplinkMbps == 2.5);
    CHECK(d[1].delayMs == 30);
    CHECK(d[1].gflops == 3);
    {
        std::ofstream out(file);
        out << "device_id,uplink_mbps\n0,5\n0,4\n";
    }
    CHECK_THROWS_WITH(ResolveDevices(spec, "devices", 1, "."),
                      Catch::Contains("test-app-trace.csv:3") && Catch::Contains("twice"));
    {
        std::ofstream out(file);
        out << "device_id,uplink_mbps\n0,fast\n";
    }
    CHECK_THROWS_WITH(ResolveDevices(spec, "devices", 1, "."),
                      Catch::Contains("test-app-trace.csv:2"));
    std::remove(file.c_str());
}

TEST_CASE("the resolved scenario loads back to the same configuration", "[app][scenario]")
{
    Json doc = Minimal();
    doc["devices"]["uplink_mbps"] = {{"dist", "lognormal"}, {"median", 8}, {"sigma", 0.3}};
    doc["faults"] = {{"outages", {{{"device", 1}, {"from_s", 2}}}}};
    doc["codec"]["uplink"] = {{"method", "topk"}, {"budget_bits_per_element", 4}};
    const ScenarioConfig a = LoadScenario(doc, ".");
    const Json resolved = ScenarioToJson(a);
    const ScenarioConfig b = LoadScenario(resolved, ".");
    CHECK(ScenarioToJson(b).dump() == resolved.dump());
    CHECK(b.network.devices[3].uplinkMbps == a.network.devices[3].uplinkMbps);
    CHECK(std::isinf(b.faults.outages[0].untilS));
}

TEST_CASE("a sweep expands to the Cartesian product with stable ids", "[app][sweep]")
{
    Json sweep = {{"base", Minimal()},
                  {"grid", {{"codec.uplink.method", {"ms", "topk"}}, {"model.cut", {"shallow"}}}},
                  {"equal_budget", {{"bits_per_element", {2.32, 4}}}},
                  {"repetitions", 2}};
    const Sweep s = ExpandSweep(sweep, ".", {});
    REQUIRE(s.points.size() == 8);
    CHECK(s.axes.size() == 3);
    CHECK(s.points[0].values == std::vector<std::string>{"ms", "shallow", "2.32"});
    CHECK(s.points[1].repetition == 1);
    CHECK(s.points[1].seed == 2);
    CHECK(s.points[7].values == std::vector<std::string>{"topk", "shallow", "4"});
    CHECK(s.points[7].scenario["codec"]["uplink"]["budget_bits_per_element"] == 4);
    const Sweep again = ExpandSweep(sweep, ".", {});
    CHECK(again.points[5].id == s.points[5].id);
    const Sweep changed = ExpandSweep(sweep, ".", {"training.epochs=2"});
    CHECK(changed.points[5].id != s.points[5].id);
    sweep["grid"]["codec.uplink.bits"] = {2, 12};
    CHECK_THROWS_WITH(ExpandSweep(sweep, ".", {}), Catch::Contains("codec.uplink.bits=12")
                                                       && Catch::Contains("codec.uplink.bits: "));
}

TEST_CASE("evaluation clocks: keys read; the time clock is refused with replay", "[app][scenario]")
{
    Json doc = Minimal();
    doc["training"] = {{"eval_every_steps", 5}, {"eval_every_s", 0.5}, {"eval_at_start", false}};
    const ScenarioConfig c = LoadScenario(doc, ".");
    CHECK(c.training.evalEverySteps == 5);
    CHECK(c.training.evalEveryS == 0.5);
    CHECK_FALSE(c.training.evalAtStart);
    CHECK(LoadScenario(Minimal(), ".").training.evalAtStart); // on by default
    doc["schedule"] = {{"kind", "sequential"}};
    doc["training"]["replay"] = "/nonexistent-run";
    CHECK_THROWS_WITH(LoadScenario(doc, "."),
                      Catch::StartsWith("training.eval_every_s: a replay evaluates where"));
}

TEST_CASE("a real dataset's folder: dataset.path, SLSIM_DATA_DIR, data/ here; the hint",
          "[app][scenario]")
{
    Json doc = Minimal();
    doc["dataset"] = {{"name", "digits"}};
    const std::string dir = test::TempDir() + "/data-dir";
    MakeDirectories(dir + "/digits");
    const char* before = std::getenv("SLSIM_DATA_DIR");
    const std::string saved = before ? before : "";
    ::setenv("SLSIM_DATA_DIR", dir.c_str(), 1);
    CHECK(LoadScenario(doc, ".").dataset.path == dir + "/digits");
    Json given = doc;
    given["dataset"]["path"] = dir + "/digits"; // dataset.path comes first
    ::setenv("SLSIM_DATA_DIR", "/nonexistent-slsim-data", 1);
    CHECK(LoadScenario(given, ".").dataset.path == dir + "/digits");
    CHECK_THROWS_WITH(LoadScenario(doc, "."),
                      Catch::StartsWith("dataset.path: no digits folder (searched "
                                        "/nonexistent-slsim-data/digits); fetch it with ")
                          && Catch::Contains("SLSIM_DATA_DIR=/nonexistent-slsim-data "
                                             "scripts/fetch-data digits"));
    ::unsetenv("SLSIM_DATA_DIR");
    if (!PathExists("data/digits")) // the tests run in the build folder
    {
        CHECK_THROWS_WITH(LoadScenario(doc, "."),
                          Catch::Contains("searched " + AbsolutePath("data/digits"))
                              && Catch::Contains("scripts/fetch-data digits")
                              && Catch::Contains("or set SLSIM_DATA_DIR or dataset.path"));
    }
    if (before)
    {
        ::setenv("SLSIM_DATA_DIR", saved.c_str(), 1);
    }
}

TEST_CASE("baselines_at_budget: an MS grid and every baseline at each of its budgets",
          "[app][sweep]")
{
    Json base = Minimal();
    base["codec"]["uplink"] = {{"method", "ms"}};
    const Json sweep
        = {{"base", base},
           {"grid", {{"codec.uplink.sparsity", {0.9, 0.99}}, {"codec.uplink.bits", {2, 3}}}},
           {"baselines_at_budget", {"topk", "quantize"}},
           {"repetitions", 2}};
    const Sweep s = ExpandSweep(sweep, ".", {});
    // 4 MS configurations, each followed by topk and quantize at its bits per element
    // (sparsity 0.9: 3.2 bits of values + the code bits; 0.99: 0.32 + the code bits), 2 seeds.
    REQUIRE(s.axes.size() == 4);
    CHECK(s.axes[2].column == "budget_bits_per_element");
    CHECK(s.axes[3].column == "baseline");
    REQUIRE(s.points.size() == 4 * 3 * 2);
    CHECK(s.duplicates.empty());
    const std::vector<std::vector<std::string>> expected
        = {{"0.9", "2", "5.2", ""},   {"", "", "5.2", "topk"},  {"", "", "5.2", "quantize"},
           {"0.9", "3", "6.2", ""},   {"", "", "6.2", "topk"},  {"", "", "6.2", "quantize"},
           {"0.99", "2", "2.32", ""}, {"", "", "2.32", "topk"}, {"", "", "2.32", "quantize"},
           {"0.99", "3", "3.32", ""}, {"", "", "3.32", "topk"}, {"", "", "3.32", "quantize"}};
    for (size_t i = 0; i < s.points.size(); ++i)
    {
        INFO("point " << i);
        CHECK(s.points[i].index == i);
        CHECK(s.points[i].values == expected[i / 2]);
        CHECK(s.points[i].repetition == static_cast<int>(i % 2));
    }
    // A baseline point replaces the whole uplink codec by the method at the budget.
    CHECK(s.points[14].scenario["codec"]["uplink"]
          == Json({{"method", "topk"}, {"budget_bits_per_element", 2.32}}));
    CHECK(s.points[16].scenario["codec"]["uplink"]
          == Json({{"method", "quantize"}, {"budget_bits_per_element", 2.32}}));
    CHECK(s.points[0].scenario["codec"]["uplink"]
          == Json({{"method", "ms"}, {"sparsity", 0.9}, {"bits", 2}}));
    // At 2.32 bits top-k keeps 1.32/32 of the values (bitmap index), quantize has 2 bits.
    const ScenarioConfig topk = LoadScenario(s.points[14].scenario, ".");
    CHECK(ResolveBudget(topk.uplink).sparsity == Approx(1 - 1.32 / 32));

    // A grid point that is one of the baselines at a budget (topk at 2.32 bits written out), and
    // an uncompressed point (no baselines of its own).
    Json mixed = sweep;
    mixed["grid"] = {{"codec.uplink",
                      {{{"method", "ms"}, {"sparsity", 0.99}, {"bits", 2}},
                       {{"method", "topk"}, {"budget_bits_per_element", 2.32}},
                       {{"method", "none"}}}}};
    mixed["baselines_at_budget"]
        = {{"methods", {"topk", {{"method", "quantize"}}}}, {"directions", {"uplink"}}};
    const Sweep m = ExpandSweep(mixed, ".", {});
    REQUIRE(m.duplicates.size() == 1);
    CHECK_THAT(m.duplicates[0],
               Catch::StartsWith(
                   R"(codec.uplink={"method":"topk","budget_bits_per_element":2.32} (same as )")
                   && Catch::Contains("(the budget of codec.uplink={\"method\":\"ms\""));
    REQUIRE(m.points.size() == 4 * 2); // ms, topk at 2.32, quantize at 2.32, none
    CHECK(m.points[6].values == std::vector<std::string>{R"({"method":"none"})", "", ""});

    // Bad input names its path.
    Json bad = sweep;
    bad["equal_budget"] = {{"bits_per_element", {4}}};
    CHECK_THROWS_WITH(ExpandSweep(bad, ".", {}), Catch::Contains("not both"));
    bad = sweep;
    bad["baselines_at_budget"]
        = {{"methods", {{{"method", "topk"}, {"budget_bits_per_element", 3}}}}};
    CHECK_THROWS_WITH(ExpandSweep(bad, ".", {}),
                      Catch::Contains("baselines_at_budget.methods[0].budget_bits_per_element"));
    bad["baselines_at_budget"] = {{"methods", Json::array()}};
    CHECK_THROWS_WITH(ExpandSweep(bad, ".", {}), Catch::Contains("baselines_at_budget.methods"));
}

TEST_CASE("a Cartesian grid's configurations that change nothing run once", "[app][sweep]")
{
    // quantize ignores sparsity and topk ignores bits: 3 x 3 x 3 = 27 configurations, of which
    // ms 9 + topk 3 + quantize 3 differ.
    const Json sweep = {{"base", Minimal()},
                        {"grid",
                         {{"codec.uplink.method", {"ms", "topk", "quantize"}},
                          {"codec.uplink.sparsity", {0.9, 0.95, 0.99}},
                          {"codec.uplink.bits", {2, 3, 4}}}},
                        {"repetitions", 2}};
    const Sweep s = ExpandSweep(sweep, ".", {});
    CHECK(s.points.size() == 15 * 2);
    CHECK(s.duplicates.size() == 12);
    CHECK(s.points.back().id.rfind("p0029-", 0) == 0);
    CHECK(s.points[18].values == std::vector<std::string>{"topk", "0.9", "2"});
    CHECK(s.points[24].values == std::vector<std::string>{"quantize", "0.9", "2"});
}

namespace
{

/// The first key path of `value` that `schema` does not describe (properties, items,
/// additionalProperties, oneOf), or "" when it covers them all: the schema keeps up with what
/// the loader reads and writes.
std::string
UncoveredKey(const Json& value, const Json& schema, const std::string& path)
{
    if (schema.contains("oneOf"))
    {
        std::string first;
        for (const auto& alt : schema["oneOf"])
        {
            const std::string miss = UncoveredKey(value, alt, path);
            if (miss.empty())
            {
                return "";
            }
            first = first.empty() ? miss : first;
        }
        return first;
    }
    if (value.is_object())
    {
        for (auto it = value.begin(); it != value.end(); ++it)
        {
            const std::string sub = JoinPath(path, it.key());
            if (schema.contains("properties") && schema["properties"].contains(it.key()))
            {
                const std::string miss
                    = UncoveredKey(it.value(), schema["properties"][it.key()], sub);
                if (!miss.empty())
                {
                    return miss;
                }
            }
            else if (schema.contains("additionalProperties")
                     && schema["additionalProperties"].is_object())
            {
                const std::string miss
                    = UncoveredKey(it.value(), schema["additionalProperties"], sub);
                if (!miss.empty())
                {
                    return miss;
                }
            }
            else
            {
                return sub;
            }
        }
    }
    else if (value.is_array() && schema.contains("items"))
    {
        for (size_t i = 0; i < value.size(); ++i)
        {
            const std::string miss = UncoveredKey(value[i], schema["items"], IndexPath(path, i));
            if (!miss.empty())
            {
                return miss;
            }
        }
    }
    return "";
}

} // namespace

TEST_CASE("shipped scenarios and sweeps validate and the schema covers every resolved key",
          "[app][scenario]")
{
    const std::string dir = SLSIM_SOURCE_DIR "/scenarios/";
    const Json schema = ReadJsonFile(dir + "scenario.schema.json");
    for (const char* name : {"quickstart", "paper-vgg-cifar10", "heterogeneous-100", "devices-1000",
                             "lossy-wireless", "churn"})
    {
        INFO(name);
        Json doc;
        // Validation reads the dataset files' headers against the model: a scenario whose data
        // was not fetched (CI fetches no CIFAR-10) cannot be validated here.
        if (std::string(name) == "paper-vgg-cifar10"
            && !PathExists(SLSIM_SOURCE_DIR "/data/cifar10"))
        {
            WARN("skipped " << name << ": its data is not fetched (scripts/fetch-data cifar10)");
            continue;
        }
        const ScenarioConfig c = LoadScenarioFile(dir + name + ".json", {}, &doc);
        CHECK(UncoveredKey(doc, schema, "") == "");
        CHECK(UncoveredKey(ScenarioToJson(c), schema, "") == "");
    }
    Json extra = ParseJsonText(R"({"devices": {"count": 1, "colour": 1}})", "t");
    CHECK(UncoveredKey(extra, schema, "") == "devices.colour"); // the check can fail
    const Sweep s = LoadSweep(dir + "sweep-ms-vs-baselines.json", {});
    CHECK(s.points.size() == 16);
    const Sweep grid = LoadSweep(dir + "sweep-ms-grid-baselines.json", {});
    CHECK(grid.points.size() == 46);
    CHECK(grid.duplicates.size() == 1);
}

TEST_CASE("duplicate keys are rejected with their path", "[app][scenario]")
{
    CHECK_THROWS_WITH(ParseJsonText(R"({"a": [1, {"b": 1, "c": {"d": 1, "d": 2}}]})", "x"),
                      "x: a[1].c.d: key given twice");
    CHECK_NOTHROW(ParseJsonText(R"({"a": [{"b": 1}, {"b": 2}], "c": {"b": 3}})", "x"));
}

namespace
{

/// All paths to values (leaves and containers) of a document.
void
CollectPaths(const Json& v, std::vector<std::vector<std::string>>& out,
             std::vector<std::string>& at)
{
    out.push_back(at);
    if (v.is_object())
    {
        for (auto it = v.begin(); it != v.end(); ++it)
        {
            at.push_back(it.key());
            CollectPaths(it.value(), out, at);
            at.pop_back();
        }
    }
    else if (v.is_array())
    {
        for (size_t i = 0; i < v.size(); ++i)
        {
            at.push_back("#" + std::to_string(i));
            CollectPaths(v[i], out, at);
            at.pop_back();
        }
    }
}

Json&
At(Json& doc, const std::vector<std::string>& path)
{
    Json* cur = &doc;
    for (const auto& k : path)
    {
        cur = k[0] == '#' ? &(*cur)[std::stoul(k.substr(1))] : &(*cur)[k];
    }
    return *cur;
}

} // namespace

TEST_CASE("random mutations of a valid scenario load or give an InputError and nothing else",
          "[app][scenario]")
{
    const Json valid = ReadJsonFile(SLSIM_SOURCE_DIR "/tests/app/tiny-scenario.json");
    const std::vector<Json> values{nullptr,
                                   true,
                                   false,
                                   0,
                                   -1,
                                   1,
                                   2,
                                   0.5,
                                   -0.5,
                                   1e9,
                                   -1e300,
                                   1e300,
                                   3.7,
                                   "",
                                   "ms",
                                   "shallow",
                                   "x",
                                   "1",
                                   "-3",
                                   "uniform",
                                   Json::array(),
                                   Json::array({1, 2}),
                                   Json::object(),
                                   ParseJsonText(R"({"dist": "uniform", "min": 1})", "v")};
    Rng rng(1, "test-mutations");
    int loaded = 0, rejected = 0;
    for (int iteration = 0; iteration < 400; ++iteration)
    {
        Json doc = valid;
        const int mutations = 1 + static_cast<int>(rng.UniformInt(3));
        for (int m = 0; m < mutations; ++m)
        {
            std::vector<std::vector<std::string>> paths;
            std::vector<std::string> at;
            CollectPaths(doc, paths, at);
            const auto& path = paths[rng.UniformInt(paths.size())];
            Json& target = At(doc, path);
            const uint64_t kind = rng.UniformInt(4);
            if (kind == 0 && !path.empty() && path.back()[0] != '#')
            {
                std::vector<std::string> parent(path.begin(), path.end() - 1);
                At(doc, parent).erase(path.back()); // delete a key
            }
            else if (kind == 1 && target.is_object())
            {
                target["extra_key"] = 1; // an unknown key
            }
            else
            {
                target = values[rng.UniformInt(values.size())];
            }
        }
        INFO(doc.dump());
        try
        {
            LoadScenario(doc, SLSIM_SOURCE_DIR "/tests/app");
            ++loaded;
        }
        catch (const InputError& e)
        {
            const std::string msg = e.what();
            CHECK(msg.find('\n') == std::string::npos);
            CHECK(!msg.empty());
            ++rejected;
        }
    }
    CHECK(rejected > 100);
    CHECK(loaded > 5);
}

TEST_CASE("a sweep point finds a relative device trace from its own folder", "[app][sweep]")
{
    const std::string dir = SLSIM_SOURCE_DIR "/tests/app";
    const std::string trace = dir + "/test-app-sweep-trace.csv";
    {
        std::ofstream out(trace);
        out << "device_id,uplink_mbps\n0,3\n1,4\n";
    }
    Json base = Minimal();
    base["devices"] = {{"trace", "test-app-sweep-trace.csv"}};
    CHECK_THROWS_WITH(ExpandSweep({{"base", base}, {"grid", {{"seed", {1, 2}}}}}, dir, {}),
                      Catch::StartsWith("grid.seed: "));
    const Sweep sweep = ExpandSweep({{"base", base}, {"repetitions", 2}}, dir, {});
    REQUIRE(sweep.points.size() == 2);
    const std::string resolved = sweep.points[0].scenario["devices"]["trace"].get<std::string>();
    CHECK(resolved[0] == '/');
    CHECK(LoadScenario(sweep.points[1].scenario, "/").network.devices[1].uplinkMbps == 4);
    std::remove(trace.c_str());
}

TEST_CASE("per-device cuts: profiles and list entries give them, checked with their path",
          "[app][devices]")
{
    Json doc = Minimal();
    doc["model"]["hidden"] = {16, 8};
    doc["devices"]["profiles"]
        = {{"weak", {{"gflops", 1}, {"cut", "shallow"}}}, {"strong", {{"gflops", 20}, {"cut", 4}}}};
    doc["devices"]["profile"] = {{"dist", "choice"}, {"values", {"weak", "strong"}}};
    const ScenarioConfig c = LoadScenario(doc, ".");
    int weak = 0;
    for (const DeviceProfile& d : c.network.devices)
    {
        weak += d.gflops == 1 ? 1 : 0;
        CHECK(d.cut == (d.gflops == 1 ? "shallow" : "4"));
    }
    CHECK(weak > 0);
    CHECK(weak < 4);
    // the manifest's device list keeps each cut and loads back to the same scenario
    const Json resolved = ScenarioToJson(c);
    CHECK(resolved["devices"]["list"][0].contains("cut"));
    CHECK(ScenarioToJson(LoadScenario(resolved, ".")).dump() == resolved.dump());
    // without per-device cuts the manifest has no cut key
    CHECK_FALSE(ScenarioToJson(LoadScenario(Minimal(), "."))["devices"]["list"][0].contains("cut"));

    Json bad = doc;
    bad["devices"]["profiles"]["weak"]["cut"] = "fc9";
    CHECK_THAT(ErrorOf(bad), Catch::StartsWith("devices.profiles.weak.cut: no cut \"fc9\" in mlp"));
    bad["devices"]["profiles"]["weak"]["cut"] = "none";
    CHECK(
        ErrorOf(bad)
        == "devices.profiles.weak.cut: must be a cut of the model (a device needs a server part)");
    bad["devices"]["profiles"]["weak"]["cut"] = 9;
    CHECK_THAT(ErrorOf(bad), Catch::StartsWith("devices.profiles.weak.cut: "));
    bad["devices"]["profiles"]["weak"]["cut"] = true;
    CHECK_THAT(ErrorOf(bad), Catch::StartsWith("devices.profiles.weak.cut: "));
    bad = doc;
    bad["devices"].erase("profiles");
    bad["devices"].erase("profile");
    bad["devices"].erase("count");
    bad["devices"]["list"] = Json::array({Json::object(), {{"cut", "fc7"}}});
    CHECK_THAT(ErrorOf(bad), Catch::StartsWith("devices.list[1].cut: no cut \"fc7\""));
    bad = doc;
    bad["schedule"] = {{"kind", "sequential"}};
    bad["training"]["replay"] = "/nonexistent-run";
    CHECK_THAT(ErrorOf(bad), Catch::StartsWith("training.replay: not with per-device cuts"));
}
