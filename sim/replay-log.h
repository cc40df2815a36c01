// The training side of a finished run, read back for a network-only replay (training.replay):
// per-step loss, batch accuracy and codec error from its steps.csv, per-round test accuracy and
// loss from its eval.csv. Numbers are read exactly (the CSVs hold shortest round-trip floats), so a
// replay writes them back byte for byte.
#ifndef SLSIM_SIM_REPLAY_LOG_H
#define SLSIM_SIM_REPLAY_LOG_H

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <tuple>

namespace slsim
{

class ReplayLog
{
  public:
    struct Step
    {
        int batch = 0;
        double loss = 0;
        double batchAccuracy = 0;
        double codecRelError = 0;
    };

    struct Eval
    {
        double accuracy = 0;
        double loss = 0;
        double cutDcorSq = std::numeric_limits<double>::quiet_NaN(); // NaN: not measured
    };

    /// Reads <folder>/steps.csv and <folder>/eval.csv. Throws InputError naming the file when one
    /// is missing, unreadable or lacks a column.
    explicit ReplayLog(const std::string& folder);

    /// Step `step` (the device's own 1-based counter) of device d in round `round` (0-based).
    /// Throws InputError when the reference has no such step.
    const Step& StepOf(int d, int round, uint32_t step) const;
    /// The evaluation made after `steps` completed steps (all devices together). A step count
    /// names the evaluated model: the reference evaluates at round ends, where every device has
    /// run all its steps. Throws InputError when the reference did not evaluate there.
    const Eval& EvalAfter(int64_t steps) const;

  private:
    std::string m_folder;
    std::map<std::tuple<int, int, uint32_t>, Step> m_steps; // (device, round, step)
    std::map<int64_t, Eval> m_evals;                        // steps
};

} // namespace slsim

#endif
