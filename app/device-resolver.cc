#include "app/device-resolver.h"

#include "app/scenario-keys.h"
#include "common/csv-reader.h"
#include "common/error.h"
#include "common/rng.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <utility>

namespace slsim
{

namespace
{

constexpr double INF = std::numeric_limits<double>::infinity();
constexpr int MAX_DEVICES = 100000;
constexpr size_t QUANTITIES = 13;
constexpr double POWER_W_MAX = 1e6;
constexpr double ENERGY_J_MAX = 1e12;
constexpr double ENERGY_WH_MAX = 1e8; // 3.6e11 J
constexpr const char* CUT_DOC
    = "the device's own split point, as model.cut (a named cut, a layer index or a layer's "
      "name; default model.cut); the server keeps a server part per distinct cut and FedAvg "
      "averages the tensors devices share (sim/sides.h)";

/// A per-device quantity: key, valid range (what the simulator represents, see
/// app/scenario-keys.h), where it lives in a DeviceProfile, unit and doc.
struct Quantity
{
    const char* key;
    double min, max;
    bool minOpen, maxOpen;
    double DeviceProfile::*field;
    const char* unit;
    const char* doc;
    /// A bound of the model (loss < 1) rather than of the simulator's types: lognormal draws
    /// need an explicit clamp below it.
    bool clampNeeded;
};

const std::array<Quantity, QUANTITIES>&
Quantities()
{
    static const std::array<Quantity, QUANTITIES> q{{
        {"uplink_mbps", RATE_MBPS.min, RATE_MBPS.max, false, false, &DeviceProfile::uplinkMbps,
         "Mbps", "device -> hub link rate", false},
        {"downlink_mbps", RATE_MBPS.min, RATE_MBPS.max, false, false, &DeviceProfile::downlinkMbps,
         "Mbps", "hub -> device link rate", false},
        {"delay_ms", DELAY_MS.min, DELAY_MS.max, false, false, &DeviceProfile::delayMs, "ms",
         "one-way propagation delay of the access link", false},
        {"loss", 0, 1, false, true, &DeviceProfile::loss, "",
         "packet loss probability on the access link, each direction", true},
        {"gflops", SPEED_GFLOPS.min, SPEED_GFLOPS.max, false, false, &DeviceProfile::gflops,
         "GFLOP/s", "device compute speed", false},
        // Energy (sim/energy.h; typical values and their sources in scenarios/README.md). Up to
        // 1 MW / 1 TJ: far beyond any device, small enough that products stay finite.
        {"compute_w", 0, POWER_W_MAX, false, false, &DeviceProfile::computeW, "W",
         "power drawn while computing (forward/backward passes)", false},
        {"joules_per_gflop", 0, POWER_W_MAX, false, false, &DeviceProfile::joulesPerGflop, "J",
         "or energy per GFLOP computed (not with compute_w)", false},
        {"radio_tx_w", 0, POWER_W_MAX, false, false, &DeviceProfile::radioTxW, "W",
         "access radio power while transmitting", false},
        {"radio_rx_w", 0, POWER_W_MAX, false, false, &DeviceProfile::radioRxW, "W",
         "access radio power while receiving", false},
        {"radio_idle_w", 0, POWER_W_MAX, false, false, &DeviceProfile::radioIdleW, "W",
         "access radio power while powered on and neither sending nor receiving", false},
        {"battery_j", 0, ENERGY_J_MAX, false, false, &DeviceProfile::batteryJ, "J",
         "battery capacity: the device drops out when it is spent (0 = unlimited)", false},
        {"battery_wh", 0, ENERGY_WH_MAX, false, false, &DeviceProfile::batteryWh, "Wh",
         "or the capacity in Wh (not with battery_j)", false},
        // WiFi access (sim/wifi-access.h): up to 100 km, beyond any WiFi link.
        {"wifi_distance_m", 0, 1e5, true, false, &DeviceProfile::wifiDistanceM, "m",
         "access \"wifi\": distance to its access point (path loss)", false},
    }};
    return q;
}

/// ", uplink_mbps, downlink_mbps, ...": every quantity key.
std::string
QuantityKeys()
{
    std::string keys;
    for (const Quantity& q : Quantities())
    {
        keys += std::string(", ") + q.key;
    }
    return keys;
}

/// A value spec: a constant or a distribution, checked once, drawn per device.
struct Spec
{
    enum Kind
    {
        CONSTANT,
        UNIFORM,
        LOGNORMAL,
        CHOICE
    } kind = CONSTANT;

    double a = 0, b = 0;        // constant: a; uniform: [a, b); lognormal: median a, sigma b
    double lo = -INF, hi = INF; // lognormal clamps
    std::vector<double> values, weights; // choice
    std::string path;
};

/// Picks an index with probability weights[i] / sum (all weights equal when empty).
size_t
DrawIndex(const std::vector<double>& weights, size_t n, Rng& rng)
{
    if (weights.empty())
    {
        return static_cast<size_t>(rng.UniformInt(n));
    }
    double total = 0;
    for (double w : weights)
    {
        total += w;
    }
    const double u = rng.Uniform() * total;
    double acc = 0;
    for (size_t i = 0; i < weights.size(); ++i)
    {
        acc += weights[i];
        if (u < acc)
        {
            return i;
        }
    }
    return weights.size() - 1; // u == total after rounding
}

std::vector<double>
ReadWeights(ObjectReader& r, size_t n)
{
    std::vector<double> w;
    if (!r.NumberList("weights", w))
    {
        return w;
    }
    if (w.size() != n)
    {
        Fail(r.PathOf("weights"), "must have one weight per value (" + std::to_string(n) + "), got "
                                      + std::to_string(w.size()));
    }
    double total = 0;
    for (size_t i = 0; i < w.size(); ++i)
    {
        CheckNumber(w[i], IndexPath(r.PathOf("weights"), i), 0, INF);
        total += w[i];
    }
    if (!(total > 0))
    {
        Fail(r.PathOf("weights"), "must not all be zero");
    }
    // Extreme weights are scaled by the largest, so that their sum neither overflows ([1e308,
    // 1e308] made every draw the last value) nor is a denormal that a draw rounds up to, past the
    // last non-zero weight ([5e-324, 0] drew the zero-weight value half the time).
    if (!std::isfinite(total) || total < std::numeric_limits<double>::min())
    {
        const double largest = *std::max_element(w.begin(), w.end());
        for (double& x : w)
        {
            x /= largest;
        }
    }
    return w;
}

Spec
ParseSpec(const Json& v, const std::string& path, const Quantity& q)
{
    Spec s;
    s.path = path;
    if (v.is_number())
    {
        s.a = AsNumber(v, path);
        CheckNumber(s.a, path, q.min, q.max, q.minOpen, q.maxOpen, q.unit);
        return s;
    }
    if (!v.is_object())
    {
        Fail(path, "must be a number or a distribution object, got " + Describe(v));
    }
    ObjectReader r(v, path);
    std::string dist;
    if (!r.Choice("dist", dist, {"uniform", "lognormal", "choice"}))
    {
        Fail(r.PathOf("dist"), "missing (uniform, lognormal or choice)");
    }
    if (dist == "uniform")
    {
        s.kind = Spec::UNIFORM;
        if (!r.Number("min", s.a, -INF, INF) || !r.Number("max", s.b, -INF, INF))
        {
            Fail(path, "uniform needs min and max");
        }
        CheckNumber(s.a, r.PathOf("min"), q.min, q.max, q.minOpen, q.maxOpen, q.unit);
        CheckNumber(s.b, r.PathOf("max"), q.min, q.max, q.minOpen, q.maxOpen, q.unit);
        if (s.b < s.a)
        {
            Fail(r.PathOf("max"),
                 "must be >= min (" + NumberText(s.a) + "), got " + NumberText(s.b));
        }
    }
    else if (dist == "lognormal")
    {
        s.kind = Spec::LOGNORMAL;
        if (!r.Number("median", s.a, 0, INF, true))
        {
            Fail(r.PathOf("median"), "missing (lognormal needs median and sigma)");
        }
        if (!r.Number("sigma", s.b, 0, 10))
        {
            Fail(r.PathOf("sigma"), "missing (lognormal needs median and sigma)");
        }
        r.Number("min", s.lo, -INF, INF);
        r.Number("max", s.hi, -INF, INF);
        if (s.hi < s.lo)
        {
            Fail(r.PathOf("max"), "must be >= min");
        }
        // Lognormal draws are > 0; quantities bounded above (loss < 1) need a clamp.
        if (q.clampNeeded && (q.maxOpen ? s.hi >= q.max : s.hi > q.max))
        {
            Fail(path, std::string("lognormal draws for ") + q.key + " need \"max\" "
                           + (q.maxOpen ? "< " : "<= ") + NumberText(q.max));
        }
        if (s.lo != -INF)
        {
            CheckNumber(s.lo, r.PathOf("min"), q.min, q.max, q.minOpen, q.maxOpen, q.unit);
        }
        // The support of the draws, not only each draw: Rng::Normal (Box-Muller on 53-bit
        // uniforms, u1 >= 2^-53) never exceeds sqrt(-2 ln 2^-53) = 8.5725 in magnitude, so every
        // draw lies in median * exp(+-8.5725 sigma), clamped; that interval must be representable.
        const double zMax = std::sqrt(-2.0 * std::log(0x1.0p-53));
        const double low = std::max(s.a * std::exp(-zMax * s.b), s.lo);
        const double high = std::min(s.a * std::exp(zMax * s.b), s.hi);
        const bool lowOut = q.minOpen ? !(low > q.min) : !(low >= q.min);
        const bool highOut = q.maxOpen ? !(high < q.max) : !(high <= q.max);
        if (lowOut || highOut)
        {
            Fail(path, std::string("lognormal(median ") + NumberText(s.a) + ", sigma "
                           + NumberText(s.b) + ") draws values in [" + ShortNumber(low, 4) + ", "
                           + ShortNumber(high, 4) + "] " + q.unit + ", beyond what the simulator "
                           + "represents ([" + NumberText(q.min) + ", " + NumberText(q.max) + "] "
                           + q.unit + "); add \"" + (lowOut ? "min" : "max") + "\" to clamp");
        }
    }
    else
    {
        s.kind = Spec::CHOICE;
        if (!r.NumberList("values", s.values) || s.values.empty())
        {
            Fail(r.PathOf("values"), "must be a non-empty array of numbers");
        }
        for (size_t i = 0; i < s.values.size(); ++i)
        {
            CheckNumber(s.values[i], IndexPath(r.PathOf("values"), i), q.min, q.max, q.minOpen,
                        q.maxOpen, q.unit);
        }
        s.weights = ReadWeights(r, s.values.size());
    }
    r.Finish();
    return s;
}

double
Draw(const Spec& s, Rng& rng)
{
    switch (s.kind)
    {
    case Spec::CONSTANT:
        return s.a;
    case Spec::UNIFORM:
        return s.a + (s.b - s.a) * rng.Uniform();
    case Spec::LOGNORMAL: {
        // median * exp(sigma * N(0,1)), clamped to [min, max]
        const double x = s.a * std::exp(s.b * rng.Normal());
        return std::min(std::max(x, s.lo), s.hi);
    }
    case Spec::CHOICE:
        return s.values[DrawIndex(s.weights, s.values.size(), rng)];
    }
    return s.a;
}

using SpecSet = std::array<std::optional<Spec>, QUANTITIES>;

/// Reads the quantity keys present in an object into specs.
void
ReadQuantities(ObjectReader& r, SpecSet& specs)
{
    for (size_t k = 0; k < Quantities().size(); ++k)
    {
        if (const Json* v = r.Find(Quantities()[k].key))
        {
            specs[k] = ParseSpec(*v, r.PathOf(Quantities()[k].key), Quantities()[k]);
        }
    }
}

/// A device's own cut (a profile's or a list entry's "cut": as model.cut, a string or an integer;
/// resolved against the model by FinishScenario, which names `at` in its errors).
void
ReadCut(ObjectReader& r, DeviceProfile& out)
{
    const Json* v = r.Find("cut");
    if (!v)
    {
        return;
    }
    const std::string at = r.PathOf("cut");
    out.cut = v->is_number() ? std::to_string(AsInteger(*v, at)) : AsString(*v, at);
    if (out.cut.empty() || out.cut == "none")
    {
        Fail(at, "must be a cut of the model (a device needs a server part)");
    }
    out.cutPath = at;
}

/// Constant-only quantities of one device (a list entry).
void
ReadConstants(ObjectReader& r, std::array<std::optional<double>, QUANTITIES>& values)
{
    for (size_t k = 0; k < Quantities().size(); ++k)
    {
        const Quantity& q = Quantities()[k];
        if (const Json* j = r.Find(q.key))
        {
            const double v = AsNumber(*j, r.PathOf(q.key));
            CheckNumber(v, r.PathOf(q.key), q.min, q.max, q.minOpen, q.maxOpen, q.unit);
            values[k] = v;
        }
    }
}

/// One device's explicit values; an empty optional falls back to the other sources.
using ExplicitValues = std::array<std::optional<double>, QUANTITIES>;

/// A device trace: the rows by device id, and the line of each (for errors found later).
struct Trace
{
    std::map<int64_t, ExplicitValues> rows;
    std::map<int64_t, size_t> lines;
};

/// Reads a trace (common/csv-reader.h: '#' comments, blank lines, quoting): a header with
/// device_id and any of the quantities, each at most once; one row per device, each id at most
/// once; an empty cell leaves that quantity to the other sources.
Trace
ReadTrace(const std::string& file)
{
    const std::vector<CsvRow> rows = ReadHandWrittenCsv(file, "device trace");
    const CsvRow& header = rows.front();
    std::vector<int> columnOf; // column -> quantity index, -1 = device_id
    int idColumn = -1;
    for (size_t c = 0; c < header.fields.size(); ++c)
    {
        const std::string& name = header.fields[c];
        int idx = -2;
        if (name == "device_id")
        {
            idx = -1;
        }
        for (size_t k = 0; k < Quantities().size(); ++k)
        {
            if (name == Quantities()[k].key)
            {
                idx = static_cast<int>(k);
            }
        }
        if (idx == -2)
        {
            throw CsvError(file, header.line,
                           "unknown column \"" + name + "\" (device_id" + QuantityKeys() + ")");
        }
        for (size_t prev = 0; prev < c; ++prev)
        {
            if (header.fields[prev] == name)
            {
                throw CsvError(file, header.line, "duplicate column \"" + name + "\"");
            }
        }
        if (idx == -1)
        {
            idColumn = static_cast<int>(c);
        }
        columnOf.push_back(idx);
    }
    if (idColumn < 0)
    {
        throw CsvError(file, header.line, "header has no device_id column");
    }
    Trace trace;
    for (size_t r = 1; r < rows.size(); ++r)
    {
        const CsvRow& row = rows[r];
        if (row.fields.size() != columnOf.size())
        {
            throw CsvError(file, row.line,
                           "expected " + std::to_string(columnOf.size()) + " fields, got "
                               + std::to_string(row.fields.size()));
        }
        int64_t id = -1;
        ExplicitValues values;
        for (size_t c = 0; c < row.fields.size(); ++c)
        {
            const std::string& column = header.fields[c];
            if (columnOf[c] != -1 && row.fields[c].empty())
            {
                continue; // falls back to devices.<quantity>, the profile or the default
            }
            const double v = CsvDouble(row.fields[c], file, row, column);
            if (!std::isfinite(v))
            {
                throw CsvError(file, row.line, column + ": not a finite number");
            }
            if (columnOf[c] == -1)
            {
                if (v < 0 || v != std::floor(v) || v >= MAX_DEVICES)
                {
                    throw CsvError(file, row.line,
                                   "device_id must be an integer in 0.."
                                       + std::to_string(MAX_DEVICES - 1));
                }
                id = static_cast<int64_t>(v);
                continue;
            }
            const Quantity& q = Quantities()[static_cast<size_t>(columnOf[c])];
            try
            {
                CheckNumber(v, q.key, q.min, q.max, q.minOpen, q.maxOpen, q.unit);
            }
            catch (const InputError& e)
            {
                throw CsvError(file, row.line, e.what());
            }
            values[static_cast<size_t>(columnOf[c])] = v;
        }
        if (!trace.rows.emplace(id, values).second)
        {
            throw CsvError(file, row.line, "device_id " + std::to_string(id) + " appears twice");
        }
        trace.lines[id] = row.line;
    }
    if (trace.rows.empty())
    {
        throw InputError(file + ": device trace has no rows");
    }
    return trace;
}

/// The per-device explicit values of a trace for `count` devices (from devices.count), or, when
/// count is not given, for the devices 0..N-1 of a trace that has each of them.
std::vector<ExplicitValues>
TraceValues(const Trace& trace, const std::string& file, std::optional<int64_t> count)
{
    if (!count)
    {
        int64_t expected = 0;
        for (const auto& row : trace.rows)
        {
            if (row.first != expected)
            {
                throw InputError(file + ": device ids must be 0.."
                                 + std::to_string(trace.rows.size() - 1) + "; device "
                                 + std::to_string(expected)
                                 + " is missing (give devices.count for a partial trace)");
            }
            ++expected;
        }
        count = expected;
    }
    std::vector<ExplicitValues> out(static_cast<size_t>(*count));
    for (const auto& [id, values] : trace.rows)
    {
        if (id >= *count)
        {
            throw CsvError(file, trace.lines.at(id),
                           "device_id " + std::to_string(id) + " is beyond devices.count "
                               + std::to_string(*count));
        }
        out[static_cast<size_t>(id)] = values;
    }
    return out;
}

/// The "access" key of an object (devices, a profile, a list entry), if given.
std::optional<std::string>
ReadAccess(ObjectReader& r)
{
    std::string access;
    if (r.Choice("access", access, AccessKinds()))
    {
        return access;
    }
    return std::nullopt;
}

} // namespace

std::vector<DeviceProfile>
ResolveDevices(const Json& devices, const std::string& path, uint64_t seed,
               const std::string& baseDir)
{
    ObjectReader r(devices, path);
    SpecSet common;
    ReadQuantities(r, common);
    // How each device reaches the hub: from its list entry, devices.access, its profile.
    const std::optional<std::string> commonAccess = ReadAccess(r);
    std::vector<std::optional<std::string>> profileAccess, listAccess;

    // Named profiles, each a set of quantity specs.
    std::vector<std::string> profileNames;
    std::vector<SpecSet> profiles;
    std::vector<DeviceProfile> profileCuts; // each profile's cut ("": model.cut)
    if (const Json* p = r.Find("profiles"))
    {
        ObjectReader pr(*p, r.PathOf("profiles"));
        for (auto it = p->begin(); it != p->end(); ++it)
        {
            ObjectReader one(*pr.Find(it.key()), pr.PathOf(it.key()));
            SpecSet s;
            ReadQuantities(one, s);
            profileAccess.push_back(ReadAccess(one));
            profileCuts.emplace_back();
            ReadCut(one, profileCuts.back());
            one.Finish();
            profileNames.push_back(it.key());
            profiles.push_back(s);
        }
    }
    // The profile of each device: a name, or {"dist": "choice", "values": [...], "weights": [...]}
    std::vector<size_t> profileChoices; // candidate profile indices
    std::vector<double> profileWeights;
    auto profileIndex = [&](const std::string& name, const std::string& at) {
        for (size_t i = 0; i < profileNames.size(); ++i)
        {
            if (profileNames[i] == name)
            {
                return i;
            }
        }
        Fail(at, "no profile named \"" + name + "\" in " + r.PathOf("profiles"));
    };
    if (const Json* p = r.Find("profile"))
    {
        const std::string at = r.PathOf("profile");
        if (p->is_string())
        {
            profileChoices.push_back(profileIndex(p->get<std::string>(), at));
        }
        else
        {
            ObjectReader pr(*p, at);
            std::string dist;
            if (!pr.Choice("dist", dist, {"choice"}))
            {
                Fail(pr.PathOf("dist"), "missing (a profile is drawn with \"dist\": \"choice\")");
            }
            const Json* values = pr.Find("values");
            if (!values || !values->is_array() || values->empty())
            {
                Fail(pr.PathOf("values"), "must be a non-empty array of profile names");
            }
            for (size_t i = 0; i < values->size(); ++i)
            {
                const std::string vp = IndexPath(pr.PathOf("values"), i);
                profileChoices.push_back(profileIndex(AsString((*values)[i], vp), vp));
            }
            profileWeights = ReadWeights(pr, values->size());
            pr.Finish();
        }
    }
    else if (!profiles.empty())
    {
        Fail(r.PathOf("profile"), "missing: profiles are defined but no device uses them");
    }

    // Explicit per-device values: a trace file or a list.
    std::vector<ExplicitValues> explicitValues;
    std::vector<DeviceProfile> listCuts; // each list entry's cut ("": its profile's)
    std::optional<Trace> traceRows;
    std::string traceFile;
    const Json* trace = r.Find("trace");
    const Json* list = r.Find("list");
    if (trace && list)
    {
        Fail(r.PathOf("list"), "give either trace or list, not both");
    }
    if (trace)
    {
        std::string file = AsString(*trace, r.PathOf("trace"));
        if (file.empty())
        {
            Fail(r.PathOf("trace"), "must be a file name");
        }
        if (file[0] != '/' && !baseDir.empty())
        {
            file = baseDir + "/" + file;
        }
        traceRows = ReadTrace(file);
        traceFile = file;
    }
    if (list)
    {
        if (!list->is_array() || list->empty())
        {
            Fail(r.PathOf("list"), "must be a non-empty array of device objects");
        }
        for (size_t i = 0; i < list->size(); ++i)
        {
            ObjectReader one((*list)[i], IndexPath(r.PathOf("list"), i));
            ExplicitValues values;
            ReadConstants(one, values);
            listAccess.push_back(ReadAccess(one));
            listCuts.emplace_back();
            ReadCut(one, listCuts.back());
            one.Finish();
            explicitValues.push_back(values);
        }
    }

    int64_t count = 0;
    const bool hasCount = r.Integer("count", count, 1, MAX_DEVICES);
    if (traceRows)
    {
        // A trace may cover some devices only when devices.count says how many there are.
        explicitValues = TraceValues(*traceRows, traceFile,
                                     hasCount ? std::optional<int64_t>(count) : std::nullopt);
        count = static_cast<int64_t>(explicitValues.size());
    }
    else if (!explicitValues.empty())
    {
        if (hasCount && count != static_cast<int64_t>(explicitValues.size()))
        {
            Fail(r.PathOf("count"), "is " + std::to_string(count) + " but the list has "
                                        + std::to_string(explicitValues.size()) + " devices");
        }
        count = static_cast<int64_t>(explicitValues.size());
    }
    else if (!hasCount)
    {
        Fail(r.PathOf("count"), "missing (give count, a trace or a list)");
    }
    r.Finish();

    std::vector<DeviceProfile> out;
    out.reserve(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i)
    {
        Rng rng(seed, "devices", static_cast<uint64_t>(i));
        const SpecSet* profile = nullptr;
        DeviceProfile d;
        if (!profileChoices.empty())
        {
            const size_t pick = profileChoices.size() == 1
                                    ? 0
                                    : DrawIndex(profileWeights, profileChoices.size(), rng);
            profile = &profiles[profileChoices[pick]];
            d.access = profileAccess[profileChoices[pick]].value_or(d.access);
            d.cut = profileCuts[profileChoices[pick]].cut;
            d.cutPath = profileCuts[profileChoices[pick]].cutPath;
        }
        d.access = commonAccess.value_or(d.access);
        if (!listAccess.empty())
        {
            d.access = listAccess[static_cast<size_t>(i)].value_or(d.access);
        }
        if (!listCuts.empty() && !listCuts[static_cast<size_t>(i)].cut.empty())
        {
            d.cut = listCuts[static_cast<size_t>(i)].cut;
            d.cutPath = listCuts[static_cast<size_t>(i)].cutPath;
        }
        for (size_t k = 0; k < Quantities().size(); ++k)
        {
            const Quantity& q = Quantities()[k];
            const Spec* spec = nullptr;
            if (common[k])
            {
                spec = &*common[k];
            }
            else if (profile && (*profile)[k])
            {
                spec = &*(*profile)[k];
            }
            // Draw even when an explicit value wins, so a trace column does not shift the
            // draws of the other quantities.
            const double drawn = spec ? Draw(*spec, rng) : d.*q.field;
            double v = drawn;
            if (!explicitValues.empty() && explicitValues[static_cast<size_t>(i)][k])
            {
                v = *explicitValues[static_cast<size_t>(i)][k];
            }
            else if (spec)
            {
                // A clamp-free draw can leave the range (uniform min == 0 for an open bound
                // is rejected earlier; lognormal clamps are checked); keep a guard anyway.
                try
                {
                    CheckNumber(v, spec->path, q.min, q.max, q.minOpen, q.maxOpen, q.unit);
                }
                catch (const InputError& e)
                {
                    throw InputError(std::string(e.what()) + " (drawn for device "
                                     + std::to_string(i) + ")");
                }
            }
            d.*q.field = v;
        }
        // Two ways to give one quantity: one of each pair only.
        for (const auto& [a, b] :
             {std::pair<const char*, const char*>{"compute_w", "joules_per_gflop"},
              {"battery_j", "battery_wh"}})
        {
            const auto value = [&d](const char* key) {
                for (const Quantity& q : Quantities())
                {
                    if (std::string(q.key) == key)
                    {
                        return d.*q.field;
                    }
                }
                return 0.0;
            };
            if (value(a) > 0 && value(b) > 0)
            {
                Fail(r.PathOf(b), std::string("give ") + a + " or " + b + ", not both (device "
                                      + std::to_string(i) + " has both)");
            }
        }
        if (d.access == "wifi" && d.loss > 0)
        {
            Fail(r.PathOf("loss"), "applies to wired access only; device " + std::to_string(i)
                                       + " has access \"wifi\", whose frame errors come from "
                                         "the channel (network.wifi)");
        }
        out.push_back(d);
    }
    return out;
}

Json
DeviceToJson(const DeviceProfile& d)
{
    Json j = Json::object();
    j["access"] = d.access;
    for (const Quantity& q : Quantities())
    {
        if (q.field != &DeviceProfile::wifiDistanceM || d.access == "wifi")
        {
            j[q.key] = d.*q.field;
        }
    }
    if (!d.cut.empty())
    {
        j["cut"] = d.cut;
    }
    return j;
}

namespace
{

/// "device -> hub link rate (Mbps, [1e-06, 1e+13]); default 10".
std::string
QuantityDoc(const Quantity& q)
{
    const DeviceProfile d;
    return std::string(q.doc) + " (" + (q.unit[0] ? std::string(q.unit) + ", " : "")
           + RangeDoc(Range{q.min, q.max, q.minOpen, q.maxOpen}) + "); default "
           + NumberText(d.*q.field);
}

std::string
AccessDoc()
{
    return "how the device reaches the hub: wired (a point-to-point link: uplink_mbps, "
           "downlink_mbps, delay_ms, loss), wifi (a station of an access point, network.wifi; "
           "wifi_distance_m) or lte (a UE of network.lte's cells; loss applies); a constant, per "
           "profile or per list entry";
}

Json
QuantitySchema(const Quantity& q)
{
    Json constant = {{"type", "number"}};
    AddRange(constant, Range{q.min, q.max, q.minOpen, q.maxOpen});
    const Json number = {{"type", "number"}};
    const Json uniform = {
        {"type", "object"},
        {"additionalProperties", false},
        {"description", "uniform in [min, max)"},
        {"required", {"dist", "min", "max"}},
        {"properties", {{"dist", {{"const", "uniform"}}}, {"min", constant}, {"max", constant}}}};
    const Json lognormal = {{"type", "object"},
                            {"additionalProperties", false},
                            {"description", "median * exp(sigma * N(0,1)), clamped to [min, max]"},
                            {"required", {"dist", "median", "sigma"}},
                            {"properties",
                             {{"dist", {{"const", "lognormal"}}},
                              {"median", {{"type", "number"}, {"exclusiveMinimum", 0}}},
                              {"sigma", {{"type", "number"}, {"minimum", 0}, {"maximum", 10}}},
                              {"min", number},
                              {"max", number}}}};
    const Json choice
        = {{"type", "object"},
           {"additionalProperties", false},
           {"description", "one of values (weights: relative probabilities; default equal)"},
           {"required", {"dist", "values"}},
           {"properties",
            {{"dist", {{"const", "choice"}}},
             {"values", {{"type", "array"}, {"items", constant}, {"minItems", 1}}},
             {"weights", {{"type", "array"}, {"items", {{"type", "number"}, {"minimum", 0}}}}}}}};
    return {{"description", QuantityDoc(q)}, {"oneOf", {constant, uniform, lognormal, choice}}};
}

} // namespace

Json
DevicesSchema()
{
    Json quantities = Json::object();
    Json constants = Json::object();
    for (const Quantity& q : Quantities())
    {
        quantities[q.key] = QuantitySchema(q);
        constants[q.key] = QuantitySchema(q)["oneOf"][0];
        constants[q.key]["description"] = QuantityDoc(q);
    }
    const Json access = {{"type", "string"}, {"enum", AccessKinds()}, {"description", AccessDoc()}};
    quantities["access"] = access;
    constants["access"] = access;
    const Json cut = {{"type", Json::array({"string", "integer"})}, {"description", CUT_DOC}};
    Json profileProps = quantities;
    profileProps["cut"] = cut;
    constants["cut"] = cut;
    Json props = quantities;
    props["count"] = {{"type", "integer"},
                      {"description", "number of devices; implied by trace or list"},
                      {"minimum", 1},
                      {"maximum", MAX_DEVICES}};
    props["profiles"]
        = {{"type", "object"},
           {"description", "named device profiles: each an object of the "
                           "quantities (constants or distributions) and optionally its cut"},
           {"additionalProperties",
            {{"type", "object"}, {"additionalProperties", false}, {"properties", profileProps}}}};
    props["profile"]
        = {{"description", "the profile of every device: a name, or a draw among names"},
           {"oneOf",
            {{{"type", "string"}},
             {{"type", "object"},
              {"additionalProperties", false},
              {"required", {"dist", "values"}},
              {"properties",
               {{"dist", {{"const", "choice"}}},
                {"values", {{"type", "array"}, {"items", {{"type", "string"}}}, {"minItems", 1}}},
                {"weights",
                 {{"type", "array"}, {"items", {{"type", "number"}, {"minimum", 0}}}}}}}}}}};
    props["trace"]
        = {{"type", "string"},
           {"description", "CSV file (relative to the scenario file): device_id" + QuantityKeys()}};
    props["list"]
        = {{"type", "array"},
           {"description", "explicit per-device values (what the manifest writes)"},
           {"minItems", 1},
           {"items",
            {{"type", "object"}, {"additionalProperties", false}, {"properties", constants}}}};
    return {{"type", "object"},
            {"additionalProperties", false},
            {"description", "per-device access links and compute; per quantity the first of: "
                            "trace/list entry, devices.<quantity>, profile, default"},
            {"properties", props}};
}

void
DevicesMarkdown(const std::string& path, std::string& md)
{
    md += "\n### `" + path
          + "` quantities\nEach a constant or a distribution (below), per device.\n";
    md += "\n| key | unit | default | allowed | meaning |\n|---|---|---|---|---|\n";
    const DeviceProfile d;
    md += "| `access` | | `" + d.access + "` | " + ChoiceList(AccessKinds()) + " | " + AccessDoc()
          + " |\n";
    for (const Quantity& q : Quantities())
    {
        md += std::string("| `") + q.key + "` | " + q.unit + " | `" + NumberText(d.*q.field)
              + "` | " + RangeDoc(Range{q.min, q.max, q.minOpen, q.maxOpen}) + " | " + q.doc
              + " |\n";
    }
    md += std::string("\nA profile (and a `list` entry) may also give `cut`: ") + CUT_DOC + ".\n";
}

} // namespace slsim
