#include "app/replay-check.h"

#include "app/fs-util.h"
#include "app/scenario-loader.h"
#include "common/error.h"
#include "sim/schedule.h"

#include <algorithm>
#include <set>

namespace slsim
{

namespace
{

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

} // namespace

void
CheckReplaySource(const ScenarioConfig& c)
{
    const std::string& dir = c.training.replay;
    if (!ScheduleSupportsReplay(c.schedule.kind))
    {
        std::string valid;
        for (const std::string& kind : ScheduleKinds())
        {
            if (ScheduleSupportsReplay(kind))
            {
                valid += (valid.empty() ? "" : " or ") + kind;
            }
        }
        Fail("training.replay", "the " + c.schedule.kind
                                    + " schedule trains in arrival order, so its results depend on "
                                      "the network; replay needs "
                                    + valid);
    }
    if (c.training.evalEveryS > 0)
    {
        // Evaluations are taken from the reference by step count; a clock in simulated time
        // would ask for them at other steps on another network.
        Fail("training.eval_every_s", "a replay evaluates where its reference did (by step "
                                      "count); use training.eval_every_steps instead");
    }
    for (const char* file : {"manifest.json", "steps.csv", "eval.csv"})
    {
        const std::string path = dir + "/" + file;
        if (!PathExists(path))
        {
            Fail("training.replay", path
                                        + ": not found (expected the folder of a finished "
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
    if (!manifest.is_object() || !manifest.contains("scenario")
        || !manifest["scenario"].is_object())
    {
        Fail("training.replay", dir + "/manifest.json: no \"scenario\" object");
    }
    const Json dropouts = ValueAt(manifest, "summary.dropouts");
    if (dropouts.is_number() && dropouts.get<double>() > 0)
    {
        Fail("training.replay", dir + "/manifest.json: the reference run had " + dropouts.dump()
                                    + " device time-outs; its training is not a full one");
    }
    // What the training depends on. Left out: the network and devices' link/compute values
    // (the point of a replay), faults, the time budget (a replay may stop earlier; it fails if it
    // needs a step the reference did not run), model.threads (speed only) and dataset.path
    // (where the same files live on this machine).
    const Json here = ScenarioToJson(c);
    const Json& there = manifest["scenario"];
    const std::set<std::string> skip
        = {"training.replay", "training.time_budget_s", "model.threads", "dataset.path"};
    for (const char* key : {"seed", "dataset", "partition", "model", "optimizer", "codec",
                            "training", "schedule", "devices.count"})
    {
        std::pair<Json, Json> values;
        const std::string diff
            = FirstDifference(ValueAt(here, key), ValueAt(there, key), key, skip, values);
        if (!diff.empty())
        {
            Fail("training.replay", diff + " differs from the reference's ("
                                        + Describe(values.second) + " in " + dir
                                        + "/manifest.json, " + Describe(values.first)
                                        + " here); a replay needs the same training");
        }
    }
}

} // namespace slsim
