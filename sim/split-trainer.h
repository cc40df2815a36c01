// The machine-learning side of a simulated run, with no ns-3 in it: data shards, the device-side
// and server-side model copies, the codecs, FedAvg, evaluation. The ns-3 applications call it at
// the simulated instants where each piece of work happens; it turns work into bytes and FLOPs.
//
// Replay mode (training.replay = a finished run's folder): no model compute at all. Every call
// still produces blobs of exactly the size the real run would (codec sizes are data-independent:
// Codec::EncodedSize), filled with zeros, and takes the step losses/accuracies and the evaluations
// from the reference run's steps.csv / eval.csv (sim/replay-log.h). The applications do not know
// the difference. Valid only where training does not depend on arrival order (sequential,
// splitfed_v1; app/ checks) and no device times out (DeviceTimedOut throws).
#ifndef SLSIM_SIM_SPLIT_TRAINER_H
#define SLSIM_SIM_SPLIT_TRAINER_H

#include "common/aligned-vector.h"
#include "sim/replay-log.h"
#include "sim/scenario-config.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace slsim
{

/// Training produced non-finite values (NaN or inf in the cut activations, the loss or the cut
/// gradients). Not an input error: RunScenario ends the run at that instant and writes what it
/// measured so far, with a "diverged" event.
class TrainingDiverged : public std::runtime_error
{
  public:
    explicit TrainingDiverged(const std::string& message)
        : std::runtime_error(message)
    {
    }
};

/// What one device-side forward produced.
struct ForwardResult
{
    int batch = 0;
    double codecRelError = 0; // ||x - decode(encode(x))|| / ||x|| of the cut activations
    uint64_t activationBytes = 0; // the codec blob alone
};

/// What one server step produced.
struct ServerResult
{
    double loss = 0;
    int correct = 0;
    int batch = 0;
};

struct EvalResult
{
    double accuracy = 0;
    double loss = 0;
};

class SplitTrainer
{
  public:
    /// Loads the data, partitions it across devices, builds one device-side model per device and
    /// one server-side model (one per device for splitfed_v1), all from the same seeded init.
    explicit SplitTrainer(const ScenarioConfig& config);
    ~SplitTrainer();

    int Devices() const
    {
        return static_cast<int>(m_devices.size());
    }
    /// Steps in one pass of device d over its shard (the last batch may be smaller).
    int StepsPerEpoch(int d) const;
    /// Samples on device d (FedAvg weight).
    size_t ShardSize(int d) const;
    const std::vector<std::vector<size_t>>& LabelHistograms() const
    {
        return m_histograms;
    }
    /// Sets every model's learning rate for round `epoch` (0-based); the round steps belong to.
    void SetEpoch(int epoch);

    /// Device d: next batch through its partition; appends the uplink message body (batch size,
    /// labels, codec blob) to `body`.
    ForwardResult DeviceForward(int d, std::vector<uint8_t>& body);
    /// Server: decodes an uplink body, forward + loss + backward + step on server copy `copy`;
    /// writes the downlink codec blob of the gradient w.r.t. the cut activations into `grad`.
    /// Throws DecodeError on a malformed body.
    ServerResult ServerStep(int copy, const uint8_t* body, size_t size, std::vector<uint8_t>& grad);
    /// Device d: decodes the gradient blob, back-propagates (straight through the uplink codec)
    /// and steps its optimizer.
    void DeviceBackward(int d, const uint8_t* grad, size_t size);

    /// Device d's device-side state through the sync codec.
    void EncodeDeviceState(int d, std::vector<uint8_t>& out);
    /// A state (e.g. the server's average) through the sync codec.
    void EncodeState(const std::vector<float>& state, std::vector<uint8_t>& out);
    /// Device d's current device-side state.
    std::vector<float> DeviceStateOf(int d) const;
    /// Decodes a state blob into `state` (StateSize floats).
    void DecodeState(const uint8_t* blob, size_t size, std::vector<float>& state);
    /// Installs a state on device d's model.
    void SetDeviceState(int d, const std::vector<float>& state);
    /// Sample-weighted FedAvg of device states; `devices` names whose states they are.
    std::vector<float> Average(const std::vector<std::vector<float>>& states,
                               const std::vector<int>& devices) const;
    /// FedAvg of the server copies of `devices` (splitfed_v1), installed on all copies.
    void AverageServerCopies(const std::vector<int>& devices);
    int ServerCopyFor(int d) const
    {
        return m_perDeviceServer ? d : 0;
    }
    /// The server gave up on device d for the rest of its phase. A real run has nothing to undo;
    /// a replay throws InputError (its reference assumed the device finished every phase).
    void DeviceTimedOut(int d, double timeS) const;

    /// Test accuracy and loss of deviceState + server copy `copy` (no simulated time passes).
    /// Replay: the reference's evaluation after as many steps as have completed here.
    EvalResult Evaluate(const std::vector<float>& deviceState, int copy);

    /// Simulated seconds of compute for a batch on a device or on the server.
    double DeviceForwardSeconds(int d, int batch) const;
    double DeviceBackwardSeconds(int d, int batch) const;
    double ServerSeconds(int batch) const;

    /// Wall-clock seconds spent in model compute and codecs so far.
    double TrainingWallSeconds() const
    {
        return m_trainingWall.count();
    }

  private:
    struct DeviceState;
    class WallTimer;

    /// Replay: a zero-filled blob of the size `codec` gives `shape`.
    ForwardResult ReplayForward(int d, int batch, std::vector<uint8_t>& body);
    ServerResult ReplayServerStep(const uint8_t* body, size_t size, std::vector<uint8_t>& grad);
    static void Filler(const Codec& codec, const Shape& shape, std::vector<uint8_t>& out);
    /// The cut activations' shape for a batch.
    Shape CutShapeOf(int batch) const;
    void EncodeStateWith(const std::vector<float>& state, Rng& rng, std::vector<uint8_t>& out);

    const ScenarioConfig& m_config;
    std::unique_ptr<ReplayLog> m_replay; // set: replay mode
    int m_round = 0;                     // from SetEpoch
    int64_t m_completedSteps = 0;        // device backward passes so far (replay's eval key)
    bool m_perDeviceServer = false;      // splitfed_v1
    Shape m_cut;                         // cut activations per sample
    size_t m_stateSize = 0;              // floats in a device-side state
    Dataset m_train, m_test;
    std::unique_ptr<BatchMaker> m_trainBatches, m_testBatches;
    std::vector<std::unique_ptr<DeviceState>> m_devices;
    std::vector<std::unique_ptr<Partition>> m_serverCopies;
    std::unique_ptr<Partition> m_evalDevice;
    std::unique_ptr<Codec> m_uplink, m_downlink, m_sync;
    // Codec randomness (randomized codecs) is drawn per device and per server copy, never from one
    // stream shared in event order: the training of sequential and splitfed_v1 then does not
    // depend on the network, which is what makes a replay over another network valid.
    Rng m_codecRng; // the server's averaged state
    std::vector<Rng> m_serverCodecRngs; // per server copy: downlink gradients
    Flops m_deviceFlops, m_serverFlops;
    int m_classes;
    std::vector<std::vector<size_t>> m_histograms;
    // scratch buffers reused across calls
    std::vector<float> m_decoded;
    AlignedVector<float> m_modelInput, m_logitGrad, m_evalInput; // handed to the models
    /// Copies the decoded tensor into the aligned model-input buffer.
    const float* AlignedDecoded();
    std::vector<int32_t> m_labels;
    std::vector<uint8_t> m_scratchBlob;
    std::chrono::duration<double> m_trainingWall{0};
};

} // namespace slsim

#endif
