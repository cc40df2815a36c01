// Optimizers over a partition's flat parameter buffer, as torch.optim defines them.
#ifndef SLSIM_MODELS_OPTIMIZER_H
#define SLSIM_MODELS_OPTIMIZER_H

#include "common/byte-io.h"
#include "models/split-model.h"

#include <cstdint>
#include <vector>

namespace slsim
{

/// SGD (momentum, dampening 0, weight decay, Nesterov) or Adam (L2 weight decay, no amsgrad).
/// Throws InputError for an unknown optimizer name or invalid hyperparameters.
class Optimizer
{
  public:
    Optimizer(const OptimizerConfig& config, size_t parameterCount);

    void SetLearningRate(double lr)
    {
        m_lr = lr;
    }

    double LearningRate() const
    {
        return m_lr;
    }

    /// One update of `params` with `grads` (both `parameterCount` floats).
    void Step(float* params, const float* grads);

    /// Run-state checkpoints (sim/run-state.h): the step count and the momentum / moment buffers
    /// (the learning rate is the schedule's, set again at every round). Load throws DecodeError
    /// when the saved buffers do not fit this optimizer.
    void Save(ByteWriter& out) const;
    void Load(ByteReader& in);

  private:
    OptimizerConfig m_config;
    bool m_adam;
    size_t m_n;
    double m_lr;
    int64_t m_steps = 0;
    std::vector<float> m_m; // SGD momentum buffer, or Adam exp_avg
    std::vector<float> m_v; // Adam exp_avg_sq
};

} // namespace slsim

#endif
