#include "app/fs-util.h"
#include "app/json-path.h"
#include "app/scenario-loader.h"
#include "app/sweep.h"
#include "common/error.h"
#include "common/rng.h"

#include <algorithm>
#include <cstdio>

namespace slsim
{

namespace
{

std::string
FormatValue(const Json& v)
{
    return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string
HashHex(const std::string& s)
{
    char buf[9];
    std::snprintf(buf, sizeof(buf), "%08x", static_cast<unsigned>(HashString(s) & 0xffffffffu));
    return buf;
}

std::vector<Json>
AxisValues(const Json& v, const std::string& path)
{
    if (!v.is_array())
    {
        return {v}; // a single value is a one-value axis
    }
    if (v.empty())
    {
        Fail(path, "must not be an empty list");
    }
    return std::vector<Json>(v.begin(), v.end());
}

} // namespace

Sweep
ExpandSweep(const Json& doc, const std::string& baseDir, const std::vector<std::string>& overrides)
{
    ObjectReader r(doc, "");
    r.Allow("$schema");
    if (const Json* d = r.Find("description"))
    {
        AsString(*d, "description");
    }
    // The base scenario: a file (relative to the sweep file) or inline.
    Json base;
    std::string scenarioDir = baseDir;
    const Json* b = r.Find("base");
    if (!b)
    {
        Fail("base",
             std::string("missing (a scenario file name or an inline scenario object)")
                 + (doc.contains("devices") ? "; this looks like a scenario: use slsim run" : ""));
    }
    if (b->is_string())
    {
        std::string file = b->get<std::string>();
        if (!file.empty() && file[0] != '/')
        {
            file = baseDir + "/" + file;
        }
        base = ReadJsonFile(file);
        scenarioDir = DirectoryOf(file);
    }
    else if (b->is_object())
    {
        base = *b;
    }
    else
    {
        Fail("base", "must be a file name or an object, got " + Describe(*b));
    }
    if (const Json* s = r.Find("set"))
    {
        ObjectReader sr(*s, "set");
        for (auto it = s->begin(); it != s->end(); ++it)
        {
            sr.Allow(it.key());
            try
            {
                SetPath(base, it.key(), it.value());
            }
            catch (const InputError& e)
            {
                Fail(JoinPath("set", it.key()), e.what());
            }
        }
    }
    for (const auto& o : overrides)
    {
        ApplyOverride(base, o);
    }
    // A relative trace must still be found from the point's own folder.
    if (base.contains("devices") && base["devices"].is_object() && base["devices"].contains("trace")
        && base["devices"]["trace"].is_string())
    {
        const std::string t = base["devices"]["trace"].get<std::string>();
        if (!t.empty() && t[0] != '/')
        {
            base["devices"]["trace"] = AbsolutePath(scenarioDir + "/" + t);
        }
    }

    Sweep sweep;
    if (const Json* g = r.Find("grid"))
    {
        ObjectReader gr(*g, "grid");
        for (auto it = g->begin(); it != g->end(); ++it)
        {
            gr.Allow(it.key());
            if (it.key() == "seed")
            {
                Fail(gr.PathOf("seed"), "use \"seeds\" or \"repetitions\" to vary the seed");
            }
            sweep.axes.push_back(
                {it.key(), {it.key()}, AxisValues(it.value(), gr.PathOf(it.key()))});
        }
    }
    if (const Json* e = r.Find("equal_budget"))
    {
        // Every method at the same bits per element: one axis that sets the budget of each listed
        // direction (CodecConfig::budgetBitsPerElement); the codec resolves its own parameters.
        ObjectReader er(*e, "equal_budget");
        const Json* bits = er.Find("bits_per_element");
        if (!bits)
        {
            Fail(er.PathOf("bits_per_element"), "missing");
        }
        SweepAxis axis{"budget_bits_per_element",
                       {},
                       AxisValues(*bits, er.PathOf("bits_per_element"))};
        for (size_t i = 0; i < axis.values.size(); ++i)
        {
            CheckNumber(AsNumber(axis.values[i], IndexPath(er.PathOf("bits_per_element"), i)),
                        IndexPath(er.PathOf("bits_per_element"), i), 0, 64, true);
        }
        std::vector<std::string> dirs{"uplink"};
        if (const Json* d = er.Find("directions"))
        {
            dirs.clear();
            if (!d->is_array() || d->empty())
            {
                Fail(er.PathOf("directions"), "must be a non-empty array");
            }
            for (size_t i = 0; i < d->size(); ++i)
            {
                const std::string dir = AsString((*d)[i], IndexPath(er.PathOf("directions"), i));
                if (dir != "uplink" && dir != "downlink" && dir != "sync")
                {
                    Fail(IndexPath(er.PathOf("directions"), i),
                         "must be uplink, downlink or sync; got \"" + dir + "\"");
                }
                dirs.push_back(dir);
            }
        }
        for (const auto& dir : dirs)
        {
            axis.paths.push_back("codec." + dir + ".budget_bits_per_element");
        }
        er.Finish();
        sweep.axes.push_back(axis);
    }
    // Seeds: an explicit list, or repetitions counting up from the base seed.
    std::vector<uint64_t> seeds;
    uint64_t baseSeed = 1;
    if (base.is_object() && base.contains("seed") && base["seed"].is_number_unsigned())
    {
        baseSeed = base["seed"].get<uint64_t>();
    }
    int repetitions = 1;
    const bool hasReps = r.Integer("repetitions", repetitions, 1, 100000);
    if (const Json* s = r.Find("seeds"))
    {
        if (hasReps)
        {
            Fail("seeds", "give seeds or repetitions, not both");
        }
        if (!s->is_array() || s->empty())
        {
            Fail("seeds", "must be a non-empty array of seeds");
        }
        for (size_t i = 0; i < s->size(); ++i)
        {
            const int64_t v = AsInteger((*s)[i], IndexPath("seeds", i));
            if (v < 0)
            {
                Fail(IndexPath("seeds", i), "must be >= 0");
            }
            seeds.push_back(static_cast<uint64_t>(v));
        }
    }
    else
    {
        for (int i = 0; i < repetitions; ++i)
        {
            seeds.push_back(baseSeed + static_cast<uint64_t>(i));
        }
    }
    r.Finish();

    // Cartesian product, first axis slowest, repetitions innermost.
    size_t total = seeds.size();
    for (const auto& a : sweep.axes)
    {
        total *= a.values.size();
        if (total > 1000000)
        {
            Fail("grid", "more than 1000000 points");
        }
    }
    const size_t digits = std::max<size_t>(4, std::to_string(total - 1).size());
    for (size_t index = 0; index < total; ++index)
    {
        SweepPoint p;
        p.index = index;
        p.scenario = base;
        size_t rest = index;
        p.repetition = static_cast<int>(rest % seeds.size());
        rest /= seeds.size();
        std::vector<size_t> pick(sweep.axes.size());
        for (size_t k = sweep.axes.size(); k-- > 0;)
        {
            pick[k] = rest % sweep.axes[k].values.size();
            rest /= sweep.axes[k].values.size();
        }
        std::string description;
        for (size_t k = 0; k < sweep.axes.size(); ++k)
        {
            const Json& v = sweep.axes[k].values[pick[k]];
            for (const auto& path : sweep.axes[k].paths)
            {
                try
                {
                    SetPath(p.scenario, path, v);
                }
                catch (const InputError& e)
                {
                    Fail(JoinPath("grid", sweep.axes[k].column), e.what());
                }
            }
            p.values.push_back(FormatValue(v));
            description
                += (description.empty() ? "" : ", ") + sweep.axes[k].column + "=" + v.dump();
        }
        p.seed = seeds[static_cast<size_t>(p.repetition)];
        p.scenario["seed"] = p.seed;
        description
            += (description.empty() ? "" : ", ") + std::string("seed=") + std::to_string(p.seed);
        std::string number = std::to_string(index);
        number.insert(0, digits - number.size(), '0');
        p.id = "p" + number + "-" + HashHex(p.scenario.dump());
        try
        {
            LoadScenario(p.scenario, scenarioDir);
        }
        catch (const InputError& e)
        {
            throw InputError("point " + std::to_string(index) + " (" + description
                             + "): " + e.what());
        }
        sweep.points.push_back(std::move(p));
    }
    return sweep;
}

Sweep
LoadSweep(const std::string& path, const std::vector<std::string>& overrides)
{
    const Json doc = ReadJsonFile(path);
    try
    {
        return ExpandSweep(doc, DirectoryOf(path), overrides);
    }
    catch (const InputError& e)
    {
        throw InputError(path + ": " + e.what());
    }
}

} // namespace slsim
