// Builds the two sides of a scenario's split learning, and its schedule: training sides
// (sim/device-side.h, sim/server-side.h) or, with training.replay, replay sides
// (sim/replay-sides.h). The one place that knows both exist; RunScenario hands each device app one
// device side and the server app the server side.
#ifndef SLSIM_SIM_SIDES_H
#define SLSIM_SIM_SIDES_H

#include "sim/device-side.h"
#include "sim/schedule.h"
#include "sim/server-side.h"
#include "sim/training-data.h"

#include <memory>
#include <vector>

namespace slsim
{

struct ScenarioConfig;

struct Sides
{
    std::unique_ptr<WallAccount> wall; // model compute and codecs, all sides together
    std::vector<std::unique_ptr<DeviceSide>> devices;
    std::unique_ptr<ServerSide> server;
    std::unique_ptr<Schedule> schedule;
    std::vector<std::vector<size_t>> labelHistograms; // [device][label], for the manifest
    // The training sides again (empty/null for a replay), for checkpoints.
    std::vector<TrainingDevice*> trainingDevices;
    TrainingServer* trainingServer = nullptr;

    int Devices() const
    {
        return static_cast<int>(devices.size());
    }
};

/// Loads the data, partitions it across devices (Rng(seed, "partition")) and builds every side
/// from the same seeded init, as if the server had broadcast it. A replay loads the training set
/// for the shard sizes only (the partition depends on labels) and builds one model for the shapes,
/// sizes and FLOPs. Every side starts at round 0. Throws InputError for input files.
Sides BuildSides(const ScenarioConfig& config);

/// Writes checkpoints of the training sides into folder `dir` (created), each a safetensors file
/// with PyTorch state_dict names:
///   model.safetensors           the whole model as evaluated: the agreed device-side state (the
///                               first device's while there is none) and server copy 0
///   device-<d>.safetensors      device d's device-side part as it is now
///   server.safetensors          the server-side part (server-<d>.safetensors per device when the
///                               schedule keeps per-device copies)
/// U-shaped (model.head_cut): the device's head is in model.safetensors and device-<d>.safetensors
/// too (the unsplit model's PyTorch names, so the three parts never clash).
/// Nothing for a replay. Throws InputError naming a file that cannot be written.
void SaveCheckpoints(Sides& sides, const std::string& dir, const AgreedState& agreed);

} // namespace slsim

#endif
