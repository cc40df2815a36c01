#include "sim/device-side.h"

#include "common/error.h"
#include "sim/messages.h"
#include "sim/scenario-config.h"
#include "sim/split-pass.h"

namespace slsim
{

TrainingDevice::TrainingDevice(const ScenarioConfig& config, int d,
                               std::shared_ptr<TrainingData> data, std::vector<uint32_t> shard,
                               std::unique_ptr<Partition> model, WallAccount* wall)
    : m_config(config),
      m_id(d),
      m_data(std::move(data)),
      m_cursor(std::move(shard), config.training.batchSize,
               Rng(config.seed, "shuffle", static_cast<uint64_t>(d))),
      m_augment(config.seed, "augment", static_cast<uint64_t>(d)),
      m_codecRng(config.seed, "codec-device", static_cast<uint64_t>(d)),
      m_model(std::move(model)),
      m_wall(wall)
{
    m_model->SetInputGradientNeeded(false);
}

void
TrainingDevice::SetRound(int round)
{
    m_model->SetLearningRate(LearningRateAt(m_config.optimizer, round));
}

ForwardResult
TrainingDevice::Forward(std::vector<uint8_t>& body)
{
    WallAccount::Scope timer(m_wall);
    size_t batch = 0;
    const uint32_t* indices = m_cursor.Next(batch);
    const Shape in = m_model->InputShape();
    m_input.resize(batch * static_cast<size_t>(in.Numel()));
    m_labels.resize(batch);
    m_data->trainBatches->Make(indices, batch, m_config.dataset.augment, m_augment, m_input.data(),
                               m_labels.data());
    m_batch = static_cast<int>(batch);

    const float* act = m_model->Forward(m_input.data(), m_batch, true);
    const Shape cut = CutShape(*m_model, m_batch);
    RequireFinite(act, static_cast<size_t>(cut.Numel()),
                  "device " + std::to_string(m_id) + ": non-finite cut activations");

    ForwardResult r;
    // Decoded as the server will see it, to measure the codec's error on this message.
    SplitScratch& s = m_data->scratch;
    r.codecRelError = CodecRoundTrip(*m_data->uplink, act, cut, m_codecRng, s.blob, s.decoded);
    r.batch = m_batch;
    r.activationBytes = s.blob.size();
    WriteActivationsBody(m_labels, s.blob, body);
    return r;
}

void
TrainingDevice::Backward(const uint8_t* body, size_t size)
{
    WallAccount::Scope timer(m_wall);
    SplitScratch& s = m_data->scratch;
    const Shape shape = DecodeAny(body, size, s.decoded);
    if (shape.Numel() != m_batch * m_model->OutputShape().Numel())
    {
        throw DecodeError("gradient message: shape " + shape.ToString() + " does not match");
    }
    s.modelInput.assign(s.decoded.begin(), s.decoded.end());
    m_model->Backward(s.modelInput.data()); // straight-through the uplink codec
    m_model->Step();
}

std::vector<float>
TrainingDevice::State() const
{
    std::vector<float> state(m_model->StateSize());
    m_model->GetState(state.data());
    return state;
}

void
TrainingDevice::EncodeState(std::vector<uint8_t>& out)
{
    const std::vector<float> state = State();
    WallAccount::Scope timer(m_wall);
    m_data->sync->Encode(state.data(), Shape{static_cast<int64_t>(state.size())}, out, m_codecRng);
}

void
TrainingDevice::LoadState(const uint8_t* blob, size_t size)
{
    WallAccount::Scope timer(m_wall);
    std::vector<float>& state = m_data->scratch.decoded;
    const Shape shape = DecodeAny(blob, size, state);
    if (static_cast<size_t>(shape.Numel()) != m_model->StateSize())
    {
        throw DecodeError("weights message: " + std::to_string(shape.Numel()) + " values, expected "
                          + std::to_string(m_model->StateSize()));
    }
    m_model->SetState(state.data());
}

} // namespace slsim
