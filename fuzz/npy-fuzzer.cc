// libFuzzer target: the .npy reader (codec inputs of `slsim codec`). A parsed array must hold
// exactly the elements its shape names.
#include "compression/npy-io.h"
#include "fuzz/fuzz-file.h"

#include <cstdint>
#include <cstdlib>

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    slsim::ExpectInputErrorOnly([&] {
        const slsim::NpyArray a = slsim::ParseNpy(data, size, "fuzz.npy");
        if (a.data.size() != static_cast<size_t>(a.shape.Numel()))
        {
            std::abort();
        }
    });
    return 0;
}
