#include "sim/split-trainer.h"

#include "common/byte-io.h"
#include "common/csv-writer.h"
#include "common/error.h"

#include <algorithm>
#include <cmath>

namespace slsim
{
namespace
{

/// Throws TrainingDiverged when any of the n values is NaN or infinite.
void
RequireFinite(const float* x, size_t n, const std::string& what)
{
    for (size_t i = 0; i < n; ++i)
    {
        if (!std::isfinite(x[i]))
        {
            throw TrainingDiverged(what);
        }
    }
}

} // namespace

/// Times a scope into the trainer's wall-clock account (reported as the training share).
class SplitTrainer::WallTimer
{
  public:
    explicit WallTimer(std::chrono::duration<double>& account)
        : m_account(account),
          m_start(std::chrono::steady_clock::now())
    {
    }
    ~WallTimer()
    {
        m_account += std::chrono::steady_clock::now() - m_start;
    }

  private:
    std::chrono::duration<double>& m_account;
    std::chrono::steady_clock::time_point m_start;
};

struct SplitTrainer::DeviceState
{
    std::unique_ptr<Partition> model;
    std::vector<uint32_t> shard;
    size_t cursor = 0;
    Rng shuffle;
    Rng augment;
    Rng codec; // uplink activations and this device's state
    uint32_t steps = 0; // forward passes so far (the device app's step counter)
    AlignedVector<float> input; // the batch; must outlive Backward
    std::vector<int32_t> labels;
    int batch = 0;
    double gflops = 1;

    DeviceState(uint64_t seed, int d)
        : shuffle(seed, "shuffle", static_cast<uint64_t>(d)),
          augment(seed, "augment", static_cast<uint64_t>(d)),
          codec(seed, "codec-device", static_cast<uint64_t>(d))
    {
    }
};

SplitTrainer::SplitTrainer(const ScenarioConfig& config)
    : m_config(config),
      m_codecRng(config.seed, "codec")
{
    if (!config.training.replay.empty())
    {
        m_replay = std::make_unique<ReplayLog>(config.training.replay);
    }
    SetThreadCount(config.model.threads);
    // A replay needs the training set for the shard sizes only (the partition depends on labels).
    m_train = LoadDataset(config.dataset, true, config.seed);
    if (!m_replay)
    {
        m_trainBatches = std::make_unique<BatchMaker>(m_train, config.dataset);
        m_test = LoadDataset(config.dataset, false, config.seed);
        m_testBatches = std::make_unique<BatchMaker>(m_test, config.dataset);
    }
    m_classes = m_train.classes;

    ModelConfig model = config.model;
    model.input = m_train.SampleShape();
    model.classes = m_train.classes;

    const int devices = static_cast<int>(config.network.devices.size());
    Rng partitionRng(config.seed, "partition");
    auto shards = PartitionDataset(m_train, devices, config.partition, partitionRng);
    m_histograms = slsim::LabelHistograms(m_train, shards);

    m_perDeviceServer = config.schedule.kind == "splitfed_v1";
    // One model for the shapes, sizes and FLOPs (a replay builds no other).
    m_evalDevice = BuildSplitModel(model, config.optimizer, config.seed).device;
    m_cut = m_evalDevice->OutputShape();
    m_stateSize = m_evalDevice->StateSize();
    m_deviceFlops = m_evalDevice->FlopsPerSample();
    for (int d = 0; d < devices; ++d)
    {
        auto state = std::make_unique<DeviceState>(config.seed, d);
        state->shard = std::move(shards[static_cast<size_t>(d)]);
        state->shuffle.Shuffle(state->shard);
        state->gflops = config.network.devices[static_cast<size_t>(d)].gflops;
        if (!m_replay || d == 0)
        {
            // Every copy starts from the same seeded init, as if the server had broadcast it.
            SplitModel split = BuildSplitModel(model, config.optimizer, config.seed);
            state->model = std::move(split.device);
            state->model->SetInputGradientNeeded(false);
            if (d == 0 || m_perDeviceServer)
            {
                m_serverCodecRngs.emplace_back(config.seed, "codec-server", static_cast<uint64_t>(d));
                m_serverCopies.push_back(std::move(split.server));
            }
        }
        m_devices.push_back(std::move(state));
    }
    m_serverFlops = m_serverCopies[0]->FlopsPerSample();
    if (m_replay)
    {
        m_devices[0]->model.reset();
        m_serverCopies.clear(); // the FLOPs are all a replay needs of them
    }

    m_uplink = MakeCodec(config.uplink);
    m_downlink = MakeCodec(config.downlink);
    m_sync = MakeCodec(config.sync);
}

SplitTrainer::~SplitTrainer() = default;

const float*
SplitTrainer::AlignedDecoded()
{
    m_modelInput.assign(m_decoded.begin(), m_decoded.end());
    return m_modelInput.data();
}

int
SplitTrainer::StepsPerEpoch(int d) const
{
    const size_t n = m_devices[static_cast<size_t>(d)]->shard.size();
    const auto b = static_cast<size_t>(m_config.training.batchSize);
    return static_cast<int>((n + b - 1) / b);
}

size_t
SplitTrainer::ShardSize(int d) const
{
    return m_devices[static_cast<size_t>(d)]->shard.size();
}

Shape
SplitTrainer::CutShapeOf(int batch) const
{
    Shape cut = m_cut;
    cut.dims.insert(cut.dims.begin(), static_cast<int64_t>(batch));
    return cut;
}

void
SplitTrainer::Filler(const Codec& codec, const Shape& shape, std::vector<uint8_t>& out)
{
    out.assign(codec.EncodedSize(shape), 0);
}

void
SplitTrainer::SetEpoch(int epoch)
{
    m_round = epoch;
    if (m_replay)
    {
        return;
    }
    const double lr = LearningRateAt(m_config.optimizer, epoch);
    for (auto& d : m_devices)
    {
        d->model->SetLearningRate(lr);
    }
    for (auto& s : m_serverCopies)
    {
        s->SetLearningRate(lr);
    }
}

ForwardResult
SplitTrainer::DeviceForward(int d, std::vector<uint8_t>& body)
{
    WallTimer timer(m_trainingWall);
    DeviceState& dev = *m_devices[static_cast<size_t>(d)];
    SLSIM_ASSERT(!dev.shard.empty());
    if (dev.cursor >= dev.shard.size())
    {
        dev.cursor = 0;
        dev.shuffle.Shuffle(dev.shard); // a new pass over the shard
    }
    const size_t batch = std::min<size_t>(static_cast<size_t>(m_config.training.batchSize),
                                          dev.shard.size() - dev.cursor);
    ++dev.steps;
    if (m_replay)
    {
        dev.cursor += batch;
        return ReplayForward(d, static_cast<int>(batch), body);
    }
    const Shape in = dev.model->InputShape();
    dev.input.resize(batch * static_cast<size_t>(in.Numel()));
    dev.labels.resize(batch);
    m_trainBatches->Make(dev.shard.data() + dev.cursor, batch, m_config.dataset.augment,
                         dev.augment, dev.input.data(), dev.labels.data());
    dev.cursor += batch;
    dev.batch = static_cast<int>(batch);

    const float* act = dev.model->Forward(dev.input.data(), dev.batch, true);
    const Shape cut = CutShapeOf(dev.batch);
    RequireFinite(act, static_cast<size_t>(cut.Numel()),
                  "device " + std::to_string(d) + ": non-finite cut activations");

    // Body: u32 batch, batch label bytes, then the uplink codec blob.
    ByteWriter w(body);
    w.PutU32(static_cast<uint32_t>(batch));
    for (int32_t label : dev.labels)
    {
        w.PutU8(static_cast<uint8_t>(label));
    }
    m_uplink->Encode(act, cut, m_scratchBlob, dev.codec);
    w.PutBytes(m_scratchBlob.data(), m_scratchBlob.size());

    ForwardResult r;
    r.batch = dev.batch;
    r.activationBytes = m_scratchBlob.size();
    // What the server will see, to measure the codec's error on this message.
    m_uplink->Decode(m_scratchBlob.data(), m_scratchBlob.size(), m_decoded);
    r.codecRelError = RelativeL2Error(act, m_decoded.data(), static_cast<size_t>(cut.Numel()));
    return r;
}

ServerResult
SplitTrainer::ServerStep(int copy, const uint8_t* body, size_t size, std::vector<uint8_t>& grad)
{
    WallTimer timer(m_trainingWall);
    if (m_replay)
    {
        return ReplayServerStep(body, size, grad);
    }
    ByteReader r(body, size);
    const uint32_t batch = r.GetU32();
    if (batch == 0 || batch > 1u << 20)
    {
        throw DecodeError("uplink message: bad batch size " + std::to_string(batch));
    }
    const uint8_t* labelBytes = r.Take(batch, "labels");
    m_labels.resize(batch);
    for (uint32_t i = 0; i < batch; ++i)
    {
        if (labelBytes[i] >= m_classes)
        {
            throw DecodeError("uplink message: label out of range");
        }
        m_labels[i] = labelBytes[i];
    }
    Partition& server = *m_serverCopies[static_cast<size_t>(copy)];
    const Shape shape = DecodeAny(body + r.Position(), r.Remaining(), m_decoded);
    const int64_t perSample = server.InputShape().Numel();
    if (shape.Numel() != static_cast<int64_t>(batch) * perSample)
    {
        throw DecodeError("uplink message: activation shape " + shape.ToString() +
                          " does not match the batch");
    }
    const float* logits = server.Forward(AlignedDecoded(), static_cast<int>(batch), true);
    m_logitGrad.resize(static_cast<size_t>(batch) * static_cast<size_t>(m_classes));
    const LossResult loss = SoftmaxCrossEntropy(logits, m_labels.data(), static_cast<int>(batch),
                                                m_classes, m_logitGrad.data());
    const float* cutGrad = server.Backward(m_logitGrad.data());
    if (!std::isfinite(loss.loss))
    {
        throw TrainingDiverged("server: non-finite loss");
    }
    RequireFinite(cutGrad, static_cast<size_t>(shape.Numel()),
                  "server: non-finite gradient of the cut activations");
    m_downlink->Encode(cutGrad, shape, grad, m_serverCodecRngs[static_cast<size_t>(copy)]);
    server.Step();
    return ServerResult{loss.loss, loss.correct, static_cast<int>(batch)};
}

void
SplitTrainer::DeviceBackward(int d, const uint8_t* grad, size_t size)
{
    WallTimer timer(m_trainingWall);
    ++m_completedSteps;
    if (m_replay)
    {
        return; // the gradient is filler
    }
    DeviceState& dev = *m_devices[static_cast<size_t>(d)];
    const Shape shape = DecodeAny(grad, size, m_decoded);
    if (shape.Numel() != dev.batch * dev.model->OutputShape().Numel())
    {
        throw DecodeError("gradient message: shape " + shape.ToString() + " does not match");
    }
    dev.model->Backward(AlignedDecoded()); // straight-through the uplink codec
    dev.model->Step();
}

void
SplitTrainer::EncodeDeviceState(int d, std::vector<uint8_t>& out)
{
    EncodeStateWith(DeviceStateOf(d), m_devices[static_cast<size_t>(d)]->codec, out);
}

void
SplitTrainer::EncodeState(const std::vector<float>& state, std::vector<uint8_t>& out)
{
    EncodeStateWith(state, m_codecRng, out);
}

void
SplitTrainer::EncodeStateWith(const std::vector<float>& state, Rng& rng, std::vector<uint8_t>& out)
{
    WallTimer timer(m_trainingWall);
    const Shape shape{static_cast<int64_t>(m_stateSize)};
    if (m_replay)
    {
        Filler(*m_sync, shape, out); // a replay's states are empty
        return;
    }
    SLSIM_ASSERT(state.size() == m_stateSize);
    m_sync->Encode(state.data(), shape, out, rng);
}

std::vector<float>
SplitTrainer::DeviceStateOf(int d) const
{
    if (m_replay)
    {
        return {};
    }
    const Partition& model = *m_devices[static_cast<size_t>(d)]->model;
    std::vector<float> state(model.StateSize());
    model.GetState(state.data());
    return state;
}

void
SplitTrainer::DecodeState(const uint8_t* blob, size_t size, std::vector<float>& state)
{
    WallTimer timer(m_trainingWall);
    if (m_replay)
    {
        state.clear(); // filler: nothing to decode
        return;
    }
    const Shape shape = DecodeAny(blob, size, state);
    if (static_cast<size_t>(shape.Numel()) != m_stateSize)
    {
        throw DecodeError("weights message: " + std::to_string(shape.Numel()) +
                          " values, expected " + std::to_string(m_stateSize));
    }
}

void
SplitTrainer::SetDeviceState(int d, const std::vector<float>& state)
{
    if (m_replay)
    {
        return;
    }
    m_devices[static_cast<size_t>(d)]->model->SetState(state.data());
}

std::vector<float>
SplitTrainer::Average(const std::vector<std::vector<float>>& states,
                      const std::vector<int>& devices) const
{
    SLSIM_ASSERT(!states.empty() && states.size() == devices.size());
    double total = 0;
    for (int d : devices)
    {
        total += static_cast<double>(ShardSize(d));
    }
    std::vector<double> acc(states[0].size(), 0.0);
    for (size_t i = 0; i < states.size(); ++i)
    {
        const double w = static_cast<double>(ShardSize(devices[i])) / total;
        for (size_t j = 0; j < acc.size(); ++j)
        {
            acc[j] += w * states[i][j]; // FedAvg: sum_i (n_i / n) * theta_i
        }
    }
    return std::vector<float>(acc.begin(), acc.end());
}

void
SplitTrainer::AverageServerCopies(const std::vector<int>& devices)
{
    if (m_replay || m_serverCopies.size() == 1 || devices.empty())
    {
        return;
    }
    WallTimer timer(m_trainingWall);
    std::vector<std::vector<float>> states;
    for (int d : devices)
    {
        Partition& s = *m_serverCopies[static_cast<size_t>(d)];
        states.emplace_back(s.StateSize());
        s.GetState(states.back().data());
    }
    const std::vector<float> avg = Average(states, devices);
    for (auto& s : m_serverCopies)
    {
        s->SetState(avg.data());
    }
}

EvalResult
SplitTrainer::Evaluate(const std::vector<float>& deviceState, int copy)
{
    WallTimer timer(m_trainingWall);
    if (m_replay)
    {
        const ReplayLog::Eval& e = m_replay->EvalAfter(m_completedSteps);
        return EvalResult{e.accuracy, e.loss};
    }
    m_evalDevice->SetState(deviceState.data());
    Partition& server = *m_serverCopies[static_cast<size_t>(copy)];
    Rng evalCodecRng(m_config.seed, "eval-codec");
    const size_t n = m_test.Size();
    const size_t chunk = static_cast<size_t>(m_config.training.evalBatch);
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
        m_testBatches->Make(indices.data(), b, false, noAugment, m_evalInput.data(),
                            m_labels.data());
        const float* act = m_evalDevice->Forward(m_evalInput.data(), static_cast<int>(b), false);
        if (m_config.training.compressEval)
        {
            Shape cut = m_evalDevice->OutputShape();
            cut.dims.insert(cut.dims.begin(), static_cast<int64_t>(b));
            m_uplink->Encode(act, cut, m_scratchBlob, evalCodecRng);
            m_uplink->Decode(m_scratchBlob.data(), m_scratchBlob.size(), m_decoded);
            act = AlignedDecoded();
        }
        const float* logits = server.Forward(act, static_cast<int>(b), false);
        const LossResult r =
            SoftmaxCrossEntropy(logits, m_labels.data(), static_cast<int>(b), m_classes, nullptr);
        lossSum += r.loss * static_cast<double>(b);
        correct += static_cast<size_t>(r.correct);
    }
    return EvalResult{static_cast<double>(correct) / static_cast<double>(n),
                      lossSum / static_cast<double>(n)};
}

ForwardResult
SplitTrainer::ReplayForward(int d, int batch, std::vector<uint8_t>& body)
{
    DeviceState& dev = *m_devices[static_cast<size_t>(d)];
    const ReplayLog::Step& ref = m_replay->StepOf(d, m_round, dev.steps);
    if (ref.batch != batch)
    {
        throw InputError("training.replay: step " + std::to_string(dev.steps) + " of device " +
                         std::to_string(d) + " has batch " + std::to_string(batch) +
                         ", the reference's " + std::to_string(ref.batch));
    }
    // Body as in the real run: u32 batch, batch label bytes, the uplink blob (zeros). The filler
    // after the batch carries (device, step) so that ReplayServerStep finds its row without a
    // device id (sequential has one server copy for all devices).
    const size_t blob = m_uplink->EncodedSize(CutShapeOf(batch));
    const size_t end = body.size() + 4 + static_cast<size_t>(batch) + blob;
    ByteWriter w(body);
    w.PutU32(static_cast<uint32_t>(batch));
    w.PutU32(static_cast<uint32_t>(d));
    w.PutU32(dev.steps);
    SLSIM_ASSERT(body.size() <= end);
    body.resize(end, 0);

    ForwardResult r;
    r.batch = batch;
    r.activationBytes = blob;
    r.codecRelError = ref.codecRelError;
    return r;
}

ServerResult
SplitTrainer::ReplayServerStep(const uint8_t* body, size_t size, std::vector<uint8_t>& grad)
{
    ByteReader r(body, size);
    const uint32_t batch = r.GetU32();
    const auto d = static_cast<int>(r.GetU32());
    const uint32_t step = r.GetU32();
    const ReplayLog::Step& ref = m_replay->StepOf(d, m_round, step);
    Filler(*m_downlink, CutShapeOf(static_cast<int>(batch)), grad);
    // batch_accuracy was written as correct / batch: the count comes back exactly.
    const auto correct = static_cast<int>(std::llround(ref.batchAccuracy * batch));
    return ServerResult{ref.loss, correct, static_cast<int>(batch)};
}

void
SplitTrainer::DeviceTimedOut(int d, double timeS) const
{
    if (m_replay)
    {
        throw InputError("training.replay: device " + std::to_string(d) + " timed out at " +
                         FormatDouble(timeS) + " s simulated (round " + std::to_string(m_round) +
                         "); the reference's training assumes every device finishes every "
                         "phase, so it does not hold on this network (raise faults.timeout_s or "
                         "run without replay)");
    }
}

double
SplitTrainer::DeviceForwardSeconds(int d, int batch) const
{
    return m_deviceFlops.forward * batch / (m_devices[static_cast<size_t>(d)]->gflops * 1e9);
}

double
SplitTrainer::DeviceBackwardSeconds(int d, int batch) const
{
    return m_deviceFlops.backward * batch / (m_devices[static_cast<size_t>(d)]->gflops * 1e9);
}

double
SplitTrainer::ServerSeconds(int batch) const
{
    return (m_serverFlops.forward + m_serverFlops.backward) * batch /
           (m_config.network.serverGflops * 1e9);
}

} // namespace slsim
