#include "sim/device-side.h"

#include "common/error.h"
#include "sim/messages.h"
#include "sim/scenario-config.h"
#include "sim/split-pass.h"

#include <cmath>

namespace slsim
{

TrainingDevice::TrainingDevice(const ScenarioConfig& config, int d,
                               std::shared_ptr<TrainingData> data, std::vector<uint32_t> shard,
                               std::unique_ptr<Partition> model, WallAccount* wall,
                               std::unique_ptr<Partition> head)
    : m_config(config),
      m_id(d),
      m_data(std::move(data)),
      m_cursor(std::move(shard), config.training.batchSize,
               Rng(config.seed, "shuffle", static_cast<uint64_t>(d))),
      m_augment(config.seed, "augment", static_cast<uint64_t>(d)),
      m_codecRng(config.seed, "codec-device", static_cast<uint64_t>(d)),
      m_model(std::move(model)),
      m_wall(wall),
      m_head(std::move(head))
{
    m_model->SetInputGradientNeeded(false);
}

void
TrainingDevice::SetRound(int round)
{
    m_model->SetLearningRate(LearningRateAt(m_config.optimizer, round));
    if (m_head)
    {
        m_head->SetLearningRate(LearningRateAt(m_config.optimizer, round));
    }
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
    if (m_head)
    {
        body.insert(body.end(), s.blob.begin(), s.blob.end()); // U-shaped: no labels
        return r;
    }
    WriteActivationsBody(m_labels, s.blob, body);
    return r;
}

HeadResult
TrainingDevice::Head(const uint8_t* body, size_t size, std::vector<uint8_t>& out)
{
    SLSIM_ASSERT(m_head);
    WallAccount::Scope timer(m_wall);
    Shape shape;
    // The head's input is the scratch: its backward follows before anything else uses it.
    const float* z = DecodeBatch(body, size, m_head->InputShape().Numel(), "server output", shape);
    const float* grad = nullptr;
    const LossResult loss
        = ServerForwardBackward(*m_head, z, m_labels.data(), m_batch, m_logitGrad, grad);
    const std::string who = "device " + std::to_string(m_id);
    if (!std::isfinite(loss.loss))
    {
        throw TrainingDiverged(who + ": non-finite loss");
    }
    RequireFinite(grad, static_cast<size_t>(shape.Numel()),
                  who + ": non-finite gradient of the server output");
    m_data->headUplink->Encode(grad, shape, out, m_codecRng); // dL/dz^, straight through
    m_head->Step();
    return HeadResult{loss.loss, loss.correct, out.size()};
}

void
TrainingDevice::Backward(const uint8_t* body, size_t size)
{
    WallAccount::Scope timer(m_wall);
    Shape shape;
    const float* g = DecodeBatch(body, size, m_model->OutputShape().Numel(), "gradient", shape);
    m_model->Backward(g); // straight-through the uplink codec
    m_model->Step();
}

const float*
TrainingDevice::DecodeBatch(const uint8_t* blob, size_t size, int64_t perSample, const char* what,
                            Shape& shape)
{
    SplitScratch& s = m_data->scratch;
    shape = DecodeAny(blob, size, s.decoded);
    if (shape.Numel() != m_batch * perSample)
    {
        throw DecodeError(std::string(what) + " message: shape " + shape.ToString()
                          + " does not match");
    }
    s.modelInput.assign(s.decoded.begin(), s.decoded.end());
    return s.modelInput.data();
}

std::vector<float>
TrainingDevice::State() const
{
    const size_t front = m_model->StateSize();
    std::vector<float> state(front + (m_head ? m_head->StateSize() : 0));
    m_model->GetState(state.data());
    if (m_head)
    {
        m_head->GetState(state.data() + front);
    }
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
    const size_t front = m_model->StateSize();
    const size_t expected = front + (m_head ? m_head->StateSize() : 0);
    if (static_cast<size_t>(shape.Numel()) != expected)
    {
        throw DecodeError("weights message: " + std::to_string(shape.Numel()) + " values, expected "
                          + std::to_string(expected));
    }
    m_model->SetState(state.data());
    if (m_head)
    {
        m_head->SetState(state.data() + front);
    }
}

} // namespace slsim
