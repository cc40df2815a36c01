// Compute speeds checked against the model's FLOPs: every machine's unit of model work must last
// a time the simulator represents.
#ifndef SLSIM_APP_COMPUTE_CHECK_H
#define SLSIM_APP_COMPUTE_CHECK_H

#include "sim/scenario-config.h"

namespace slsim
{

/// The compute-time model (sim/compute-model.h: FLOPs per sample * batch / (GFLOP/s * 1e9)) gives
/// each device's forward and backward pass over a batch, the server's step over a batch and its
/// forward pass over an evaluation batch. Each must be at least 1 ns when it has any FLOPs (ns-3's
/// Time resolution: a shorter time rounds to 0) and at most 1e9 s (the simulated times the
/// scenario keys accept; ns-3's Time holds about 9.2e9 s). Throws InputError naming the key, the
/// speed and the time in units. A replay takes its compute times from the same model.
void CheckComputeTimes(const ScenarioConfig& config);

} // namespace slsim

#endif
