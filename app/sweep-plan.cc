#include "app/fs-util.h"
#include "app/json-path.h"
#include "app/scenario-loader.h"
#include "app/sweep.h"
#include "common/error.h"
#include "common/rng.h"
#include "compression/codec.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

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

/// "baselines_at_budget": every listed baseline method at each grid configuration's budget.
struct BaselineSpec
{
    std::vector<Json> methods;      // codec objects: {"method": "topk"} and any settings
    std::vector<std::string> dirs;  // codec directions replaced
    std::vector<std::string> names; // method names, for the "baseline" column
};

struct Configuration
{
    Json scenario;
    std::vector<std::string> values; // one per axis
    std::string description;         // "codec.uplink.sparsity=0.9, ..." for messages
};

std::vector<std::string>
ReadDirections(const Json* d, const std::string& path)
{
    std::vector<std::string> dirs{"uplink"};
    if (!d)
    {
        return dirs;
    }
    dirs.clear();
    if (!d->is_array() || d->empty())
    {
        Fail(path, "must be a non-empty array");
    }
    for (size_t i = 0; i < d->size(); ++i)
    {
        const std::string dir = AsString((*d)[i], IndexPath(path, i));
        if (dir != "uplink" && dir != "downlink" && dir != "sync")
        {
            Fail(IndexPath(path, i), "must be uplink, downlink or sync; got \"" + dir + "\"");
        }
        dirs.push_back(dir);
    }
    return dirs;
}

BaselineSpec
ReadBaselines(ObjectReader& r, const std::vector<SweepAxis>& axes)
{
    BaselineSpec spec;
    const Json* b = r.Find("baselines_at_budget");
    if (!b)
    {
        return spec;
    }
    const std::string path = "baselines_at_budget";
    for (const auto& a : axes)
    {
        if (a.column == "budget_bits_per_element")
        {
            Fail(path, "give equal_budget or baselines_at_budget, not both");
        }
    }
    const Json* methods = b;
    std::string methodsPath = path;
    if (b->is_object())
    {
        ObjectReader br(*b, path);
        methods = br.Find("methods");
        methodsPath = br.PathOf("methods");
        if (!methods)
        {
            Fail(methodsPath, "missing (a list of codec methods or codec objects)");
        }
        spec.dirs = ReadDirections(br.Find("directions"), br.PathOf("directions"));
        br.Finish();
    }
    else
    {
        spec.dirs = {"uplink"};
    }
    if (!methods->is_array() || methods->empty())
    {
        Fail(methodsPath, "must be a non-empty list of codec methods (\"topk\") or codec objects "
                          "({\"method\": \"topk\", \"index\": \"bitmap\"})");
    }
    for (size_t i = 0; i < methods->size(); ++i)
    {
        const Json& m = (*methods)[i];
        const std::string at = IndexPath(methodsPath, i);
        Json codec = m.is_string() ? Json{{"method", m}} : m;
        if (!codec.is_object() || !codec.contains("method") || !codec["method"].is_string())
        {
            Fail(at, "must be a method name or a codec object with a \"method\"");
        }
        if (codec.contains("budget_bits_per_element"))
        {
            Fail(JoinPath(at, "budget_bits_per_element"),
                 "set from each grid configuration; leave it out");
        }
        spec.names.push_back(codec["method"].get<std::string>());
        spec.methods.push_back(codec);
    }
    return spec;
}

/// Loads (validates) a point; an error names the point by what it set.
ScenarioConfig
LoadPoint(const Json& scenario, const std::string& dir, const std::string& description)
{
    try
    {
        return LoadScenario(scenario, dir);
    }
    catch (const InputError& e)
    {
        const std::string seed = scenario.contains("seed") ? scenario["seed"].dump() : "1";
        throw InputError("point (" + description + (description.empty() ? "" : ", ")
                         + "seed=" + seed + "): " + e.what());
    }
}

const CodecConfig&
Direction(const ScenarioConfig& c, const std::string& dir)
{
    return dir == "uplink" ? c.uplink : dir == "downlink" ? c.downlink : c.sync;
}

/// What a codec configuration does: its budget resolved and the parameters its method does not
/// use (the registry's row says which) at their defaults, so that e.g. quantize at sparsity 0.9
/// and at 0.99, or topk at budgets 2.3 and 2.32 that keep the same count, compare equal.
CodecConfig
Effective(const CodecConfig& config)
{
    CodecConfig c = ResolveBudget(config);
    const CodecInfo* info = FindCodec(c.method);
    const CodecConfig defaults;
    if (info && !info->sparse)
    {
        c.sparsity = defaults.sparsity;
    }
    if (info && info->maxBits == 0)
    {
        c.bits = defaults.bits;
    }
    if (info && !info->indexed)
    {
        c.index = defaults.index;
        c.randtopkA = defaults.randtopkA;
    }
    return c;
}

/// The scenario a point runs, written so that points differing only in settings that change
/// nothing compare equal.
std::string
ResolvedKey(ScenarioConfig c)
{
    c.uplink = Effective(c.uplink);
    c.downlink = Effective(c.downlink);
    c.sync = Effective(c.sync);
    return ScenarioToJson(c).dump();
}

/// A budget written with 12 significant digits (2.32, not 2.3200000000000003: 1 - 0.99 is not
/// 0.01 in binary); the codecs' KeepCount tolerates the difference.
double
RoundedBudget(double bits)
{
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.12g", bits);
    return std::strtod(buf, nullptr);
}

/// Appends `c` and, when its codec in every listed direction is a compressing method that is not
/// itself a baseline, one configuration per baseline with those codecs replaced by the baseline
/// at c's bits per element (its own budget per direction; columns budget_bits_per_element, of
/// the first direction, and baseline; grid columns that set a replaced codec left empty).
void
AddWithBaselines(Configuration c, const BaselineSpec& spec, const std::vector<SweepAxis>& axes,
                 size_t gridAxes, const std::string& scenarioDir,
                 std::vector<Configuration>& configs)
{
    const ScenarioConfig loaded = LoadPoint(c.scenario, scenarioDir, c.description);
    bool reference = true;
    std::vector<double> budgets;
    for (const auto& dir : spec.dirs)
    {
        const CodecConfig& codec = Direction(loaded, dir);
        const bool isBaseline
            = std::find(spec.names.begin(), spec.names.end(), codec.method) != spec.names.end();
        reference = reference && codec.method != "none" && !isBaseline;
        budgets.push_back(RoundedBudget(NominalBitsPerElement(ResolveBudget(codec))));
    }
    if (!reference)
    {
        c.values.push_back("");
        c.values.push_back("");
        configs.push_back(std::move(c));
        return;
    }
    const std::string budget = FormatValue(Json(budgets[0]));
    Configuration own = c;
    own.values.push_back(budget);
    own.values.push_back("");
    configs.push_back(std::move(own));
    for (size_t m = 0; m < spec.methods.size(); ++m)
    {
        Configuration b;
        b.scenario = c.scenario;
        std::string set;
        for (size_t i = 0; i < spec.dirs.size(); ++i)
        {
            Json codec = spec.methods[m];
            codec["budget_bits_per_element"] = budgets[i];
            SetPath(b.scenario, "codec." + spec.dirs[i], codec);
            set += (set.empty() ? "" : ", ") + std::string("codec.") + spec.dirs[i] + "="
                   + codec.dump();
        }
        for (size_t k = 0; k < gridAxes; ++k)
        {
            bool replaced = false;
            for (const auto& path : axes[k].paths)
            {
                for (const auto& dir : spec.dirs)
                {
                    const std::string prefix = "codec." + dir;
                    replaced = replaced || path == prefix || path.rfind(prefix + ".", 0) == 0;
                }
            }
            b.values.push_back(replaced ? "" : c.values[k]);
        }
        b.values.push_back(budget);
        b.values.push_back(spec.names[m]);
        b.description = set + " (the budget of " + c.description + ")";
        configs.push_back(std::move(b));
    }
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
        const std::vector<std::string> dirs
            = ReadDirections(er.Find("directions"), er.PathOf("directions"));
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
    const BaselineSpec baselines = ReadBaselines(r, sweep.axes);
    r.Finish();

    // The configurations: the Cartesian product, first axis slowest; each followed by its
    // baselines at its budget.
    size_t product = 1;
    for (const auto& a : sweep.axes)
    {
        product *= a.values.size();
        if (product * seeds.size() > 1000000)
        {
            Fail("grid", "more than 1000000 points");
        }
    }
    const size_t gridAxes = sweep.axes.size();
    if (!baselines.methods.empty())
    {
        sweep.axes.push_back({"budget_bits_per_element", {}, {}});
        sweep.axes.push_back({"baseline", {}, {}});
    }
    std::vector<Configuration> configs;
    for (size_t index = 0; index < product; ++index)
    {
        Configuration c;
        c.scenario = base;
        size_t rest = index;
        std::vector<size_t> pick(gridAxes);
        for (size_t k = gridAxes; k-- > 0;)
        {
            pick[k] = rest % sweep.axes[k].values.size();
            rest /= sweep.axes[k].values.size();
        }
        for (size_t k = 0; k < gridAxes; ++k)
        {
            const Json& v = sweep.axes[k].values[pick[k]];
            for (const auto& path : sweep.axes[k].paths)
            {
                try
                {
                    SetPath(c.scenario, path, v);
                }
                catch (const InputError& e)
                {
                    Fail(JoinPath("grid", sweep.axes[k].column), e.what());
                }
            }
            c.values.push_back(FormatValue(v));
            c.description
                += (c.description.empty() ? "" : ", ") + sweep.axes[k].column + "=" + v.dump();
        }
        if (baselines.methods.empty())
        {
            configs.push_back(std::move(c));
            continue;
        }
        AddWithBaselines(std::move(c), baselines, sweep.axes, gridAxes, scenarioDir, configs);
    }

    // Points: configurations x seeds (seeds innermost); a configuration that resolves to the same
    // scenario as an earlier one is left out (and said so in sweep.duplicates).
    std::map<std::string, std::string> seen; // resolved scenario (first seed) -> its description
    std::vector<std::pair<const Configuration*, size_t>> kept;
    for (const Configuration& c : configs)
    {
        Json first = c.scenario;
        first["seed"] = seeds[0];
        const std::string key = ResolvedKey(LoadPoint(first, scenarioDir, c.description));
        const auto [it, inserted] = seen.emplace(key, c.description);
        if (!inserted)
        {
            sweep.duplicates.push_back(c.description + " (same as " + it->second + ")");
            continue;
        }
        kept.emplace_back(&c, 0);
    }
    const size_t total = kept.size() * seeds.size();
    const size_t digits = std::max<size_t>(4, std::to_string(total - 1).size());
    for (const auto& [c, unused] : kept)
    {
        for (size_t rep = 0; rep < seeds.size(); ++rep)
        {
            SweepPoint p;
            p.index = sweep.points.size();
            p.scenario = c->scenario;
            p.values = c->values;
            p.repetition = static_cast<int>(rep);
            p.seed = seeds[rep];
            p.scenario["seed"] = p.seed;
            std::string number = std::to_string(p.index);
            number.insert(0, digits - number.size(), '0');
            p.id = "p" + number + "-" + HashHex(p.scenario.dump());
            if (rep > 0)
            {
                LoadPoint(p.scenario, scenarioDir, c->description);
            }
            sweep.points.push_back(std::move(p));
        }
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
