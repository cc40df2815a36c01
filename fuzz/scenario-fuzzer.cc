// libFuzzer target: a scenario file through the whole loader (JSON reader, field tables, device
// resolution, cross-section checks) up to the validated ScenarioConfig, as `slsim validate` does;
// no run. The result must be refused with a one-line InputError or load, and a loaded scenario
// must load again from its resolved form (ScenarioToJson: what manifest.json records).
#include "app/scenario-loader.h"
#include "fuzz/fuzz-file.h"

#include <cstdint>
#include <cstdlib>

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string path = slsim::WriteFuzzFile("scenario.json", data, size);
    slsim::ExpectInputErrorOnly([&] {
        const slsim::ScenarioConfig c = slsim::LoadScenarioFile(path, {});
        const slsim::Json resolved = slsim::ScenarioToJson(c);
        try
        {
            slsim::LoadScenario(resolved, slsim::DirectoryOf(path));
        }
        catch (const slsim::InputError& e)
        {
            std::fprintf(stderr, "resolved scenario refused: %s\n%s\n", e.what(),
                         resolved.dump().c_str());
            std::abort();
        }
    });
    return 0;
}
