// FedAvg (McMahan et al. 2017): the sample-weighted mean of model states,
//   theta = sum_i (n_i / n) * theta_i,  n = sum_i n_i,
// accumulated in double and rounded to float once at the end.
#ifndef SLSIM_SIM_FED_AVG_H
#define SLSIM_SIM_FED_AVG_H

#include <cstddef>
#include <vector>

namespace slsim
{

/// states[i] trained on samples[i] samples; all states the same size, at least one.
std::vector<float> FedAvg(const std::vector<std::vector<float>>& states,
                          const std::vector<size_t>& samples);

} // namespace slsim

#endif
