#include "sim/strategy.h"

#include "common/error.h"
#include "sim/split-trainer.h"

#include <algorithm>

namespace slsim
{
namespace
{

/// Vanilla split learning: one device at a time, a whole pass over its shard, then hand-off.
class SequentialStrategy : public Strategy
{
  public:
    explicit SequentialStrategy(const SplitTrainer& trainer)
        : m_trainer(trainer)
    {
    }
    void BeginRound() override
    {
        m_next = 0;
    }
    PhasePlan NextPhase() override
    {
        PhasePlan plan;
        if (m_next < m_trainer.Devices())
        {
            plan.devices.emplace_back(m_next, m_trainer.StepsPerEpoch(m_next));
            ++m_next;
        }
        return plan;
    }
    void PhaseResult(int, bool) override
    {
    }
    bool Averages() const override
    {
        return false;
    }

  private:
    const SplitTrainer& m_trainer;
    int m_next = 0;
};

/// SplitFed: every device in parallel; averaging after `syncEverySteps` steps or once a round.
class ParallelStrategy : public Strategy
{
  public:
    ParallelStrategy(const SplitTrainer& trainer, int syncEverySteps)
        : m_trainer(trainer),
          m_sync(syncEverySteps),
          m_remaining(static_cast<size_t>(trainer.Devices()), 0),
          m_planned(static_cast<size_t>(trainer.Devices()), 0)
    {
    }
    void BeginRound() override
    {
        for (int d = 0; d < m_trainer.Devices(); ++d)
        {
            m_remaining[static_cast<size_t>(d)] = m_trainer.StepsPerEpoch(d);
        }
    }
    PhasePlan NextPhase() override
    {
        PhasePlan plan;
        for (int d = 0; d < m_trainer.Devices(); ++d)
        {
            const int left = m_remaining[static_cast<size_t>(d)];
            if (left > 0)
            {
                const int steps = m_sync > 0 ? std::min(m_sync, left) : left;
                m_planned[static_cast<size_t>(d)] = steps;
                plan.devices.emplace_back(d, steps);
            }
        }
        return plan;
    }
    void PhaseResult(int d, bool completed) override
    {
        int& left = m_remaining[static_cast<size_t>(d)];
        // A device that timed out sits out the rest of the round; it is invited again next round.
        left = completed ? left - m_planned[static_cast<size_t>(d)] : 0;
    }
    bool Averages() const override
    {
        return true;
    }

  private:
    const SplitTrainer& m_trainer;
    int m_sync;
    std::vector<int> m_remaining;
    std::vector<int> m_planned;
};

} // namespace

std::unique_ptr<Strategy>
MakeStrategy(const std::string& kind, const SplitTrainer& trainer, int syncEverySteps)
{
    if (kind == "sequential")
    {
        return std::make_unique<SequentialStrategy>(trainer);
    }
    if (kind == "splitfed_v1" || kind == "splitfed_v2")
    {
        return std::make_unique<ParallelStrategy>(trainer, syncEverySteps);
    }
    throw InputError("schedule.kind: must be sequential, splitfed_v1 or splitfed_v2, got '" +
                     kind + "'");
}

} // namespace slsim
