#include "app/scenario-loader.h"

#include "app/device-resolver.h"
#include "app/fs-util.h"
#include "app/scenario-keys.h"
#include "common/error.h"
#include "compression/codec.h"
#include "models/data/dataset.h"
#include "models/split-model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace slsim
{

namespace
{


// ---- paths of --set ------------------------------------------------------------------------

struct PathStep
{
    bool isIndex;
    std::string key;
    size_t index;
};

std::vector<PathStep>
ParsePath(const std::string& path, const std::string& what)
{
    std::vector<PathStep> steps;
    size_t i = 0;
    auto bad = [&](const std::string& why) { throw InputError(what + ": " + why); };
    if (path.empty())
    {
        bad("empty key path");
    }
    while (i < path.size())
    {
        size_t j = i;
        while (j < path.size() && path[j] != '.' && path[j] != '[')
        {
            ++j;
        }
        if (j == i && (j >= path.size() || path[j] != '['))
        {
            bad("empty key in path \"" + path + "\"");
        }
        if (j > i)
        {
            steps.push_back({false, path.substr(i, j - i), 0});
        }
        i = j;
        while (i < path.size() && path[i] == '[')
        {
            const size_t close = path.find(']', i);
            if (close == std::string::npos || close == i + 1)
            {
                bad("bad index in path \"" + path + "\"");
            }
            const std::string digits = path.substr(i + 1, close - i - 1);
            if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 6)
            {
                bad("bad index in path \"" + path + "\"");
            }
            steps.push_back({true, "", static_cast<size_t>(std::stoul(digits))});
            i = close + 1;
        }
        if (i < path.size())
        {
            if (path[i] != '.' || i + 1 == path.size())
            {
                bad("bad key path \"" + path + "\"");
            }
            ++i;
        }
    }
    return steps;
}

/// The first JSON path under `path` where `a` and `b` differ ("" when equal; the two values in
/// `diff`). Keys in `skip` (full paths) are not compared.
std::string
FirstDifference(const Json& a, const Json& b, const std::string& path,
                const std::set<std::string>& skip, std::pair<Json, Json>& diff)
{
    if (skip.count(path))
    {
        return "";
    }
    if (a.is_object() && b.is_object())
    {
        for (const auto& [key, value] : a.items())
        {
            const std::string sub = JoinPath(path, key);
            if (!b.contains(key))
            {
                if (skip.count(sub))
                {
                    continue;
                }
                diff = {value, Json()};
                return sub;
            }
            const std::string d = FirstDifference(value, b[key], sub, skip, diff);
            if (!d.empty())
            {
                return d;
            }
        }
        for (const auto& [key, value] : b.items())
        {
            if (!a.contains(key) && !skip.count(JoinPath(path, key)))
            {
                diff = {Json(), value};
                return JoinPath(path, key);
            }
        }
        return "";
    }
    if (a.is_array() && b.is_array() && a.size() == b.size())
    {
        for (size_t i = 0; i < a.size(); ++i)
        {
            const std::string d = FirstDifference(a[i], b[i], IndexPath(path, i), skip, diff);
            if (!d.empty())
            {
                return d;
            }
        }
        return "";
    }
    diff = {a, b};
    return a == b ? "" : path;
}

/// The value at a dotted path of plain keys, or null.
Json
ValueAt(const Json& doc, const std::string& path)
{
    const Json* v = &doc;
    size_t start = 0;
    while (start <= path.size())
    {
        const size_t dot = std::min(path.find('.', start), path.size());
        const std::string key = path.substr(start, dot - start);
        if (!v->is_object() || !v->contains(key))
        {
            return Json();
        }
        v = &(*v)[key];
        start = dot + 1;
    }
    return *v;
}

/// training.replay: the reference folder holds a finished run whose training this scenario
/// would repeat exactly, whatever the network. Runs before anything is built.
void
CheckReplaySource(const ScenarioConfig& c)
{
    const std::string& dir = c.training.replay;
    if (c.schedule.kind != "sequential" && c.schedule.kind != "splitfed_v1")
    {
        Fail("training.replay", "the " + c.schedule.kind +
                                    " schedule trains in arrival order, so its results depend on "
                                    "the network; replay needs sequential or splitfed_v1");
    }
    for (const char* file : {"manifest.json", "steps.csv", "eval.csv"})
    {
        const std::string path = dir + "/" + file;
        if (!PathExists(path))
        {
            Fail("training.replay", path + ": not found (expected the folder of a finished "
                                           "`slsim run`)");
        }
    }
    Json manifest;
    try
    {
        manifest = ReadJsonFile(dir + "/manifest.json");
    }
    catch (const InputError& e)
    {
        Fail("training.replay", e.what());
    }
    if (!manifest.is_object() || !manifest.contains("scenario") ||
        !manifest["scenario"].is_object())
    {
        Fail("training.replay", dir + "/manifest.json: no \"scenario\" object");
    }
    const Json dropouts = ValueAt(manifest, "summary.dropouts");
    if (dropouts.is_number() && dropouts.get<double>() > 0)
    {
        Fail("training.replay", dir + "/manifest.json: the reference run had " + dropouts.dump() +
                                    " device time-outs; its training is not a full one");
    }
    // What the training depends on. Left out: the network and devices' link/compute values
    // (the point of a replay), faults, the time budget (a replay may stop earlier; it fails if it
    // needs a step the reference did not run), model.threads (speed only) and dataset.path
    // (where the same files live on this machine).
    const Json here = ScenarioToJson(c);
    const Json& there = manifest["scenario"];
    const std::set<std::string> skip = {"training.replay", "training.time_budget_s",
                                        "model.threads", "dataset.path"};
    for (const char* key : {"seed", "dataset", "partition", "model", "optimizer", "codec",
                            "training", "schedule", "devices.count"})
    {
        std::pair<Json, Json> values;
        const std::string diff =
            FirstDifference(ValueAt(here, key), ValueAt(there, key), key, skip, values);
        if (!diff.empty())
        {
            Fail("training.replay", diff + " differs from the reference's (" +
                                        Describe(values.second) + " in " + dir +
                                        "/manifest.json, " + Describe(values.first) +
                                        " here); a replay needs the same training");
        }
    }
}

} // namespace

void
SetPath(Json& doc, const std::string& path, const Json& value)
{
    const std::string what = "--set " + path;
    const auto steps = ParsePath(path, what);
    Json* cur = &doc;
    std::string walked;
    for (const PathStep& s : steps)
    {
        if (s.isIndex)
        {
            if (!cur->is_array())
            {
                throw InputError(what + ": " + (walked.empty() ? "(top level)" : walked)
                                 + " is not an array");
            }
            if (s.index > cur->size())
            {
                throw InputError(what + ": index " + std::to_string(s.index)
                                 + " is past the end of " + walked + " ("
                                 + std::to_string(cur->size()) + " elements)");
            }
            if (s.index == cur->size())
            {
                cur->push_back(Json());
            }
            cur = &(*cur)[s.index];
            walked = IndexPath(walked, s.index);
        }
        else
        {
            if (cur->is_null())
            {
                *cur = Json::object();
            }
            if (!cur->is_object())
            {
                throw InputError(what + ": " + (walked.empty() ? "(top level)" : walked)
                                 + " is not an object");
            }
            cur = &(*cur)[s.key];
            walked = JoinPath(walked, s.key);
        }
    }
    *cur = value;
}

void
ApplyOverride(Json& doc, const std::string& assignment)
{
    const size_t eq = assignment.find('=');
    if (eq == std::string::npos)
    {
        throw InputError("--set " + assignment + ": expected key.path=value");
    }
    const std::string path = assignment.substr(0, eq);
    const std::string text = assignment.substr(eq + 1);
    Json value;
    try
    {
        value = Json::parse(text);
    }
    catch (const Json::parse_error&)
    {
        value = text; // not JSON: a plain string (method=ms)
    }
    SetPath(doc, path, value);
}

std::string
DirectoryOf(const std::string& path)
{
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos)
    {
        return ".";
    }
    return slash == 0 ? "/" : path.substr(0, slash);
}

ScenarioConfig
LoadScenario(const Json& doc, const std::string& baseDir)
{
    ScenarioConfig c;
    ReadContext ctx;
    ctx.baseDir = baseDir;
    ReadObject(ScenarioTable(), doc, "", c, ctx);
    if (!c.training.replay.empty())
    {
        CheckReplaySource(c);
    }
    return c;
}

ScenarioConfig
LoadScenarioFile(const std::string& path, const std::vector<std::string>& overrides,
                 Json* resolvedDoc)
{
    Json doc = ReadJsonFile(path);
    for (const auto& o : overrides)
    {
        ApplyOverride(doc, o);
    }
    try
    {
        ScenarioConfig c = LoadScenario(doc, DirectoryOf(path));
        if (resolvedDoc)
        {
            *resolvedDoc = std::move(doc);
        }
        return c;
    }
    catch (const InputError& e)
    {
        throw InputError(path + ": " + e.what());
    }
}

Json
ScenarioToJson(const ScenarioConfig& c)
{
    return WriteObject(ScenarioTable(), c);
}

} // namespace slsim
