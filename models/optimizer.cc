// SGD and Adam, following torch.optim (1.13) step by step in float arithmetic, and the
// learning-rate schedules of torch.optim.lr_scheduler stepped once per epoch.
#include "models/optimizer.h"

#include "common/error.h"
#include "common/state-io.h"
#include "models/layer.h"
#include "models/thread-pool.h"

#include <cmath>

namespace slsim
{

namespace
{

struct SgdRule
{
    float wd; // weight decay
    float lr;
    float mu; // momentum
};

/// One block of SGD over __restrict pointers (vectorises; a per-element lambda reloaded its
/// captured pointers after every store). MOMENTUM: with the buffer b; FIRST: b = d on the first
/// step; NESTEROV: d + mu b.
template <bool MOMENTUM, bool FIRST, bool NESTEROV>
void
SgdBlock(float* __restrict p, const float* __restrict g, float* __restrict b, int64_t n,
         const SgdRule& rule)
{
    const float wd = rule.wd;
    const float lr = rule.lr;
    const float mu = rule.mu;
    for (int64_t i = 0; i < n; ++i)
    {
        float d = g[i] + wd * p[i]; // d = g + wd p
        if (MOMENTUM)
        {
            b[i] = FIRST ? d : mu * b[i] + d;    // b = mu b + d (b = d on the first step)
            d = NESTEROV ? d + mu * b[i] : b[i]; // Nesterov: d + mu b
        }
        p[i] -= lr * d; // p -= lr d
    }
}

} // namespace

Optimizer::Optimizer(const OptimizerConfig& config, size_t parameterCount)
    : m_config(config),
      m_n(parameterCount),
      m_lr(config.lr)
{
    if (config.name != "sgd" && config.name != "adam")
    {
        throw InputError("optimizer.name: unknown optimizer '" + config.name
                         + "' (expected sgd or adam)");
    }
    if (!(config.lr >= 0) || !(config.momentum >= 0) || !(config.weightDecay >= 0))
    {
        throw InputError("optimizer: lr, momentum and weight_decay must be >= 0");
    }
    if (config.nesterov && config.momentum <= 0)
    {
        throw InputError("optimizer.nesterov: needs momentum > 0");
    }
    m_adam = config.name == "adam";
    if (m_adam || config.momentum > 0)
    {
        m_m.assign(m_n, 0.0f);
    }
    if (m_adam)
    {
        m_v.assign(m_n, 0.0f);
    }
}

void
Optimizer::Step(float* params, const float* grads)
{
    ++m_steps;
    const auto n = static_cast<int64_t>(m_n);
    const float wd = static_cast<float>(m_config.weightDecay);
    const float lr = static_cast<float>(m_lr);
    if (!m_adam)
    {
        const float mu = static_cast<float>(m_config.momentum);
        const bool first = m_steps == 1;
        const bool nesterov = m_config.nesterov;
        float* buf = m_m.empty() ? nullptr : m_m.data();
        const SgdRule rule{wd, lr, mu};
        ParallelBlocks(n, static_cast<size_t>(m_n), [&](int64_t lo, int64_t hi) {
            float* p = params + lo;
            const float* g = grads + lo;
            float* b = buf ? buf + lo : nullptr;
            const int64_t count = hi - lo;
            if (!buf)
            {
                SgdBlock<false, false, false>(p, g, b, count, rule);
            }
            else if (first)
            {
                nesterov ? SgdBlock<true, true, true>(p, g, b, count, rule)
                         : SgdBlock<true, true, false>(p, g, b, count, rule);
            }
            else
            {
                nesterov ? SgdBlock<true, false, true>(p, g, b, count, rule)
                         : SgdBlock<true, false, false>(p, g, b, count, rule);
            }
        });
        return;
    }
    const float b1 = static_cast<float>(m_config.beta1);
    const float b2 = static_cast<float>(m_config.beta2);
    const double bc1 = 1.0 - std::pow(m_config.beta1, static_cast<double>(m_steps));
    const double bc2 = 1.0 - std::pow(m_config.beta2, static_cast<double>(m_steps));
    const float stepSize = static_cast<float>(m_lr / bc1);
    const float bc2Sqrt = static_cast<float>(std::sqrt(bc2));
    const float eps = static_cast<float>(m_config.eps);
    float* m = m_m.data();
    float* v = m_v.data();
    ParallelFor(0, n, static_cast<size_t>(m_n), [&](int64_t i) {
        const float g = grads[i] + wd * params[i];           // g += wd p
        m[i] = m[i] * b1 + (1.0f - b1) * g;                  // m = b1 m + (1 - b1) g
        v[i] = v[i] * b2 + (1.0f - b2) * g * g;              // v = b2 v + (1 - b2) g^2
        const float denom = std::sqrt(v[i]) / bc2Sqrt + eps; // sqrt(v / bc2) + eps
        params[i] -= stepSize * m[i] / denom;                // p -= lr / bc1 m / denom
    });
}

double
LearningRateAt(const OptimizerConfig& opt, int epoch)
{
    if (epoch < 0)
    {
        throw InputError("epoch must be >= 0");
    }
    if (opt.schedule == "constant")
    {
        return opt.lr;
    }
    if (opt.schedule == "step")
    {
        if (opt.stepEpochs <= 0)
        {
            throw InputError("optimizer.step_epochs: must be > 0");
        }
        return opt.lr * std::pow(opt.gamma, epoch / opt.stepEpochs); // StepLR
    }
    if (opt.schedule == "multistep")
    {
        int passed = 0;
        for (int m : opt.milestones)
        {
            passed += m <= epoch ? 1 : 0;
        }
        return opt.lr * std::pow(opt.gamma, passed); // MultiStepLR
    }
    if (opt.schedule == "cosine")
    {
        if (opt.totalEpochs <= 0)
        {
            throw InputError("optimizer.total_epochs: must be > 0 for the cosine schedule");
        }
        // CosineAnnealingLR, eta_min = 0: lr (1 + cos(pi t / T_max)) / 2
        const double pi = 3.14159265358979323846;
        return opt.lr * (1.0 + std::cos(pi * epoch / opt.totalEpochs)) / 2.0;
    }
    throw InputError("optimizer.schedule: unknown schedule '" + opt.schedule
                     + "' (expected constant, step, multistep or cosine)");
}

void
Optimizer::Save(ByteWriter& out) const
{
    PutPod(out, m_steps);
    PutPodVector(out, m_m);
    PutPodVector(out, m_v);
}

void
Optimizer::Load(ByteReader& in)
{
    GetPod(in, m_steps);
    GetPodVector(in, m_m, "optimizer buffer", m_m.size());
    GetPodVector(in, m_v, "optimizer second-moment buffer", m_v.size());
}

} // namespace slsim
