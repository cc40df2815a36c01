#include "sim/leakage.h"

#include "models/distance-correlation.h"
#include "sim/split-pass.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace slsim
{

double
CutLeakage(Partition& device, const BatchMaker& test, size_t testSize, Codec& uplink, int samples,
           int messageBatch, Rng codecRng, SplitScratch& scratch)
{
    const int n = static_cast<int>(std::min(static_cast<size_t>(samples), testSize));
    if (n < 4)
    {
        return std::numeric_limits<double>::quiet_NaN();
    }
    const auto inSize = static_cast<size_t>(device.InputShape().Numel());
    const auto cutSize = static_cast<size_t>(device.OutputShape().Numel());
    std::vector<float> input(static_cast<size_t>(n) * inSize);
    std::vector<float> sent(static_cast<size_t>(n) * cutSize);
    const int chunk = std::max(1, messageBatch);
    AlignedVector<float> batchInput(static_cast<size_t>(std::min(chunk, n)) * inSize);
    std::vector<uint32_t> indices(static_cast<size_t>(chunk));
    std::vector<int32_t> labels(static_cast<size_t>(chunk));
    Rng noAugment(0, "unused"); // BatchMaker takes an Rng; the subset is never augmented
    for (int start = 0; start < n; start += chunk)
    {
        const int b = std::min(chunk, n - start);
        for (int i = 0; i < b; ++i)
        {
            indices[static_cast<size_t>(i)] = static_cast<uint32_t>(start + i);
        }
        test.Make(indices.data(), static_cast<size_t>(b), false, noAugment, batchInput.data(),
                  labels.data());
        const float* act = device.Forward(batchInput.data(), b, false);
        CodecRoundTrip(uplink, act, CutShape(device, b), codecRng, scratch.blob, scratch.decoded);
        const auto offset = static_cast<size_t>(start);
        std::memcpy(input.data() + offset * inSize, batchInput.data(),
                    static_cast<size_t>(b) * inSize * sizeof(float));
        std::memcpy(sent.data() + offset * cutSize, scratch.decoded.data(),
                    static_cast<size_t>(b) * cutSize * sizeof(float));
    }
    return BiasCorrectedDcorSq(input.data(), static_cast<int64_t>(inSize), sent.data(),
                               static_cast<int64_t>(cutSize), n);
}

} // namespace slsim
