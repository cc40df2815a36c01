// A scenario section as a table of fields: each key is declared once (JSON key, the struct member
// it fills, range or choices, one-line doc, unit) and everything else derives from that row:
//   ReadObject   the strict reader (type, range with unit, unknown and misplaced keys, JSON path
//                in every message);
//   WriteObject  the resolved scenario (manifest.json): every applicable key, explicit;
//   SchemaOf     the JSON Schema of the section (`slsim schema`);
//   MarkdownOf   the key table of scenarios/README.md (`slsim schema --markdown`).
// The default of a key is the struct's member initialiser, read back through the writer from a
// default-constructed struct, so it is written nowhere else.
//
// Example (one row):
//   NumberField("bottleneck_mbps", &NetworkConfig::bottleneckMbps, RATE_MBPS, "Mbps",
//               "shared hub <-> server link rate")
// reads `network.bottleneck_mbps` as a number in [1e-06, 1e+13] Mbps and writes it back, documents
// "number, Mbps, default 100, [1e-06, 1e+13]" and emits {"type": "number", "minimum": 1e-06, ...}.
#ifndef SLSIM_APP_FIELD_TABLE_H
#define SLSIM_APP_FIELD_TABLE_H

#include "app/json-reader.h"
#include "common/csv-writer.h"

#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

namespace slsim
{

/// A closed or open interval of numbers (the range a key accepts).
struct Range
{
    double min = -std::numeric_limits<double>::infinity();
    double max = std::numeric_limits<double>::infinity();
    bool minOpen = false;
    bool maxOpen = false;
};

/// What reading a scenario needs besides the JSON.
struct ReadContext
{
    std::string baseDir;         // resolves relative file names (devices.trace)
    std::set<std::string> given; // full JSON paths of the keys present, filled while reading
};

template <class S>
struct Field
{
    std::string key;
    std::string type;        // for the docs: "number", "integer", "bool", "string", ...
    std::string unit;        // "Mbps", "s", ... ("" when none)
    std::string range;       // for the docs: "(0, 1e+13]", "1..65536", "sgd, adam"
    std::string doc;         // one line
    std::string defaultText; // the docs' default when the writer's is not meaningful ("" = derive)
    bool required = false;
    std::string missing; // the problem when a required key is absent
    Json schema;         // JSON Schema of the value (description and default added)
    /// Reads the value at `path` into s; throws InputError naming `path`.
    std::function<void(const Json& v, const std::string& path, S& s, ReadContext& ctx)> read;
    /// The value written for s; null function: never written (description).
    std::function<Json(const S& s)> write;
    /// Whether the key applies given the rest of s: "" when it does, else the problem ("only for
    /// optimizer \"adam\""). A key that does not apply is refused when given and not written.
    std::function<std::string(const S& s)> notFor;
    /// Also left out of the resolved scenario when this says so (an empty replay folder).
    std::function<bool(const S& s)> omit;
    /// Markdown of a nested table (an object key); appended after this table.
    std::function<void(const std::string& path, std::string& md)> nested;
};

template <class S>
struct Table
{
    std::string doc; // one line above the table in the docs
    std::vector<Field<S>> fields;
    /// Checks across keys of the section and derived values, after every key was read (also
    /// when the section is absent). `given` holds the full paths of the keys present.
    std::function<void(S& s, const std::string& path, const ReadContext& ctx)> finish;
    std::vector<std::string> ignored; // keys accepted and ignored ($schema)
};

// ---- building rows -----------------------------------------------------------------------

/// "[1e-06, 1e+13]", "(0, 1]", ">= 0".
std::string RangeDoc(const Range& r);
/// Adds minimum/maximum (exclusive where open) of r to a schema.
void AddRange(Json& schema, const Range& r);
/// "a, b or c".
std::string ChoiceList(const std::vector<std::string>& choices);

template <class S>
Field<S>
NumberField(std::string key, double S::*m, Range r, std::string unit, std::string doc)
{
    Field<S> f;
    f.key = std::move(key);
    f.type = "number";
    f.unit = std::move(unit);
    f.range = RangeDoc(r);
    f.doc = std::move(doc);
    f.schema = {{"type", "number"}};
    AddRange(f.schema, r);
    const std::string u = f.unit;
    f.read = [m, r, u](const Json& v, const std::string& path, S& s, ReadContext&) {
        const double d = AsNumber(v, path);
        CheckNumber(d, path, r.min, r.max, r.minOpen, r.maxOpen, u);
        s.*m = d;
    };
    f.write = [m](const S& s) { return Json(s.*m); };
    return f;
}

/// An integer member of any integral type I, in [min, max].
template <class S, class I>
Field<S>
IntegerField(std::string key, I S::*m, int64_t min, int64_t max, std::string unit, std::string doc)
{
    Field<S> f;
    f.key = std::move(key);
    f.type = "integer";
    f.unit = std::move(unit);
    f.range = max >= std::numeric_limits<int>::max()
                  ? ">= " + std::to_string(min)
                  : std::to_string(min) + ".." + std::to_string(max);
    f.doc = std::move(doc);
    f.schema = {{"type", "integer"}, {"minimum", min}};
    if (max < std::numeric_limits<int>::max())
    {
        f.schema["maximum"] = max;
    }
    f.read = [m, min, max](const Json& v, const std::string& path, S& s, ReadContext&) {
        s.*m = static_cast<I>(ReadInteger(v, path, min, max));
    };
    f.write = [m](const S& s) { return Json(s.*m); };
    return f;
}

template <class S>
Field<S>
BoolField(std::string key, bool S::*m, std::string doc)
{
    Field<S> f;
    f.key = std::move(key);
    f.type = "bool";
    f.doc = std::move(doc);
    f.schema = {{"type", "boolean"}};
    f.read = [m](const Json& v, const std::string& path, S& s, ReadContext&) {
        s.*m = AsBool(v, path);
    };
    f.write = [m](const S& s) { return Json(s.*m); };
    return f;
}

template <class S>
Field<S>
StringField(std::string key, std::string S::*m, std::string doc)
{
    Field<S> f;
    f.key = std::move(key);
    f.type = "string";
    f.doc = std::move(doc);
    f.schema = {{"type", "string"}};
    f.read = [m](const Json& v, const std::string& path, S& s, ReadContext&) {
        s.*m = AsString(v, path);
    };
    f.write = [m](const S& s) { return Json(s.*m); };
    return f;
}

template <class S>
Field<S>
ChoiceField(std::string key, std::string S::*m, std::vector<std::string> choices, std::string doc)
{
    Field<S> f = StringField<S>(std::move(key), m, std::move(doc));
    f.range = ChoiceList(choices);
    f.schema["enum"] = choices;
    f.read = [m, choices](const Json& v, const std::string& path, S& s, ReadContext&) {
        s.*m = ReadChoice(v, path, choices);
    };
    return f;
}

/// An array of integers, each in [min, max].
template <class S>
Field<S>
IntegerListField(std::string key, std::vector<int> S::*m, int64_t min, int64_t max, std::string doc)
{
    Field<S> f;
    f.key = std::move(key);
    f.type = "array of integers";
    f.range = "each " + std::to_string(min) + ".." + std::to_string(max);
    f.doc = std::move(doc);
    f.schema
        = {{"type", "array"}, {"items", {{"type", "integer"}, {"minimum", min}, {"maximum", max}}}};
    f.read = [m, min, max](const Json& v, const std::string& path, S& s, ReadContext&) {
        if (!v.is_array())
        {
            Fail(path, "must be an array of integers, got " + Describe(v));
        }
        std::vector<int> out;
        for (size_t i = 0; i < v.size(); ++i)
        {
            const int64_t x = AsInteger(v[i], IndexPath(path, i));
            if (x < min || x > max)
            {
                Fail(IndexPath(path, i), "must be in " + std::to_string(min) + ".."
                                             + std::to_string(max) + ", got " + std::to_string(x));
            }
            out.push_back(static_cast<int>(x));
        }
        s.*m = out;
    };
    f.write = [m](const S& s) { return Json(s.*m); };
    return f;
}

/// An array of numbers, each in r.
template <class S>
Field<S>
NumberListField(std::string key, std::vector<double> S::*m, Range r, std::string doc)
{
    Field<S> f;
    f.key = std::move(key);
    f.type = "array of numbers";
    f.range = r.min == -std::numeric_limits<double>::infinity()
                      && r.max == std::numeric_limits<double>::infinity()
                  ? ""
                  : "each " + RangeDoc(r);
    f.doc = std::move(doc);
    Json item = {{"type", "number"}};
    AddRange(item, r);
    f.schema = {{"type", "array"}, {"items", item}};
    f.read = [m, r](const Json& v, const std::string& path, S& s, ReadContext&) {
        if (!v.is_array())
        {
            Fail(path, "must be an array of numbers, got " + Describe(v));
        }
        std::vector<double> out;
        for (size_t i = 0; i < v.size(); ++i)
        {
            const double x = AsNumber(v[i], IndexPath(path, i));
            CheckNumber(x, IndexPath(path, i), r.min, r.max, r.minOpen, r.maxOpen);
            out.push_back(x);
        }
        s.*m = out;
    };
    f.write = [m](const S& s) { return Json(s.*m); };
    return f;
}

template <class S>
void ReadObject(const Table<S>& table, const Json& object, const std::string& path, S& s,
                ReadContext& ctx);
template <class S>
Json WriteObject(const Table<S>& table, const S& s);
template <class S>
Json SchemaOf(const Table<S>& table);
template <class S>
void MarkdownOf(const Table<S>& table, const std::string& path, std::string& md);

/// A nested object held in member m, described by `table` (which must outlive the field: tables
/// are function-local statics).
template <class S, class T>
Field<S>
ObjectField(std::string key, T S::*m, const Table<T>& table, std::string doc)
{
    Field<S> f;
    f.key = std::move(key);
    f.type = "object";
    f.doc = std::move(doc);
    f.defaultText = "see below";
    f.schema = SchemaOf(table);
    const Table<T>* t = &table;
    f.read = [m, t](const Json& v, const std::string& path, S& s, ReadContext& ctx) {
        ReadObject(*t, v, path, s.*m, ctx);
    };
    f.write = [m, t](const S& s) { return WriteObject(*t, s.*m); };
    f.nested = [t](const std::string& path, std::string& md) { MarkdownOf(*t, path, md); };
    return f;
}

/// A JSON object that groups keys of the same struct (codec.uplink etc. are members of
/// ScenarioConfig itself).
template <class S>
Field<S>
GroupField(std::string key, const Table<S>& table, std::string doc)
{
    Field<S> f;
    f.key = std::move(key);
    f.type = "object";
    f.doc = std::move(doc);
    f.defaultText = "see below";
    f.schema = SchemaOf(table);
    const Table<S>* t = &table;
    f.read = [t](const Json& v, const std::string& path, S& s, ReadContext& ctx) {
        ReadObject(*t, v, path, s, ctx);
    };
    f.write = [t](const S& s) { return WriteObject(*t, s); };
    f.nested = [t](const std::string& path, std::string& md) { MarkdownOf(*t, path, md); };
    return f;
}

/// An array of objects, each described by `table`.
template <class S, class T>
Field<S>
ArrayField(std::string key, std::vector<T> S::*m, const Table<T>& table, std::string doc)
{
    Field<S> f;
    f.key = std::move(key);
    f.type = "array of objects";
    f.doc = std::move(doc);
    f.schema = {{"type", "array"}, {"items", SchemaOf(table)}};
    const Table<T>* t = &table;
    f.read = [m, t](const Json& v, const std::string& path, S& s, ReadContext& ctx) {
        if (!v.is_array())
        {
            Fail(path, "must be an array, got " + Describe(v));
        }
        std::vector<T> out;
        for (size_t i = 0; i < v.size(); ++i)
        {
            T one;
            ReadObject(*t, v[i], IndexPath(path, i), one, ctx);
            out.push_back(one);
        }
        s.*m = out;
    };
    f.write = [m, t](const S& s) {
        Json a = Json::array();
        for (const T& one : s.*m)
        {
            a.push_back(WriteObject(*t, one));
        }
        return a;
    };
    f.nested = [t](const std::string& path, std::string& md) { MarkdownOf(*t, path + "[]", md); };
    return f;
}

// ---- deriving from a table --------------------------------------------------------------

template <class S>
void
ReadObject(const Table<S>& table, const Json& object, const std::string& path, S& s,
           ReadContext& ctx)
{
    ObjectReader r(object, path);
    for (const std::string& key : table.ignored)
    {
        r.Allow(key);
    }
    for (const Field<S>& f : table.fields)
    {
        const Json* v = r.Find(f.key);
        if (!v)
        {
            if (f.required)
            {
                Fail(r.PathOf(f.key), f.missing);
            }
            continue;
        }
        if (f.notFor)
        {
            const std::string problem = f.notFor(s);
            if (!problem.empty())
            {
                Fail(r.PathOf(f.key), problem);
            }
        }
        ctx.given.insert(r.PathOf(f.key));
        f.read(*v, r.PathOf(f.key), s, ctx);
    }
    r.Finish();
    if (table.finish)
    {
        table.finish(s, path, ctx);
    }
}

template <class S>
Json
WriteObject(const Table<S>& table, const S& s)
{
    Json j = Json::object();
    for (const Field<S>& f : table.fields)
    {
        if (!f.write || (f.notFor && !f.notFor(s).empty()) || (f.omit && f.omit(s)))
        {
            continue;
        }
        j[f.key] = f.write(s);
    }
    return j;
}

/// The default of a field as docs text ("" when it has none to show).
template <class S>
std::string
DefaultText(const Field<S>& f)
{
    if (!f.defaultText.empty() || !f.write)
    {
        return f.defaultText;
    }
    const Json v = f.write(S{});
    return "`" + (v.is_number_float() ? FormatDouble(v.get<double>()) : v.dump()) + "`";
}

template <class S>
Json
SchemaOf(const Table<S>& table)
{
    Json props = Json::object();
    Json required = Json::array();
    for (const std::string& key : table.ignored)
    {
        props[key] = {{"type", "string"}};
    }
    for (const Field<S>& f : table.fields)
    {
        Json one = f.schema;
        std::string text = f.doc;
        if (!f.unit.empty())
        {
            text += " (" + f.unit + ")";
        }
        const std::string def = DefaultText(f);
        if (!def.empty() && def != "see below")
        {
            text += "; default " + (def[0] == '`' ? def.substr(1, def.size() - 2) : def);
        }
        one["description"] = text;
        props[f.key] = one;
        if (f.required)
        {
            required.push_back(f.key);
        }
    }
    Json schema = {{"type", "object"}, {"additionalProperties", false}};
    if (!table.doc.empty())
    {
        schema["description"] = table.doc;
    }
    if (!required.empty())
    {
        schema["required"] = required;
    }
    schema["properties"] = props;
    return schema;
}

template <class S>
void
MarkdownOf(const Table<S>& table, const std::string& path, std::string& md)
{
    md += "\n### " + (path.empty() ? std::string("top level") : "`" + path + "`") + "\n";
    if (!table.doc.empty())
    {
        md += table.doc + "\n";
    }
    md += "\n| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
    for (const Field<S>& f : table.fields)
    {
        std::string type = f.type + (f.unit.empty() ? "" : ", " + f.unit);
        const std::string def = DefaultText(f);
        md += "| `" + f.key + "` | " + type + " | " + (def.empty() ? "" : def) + " | " + f.range
              + " | " + f.doc + (f.required ? " (required)" : "") + " |\n";
    }
    for (const Field<S>& f : table.fields)
    {
        if (f.nested)
        {
            f.nested(JoinPath(path, f.key), md);
        }
    }
}

} // namespace slsim

#endif
