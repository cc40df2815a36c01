#include "app/json-reader.h"

#include "common/csv-writer.h"
#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace slsim
{

namespace
{

/// Levenshtein distance, for "did you mean" hints on unknown keys.
size_t
EditDistance(const std::string& a, const std::string& b)
{
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
    {
        prev[j] = j;
    }
    for (size_t i = 1; i <= a.size(); ++i)
    {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
        {
            const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

/// The JSON path of the position described by a parse stack (see ParseJsonText).
struct ParseFrame
{
    bool array = false;
    size_t index = 0;
    std::string key;
    std::set<std::string> keys;
};

std::string
StackPath(const std::vector<ParseFrame>& stack, size_t frames)
{
    std::string path;
    for (size_t i = 0; i < frames; ++i)
    {
        path = stack[i].array ? IndexPath(path, stack[i].index) : JoinPath(path, stack[i].key);
    }
    return path;
}

} // namespace

std::string
NumberText(double v)
{
    return FormatDouble(v);
}

std::string
ShortNumber(double v, int digits)
{
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
    return buf;
}

Json
ParseJsonText(const std::string& text, const std::string& what)
{
    // A key given twice in one object is a mistake that nlohmann's parser would resolve silently
    // (the last one wins); the callback tracks the keys of every open object to reject it.
    std::vector<ParseFrame> stack;
    auto track = [&](int, Json::parse_event_t event, Json& parsed) {
        switch (event)
        {
        case Json::parse_event_t::object_start:
            stack.push_back(ParseFrame{});
            break;
        case Json::parse_event_t::array_start:
            stack.push_back(ParseFrame{true, 0, "", {}});
            break;
        case Json::parse_event_t::key: {
            const std::string key = parsed.get<std::string>();
            if (!stack.back().keys.insert(key).second)
            {
                throw InputError(what + ": " + JoinPath(StackPath(stack, stack.size() - 1), key)
                                 + ": key given twice");
            }
            stack.back().key = key;
            break;
        }
        case Json::parse_event_t::object_end:
        case Json::parse_event_t::array_end:
            stack.pop_back();
            [[fallthrough]];
        case Json::parse_event_t::value:
            if (!stack.empty() && stack.back().array)
            {
                ++stack.back().index;
            }
            break;
        }
        return true;
    };
    try
    {
        return Json::parse(text, track);
    }
    catch (const Json::parse_error& e)
    {
        // nlohmann's message: "[json.exception.parse_error.101] parse error at line 3, column 5:
        // syntax error ..."; keep the part after the bracketed id.
        std::string msg = e.what();
        const size_t close = msg.find("] ");
        if (msg.rfind("[json.exception", 0) == 0 && close != std::string::npos)
        {
            msg = msg.substr(close + 2);
        }
        throw InputError(what + ": invalid JSON: " + msg);
    }
    catch (const Json::out_of_range& e)
    {
        // The one out_of_range the parser throws (406): a number beyond double range, e.g. 1e400.
        // It carries no position; the open frames name the value it was parsing.
        const std::string path = StackPath(stack, stack.size());
        throw InputError(what + ": " + (path.empty() ? std::string("(top level)") : path)
                         + ": number beyond double range (max "
                         + NumberText(std::numeric_limits<double>::max()) + ")");
    }
}

Json
ReadJsonFile(const std::string& path)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
    {
        throw InputError(path + ": is a folder, not a JSON file");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        throw InputError(path + ": cannot open file");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad())
    {
        throw InputError(path + ": cannot read file");
    }
    return ParseJsonText(ss.str(), path);
}

std::string
JoinPath(const std::string& parent, const std::string& key)
{
    return parent.empty() ? key : parent + "." + key;
}

std::string
IndexPath(const std::string& parent, size_t index)
{
    return parent + "[" + std::to_string(index) + "]";
}

std::string
Describe(const Json& v)
{
    switch (v.type())
    {
    case Json::value_t::null:
        return "null";
    case Json::value_t::object:
        return "an object";
    case Json::value_t::array:
        return "an array";
    case Json::value_t::boolean:
        return v.get<bool>() ? "true" : "false";
    default: {
        std::string s = v.dump();
        if (s.size() > 40)
        {
            s = s.substr(0, 37) + "...";
        }
        return s;
    }
    }
}

void
Fail(const std::string& path, const std::string& problem)
{
    throw InputError((path.empty() ? std::string("(top level)") : path) + ": " + problem);
}

double
AsNumber(const Json& v, const std::string& path)
{
    if (!v.is_number())
    {
        Fail(path, "must be a number, got " + Describe(v));
    }
    const double d = v.get<double>();
    if (!std::isfinite(d))
    {
        Fail(path, "must be finite");
    }
    return d;
}

int64_t
AsInteger(const Json& v, const std::string& path)
{
    if (v.is_number_unsigned())
    {
        const uint64_t u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        {
            Fail(path, "too large, got " + Describe(v));
        }
        return static_cast<int64_t>(u);
    }
    if (v.is_number_integer())
    {
        return v.get<int64_t>();
    }
    if (v.is_number_float())
    {
        const double d = v.get<double>();
        // 2.0 is accepted as 2 (JSON writers often emit it); 2.5 is not.
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
        {
            return static_cast<int64_t>(d);
        }
    }
    Fail(path, "must be an integer, got " + Describe(v));
}

bool
AsBool(const Json& v, const std::string& path)
{
    if (!v.is_boolean())
    {
        Fail(path, "must be true or false, got " + Describe(v));
    }
    return v.get<bool>();
}

std::string
AsString(const Json& v, const std::string& path)
{
    if (!v.is_string())
    {
        Fail(path, "must be a string, got " + Describe(v));
    }
    return v.get<std::string>();
}

std::string
RangeText(double min, double max, bool minOpen, bool maxOpen)
{
    const double inf = std::numeric_limits<double>::infinity();
    if (max == inf && min == -inf)
    {
        return "finite";
    }
    if (max == inf)
    {
        return std::string(minOpen ? "> " : ">= ") + NumberText(min);
    }
    if (min == -inf)
    {
        return std::string(maxOpen ? "< " : "<= ") + NumberText(max);
    }
    return std::string("in ") + (minOpen ? "(" : "[") + NumberText(min) + ", " + NumberText(max)
           + (maxOpen ? ")" : "]");
}

int64_t
ReadInteger(const Json& v, const std::string& path, int64_t min, int64_t max)
{
    const int64_t i = AsInteger(v, path);
    if (i < min || i > max)
    {
        if (max == std::numeric_limits<int64_t>::max() || max == std::numeric_limits<int>::max())
        {
            Fail(path, "must be >= " + std::to_string(min) + ", got " + std::to_string(i));
        }
        Fail(path, "must be in " + std::to_string(min) + ".." + std::to_string(max) + ", got "
                       + std::to_string(i));
    }
    return i;
}

std::string
ReadChoice(const Json& v, const std::string& path, const std::vector<std::string>& choices)
{
    const std::string s = AsString(v, path);
    if (std::find(choices.begin(), choices.end(), s) == choices.end())
    {
        std::string list;
        for (const auto& c : choices)
        {
            list += (list.empty() ? "" : ", ") + c;
        }
        Fail(path, "must be one of " + list + "; got \"" + s + "\"");
    }
    return s;
}

void
CheckNumber(double v, const std::string& path, double min, double max, bool minOpen, bool maxOpen,
            const std::string& unit)
{
    const bool low = minOpen ? !(v > min) : !(v >= min);
    const bool high = maxOpen ? !(v < max) : !(v <= max);
    if (low || high)
    {
        Fail(path, "must be " + RangeText(min, max, minOpen, maxOpen)
                       + (unit.empty() ? "" : " " + unit) + ", got " + NumberText(v));
    }
}

ObjectReader::ObjectReader(const Json& object, std::string path)
    : m_object(object),
      m_path(std::move(path))
{
    if (!m_object.is_object())
    {
        Fail(m_path, "must be an object, got " + Describe(m_object));
    }
}

const Json*
ObjectReader::Find(const std::string& key)
{
    m_known.insert(key);
    auto it = m_object.find(key);
    return it == m_object.end() ? nullptr : &*it;
}

bool
ObjectReader::Has(const std::string& key) const
{
    return m_object.contains(key);
}

void
ObjectReader::Allow(const std::string& key)
{
    m_known.insert(key);
}

bool
ObjectReader::Number(const std::string& key, double& out, double min, double max, bool minOpen,
                     bool maxOpen)
{
    const Json* v = Find(key);
    if (!v)
    {
        return false;
    }
    const double d = AsNumber(*v, PathOf(key));
    CheckNumber(d, PathOf(key), min, max, minOpen, maxOpen);
    out = d;
    return true;
}

bool
ObjectReader::Integer(const std::string& key, int64_t& out, int64_t min, int64_t max)
{
    const Json* v = Find(key);
    if (!v)
    {
        return false;
    }
    out = ReadInteger(*v, PathOf(key), min, max);
    return true;
}

bool
ObjectReader::Integer(const std::string& key, int& out, int64_t min, int64_t max)
{
    int64_t v = out;
    const bool present = Integer(key, v, std::max<int64_t>(min, std::numeric_limits<int>::min()),
                                 std::min<int64_t>(max, std::numeric_limits<int>::max()));
    out = static_cast<int>(v);
    return present;
}

bool
ObjectReader::Unsigned(const std::string& key, uint64_t& out, uint64_t max)
{
    const Json* v = Find(key);
    if (!v)
    {
        return false;
    }
    if (v->is_number_unsigned())
    {
        out = v->get<uint64_t>();
    }
    else
    {
        const int64_t i = AsInteger(*v, PathOf(key));
        if (i < 0)
        {
            Fail(PathOf(key), "must be >= 0, got " + std::to_string(i));
        }
        out = static_cast<uint64_t>(i);
    }
    if (out > max)
    {
        Fail(PathOf(key), "must be <= " + std::to_string(max) + ", got " + std::to_string(out));
    }
    return true;
}

bool
ObjectReader::Size(const std::string& key, size_t& out, size_t max)
{
    uint64_t v = out;
    const bool present = Unsigned(key, v, max);
    out = static_cast<size_t>(v);
    return present;
}

bool
ObjectReader::Unsigned32(const std::string& key, uint32_t& out, uint32_t min, uint32_t max)
{
    int64_t v = out;
    const bool present = Integer(key, v, min, max);
    out = static_cast<uint32_t>(v);
    return present;
}

bool
ObjectReader::Bool(const std::string& key, bool& out)
{
    const Json* v = Find(key);
    if (!v)
    {
        return false;
    }
    out = AsBool(*v, PathOf(key));
    return true;
}

bool
ObjectReader::String(const std::string& key, std::string& out)
{
    const Json* v = Find(key);
    if (!v)
    {
        return false;
    }
    out = AsString(*v, PathOf(key));
    return true;
}

bool
ObjectReader::Choice(const std::string& key, std::string& out,
                     const std::vector<std::string>& choices)
{
    const Json* v = Find(key);
    if (!v)
    {
        return false;
    }
    out = ReadChoice(*v, PathOf(key), choices);
    return true;
}

bool
ObjectReader::IntegerList(const std::string& key, std::vector<int>& out, int64_t min, int64_t max)
{
    const Json* v = Find(key);
    if (!v)
    {
        return false;
    }
    if (!v->is_array())
    {
        Fail(PathOf(key), "must be an array of integers, got " + Describe(*v));
    }
    std::vector<int> r;
    for (size_t i = 0; i < v->size(); ++i)
    {
        const int64_t x = AsInteger((*v)[i], IndexPath(PathOf(key), i));
        if (x < min || x > max)
        {
            Fail(IndexPath(PathOf(key), i), "must be in " + std::to_string(min) + ".."
                                                + std::to_string(max) + ", got "
                                                + std::to_string(x));
        }
        r.push_back(static_cast<int>(x));
    }
    out = r;
    return true;
}

bool
ObjectReader::NumberList(const std::string& key, std::vector<double>& out)
{
    const Json* v = Find(key);
    if (!v)
    {
        return false;
    }
    if (!v->is_array())
    {
        Fail(PathOf(key), "must be an array of numbers, got " + Describe(*v));
    }
    std::vector<double> r;
    for (size_t i = 0; i < v->size(); ++i)
    {
        r.push_back(AsNumber((*v)[i], IndexPath(PathOf(key), i)));
    }
    out = r;
    return true;
}

void
ObjectReader::Finish() const
{
    for (auto it = m_object.begin(); it != m_object.end(); ++it)
    {
        if (m_known.count(it.key()))
        {
            continue;
        }
        std::string best;
        size_t bestDistance = 3; // suggest only close matches (typos, not different words)
        for (const auto& k : m_known)
        {
            const size_t d = EditDistance(it.key(), k);
            if (d < bestDistance)
            {
                bestDistance = d;
                best = k;
            }
        }
        Fail(PathOf(it.key()),
             "unknown key" + (best.empty() ? std::string() : " (did you mean \"" + best + "\"?)"));
    }
}

} // namespace slsim
