// Scenario JSON -> validated ScenarioConfig (the reference is scenarios/README.md, the schema
// scenarios/scenario.schema.json).
//
// Defaults live in one place: the member initialisers of the plain structs in sim/, models/ and
// compression/ (ScenarioConfig and what it holds). The loader starts from a default ScenarioConfig
// and overwrites what the JSON gives, then derives what follows from other fields (the model's
// input shape and classes from the dataset, the cosine horizon from the epochs) and resolves the
// devices (constants, seeded draws, profiles, a CSV trace) into one DeviceProfile per device.
// Every problem is an InputError naming the JSON path: "codec.uplink.bits: must be 1..8 for ms,
// got 12". Nothing here touches ns-3.
#ifndef SLSIM_APP_SCENARIO_LOADER_H
#define SLSIM_APP_SCENARIO_LOADER_H

#include "app/json-path.h"
#include "app/json-reader.h"
#include "sim/scenario-config.h"

#include <string>
#include <vector>

namespace slsim
{

/// Validates and converts a scenario document. `baseDir` resolves relative file names inside it
/// (devices.trace, dataset.path) — the scenario file's folder. Throws InputError("<json path>:
/// <problem>").
ScenarioConfig LoadScenario(const Json& doc, const std::string& baseDir);

/// Reads the file, applies the overrides in order, loads. Errors are prefixed with the file name.
ScenarioConfig LoadScenarioFile(const std::string& path, const std::vector<std::string>& overrides,
                                Json* resolvedDoc = nullptr);

/// The fully resolved scenario as JSON in the scenario format (every field explicit, devices as
/// an explicit list). LoadScenario(ScenarioToJson(c), dir) gives back c.
Json ScenarioToJson(const ScenarioConfig& config);

/// The folder part of a path ("" -> ".").
std::string DirectoryOf(const std::string& path);

} // namespace slsim

#endif
