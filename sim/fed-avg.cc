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

void
SharedTensorAverage::Add(Partition& p, double w)
{
    SLSIM_ASSERT(w > 0);
    for (const NamedTensor& t : p.NamedTensors())
    {
        Sum& s = m_sums[{t.name, t.shape.dims}];
        const auto n = static_cast<size_t>(t.shape.Numel());
        s.acc.resize(n, 0.0);
        s.weight += w;
        for (size_t j = 0; j < n; ++j)
        {
            s.acc[j] += w * t.data[j]; // sum_i w_i theta_i
        }
    }
}

void
SharedTensorAverage::Install(Partition& p) const
{
    for (const NamedTensor& t : p.NamedTensors())
    {
        const auto it = m_sums.find({t.name, t.shape.dims});
        if (it == m_sums.end())
        {
            continue; // no contributor holds it: unchanged
        }
        const Sum& s = it->second;
        for (size_t j = 0; j < s.acc.size(); ++j)
        {
            t.data[j] = static_cast<float>(s.acc[j] / s.weight); // theta = sum_i w_i theta_i / w
        }
    }
}

} // namespace slsim
