#include "app/scenario-loader.h"

#include "app/compute-check.h"
#include "app/memory-estimate.h"
#include "app/replay-check.h"
#include "app/scenario-keys.h"
#include "common/error.h"

namespace slsim
{

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
    CheckComputeTimes(c);
    // Sizes that cannot fit are refused here, in milliseconds, not by bad_alloc after minutes.
    CheckMemory(EstimateMemory(c));
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
