// The server side of split learning, with no ns-3 in it: the server-side model copies, one step
// from an ACTIVATIONS body to a GRADIENT body, the codec work on device-side states, evaluation.
// ServerApp (sim/server-app.h) holds one and only moves bytes, queues work and schedules time.
//
// ServerSide is the interface; TrainingServer is the real thing; a network-only replay implements
// the same interface without compute (sim/replay-sides.h).
#ifndef SLSIM_SIM_SERVER_SIDE_H
#define SLSIM_SIM_SERVER_SIDE_H

#include "common/aligned-vector.h"
#include "common/error.h"
#include "compression/codec.h"
#include "models/split-model.h"
#include "sim/training-data.h"

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace slsim
{

struct AgreedState;
struct ScenarioConfig;
class TrainingDevice;

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
    /// Cut-layer leakage (sim/leakage.h) at device 0's cut; NaN when not measured.
    double cutDcorSq = std::numeric_limits<double>::quiet_NaN();
    /// Per-device cuts, when measured: the leakage at each cut group's cut ([0] is cutDcorSq).
    std::vector<double> groupCutDcorSq{};
};

class ServerSide
{
  public:
    virtual ~ServerSide() = default;

    /// FLOPs per sample of the server-side partition (for the compute-time model).
    virtual Flops FlopsPerSample() const = 0;

    /// ... of the partition device d's steps use (they differ with per-device cuts).
    virtual Flops FlopsPerSampleFor(int) const
    {
        return FlopsPerSample();
    }

    /// Per-device cuts (sim/sides.h): the phase end over the server's copies and the reported
    /// device parts (handOff: the last report's whole model goes on; else FedAvg weighted by
    /// shardSizes), setting `agreed` per cut group. Returns false, doing nothing, when every device
    /// has the same cut (the schedule then does what it always did).
    virtual bool MergeMixedCuts(const std::map<int, std::vector<uint8_t>>&,
                                const std::vector<size_t>&, bool, AgreedState&)
    {
        return false;
    }

    /// The round (0-based) the next steps belong to (learning-rate schedule).
    virtual void SetRound(int round) = 0;
    /// One step for device d: reads its ACTIVATIONS body, forward + loss + backward + optimizer
    /// step on d's server copy; writes the GRADIENT body (the downlink codec blob of the gradient
    /// w.r.t. the cut activations) into `gradient`. Throws DecodeError on a malformed body.
    virtual ServerResult Step(int d, const uint8_t* body, size_t size,
                              std::vector<uint8_t>& gradient)
        = 0;
    /// Decodes a WEIGHTS body (a device-side state through the sync codec).
    virtual void DecodeState(const uint8_t* blob, size_t size, std::vector<float>& state) = 0;
    /// Encodes a device-side state (e.g. an average) through the sync codec for a START body.
    virtual void EncodeState(const std::vector<float>& state, std::vector<uint8_t>& out) = 0;
    /// FedAvg of the server copies of `devices` weighted by `samples` (their shard sizes),
    /// installed on every copy. Nothing to do with one shared copy.
    virtual void AverageCopies(const std::vector<int>& devices, const std::vector<size_t>& samples)
        = 0;
    /// The server gave up on device d for the rest of its phase at simulated time timeS.
    virtual void DeviceTimedOut(int d, double timeS) = 0;
    /// Test accuracy and loss of the device-side state `agreed` (null: none agreed yet) with
    /// server copy 0, and the cut-layer leakage (per-device cuts: at every distinct cut). Takes no
    /// simulated time.
    virtual EvalResult Evaluate(const std::vector<float>* agreed) = 0;

    // ---- U-shaped split learning (model.head_cut: TrainingServer with the middle) ----
    /// Whether Step answers with the SERVER_OUTPUT body (the server part's forward only; loss and
    /// correct stay 0: the labels are on the device) and the step ends with StepBackward.
    virtual bool UShaped() const
    {
        return false;
    }

    /// U-shaped, the second half of device d's step: reads its HEAD_GRADIENT body, back-propagates
    /// through the server part's forward of d's last Step, optimizer step; writes the GRADIENT
    /// body. Throws DecodeError on a malformed body. Only called when UShaped().
    virtual ServerResult StepBackward(int, const uint8_t*, size_t, std::vector<uint8_t>&)
    {
        SLSIM_ASSERT_MSG(false, "StepBackward() on a server that is not U-shaped");
        return ServerResult();
    }
};

class TrainingServer : public ServerSide
{
  public:
    /// copies: one server-side partition per device (per-device copies) or a single shared one,
    /// all from the same seeded init; codecs: data->downlink, data->sync, data->uplink
    /// (evaluation). evalDevice: a device-side partition for evaluation. firstDevice: whose state
    /// is evaluated before any state was agreed on. Streams: Rng(seed, "codec-server", d) per copy
    /// (gradients), Rng(seed, "codec") (agreed states), Rng(seed, "eval-codec") (evaluation,
    /// restarted every time), Rng(seed, "leakage-codec") (leakage, restarted every time). evalHead
    /// (U-shaped, model.head_cut; else null): the devices' head for evaluation; the copies are then
    /// the middle of the model, Step runs their forward (the server output goes down through
    /// data->headDownlink) and StepBackward their backward. A copy keeps one device's half-done
    /// step: it serves one device at a time (app/ refuses schedules that share one copy among
    /// devices training at once).
    TrainingServer(const ScenarioConfig& config, std::shared_ptr<TrainingData> data,
                   std::vector<std::unique_ptr<Partition>> copies,
                   std::unique_ptr<Partition> evalDevice, const TrainingDevice* firstDevice,
                   WallAccount* wall, std::unique_ptr<Partition> evalHead = nullptr);

    Flops FlopsPerSample() const override
    {
        return m_copies[0]->FlopsPerSample();
    }

    void SetRound(int round) override;
    ServerResult Step(int d, const uint8_t* body, size_t size,
                      std::vector<uint8_t>& gradient) override;
    void DecodeState(const uint8_t* blob, size_t size, std::vector<float>& state) override;
    void EncodeState(const std::vector<float>& state, std::vector<uint8_t>& out) override;
    void AverageCopies(const std::vector<int>& devices,
                       const std::vector<size_t>& samples) override;

    /// Nothing to undo: the device's steps so far are part of the training (U-shaped: its
    /// half-done step is dropped).
    void DeviceTimedOut(int d, double timeS) override;
    EvalResult Evaluate(const std::vector<float>* agreed) override;

    bool UShaped() const override
    {
        return m_evalHead != nullptr;
    }

    ServerResult StepBackward(int d, const uint8_t* body, size_t size,
                              std::vector<uint8_t>& gradient) override;

    /// Per-device cuts (sim/sides.h): groupOf[d] is device d's cut group (device 0's is 0),
    /// copyOf[d] the server copy its steps use (copy 0 has group 0's cut), groupDevices[g] a
    /// device-side partition at group g's cut, in its initial state (the groups' agreed states
    /// start there), groupFirst[g] the group's first device (whose state Evaluate measures the
    /// group's leakage on before any state is agreed on). Not called when every device has the
    /// same cut.
    void SetCutGroups(std::vector<int> groupOf, std::vector<int> copyOf,
                      std::vector<std::unique_ptr<Partition>> groupDevices,
                      std::vector<const TrainingDevice*> groupFirst);
    Flops FlopsPerSampleFor(int d) const override;
    bool MergeMixedCuts(const std::map<int, std::vector<uint8_t>>& reports,
                        const std::vector<size_t>& shardSizes, bool handOff,
                        AgreedState& agreed) override;

    /// Server copy c (for inspection: shapes, state).
    const Partition& Copy(int c) const
    {
        return *m_copies[static_cast<size_t>(c)];
    }

    int Copies() const
    {
        return static_cast<int>(m_copies.size());
    }

    /// Writes the whole model as Evaluate sees it (the device-side state `agreed`, or the first
    /// device's when null, then server copy 0; U-shaped: then the head) as one safetensors
    /// checkpoint (PyTorch names).
    void SaveModel(const std::string& path, const std::vector<float>* agreed);

    /// Run-state checkpoints (defined in sim/run-state.cc with the rest of the checkpoint code):
    /// every server copy (state and training state), the codec streams, per-device cuts' agreed
    /// states. Call between steps (no half-done U-shaped step). Load throws DecodeError when the
    /// state does not fit.
    void SaveRunState(ByteWriter& out);
    void LoadRunState(ByteReader& in);

  private:
    /// The run state's fields, listed once for both directions (sim/run-state.cc).
    template <typename Io>
    void TransferRunState(Io& io);
    /// Copies the scratch's decoded tensor into its aligned model-input buffer.
    const float* AlignedDecoded();
    /// Loads a device-side state (`agreed`, or the first device's) into the evaluation parts.
    void LoadEvalState(const std::vector<float>* agreed);
    /// U-shaped, the first half of d's step on copy `copy`: the middle's forward, SERVER_OUTPUT.
    ServerResult StepForward(size_t copy, int d, const uint8_t* body, size_t size,
                             std::vector<uint8_t>& serverOutput);
    /// The server copy device d's steps use.
    size_t CopyOf(int d) const;

    const ScenarioConfig& m_config;
    std::shared_ptr<TrainingData> m_data;
    std::vector<std::unique_ptr<Partition>> m_copies;
    std::vector<Rng> m_copyRngs; // per copy: downlink gradients
    std::unique_ptr<Partition> m_evalDevice;
    const TrainingDevice* m_firstDevice;
    WallAccount* m_wall;
    Rng m_stateRng; // the agreed states
    int m_classes;
    size_t m_stateSize;
    std::vector<int32_t> m_labels;
    AlignedVector<float> m_logitGrad, m_evalInput;
    // U-shaped: the head for evaluation, and per copy the half-done step (its decoded input, kept
    // for the backward; the device, -1 for none; the batch).
    std::unique_ptr<Partition> m_evalHead;
    std::vector<AlignedVector<float>> m_inputs;
    std::vector<int> m_pending, m_batches;
    // Per-device cuts (empty otherwise): SetCutGroups's, and each group's agreed state.
    std::vector<int> m_groupOf, m_copyOf;
    std::vector<std::unique_ptr<Partition>> m_groupDevices;
    std::vector<std::vector<float>> m_groupAgreed;
    std::vector<const TrainingDevice*> m_groupFirst;
};

} // namespace slsim

#endif
