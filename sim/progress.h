// Progress of a long run on stderr: a recorder on the apps' trace sources (StepCompleted,
// EvaluationDone, Round) that never touches the CSVs. On a terminal it rewrites one line in place;
// otherwise it prints a plain line every `intervalS` of wall time and at every evaluation:
//
//   slsim: step 120/240 (50%) rounds 1/2 sim 12.300 s acc 0.8120 wall 5 s eta 5 s
//
// (rounds: completed; "acc -" before the first evaluation, "eta -" while unknown; with
// training.time_budget_s the fraction done is the larger of steps and simulated time.) Off unless
// app/ turns it on (SetProgressReporting), so that library users and tests stay silent.
#ifndef SLSIM_SIM_PROGRESS_H
#define SLSIM_SIM_PROGRESS_H

#include "ns3/ptr.h"

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace slsim
{

class DeviceApp;
class ServerApp;
struct ScenarioConfig;
struct Sides;

struct ProgressSettings
{
    bool enabled = false;
    std::ostream* out = nullptr; // nullptr: std::cerr
    bool terminal = false;       // rewrite one line in place ('\r') instead of printing lines
    double intervalS = 10;       // plain lines: at most one per this many wall seconds (and evals)

    /// stderr, as a terminal when isatty(stderr); `enabled` false for --quiet.
    static ProgressSettings Stderr(bool enabled);
};

/// The settings every later RunProgress(config, sides) takes (process-wide; set by app/).
void SetProgressReporting(const ProgressSettings& settings);
const ProgressSettings& ProgressReporting();

class RunProgress
{
  public:
    /// totalSteps: device steps in the whole run (0: unknown); rounds: training.epochs;
    /// timeBudgetS: training.time_budget_s (0: none).
    RunProgress(const ProgressSettings& settings, int64_t totalSteps, int rounds,
                double timeBudgetS);
    /// From the scenario and its sides, with ProgressReporting().
    RunProgress(const ScenarioConfig& config, const Sides& sides);
    /// Ends the in-place line with a newline.
    ~RunProgress();
    RunProgress(const RunProgress&) = delete;
    RunProgress& operator=(const RunProgress&) = delete;

    /// Connects to StepCompleted.
    void Watch(ns3::Ptr<DeviceApp> device);
    /// Connects to EvaluationDone and Round.
    void Watch(ns3::Ptr<ServerApp> server);

    // What the trace sources deliver (public so that a test can feed a recorder directly).
    void OnStep(int64_t stepsDone, double simTimeS);
    void OnEvaluation(int round, double accuracy, double simTimeS);
    void OnRound(int32_t completed);

    /// The current line, without '\r' or newline.
    std::string Line() const;

  private:
    void Show(bool force);

    ProgressSettings m_settings;
    int64_t m_totalSteps;
    int m_rounds;
    double m_timeBudgetS;
    int64_t m_steps = 0;
    int m_round = 0;
    double m_simTimeS = 0;
    double m_accuracy = -1; // < 0: no evaluation yet
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_lastShown;
    bool m_shownOnce = false;
    size_t m_lastWidth = 0;
};

} // namespace slsim

#endif
