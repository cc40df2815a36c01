// libFuzzer target: a sweep file (base, set, grid, budget axis, repetitions) expanded into its
// points, each validated through the scenario loader, as `slsim validate SWEEP.json` does. The
// scratch folder holds base.json (a tiny scenario) for the input's "base" to name.
#include "app/sweep.h"
#include "fuzz/fuzz-file.h"

#include <cstdint>

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const std::string base = slsim::WriteFuzzFile(
        "base.json",
        std::string(R"({"name": "tiny", "seed": 3, "dataset": {"name": "synthetic", "synthetic":)"
                    R"( {"train": 64, "test": 16, "classes": 4, "shape": [1, 4, 4]}},)"
                    R"( "model": {"name": "mlp", "hidden": [8], "threads": 1},)"
                    R"( "training": {"batch_size": 16, "epochs": 1},)"
                    R"( "codec": {"uplink": {"method": "ms", "sparsity": 0.5, "bits": 2}},)"
                    R"( "devices": {"count": 2, "uplink_mbps": 10, "delay_ms": 5}})"));
    const std::string path = slsim::WriteFuzzFile("sweep.json", data, size);
    slsim::ExpectInputErrorOnly([&] { slsim::LoadSweep(path, {}); });
    return 0;
}
