// Network-only replay ("train once, re-simulate the network", training.replay = a finished run's
// folder): a device side and a server side that compute nothing. Every body they write has the
// size the real run's would (codec sizes are data-independent: Codec::EncodedSize) and is
// zero-filled, except that a replay ACTIVATIONS body carries (device, step) (sim/messages.h) so
// the server side finds the reference row without decoding. Loss, batch accuracy and codec error
// come from the reference's steps.csv by (device, round, step), test accuracy and loss from its
// eval.csv by completed steps (sim/replay-log.h).
//
// Valid only where training does not depend on arrival order (Schedule::SupportsReplay; app/
// checks) and no device times out (ReplayServer::DeviceTimedOut throws InputError).
#ifndef SLSIM_SIM_REPLAY_SIDES_H
#define SLSIM_SIM_REPLAY_SIDES_H

#include "common/shape.h"
#include "compression/codec.h"
#include "sim/device-side.h"
#include "sim/replay-log.h"
#include "sim/server-side.h"

#include <memory>

namespace slsim
{

/// What the replay sides of one run share: the reference and the steps completed so far (the
/// key of the reference's evaluations).
struct ReplayProgress
{
    explicit ReplayProgress(const std::string& folder)
        : log(folder)
    {
    }

    ReplayLog log;
    int64_t completedSteps = 0;
};

/// The shapes, sizes and FLOPs a replay needs of the model, taken from one built copy.
struct ReplayShapes
{
    Shape cut;            // cut activations per sample
    size_t stateSize = 0; // floats in a device-side state
    Flops deviceFlops, serverFlops;
};

class ReplayDevice : public DeviceSide
{
  public:
    ReplayDevice(const ScenarioConfig& config, int d, std::vector<uint32_t> shard,
                 const ReplayShapes& shapes, std::shared_ptr<ReplayProgress> progress);

    size_t ShardSize() const override
    {
        return m_cursor.Size();
    }

    int StepsPerEpoch() const override
    {
        return m_cursor.StepsPerPass();
    }

    Flops FlopsPerSample() const override
    {
        return m_shapes.deviceFlops;
    }

    void SetRound(int round) override
    {
        m_round = round;
    }

    ForwardResult Forward(std::vector<uint8_t>& body) override;
    void Backward(const uint8_t* body, size_t size) override;
    void EncodeState(std::vector<uint8_t>& out) override;

    void LoadState(const uint8_t*, size_t) override
    {
        // a replay's states are filler: nothing to load
    }

  private:
    int m_id;
    ShardCursor m_cursor; // the batch sizes, exactly as the real run walks its shard
    ReplayShapes m_shapes;
    std::shared_ptr<ReplayProgress> m_progress;
    std::unique_ptr<Codec> m_uplink, m_sync;
    int m_round = 0;
    uint32_t m_steps = 0; // forward passes so far (the device app's step counter)
};

class ReplayServer : public ServerSide
{
  public:
    ReplayServer(const ScenarioConfig& config, const ReplayShapes& shapes,
                 std::shared_ptr<ReplayProgress> progress);

    Flops FlopsPerSample() const override
    {
        return m_shapes.serverFlops;
    }

    void SetRound(int round) override
    {
        m_round = round;
    }

    ServerResult Step(int d, const uint8_t* body, size_t size,
                      std::vector<uint8_t>& gradient) override;

    void DecodeState(const uint8_t*, size_t, std::vector<float>& state) override
    {
        state.clear(); // filler: nothing to decode
    }

    void EncodeState(const std::vector<float>& state, std::vector<uint8_t>& out) override;

    void AverageCopies(const std::vector<int>&, const std::vector<size_t>&) override
    {
    }

    /// Throws InputError: the reference assumed every device finished every phase.
    void DeviceTimedOut(int d, double timeS) override;
    /// The reference's evaluation after as many steps as have completed here.
    EvalResult Evaluate(const std::vector<float>* agreed) override;

  private:
    ReplayShapes m_shapes;
    std::shared_ptr<ReplayProgress> m_progress;
    std::unique_ptr<Codec> m_downlink, m_sync;
    int m_round = 0;
};

} // namespace slsim

#endif
