// Running one scenario end to end: build the network, train over it, write the CSVs.
#ifndef SLSIM_SIM_RUN_H
#define SLSIM_SIM_RUN_H

#include "sim/scenario-config.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace slsim
{

struct RunSummary
{
    // Test accuracy and loss at the last evaluation, the best accuracy of any evaluation; NaN
    // when no evaluation happened (a run that diverged before its first one): summary.csv leaves
    // them empty and manifest.json writes null, never a 0 that reads like a result.
    double finalAccuracy = std::numeric_limits<double>::quiet_NaN();
    double finalLoss = std::numeric_limits<double>::quiet_NaN();
    double bestAccuracy = std::numeric_limits<double>::quiet_NaN();
    double timeToTargetS = -1;   // simulated seconds to reach training.targetAccuracy; -1 never
    double bytesUpToTarget = -1; // cumulative uplink bytes when the target was reached
    uint64_t bytesUp = 0;        // activations (+ labels, headers), device -> server
    uint64_t bytesDown = 0;      // gradients, server -> device
    uint64_t bytesSync = 0;      // weights hand-off / averaging, both directions
    double simTimeS = 0;
    double wallTimeS = 0;     // excluded from determinism checks
    double trainingWallS = 0; // wall time inside model compute and codecs
    double ns3WallS = 0;      // the rest of the simulation loop: ns-3 events, TCP, copies
    int64_t steps = 0;
    int rounds = 0;
    int dropouts = 0;      // device-rounds skipped after a timeout
    bool diverged = false; // training produced NaN/inf: the run stopped there
    // What TCP and the queues did (sim/network-stats.h), every device, both directions:
    uint64_t tcpRetransmissions = 0; // TCP segments sent again
    uint64_t tcpTimeouts = 0;        // retransmission-timer expiries
    uint64_t queueDrops = 0;         // packets dropped by a device queue or queue disc, all links
    uint64_t bytesRetransmitted = 0; // TCP payload bytes sent again
    // Energy (sim/energy.h), every device:
    double computeJ = 0;                              // compute (forward and backward passes)
    double radioJ = 0;                                // access radio (transmit, receive, idle)
    int batteryDropouts = 0;                          // devices whose battery was spent
    std::vector<std::vector<size_t>> labelHistograms; // [device][label], for the manifest
    // Run-state checkpoints (RunControl):
    int resumedFromRound = 0; // the round the run continued from (0: it started at the beginning)
    bool stopped = false;     // stopped at a round start with its state written: no CSV written
};

/// Run-state checkpoints and resume (sim/run-state.h); none by default.
struct RunControl
{
    std::string statePath;     // the run-state file written (and read by a resume)
    std::string fingerprint;   // the scenario's fingerprint stored in the file (app/ checks it)
    int stateEveryRounds = 0;  // write the state at every multiple of this many rounds (0: never)
    bool resume = false;       // continue from statePath (which must exist)
    int stopAtRound = 0;       // write the state at this round's start and stop (0: never)
    double stopAfterWallS = 0; // ... or at the first round start after this wall time (0: never)

    bool Active() const
    {
        return stateEveryRounds > 0 || resume || stopAtRound > 0 || stopAfterWallS > 0;
    }
};

/// Runs the scenario and writes, atomically, into outDir (created if missing):
///   steps.csv (one row per training step), eval.csv (one row per evaluation),
///   summary.csv (one row), devices.csv (one row per device), events.csv (drop-outs and
///   re-joins), frames.csv if recordFrames. Prints a warning on stderr when TCP retransmission
///   timers stalled connections for more than config.diagnostics.rtoWarningShare of the
///   simulated time.
/// Training that diverges (non-finite activations, loss or gradients) ends the run at that
/// simulated instant with an event "diverged" (device -1) and summary.diverged; it is not an error.
/// Throws InputError for problems with input files (datasets) or outDir.
///
/// `control` (sim/run-state.h): writes the run state at round starts, or continues from one (the
/// network restarts at the checkpoint's simulated instant); a stop (stopAtRound, stopAfterWallS)
/// writes the state and returns with summary.stopped and no CSV. Throws InputError when the
/// scenario cannot be resumed (CheckResumable) or the state does not fit.
RunSummary RunScenario(const ScenarioConfig& config, const std::string& outDir,
                       const RunControl& control = RunControl());

} // namespace slsim

#endif
