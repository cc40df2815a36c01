// Strict, path-aware reading of untrusted JSON (scenarios, sweep files).
//
// Every error is an InputError whose message starts with the JSON path of the offending value,
// e.g. "network.devices[3].delay_ms: must be >= 0, got -1". An ObjectReader remembers which keys
// were read; Finish() rejects the others as unknown (with a "did you mean" hint).
#ifndef SLSIM_APP_JSON_READER_H
#define SLSIM_APP_JSON_READER_H

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace slsim
{

using Json = nlohmann::ordered_json;

/// Reads and parses a JSON file. Throws InputError naming the file (unreadable, or invalid JSON
/// with line and column).
Json ReadJsonFile(const std::string& path);

/// Parses JSON text; `what` names the source in error messages.
Json ParseJsonText(const std::string& text, const std::string& what);

/// "a.b" + "c" -> "a.b.c"; "" + "c" -> "c".
std::string JoinPath(const std::string& parent, const std::string& key);
/// "a.b" + 3 -> "a.b[3]".
std::string IndexPath(const std::string& parent, size_t index);

/// A short description of a JSON value for messages: 12, "abc", an array, an object, ...
std::string Describe(const Json& v);

/// Throws InputError("<path>: <problem>").
[[noreturn]] void Fail(const std::string& path, const std::string& problem);

// Typed conversions of one value (path names it in errors).
double AsNumber(const Json& v, const std::string& path);
int64_t AsInteger(const Json& v, const std::string& path);
bool AsBool(const Json& v, const std::string& path);
/// An integer in [min, max]: "must be >= min" (max at the type's limit) or "must be in min..max".
int64_t ReadInteger(const Json& v, const std::string& path, int64_t min, int64_t max);
/// A string that must be one of `choices`: "must be one of a, b; got \"c\"".
std::string ReadChoice(const Json& v, const std::string& path,
                       const std::vector<std::string>& choices);
std::string AsString(const Json& v, const std::string& path);

class ObjectReader
{
  public:
    /// Throws unless `object` is a JSON object.
    ObjectReader(const Json& object, std::string path);

    const std::string& PathOf() const
    {
        return m_path;
    }

    std::string PathOf(const std::string& key) const
    {
        return JoinPath(m_path, key);
    }

    /// The value under key (marked as known), or nullptr when absent.
    const Json* Find(const std::string& key);
    bool Has(const std::string& key) const;
    /// Marks a key as known without reading it.
    void Allow(const std::string& key);

    // Each reads `key` into `out` if present (leaving the default otherwise) and checks the type
    // and the range; returns whether the key was present.
    bool Number(const std::string& key, double& out, double min, double max, bool minOpen = false,
                bool maxOpen = false);
    bool Integer(const std::string& key, int& out, int64_t min, int64_t max);
    bool Integer(const std::string& key, int64_t& out, int64_t min, int64_t max);
    bool Unsigned(const std::string& key, uint64_t& out, uint64_t max = UINT64_MAX);
    bool Size(const std::string& key, size_t& out, size_t max);
    bool Unsigned32(const std::string& key, uint32_t& out, uint32_t min, uint32_t max);
    bool Bool(const std::string& key, bool& out);
    bool String(const std::string& key, std::string& out);
    /// A string that must be one of `choices`.
    bool Choice(const std::string& key, std::string& out, const std::vector<std::string>& choices);
    bool IntegerList(const std::string& key, std::vector<int>& out, int64_t min, int64_t max);
    bool NumberList(const std::string& key, std::vector<double>& out);

    /// Rejects every key that was not read or allowed: "<path>.<key>: unknown key".
    void Finish() const;

  private:
    const Json& m_object;
    std::string m_path;
    std::set<std::string> m_known;
};

/// Range check with a uniform message: "<path>: must be in [min, max] <unit>, got v".
void CheckNumber(double v, const std::string& path, double min, double max, bool minOpen = false,
                 bool maxOpen = false, const std::string& unit = "");

/// "in [min, max]", "> min", "<= max" or "finite" (the words of CheckNumber's message).
std::string RangeText(double min, double max, bool minOpen, bool maxOpen);

/// Shortest round-trip text of a number for messages.
std::string NumberText(double v);

/// A derived number (a bound, a time) with `digits` significant digits ("%.*g"), for messages.
std::string ShortNumber(double v, int digits);

} // namespace slsim

#endif
