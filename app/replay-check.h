// Replay compatibility: `training.replay` names a finished run whose training this scenario
// repeats exactly, whatever the network. The check runs before anything is built.
#ifndef SLSIM_APP_REPLAY_CHECK_H
#define SLSIM_APP_REPLAY_CHECK_H

#include "sim/scenario-config.h"

namespace slsim
{

/// Throws InputError("training.replay: ...") unless c.training.replay is the folder of a finished
/// run (manifest.json, steps.csv, eval.csv) with no device time-outs, of a schedule whose training
/// does not depend on arrival order (sequential, splitfed_v1), that agrees with c on everything
/// the training depends on (not the network, faults, time budget, threads or dataset.path). A key
/// the reference's manifest lacks (made before the key existed) counts as the key's default.
/// Sets c.training.evalAtStart to the reference's (false when its manifest predates the key):
/// a replay evaluates where its reference did.
void CheckReplaySource(ScenarioConfig& c);

} // namespace slsim

#endif
