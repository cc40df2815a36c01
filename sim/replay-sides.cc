#include "sim/replay-sides.h"

#include "common/csv-writer.h"
#include "common/error.h"
#include "sim/messages.h"
#include "sim/scenario-config.h"

#include <cmath>

namespace slsim
{
namespace
{

Shape
WithBatch(Shape perSample, int batch)
{
    perSample.dims.insert(perSample.dims.begin(), static_cast<int64_t>(batch));
    return perSample;
}

} // namespace

ReplayDevice::ReplayDevice(const ScenarioConfig& config, int d, std::vector<uint32_t> shard,
                           const ReplayShapes& shapes, std::shared_ptr<ReplayProgress> progress)
    : m_id(d),
      m_cursor(std::move(shard), config.training.batchSize,
               Rng(config.seed, "shuffle", static_cast<uint64_t>(d))),
      m_shapes(shapes),
      m_progress(std::move(progress)),
      m_uplink(MakeCodec(config.uplink)),
      m_sync(MakeCodec(config.sync))
{
}

ForwardResult
ReplayDevice::Forward(std::vector<uint8_t>& body)
{
    size_t batch = 0;
    m_cursor.Next(batch);
    ++m_steps;
    const ReplayLog::Step& ref = m_progress->log.StepOf(m_id, m_round, m_steps);
    if (ref.batch != static_cast<int>(batch))
    {
        throw InputError("training.replay: step " + std::to_string(m_steps) + " of device "
                         + std::to_string(m_id) + " has batch " + std::to_string(batch)
                         + ", the reference's " + std::to_string(ref.batch));
    }
    const size_t blob = m_uplink->EncodedSize(WithBatch(m_shapes.cut, static_cast<int>(batch)));
    WriteReplayActivationsBody(
        ReplayActivationsBody{static_cast<uint32_t>(batch), static_cast<uint32_t>(m_id), m_steps},
        blob, body);
    ForwardResult r;
    r.batch = static_cast<int>(batch);
    r.activationBytes = blob;
    r.codecRelError = ref.codecRelError;
    return r;
}

void
ReplayDevice::Backward(const uint8_t*, size_t)
{
    ++m_progress->completedSteps; // the gradient is filler
}

void
ReplayDevice::EncodeState(std::vector<uint8_t>& out)
{
    out.assign(m_sync->EncodedSize(Shape{static_cast<int64_t>(m_shapes.stateSize)}), 0);
}

ReplayServer::ReplayServer(const ScenarioConfig& config, const ReplayShapes& shapes,
                           std::shared_ptr<ReplayProgress> progress)
    : m_shapes(shapes),
      m_progress(std::move(progress)),
      m_downlink(MakeCodec(config.downlink)),
      m_sync(MakeCodec(config.sync))
{
}

ServerResult
ReplayServer::Step(int, const uint8_t* body, size_t size, std::vector<uint8_t>& gradient)
{
    const ReplayActivationsBody b = ReadReplayActivationsBody(body, size);
    const ReplayLog::Step& ref
        = m_progress->log.StepOf(static_cast<int>(b.device), m_round, b.step);
    gradient.assign(m_downlink->EncodedSize(WithBatch(m_shapes.cut, static_cast<int>(b.batch))), 0);
    // batch_accuracy was written as correct / batch: the count comes back exactly.
    const auto correct = static_cast<int>(std::llround(ref.batchAccuracy * b.batch));
    return ServerResult{ref.loss, correct, static_cast<int>(b.batch)};
}

void
ReplayServer::EncodeState(const std::vector<float>&, std::vector<uint8_t>& out)
{
    out.assign(m_sync->EncodedSize(Shape{static_cast<int64_t>(m_shapes.stateSize)}), 0);
}

void
ReplayServer::DeviceTimedOut(int d, double timeS)
{
    throw InputError("training.replay: device " + std::to_string(d) + " timed out at "
                     + FormatDouble(timeS) + " s simulated (round " + std::to_string(m_round)
                     + "); the reference's training assumes every device finishes every "
                       "phase, so it does not hold on this network (raise faults.timeout_s or "
                       "run without replay)");
}

EvalResult
ReplayServer::Evaluate(const std::vector<float>*)
{
    const ReplayLog::Eval& e = m_progress->log.EvalAfter(m_progress->completedSteps);
    EvalResult r{e.accuracy, e.loss};
    r.cutDcorSq = e.cutDcorSq; // the reference's, as its accuracy
    return r;
}

} // namespace slsim
