// Property test (issue 14): every numeric scenario key, enumerated from the field tables (through
// the JSON Schema they generate, so a new key is covered without editing this file), pushed through
// extreme values: 0, -0, the smallest denormal, +-1e308, -1, integers beyond int, int64 and uint64,
// and nan/inf/-inf through --set (JSON cannot carry them; --set reads them as strings) and through
// a device trace (CSV can). Every value must load or be refused with a one-line InputError: in
// process for every (key, value), through `slsim validate` (exit 0 or 2, one line on 2, never a
// signal) for a rotating sample, and `slsim run` (with a time-out) for a sample that validates.
#include "app/fs-util.h"
#include "app/json-path.h"
#include "app/scenario-keys.h"
#include "tests/test-support.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

using namespace slsim;
using namespace slsim::test;

namespace
{

const std::string SLSIM = SLSIM_BINARY_DIR "/slsim";

/// The tiny scenario every key is pushed into (tests/app/tiny-scenario.json, one epoch).
Json
Base()
{
    return ParseJsonText(R"({"name": "tiny", "seed": 3,
        "dataset": {"name": "synthetic", "synthetic": {"train": 64, "test": 32, "classes": 4,
                    "shape": [1, 4, 4]}},
        "model": {"name": "mlp", "hidden": [8], "threads": 1},
        "optimizer": {"name": "sgd", "lr": 0.05},
        "training": {"batch_size": 16, "epochs": 1},
        "codec": {"uplink": {"method": "ms", "sparsity": 0.5, "bits": 2}},
        "devices": {"count": 2, "uplink_mbps": 10, "delay_ms": 5}})",
                         "base");
}

/// A value the schema node accepts (to fill the required neighbours of the key under test).
Json
SampleOf(const Json& schema)
{
    if (schema.contains("const"))
    {
        return schema["const"];
    }
    if (schema.contains("enum"))
    {
        return schema["enum"][0];
    }
    if (schema.contains("oneOf"))
    {
        return SampleOf(schema["oneOf"][0]);
    }
    const Json type = schema.value("type", Json("number"));
    const std::string t = type.is_array() ? type[0].get<std::string>() : type.get<std::string>();
    if (t == "integer" || t == "number")
    {
        double v = 1;
        if (schema.contains("minimum"))
        {
            v = std::max(v, schema["minimum"].get<double>());
        }
        if (schema.contains("maximum"))
        {
            v = std::min(v, schema["maximum"].get<double>());
        }
        return t == "integer" ? Json(static_cast<int64_t>(v)) : Json(v);
    }
    if (t == "array")
    {
        return Json::array({SampleOf(schema.value("items", Json::object()))});
    }
    if (t == "object")
    {
        Json o = Json::object();
        for (const auto& r : schema.value("required", Json::array()))
        {
            o[r.get<std::string>()] = SampleOf(schema["properties"][r.get<std::string>()]);
        }
        return o;
    }
    if (t == "boolean")
    {
        return false;
    }
    return "x";
}

/// A numeric key: the --set path of the number, and the containers to create on the way (the
/// object of a distribution variant with its required neighbours, a one-element list).
struct NumericKey
{
    std::string path;                                 // "devices.uplink_mbps.min"
    std::vector<std::pair<std::string, Json>> create; // (path, value) set before the number
    bool integer = false;
};

bool
IsNumeric(const Json& schema, bool& integer)
{
    if (!schema.contains("type"))
    {
        return false;
    }
    const Json& t = schema["type"];
    for (const auto& x : t.is_array() ? t : Json::array({t}))
    {
        if (x == "number" || x == "integer")
        {
            integer = x == "integer";
            return true;
        }
    }
    return false;
}

void
Collect(const Json& schema, const std::string& path, std::vector<std::pair<std::string, Json>> make,
        std::vector<NumericKey>& out)
{
    bool integer = false;
    if (IsNumeric(schema, integer))
    {
        out.push_back({path, make, integer});
    }
    if (schema.contains("properties"))
    {
        for (const auto& [k, v] : schema["properties"].items())
        {
            Collect(v, path.empty() ? k : path + "." + k, make, out);
        }
    }
    if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object())
    {
        // A map of named entries (device profiles): one entry named "p", used by every device.
        auto m = make;
        m.emplace_back(path + ".p", SampleOf(schema["additionalProperties"]));
        m.emplace_back(path.substr(0, path.rfind('.')) + ".profile", "p");
        Collect(schema["additionalProperties"], path + ".p", m, out);
    }
    if (schema.contains("items") && schema.value("type", Json()) == "array")
    {
        auto m = make;
        m.emplace_back(path, Json::array({SampleOf(schema["items"])}));
        Collect(schema["items"], path + "[0]", m, out);
    }
    if (schema.contains("oneOf"))
    {
        for (const auto& variant : schema["oneOf"])
        {
            auto m = make;
            if (variant.value("type", Json()) == "object")
            {
                m.emplace_back(path, SampleOf(variant));
            }
            Collect(variant, path, m, out);
        }
    }
}

std::vector<NumericKey>
NumericKeys()
{
    std::vector<NumericKey> keys;
    Collect(ScenarioSchema(), "", {}, keys);
    return keys;
}

/// The extreme values, as JSON text (what a scenario file or --set holds).
const std::vector<std::string> EXTREMES = {"0",
                                           "-0",
                                           "-0.0",
                                           "5e-324",
                                           "1e308",
                                           "-1e308",
                                           "-1",
                                           "2147483648",
                                           "9223372036854775807",
                                           "-9223372036854775808",
                                           "18446744073709551615",
                                           "1e19",
                                           "nan",
                                           "inf",
                                           "-inf"};

/// The document for key k set to `value` (applied as --set does), or throws InputError.
Json
DocumentFor(const NumericKey& k, const std::string& value)
{
    Json doc = Base();
    for (const auto& [path, v] : k.create)
    {
        SetPath(doc, path, v);
    }
    ApplyOverride(doc, k.path + "=" + value);
    return doc;
}

/// Whether `s` is one line (a message, or a process's output ending in one newline).
bool
IsOneLine(const std::string& s)
{
    const size_t nl = s.find('\n');
    return !s.empty() && (nl == std::string::npos || nl == s.size() - 1);
}

} // namespace

TEST_CASE("the numeric keys are enumerated from the field tables", "[app][keys][property]")
{
    const auto keys = NumericKeys();
    CHECK(keys.size() >= 100);
    std::set<std::string> paths;
    for (const auto& k : keys)
    {
        paths.insert(k.path);
    }
    for (const char* p : {"seed", "optimizer.lr", "network.bottleneck_mbps", "devices.count",
                          "devices.uplink_mbps.min", "devices.profiles.p.gflops.sigma",
                          "faults.outages[0].from_s", "dataset.synthetic.shape[0]"})
    {
        INFO(p);
        CHECK(paths.count(p) == 1);
    }
}

TEST_CASE("every numeric key at every extreme value loads or is refused on one line",
          "[app][keys][property]")
{
    const auto keys = NumericKeys();
    size_t loaded = 0, refused = 0;
    for (const auto& k : keys)
    {
        for (const auto& v : EXTREMES)
        {
            INFO(k.path << " = " << v);
            try
            {
                LoadScenario(DocumentFor(k, v), TempDir());
                ++loaded;
            }
            catch (const InputError& e)
            {
                CHECK(IsOneLine(e.what()));
                ++refused;
            }
        }
    }
    INFO(loaded << " loaded, " << refused << " refused");
    CHECK(loaded > 0);
    CHECK(refused > loaded);
}

TEST_CASE("slsim validate and run exit 0 or 2 on extreme numeric keys, never a signal",
          "[app][keys][property][cli]")
{
    const auto keys = NumericKeys();
    const std::string dir = TempDir() + "/numeric-keys";
    MakeDirectories(dir);
    const std::string file = dir + "/tiny.json";
    std::ofstream(file) << Base().dump();
    size_t validated = 0, runs = 0;
    for (size_t i = 0; i < keys.size(); ++i)
    {
        const NumericKey& k = keys[i];
        // One extreme per key, rotating, so that every value meets many keys.
        const std::string& v = EXTREMES[i % EXTREMES.size()];
        std::string sets;
        for (const auto& [path, value] : k.create)
        {
            sets += " --set '" + path + "=" + value.dump() + "'";
        }
        sets += " --set '" + k.path + "=" + v + "'";
        INFO(k.path << " = " << v);
        const Result r = Shell(SLSIM + " validate " + file + sets);
        CHECK((r.rc == 0 || r.rc == 2));
        if (r.rc == 2)
        {
            CHECK(IsOneLine(r.output));
            continue;
        }
        ++validated;
        // Every fourth one that validates also runs (a tiny scenario: well under a second unless
        // the value makes it long; the time-out then ends it with 124, not a verdict).
        if (validated % 4 == 1 && runs < 8)
        {
            ++runs;
            const std::string out = dir + "/run-" + std::to_string(i);
            const Result run
                = Shell("timeout 5 " + SLSIM + " run " + file + sets + " --quiet --out " + out);
            INFO(run.output);
            CHECK((run.rc == 0 || run.rc == 2 || run.rc == 124));
            if (run.rc == 2)
            {
                CHECK(IsOneLine(run.output));
            }
        }
    }
    CHECK(validated > 0);
    CHECK(runs > 0);
}

TEST_CASE("every device quantity in a trace at every extreme value (nan and inf too) loads or is "
          "refused on one line",
          "[app][keys][property][trace]")
{
    // The trace's columns are the per-device quantities: the keys of a devices.list entry.
    const Json entry = ScenarioSchema()["properties"]["devices"]["properties"]["list"]["items"];
    const std::string dir = TempDir() + "/numeric-trace";
    MakeDirectories(dir);
    size_t columns = 0;
    for (const auto& [column, schema] : entry["properties"].items())
    {
        bool integer = false;
        if (!IsNumeric(schema, integer))
        {
            continue;
        }
        ++columns;
        for (const auto& v : EXTREMES)
        {
            INFO(column << " = " << v);
            std::ofstream(dir + "/trace.csv") << "device_id," << column << "\n0," << v << "\n";
            Json doc = Base();
            doc["devices"] = {{"trace", "trace.csv"}};
            try
            {
                LoadScenario(doc, dir);
            }
            catch (const InputError& e)
            {
                CHECK(IsOneLine(e.what()));
            }
        }
        std::ofstream(dir + "/trace.csv") << "device_id," << column << "\n0,nan\n";
        std::ofstream(dir + "/tiny.json") << R"({"devices": {"trace": "trace.csv"}})";
        const Result r = Shell(SLSIM + " validate " + dir + "/tiny.json");
        INFO(r.output);
        CHECK(r.rc == 2);
        CHECK(IsOneLine(r.output));
    }
    CHECK(columns >= 5);
}
