// Training schedules (Flower's Strategy): which devices train in a phase and for how many steps,
// what happens at a phase end (FedAvg weighted by shard size, or hand-off to the next device),
// whether the server keeps one model copy per device or one shared, and whether a network-only
// replay of the schedule is valid. ServerApp runs phases and rounds and asks its schedule; it
// holds no schedule knowledge itself.
//
// A new schedule is one class and one row in the registry (RegisterSchedule; the built-in rows are
// at the end of schedule.cc). tests/sim/test-schedule.cc adds a toy schedule that way.
#ifndef SLSIM_SIM_SCHEDULE_H
#define SLSIM_SIM_SCHEDULE_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace slsim
{

class ServerSide;

/// What a schedule knows of the run when it is built.
struct ScheduleContext
{
    std::vector<int> stepsPerEpoch; // per device: steps in one pass over its shard
    std::vector<size_t> shardSizes; // per device: samples (FedAvg weights)
    int syncEverySteps = 0;         // schedule.sync_every_steps (0: once per round)

    int Devices() const
    {
        return static_cast<int>(stepsPerEpoch.size());
    }
};

struct PhasePlan
{
    std::vector<std::pair<int, int>> devices; // (device, steps to run) in this phase
};

/// The device-side weights the server holds between phases: what the next START carries.
struct AgreedState
{
    bool valid = false;
    std::vector<float> weights;
    std::vector<uint8_t> blob; // the same through the sync codec
    // Per-device cuts only (sim/sides.h): the sync-codec blob of each cut group's device part
    // (`weights`/`blob` are group 0's, device 0's cut) and each device's group.
    std::vector<std::vector<uint8_t>> groupBlobs;
    std::vector<int> groupOf;

    /// What device d's START carries.
    const std::vector<uint8_t>& BlobFor(int d) const
    {
        return groupOf.empty() ? blob
                               : groupBlobs[static_cast<size_t>(groupOf[static_cast<size_t>(d)])];
    }
};

class Schedule
{
  public:
    virtual ~Schedule() = default;
    virtual void BeginRound() = 0;
    /// The next phase of the round; an empty plan ends the round.
    virtual PhasePlan NextPhase() = 0;
    /// Device d ended its phase: ran its steps (completed) or timed out.
    virtual void PhaseResult(int d, bool completed) = 0;
    /// The phase ended with `reports` (device -> WEIGHTS body, at least one): sets `agreed` (and
    /// the server's copies) to what the next phase starts from.
    virtual void ClosePhase(const std::map<int, std::vector<uint8_t>>& reports, ServerSide& server,
                            AgreedState& agreed)
        = 0;
    /// true: one server-side model copy per device; false: one shared copy.
    virtual bool PerDeviceServerCopies() const = 0;
    /// true when training does not depend on the order in which activations arrive, so that a
    /// run's training can be replayed over another network (training.replay).
    virtual bool SupportsReplay() const = 0;
};

using ScheduleFactory = std::function<std::unique_ptr<Schedule>(const ScheduleContext&)>;

/// Adds a schedule under `kind` (replacing one of that name). Returns true, so that a file can
/// register at static initialisation: `const bool registered = RegisterSchedule(...);`.
bool RegisterSchedule(const std::string& kind, ScheduleFactory factory);
/// Every registered kind, sorted.
std::vector<std::string> ScheduleKinds();
/// Throws InputError naming schedule.kind for an unknown kind.
std::unique_ptr<Schedule> MakeSchedule(const std::string& kind, const ScheduleContext& context);
/// Whether a replay of `kind` is valid (asks a schedule built on an empty context).
bool ScheduleSupportsReplay(const std::string& kind);

/// The hand-off at a phase end (vanilla split learning): the last report goes on unchanged.
void HandOff(const std::map<int, std::vector<uint8_t>>& reports, ServerSide& server,
             AgreedState& agreed);
/// FedAvg at a phase end: the reported states averaged weighted by shard size (and the server
/// copies of the reporting devices too when averageServerCopies), then encoded for the next START.
void AverageReports(const std::map<int, std::vector<uint8_t>>& reports,
                    const ScheduleContext& context, bool averageServerCopies, ServerSide& server,
                    AgreedState& agreed);

} // namespace slsim

#endif
