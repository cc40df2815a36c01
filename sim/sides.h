// Builds the two sides of a scenario's split learning, and its schedule: training sides
// (sim/device-side.h, sim/server-side.h) or, with training.replay, replay sides
// (sim/replay-sides.h). The one place that knows both exist; RunScenario hands each device app one
// device side and the server app the server side.
#ifndef SLSIM_SIM_SIDES_H
#define SLSIM_SIM_SIDES_H

#include "sim/device-side.h"
#include "sim/network-config.h"
#include "sim/schedule.h"
#include "sim/server-side.h"
#include "sim/training-data.h"

#include <memory>
#include <string>
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
    std::vector<std::string> cutNames; // per cut group (sim/sides.h DeviceCuts), for leakage.csv
    // The training sides again (empty/null for a replay), for checkpoints.
    std::vector<TrainingDevice*> trainingDevices;
    TrainingServer* trainingServer = nullptr;

    int Devices() const
    {
        return static_cast<int>(devices.size());
    }
};

/// Per-device cuts: each device's cut (its `cut`, else model.cut), the number of device-side
/// layers it leaves, and its cut group: the distinct cuts numbered in order of first appearance,
/// so device 0's group is 0. Throws InputError as ResolveCut (models/model-spec.h).
struct DeviceCuts
{
    std::vector<std::string> cut;
    std::vector<size_t> layers;
    std::vector<int> group;
    int groups = 0;
};

DeviceCuts ResolveDeviceCuts(const ModelConfig& model, const std::vector<DeviceProfile>& devices);

/// Loads the data, partitions it across devices (Rng(seed, "partition")) and builds every side
/// from the same seeded init, as if the server had broadcast it. A replay loads the training set
/// for the shard sizes only (the partition depends on labels) and builds one model for the shapes,
/// sizes and FLOPs. Every side starts at round 0. Throws InputError for input files.
///
/// Per-device cuts (a device profile's `cut`): every device's device part is the model up to its
/// own cut; the server keeps a server part per distinct cut (splitfed_v2, sequential) or per
/// device at that device's cut (splitfed_v1); the evaluated model is device 0's cut. All copies
/// start from the same seeded init (or model.init_from), so every copy of a layer starts equal.
/// At a phase end the copies that hold the same tensor (PyTorch name and shape) agree again:
///   splitfed_v1, splitfed_v2: each tensor is the FedAvg of every copy holding it: the reported
///     device parts weighted by their devices' samples, each server part by the samples of the
///     reporting devices whose steps it served (a copy of weight 0 only receives the average);
///     with one cut this is exactly FedAvg of the device parts (and of v1's server copies);
///   sequential: the whole model as the last device left it (its device part and the server
///     part it trained with) is installed in every server part and every cut's device part;
///     with one cut this is exactly the hand-off.
/// Each device's next START carries its own cut's device part (through the sync codec; a
/// hand-off forwards the last report's blob unchanged to devices of its cut). Averaging and
/// hand-off take no simulated time, as before; bytes are those of each device's own cut and
/// state. With one distinct cut (whatever its spelling) the run is exactly today's run at it.
Sides BuildSides(const ScenarioConfig& config);

/// Writes checkpoints of the training sides into folder `dir` (created), each a safetensors file
/// with PyTorch state_dict names:
///   model.safetensors           the whole model as evaluated: the agreed device-side state (the
///                               first device's while there is none) and server copy 0
///   device-<d>.safetensors      device d's device-side part as it is now
///   server.safetensors          the server-side part (server-<c>.safetensors per copy when the
///                               schedule keeps per-device copies, or per cut group with
///                               per-device cuts)
/// U-shaped (model.head_cut): the device's head is in model.safetensors and device-<d>.safetensors
/// too (the unsplit model's PyTorch names, so the three parts never clash).
/// Nothing for a replay. Throws InputError naming a file that cannot be written.
void SaveCheckpoints(Sides& sides, const std::string& dir, const AgreedState& agreed);

} // namespace slsim

#endif
