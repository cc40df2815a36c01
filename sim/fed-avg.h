// FedAvg (McMahan et al. 2017): the sample-weighted mean of model states,
//   theta = sum_i (n_i / n) * theta_i,  n = sum_i n_i,
// accumulated in double and rounded to float once at the end.
#ifndef SLSIM_SIM_FED_AVG_H
#define SLSIM_SIM_FED_AVG_H

#include "models/split-model.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace slsim
{

/// states[i] trained on samples[i] samples; all states the same size, at least one.
std::vector<float> FedAvg(const std::vector<std::vector<float>>& states,
                          const std::vector<size_t>& samples);

/// FedAvg over partitions that hold different parts of one model (per-device cuts): every tensor
/// is averaged over the partitions that hold it, theta = sum_i w_i theta_i / sum_i w_i, where a
/// tensor is the same when its PyTorch name and shape are (models/split-model.h NamedTensor).
/// Add each contributing partition with its weight (the samples that trained that copy), then
/// Install the averages into every partition that should agree (contributors or not).
class SharedTensorAverage
{
  public:
    /// Accumulates p's tensors (in double) with weight w > 0.
    void Add(Partition& p, double w);
    /// Overwrites each tensor of p that some contributor held with its average; p's other
    /// tensors keep their values.
    void Install(Partition& p) const;

  private:
    struct Sum
    {
        double weight = 0;
        std::vector<double> acc; // sum_i w_i theta_i
    };

    std::map<std::pair<std::string, std::vector<int64_t>>, Sum> m_sums; // (name, shape)
};

} // namespace slsim

#endif
