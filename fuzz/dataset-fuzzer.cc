// libFuzzer target for one dataset file format (SLSIM_FUZZ_FORMAT, fixed at build time):
//   1 IDX images + labels pair (fuzz-file.h SplitTwo), 2 CIFAR-10 binary batch, 3 digits CSV.
// Files may be gzip-compressed (the readers gunzip). A dataset read must be consistent: one
// label per sample and SampleSize() pixel bytes per sample.
#include "fuzz/fuzz-file.h"
#include "models/data/readers.h"

#include <cstdint>
#include <cstdlib>

namespace
{

void
CheckConsistent(const slsim::Dataset& d)
{
    if (d.pixels.size() != d.Size() * d.SampleSize())
    {
        std::abort();
    }
    for (uint8_t l : d.labels)
    {
        if (l >= d.classes)
        {
            std::abort();
        }
    }
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    slsim::ExpectInputErrorOnly([&] {
#if SLSIM_FUZZ_FORMAT == 1
        std::string images, labels;
        slsim::SplitTwo(data, size, images, labels);
        CheckConsistent(slsim::ReadIdxPair(slsim::WriteFuzzFile("images-idx3-ubyte", images),
                                           slsim::WriteFuzzFile("labels-idx1-ubyte", labels),
                                           "fuzz"));
#elif SLSIM_FUZZ_FORMAT == 2
        slsim::Dataset d;
        d.channels = 3;
        d.height = 32;
        d.width = 32;
        slsim::ReadCifar10Batch(slsim::WriteFuzzFile("data_batch_1.bin", data, size), d);
        CheckConsistent(d);
#elif SLSIM_FUZZ_FORMAT == 3
        CheckConsistent(slsim::ReadDigitsCsv(slsim::WriteFuzzFile("digits.csv", data, size)));
#else
#error "SLSIM_FUZZ_FORMAT must be 1, 2 or 3"
#endif
    });
    return 0;
}
