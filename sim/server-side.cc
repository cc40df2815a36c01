#include "sim/server-side.h"

#include "common/error.h"
#include "sim/device-side.h"
#include "sim/fed-avg.h"
#include "sim/leakage.h"
#include "sim/messages.h"
#include "sim/scenario-config.h"
#include "sim/schedule.h"
#include "sim/split-pass.h"

#include <algorithm>
#include <cmath>

namespace slsim
{

TrainingServer::TrainingServer(const ScenarioConfig& config, std::shared_ptr<TrainingData> data,
                               std::vector<std::unique_ptr<Partition>> copies,
                               std::unique_ptr<Partition> evalDevice,
                               const TrainingDevice* firstDevice, WallAccount* wall,
                               std::unique_ptr<Partition> evalHead)
    : m_config(config),
      m_data(std::move(data)),
      m_copies(std::move(copies)),
      m_evalDevice(std::move(evalDevice)),
      m_firstDevice(firstDevice),
      m_wall(wall),
      m_stateRng(config.seed, "codec"),
      m_classes(m_data->train.classes),
      m_stateSize(m_evalDevice->StateSize() + (evalHead ? evalHead->StateSize() : 0)),
      m_evalHead(std::move(evalHead)),
      m_inputs(m_copies.size()),
      m_pending(m_copies.size(), -1),
      m_batches(m_copies.size(), 0)
{
    SLSIM_ASSERT(!m_copies.empty());
    for (size_t c = 0; c < m_copies.size(); ++c)
    {
        m_copyRngs.emplace_back(config.seed, "codec-server", static_cast<uint64_t>(c));
    }
}

const float*
TrainingServer::AlignedDecoded()
{
    SplitScratch& s = m_data->scratch;
    s.modelInput.assign(s.decoded.begin(), s.decoded.end());
    return s.modelInput.data();
}

size_t
TrainingServer::CopyOf(int d) const
{
    if (!m_copyOf.empty())
    {
        return static_cast<size_t>(m_copyOf[static_cast<size_t>(d)]);
    }
    return m_copies.size() == 1 ? 0 : static_cast<size_t>(d);
}

void
TrainingServer::SetCutGroups(std::vector<int> groupOf, std::vector<int> copyOf,
                             std::vector<std::unique_ptr<Partition>> groupDevices,
                             std::vector<const TrainingDevice*> groupFirst)
{
    m_groupOf = std::move(groupOf);
    m_copyOf = std::move(copyOf);
    m_groupDevices = std::move(groupDevices);
    m_groupFirst = std::move(groupFirst);
    SLSIM_ASSERT(m_groupOf.size() == m_copyOf.size() && !m_groupDevices.empty());
    SLSIM_ASSERT(m_groupFirst.size() == m_groupDevices.size());
    SLSIM_ASSERT(m_groupDevices[0]->StateSize() == m_stateSize);
    m_groupAgreed.clear();
    for (const auto& p : m_groupDevices)
    {
        m_groupAgreed.emplace_back(p->StateSize());
        p->GetState(m_groupAgreed.back().data());
    }
}

Flops
TrainingServer::FlopsPerSampleFor(int d) const
{
    return m_copies[CopyOf(d)]->FlopsPerSample();
}

bool
TrainingServer::MergeMixedCuts(const std::map<int, std::vector<uint8_t>>& reports,
                               const std::vector<size_t>& shardSizes, bool handOff,
                               AgreedState& agreed)
{
    if (m_groupOf.empty())
    {
        return false;
    }
    WallAccount::Scope timer(m_wall);
    std::vector<float>& state = m_data->scratch.decoded;
    // A report decoded into the device partition of its device's cut.
    const auto load = [&](int d, const std::vector<uint8_t>& blob) -> Partition& {
        Partition& p = *m_groupDevices[static_cast<size_t>(m_groupOf[static_cast<size_t>(d)])];
        const Shape shape = DecodeAny(blob.data(), blob.size(), state);
        if (static_cast<size_t>(shape.Numel()) != p.StateSize())
        {
            throw DecodeError("weights message: " + std::to_string(shape.Numel())
                              + " values, expected " + std::to_string(p.StateSize()));
        }
        p.SetState(state.data());
        return p;
    };
    SharedTensorAverage average;
    const int last = reports.rbegin()->first;
    if (handOff)
    {
        // Sequential: the whole model as the last device left it (its device part and the server
        // part it trained with) goes on, to every server copy and every cut group.
        average.Add(load(last, reports.rbegin()->second), 1.0);
        average.Add(*m_copies[CopyOf(last)], 1.0);
    }
    else
    {
        // SplitFed: each tensor averaged over every copy that holds it, weighted by the samples
        // that trained the copy: a device part by its device's, a server copy by those of the
        // reporting devices whose steps it served.
        std::vector<double> copyWeight(m_copies.size(), 0.0);
        for (const auto& [d, blob] : reports)
        {
            const auto n = static_cast<double>(shardSizes[static_cast<size_t>(d)]);
            average.Add(load(d, blob), n);
            copyWeight[CopyOf(d)] += n;
        }
        for (size_t c = 0; c < m_copies.size(); ++c)
        {
            if (copyWeight[c] > 0)
            {
                average.Add(*m_copies[c], copyWeight[c]);
            }
        }
    }
    for (auto& c : m_copies)
    {
        average.Install(*c);
    }
    agreed.groupOf = m_groupOf;
    agreed.groupBlobs.resize(m_groupDevices.size());
    for (size_t g = 0; g < m_groupDevices.size(); ++g)
    {
        Partition& p = *m_groupDevices[g];
        std::vector<float>& s = m_groupAgreed[g];
        p.SetState(s.data());
        average.Install(p);
        p.GetState(s.data());
        if (handOff && static_cast<size_t>(m_groupOf[static_cast<size_t>(last)]) == g)
        {
            agreed.groupBlobs[g] = reports.rbegin()->second; // as it came, like a plain hand-off
        }
        else
        {
            m_data->sync->Encode(s.data(), Shape{static_cast<int64_t>(s.size())},
                                 agreed.groupBlobs[g], m_stateRng);
        }
    }
    agreed.weights = m_groupAgreed[0];
    agreed.blob = agreed.groupBlobs[0];
    agreed.valid = true;
    return true;
}

void
TrainingServer::SetRound(int round)
{
    const double lr = LearningRateAt(m_config.optimizer, round);
    for (auto& s : m_copies)
    {
        s->SetLearningRate(lr);
    }
}

ServerResult
TrainingServer::Step(int d, const uint8_t* body, size_t size, std::vector<uint8_t>& gradient)
{
    WallAccount::Scope timer(m_wall);
    if (m_evalHead)
    {
        return StepForward(CopyOf(d), d, body, size, gradient);
    }
    const ActivationsBody a = ReadActivationsBody(body, size);
    const uint32_t batch = a.batch;
    m_labels.resize(batch);
    for (uint32_t i = 0; i < batch; ++i)
    {
        if (a.labels[i] >= m_classes)
        {
            throw DecodeError("uplink message: label out of range");
        }
        m_labels[i] = a.labels[i];
    }
    const size_t copy = CopyOf(d);
    Partition& server = *m_copies[copy];
    const Shape shape = DecodeAny(a.blob, a.blobSize, m_data->scratch.decoded);
    const int64_t perSample = server.InputShape().Numel();
    if (shape.Numel() != static_cast<int64_t>(batch) * perSample)
    {
        throw DecodeError("uplink message: activation shape " + shape.ToString()
                          + " does not match the batch");
    }
    const float* cutGrad = nullptr;
    const LossResult loss = ServerForwardBackward(server, AlignedDecoded(), m_labels.data(),
                                                  static_cast<int>(batch), m_logitGrad, cutGrad);
    if (!std::isfinite(loss.loss))
    {
        throw TrainingDiverged("server: non-finite loss");
    }
    RequireFinite(cutGrad, static_cast<size_t>(shape.Numel()),
                  "server: non-finite gradient of the cut activations");
    m_data->downlink->Encode(cutGrad, shape, gradient, m_copyRngs[copy]);
    server.Step();
    return ServerResult{loss.loss, loss.correct, static_cast<int>(batch)};
}

ServerResult
TrainingServer::StepForward(size_t copy, int d, const uint8_t* body, size_t size,
                            std::vector<uint8_t>& serverOutput)
{
    SLSIM_ASSERT_MSG(m_pending[copy] < 0 || m_pending[copy] == d,
                     "U-shaped: a server copy serves one device's step at a time");
    Partition& server = *m_copies[copy];
    const Shape shape = DecodeAny(body, size, m_data->scratch.decoded); // the blob alone
    const int64_t batch = shape.dims.empty() ? 0 : shape.dims[0];
    if (batch < 1 || batch > MAX_MESSAGE_BATCH
        || shape.Numel() != batch * server.InputShape().Numel())
    {
        throw DecodeError("uplink message: activation shape " + shape.ToString()
                          + " does not match the server part's input");
    }
    // Kept per copy: the middle's backward needs its input when the head's gradient comes back.
    m_inputs[copy].assign(m_data->scratch.decoded.begin(), m_data->scratch.decoded.end());
    const int b = static_cast<int>(batch);
    const float* z = server.Forward(m_inputs[copy].data(), b, true);
    const Shape out = CutShape(server, b); // the server output's shape
    RequireFinite(z, static_cast<size_t>(out.Numel()), "server: non-finite server output");
    m_data->headDownlink->Encode(z, out, serverOutput, m_copyRngs[copy]);
    m_pending[copy] = d;
    m_batches[copy] = b;
    return ServerResult{0, 0, b}; // the loss is the device's
}

ServerResult
TrainingServer::StepBackward(int d, const uint8_t* body, size_t size,
                             std::vector<uint8_t>& gradient)
{
    SLSIM_ASSERT(m_evalHead);
    WallAccount::Scope timer(m_wall);
    const size_t copy = CopyOf(d);
    if (m_pending[copy] != d)
    {
        throw DecodeError("head gradient message from device " + std::to_string(d)
                          + " without its server output");
    }
    Partition& server = *m_copies[copy];
    const int b = m_batches[copy];
    const Shape shape = DecodeAny(body, size, m_data->scratch.decoded);
    if (shape.Numel() != b * server.OutputShape().Numel())
    {
        throw DecodeError("head gradient message: shape " + shape.ToString()
                          + " does not match the batch");
    }
    const float* cutGrad = server.Backward(AlignedDecoded()); // dL/dx^, straight through
    const Shape cut = CutShape(*m_evalDevice, b);             // the server input's
    RequireFinite(cutGrad, static_cast<size_t>(cut.Numel()),
                  "server: non-finite gradient of the cut activations");
    m_data->downlink->Encode(cutGrad, cut, gradient, m_copyRngs[copy]);
    server.Step();
    m_pending[copy] = -1;
    return ServerResult{0, 0, b};
}

void
TrainingServer::DeviceTimedOut(int d, double)
{
    for (int& p : m_pending)
    {
        p = p == d ? -1 : p; // its forward is undone by the copy's next one
    }
}

void
TrainingServer::DecodeState(const uint8_t* blob, size_t size, std::vector<float>& state)
{
    WallAccount::Scope timer(m_wall);
    const Shape shape = DecodeAny(blob, size, state);
    if (static_cast<size_t>(shape.Numel()) != m_stateSize)
    {
        throw DecodeError("weights message: " + std::to_string(shape.Numel()) + " values, expected "
                          + std::to_string(m_stateSize));
    }
}

void
TrainingServer::EncodeState(const std::vector<float>& state, std::vector<uint8_t>& out)
{
    WallAccount::Scope timer(m_wall);
    SLSIM_ASSERT(state.size() == m_stateSize);
    m_data->sync->Encode(state.data(), Shape{static_cast<int64_t>(m_stateSize)}, out, m_stateRng);
}

void
TrainingServer::AverageCopies(const std::vector<int>& devices, const std::vector<size_t>& samples)
{
    if (m_copies.size() == 1 || devices.empty())
    {
        return;
    }
    WallAccount::Scope timer(m_wall);
    std::vector<std::vector<float>> states;
    for (int d : devices)
    {
        const Partition& s = *m_copies[static_cast<size_t>(d)];
        states.emplace_back(s.StateSize());
        s.GetState(states.back().data());
    }
    const std::vector<float> avg = FedAvg(states, samples);
    for (auto& s : m_copies)
    {
        s->SetState(avg.data());
    }
}

void
TrainingServer::LoadEvalState(const std::vector<float>* agreed)
{
    const std::vector<float> state = agreed ? *agreed : m_firstDevice->State();
    SLSIM_ASSERT(state.size() == m_stateSize);
    m_evalDevice->SetState(state.data());
    if (m_evalHead)
    {
        m_evalHead->SetState(state.data() + m_evalDevice->StateSize());
    }
}

void
TrainingServer::SaveModel(const std::string& path, const std::vector<float>* agreed)
{
    LoadEvalState(agreed);
    std::vector<const Partition*> parts{m_evalDevice.get(), m_copies[0].get()};
    if (m_evalHead)
    {
        parts.push_back(m_evalHead.get());
    }
    SaveCheckpoint(path, parts);
}

EvalResult
TrainingServer::Evaluate(const std::vector<float>* agreed)
{
    WallAccount::Scope timer(m_wall);
    LoadEvalState(agreed);
    Partition& server = *m_copies[0];
    Rng evalCodecRng(m_config.seed, "eval-codec");
    const Dataset& test = m_data->test;
    const size_t n = test.Size();
    const auto chunk = static_cast<size_t>(m_config.training.evalBatch);
    const int64_t perSample = m_evalDevice->InputShape().Numel();
    std::vector<uint32_t> indices(chunk);
    Rng noAugment(0, "unused"); // BatchMaker takes an Rng; evaluation never augments
    double lossSum = 0;
    size_t correct = 0;
    for (size_t start = 0; start < n; start += chunk)
    {
        const size_t b = std::min(chunk, n - start);
        for (size_t i = 0; i < b; ++i)
        {
            indices[i] = static_cast<uint32_t>(start + i);
        }
        m_evalInput.resize(b * static_cast<size_t>(perSample));
        m_labels.resize(b);
        m_data->testBatches->Make(indices.data(), b, false, noAugment, m_evalInput.data(),
                                  m_labels.data());
        const float* act = m_evalDevice->Forward(m_evalInput.data(), static_cast<int>(b), false);
        if (m_config.training.compressEval)
        {
            CodecRoundTrip(*m_data->uplink, act, CutShape(*m_evalDevice, static_cast<int>(b)),
                           evalCodecRng, m_data->scratch.blob, m_data->scratch.decoded);
            act = AlignedDecoded();
        }
        const float* logits = server.Forward(act, static_cast<int>(b), false);
        if (m_evalHead) // U-shaped: the server output through its codec, then the device's head
        {
            if (m_config.training.compressEval)
            {
                CodecRoundTrip(*m_data->headDownlink, logits, CutShape(server, static_cast<int>(b)),
                               evalCodecRng, m_data->scratch.blob, m_data->scratch.decoded);
                logits = AlignedDecoded();
            }
            logits = m_evalHead->Forward(logits, static_cast<int>(b), false);
        }
        const LossResult r
            = SoftmaxCrossEntropy(logits, m_labels.data(), static_cast<int>(b), m_classes, nullptr);
        lossSum += r.loss * static_cast<double>(b);
        correct += static_cast<size_t>(r.correct);
    }
    EvalResult result{static_cast<double>(correct) / static_cast<double>(n),
                      lossSum / static_cast<double>(n)};
    const auto leakage = [&](Partition& device) {
        return CutLeakage(device, *m_data->testBatches, n, *m_data->uplink,
                          m_config.training.leakageSamples, m_config.training.batchSize,
                          Rng(m_config.seed, "leakage-codec"), m_data->scratch);
    };
    result.cutDcorSq = leakage(*m_evalDevice);
    // Per-device cuts: every other cut group's device part as `agreed` is to group 0's (its agreed
    // state, else its first device's), on the same samples and codec stream.
    for (size_t g = 0; !std::isnan(result.cutDcorSq) && g < m_groupDevices.size(); ++g)
    {
        if (g > 0)
        {
            const std::vector<float> state = agreed ? m_groupAgreed[g] : m_groupFirst[g]->State();
            m_groupDevices[g]->SetState(state.data());
        }
        result.groupCutDcorSq.push_back(g == 0 ? result.cutDcorSq : leakage(*m_groupDevices[g]));
    }
    return result;
}

} // namespace slsim
