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

/// Where a reference and this scenario first differ.
struct Difference
{
    std::string path; // "" when they agree
    Json here;
    Json there;
    bool defaulted = false; // `there` is the default of a key absent from the reference
};

/// The first JSON path under `path` where `a` (this scenario) and `b` (the reference) differ.
/// Keys in `skip` (full paths) are not compared. A key that `b` lacks counts as its default, the
/// value at the same place in `defaults` (a default-constructed scenario, written by the field
/// tables), so that a reference made before the key existed still compares; a key with no known
/// default there (inside arrays, or one that does not apply to the default scenario) differs.
Difference
FirstDifference(const Json& a, const Json& b, const Json& defaults, const std::string& path,
                const std::set<std::string>& skip)
{
    static const Json NONE;
    if (skip.count(path))
    {
        return {};
    }
    if (a.is_object() && b.is_object())
    {
        for (const auto& [key, value] : a.items())
        {
            const std::string sub = JoinPath(path, key);
            const Json& def = defaults.is_object() && defaults.contains(key) ? defaults[key] : NONE;
            if (!b.contains(key))
            {
                if (skip.count(sub) || (!def.is_null() && def == value))
                {
                    continue;
                }
                return {sub, value, def, true};
            }
            Difference d = FirstDifference(value, b[key], def, sub, skip);
            if (!d.path.empty())
            {
                return d;
            }
        }
        for (const auto& [key, value] : b.items())
        {
            if (!a.contains(key) && !skip.count(JoinPath(path, key)))
            {
                return {JoinPath(path, key), Json(), value};
            }
        }
        return {};
    }
    if (a.is_array() && b.is_array() && a.size() == b.size())
    {
        for (size_t i = 0; i < a.size(); ++i)
        {
            Difference d = FirstDifference(a[i], b[i], NONE, IndexPath(path, i), skip);
            if (!d.path.empty())
            {
                return d;
            }
        }
        return {};
    }
    if (a == b)
    {
        return {};
    }
    return {path, a, b};
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
CheckReplaySource(ScenarioConfig& c)
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
    const Json& there = manifest["scenario"];
    // A replay evaluates where its reference did (by step count), so the evaluation of the initial
    // weights follows the reference too. A reference whose manifest lacks the key was made before
    // training.eval_at_start existed, when there was no evaluation at t=0 (its eval.csv has no
    // row at 0 steps): false then. The evaluation changes no training state, so nothing else
    // depends on it.
    const Json atStart = ValueAt(there, "training.eval_at_start");
    c.training.evalAtStart = atStart.is_boolean() && atStart.get<bool>();
    // What the training depends on. Left out: the network and devices' link/compute values
    // (the point of a replay), faults, the time budget (a replay may stop earlier; it fails if it
    // needs a step the reference did not run), model.threads (speed only), dataset.path
    // (where the same files live on this machine) and eval_at_start (taken above).
    // A key the reference lacks (made before the key existed) counts as the key's default.
    const Json here = ScenarioToJson(c);
    const Json defaults = ScenarioToJson(ScenarioConfig{});
    const std::set<std::string> skip = {"training.replay", "training.time_budget_s",
                                        "model.threads", "dataset.path", "training.eval_at_start"};
    for (const char* key : {"seed", "dataset", "partition", "model", "optimizer", "codec",
                            "training", "schedule", "devices.count"})
    {
        const Json mine = ValueAt(here, key);
        Json theirs = ValueAt(there, key);
        if (mine.is_null() && theirs.is_null())
        {
            continue;
        }
        if (theirs.is_null() && mine.is_object())
        {
            theirs = Json::object(); // a whole section added since: each key at its default
        }
        Difference d;
        if (theirs.is_null())
        {
            const Json def = ValueAt(defaults, key);
            if (def.is_null() || def != mine)
            {
                d = {key, mine, def, true};
            }
        }
        else
        {
            d = FirstDifference(mine, theirs, ValueAt(defaults, key), key, skip);
        }
        if (!d.path.empty())
        {
            const std::string theirText
                = d.defaulted ? (d.there.is_null() ? "absent" : "absent, so " + Describe(d.there))
                                    + " in " + dir + "/manifest.json"
                              : Describe(d.there) + " in " + dir + "/manifest.json";
            Fail("training.replay", d.path + " differs from the reference's (" + theirText + ", "
                                        + Describe(d.here)
                                        + " here); a replay needs the same "
                                          "training");
        }
    }
}

} // namespace slsim
