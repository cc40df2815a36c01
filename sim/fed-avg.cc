#include "sim/fed-avg.h"

#include "common/error.h"

namespace slsim
{

std::vector<float>
FedAvg(const std::vector<std::vector<float>>& states, const std::vector<size_t>& samples)
{
    SLSIM_ASSERT(!states.empty() && states.size() == samples.size());
    double total = 0;
    for (size_t n : samples)
    {
        total += static_cast<double>(n);
    }
    std::vector<double> acc(states[0].size(), 0.0);
    for (size_t i = 0; i < states.size(); ++i)
    {
        SLSIM_ASSERT(states[i].size() == acc.size());
        const double w = static_cast<double>(samples[i]) / total;
        for (size_t j = 0; j < acc.size(); ++j)
        {
            acc[j] += w * states[i][j]; // FedAvg: sum_i (n_i / n) * theta_i
        }
    }
    return std::vector<float>(acc.begin(), acc.end());
}

} // namespace slsim
