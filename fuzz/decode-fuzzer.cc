// libFuzzer target for one decoder (SLSIM_FUZZ_CODEC = codec id 1..7, fixed at build time so
// that each decoder gets its own corpus and coverage). The input is a blob whose codec id byte
// is forced to SLSIM_FUZZ_CODEC; DecodeAny must either return a tensor of the header's shape or
// throw DecodeError. Anything else (crash, ASan/UBSan report, other exception) is a finding.
#include "common/error.h"
#include "compression/codec.h"

#include <cstdint>
#include <cstdlib>
#include <vector>

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::vector<uint8_t> blob(data, data + size);
    if (blob.size() > 4)
    {
        blob[4] = SLSIM_FUZZ_CODEC;
    }
    std::vector<float> out;
    try
    {
        const slsim::Shape shape = slsim::DecodeAny(blob.data(), blob.size(), out, 1 << 20);
        if (out.size() != static_cast<size_t>(shape.Numel()))
        {
            std::abort();
        }
    }
    catch (const slsim::DecodeError&)
    {
    }
    return 0;
}
