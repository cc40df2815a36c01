// Schedules: who trains next and how device-side weights move (Flower-style strategy objects,
// kept apart from the applications and from transport).
#ifndef SLSIM_SIM_STRATEGY_H
#define SLSIM_SIM_STRATEGY_H

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace slsim
{

class SplitTrainer;

struct PhasePlan
{
    std::vector<std::pair<int, int>> devices; // (device, steps to run) in this phase
};

class Strategy
{
  public:
    virtual ~Strategy() = default;
    virtual void BeginRound() = 0;
    /// The next phase of the round; an empty plan ends the round.
    virtual PhasePlan NextPhase() = 0;
    /// Device d ended its phase: ran its steps (completed) or timed out.
    virtual void PhaseResult(int d, bool completed) = 0;
    /// true: the reported device weights are averaged (FedAvg) and broadcast; false: the last
    /// report is handed on to the next device unchanged (vanilla SL).
    virtual bool Averages() const = 0;
};

/// kind: sequential | splitfed_v1 | splitfed_v2 (v1 and v2 differ on the server side only).
std::unique_ptr<Strategy> MakeStrategy(const std::string& kind, const SplitTrainer& trainer,
                                       int syncEverySteps);

} // namespace slsim

#endif
