// libFuzzer target: the replay reader (training.replay) on a steps.csv and an eval.csv (the input
// holds both: fuzz-file.h SplitTwo), then lookups of the first steps and evaluations.
#include "fuzz/fuzz-file.h"
#include "sim/replay-log.h"

#include <cstdint>

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string steps, eval;
    slsim::SplitTwo(data, size, steps, eval);
    slsim::WriteFuzzFile("steps.csv", steps);
    slsim::WriteFuzzFile("eval.csv", eval);
    slsim::ExpectInputErrorOnly([&] {
        const slsim::ReplayLog log(slsim::FuzzDir());
        for (int d = 0; d < 2; ++d)
        {
            for (uint32_t s = 1; s <= 2; ++s)
            {
                slsim::ExpectInputErrorOnly([&] { log.StepOf(d, 0, s); });
            }
        }
        for (int64_t s = 0; s <= 4; ++s)
        {
            slsim::ExpectInputErrorOnly([&] { log.EvalAfter(s); });
        }
    });
    return 0;
}
