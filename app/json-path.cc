#include "app/json-path.h"

#include "common/error.h"

namespace slsim
{

namespace
{

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
    catch (const Json::out_of_range&)
    {
        throw InputError("--set " + assignment + ": number beyond double range");
    }
    SetPath(doc, path, value);
}

} // namespace slsim
