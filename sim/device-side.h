// The device side of split learning, with no ns-3 in it: what one device computes and which bytes
// it puts on the wire. DeviceApp (sim/device-app.h) holds one and only moves its bytes and
// schedules its compute time.
//
// DeviceSide is the interface; TrainingDevice is the real thing (its shard, its batches, its
// device-side model partition, the random streams of its uplink and sync encodings); a
// network-only replay implements the same interface without compute (sim/replay-sides.h).
#ifndef SLSIM_SIM_DEVICE_SIDE_H
#define SLSIM_SIM_DEVICE_SIDE_H

#include "common/aligned-vector.h"
#include "common/error.h"
#include "compression/codec.h"
#include "models/split-model.h"
#include "sim/training-data.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace slsim
{

struct ScenarioConfig;

/// What one device-side forward produced.
struct ForwardResult
{
    int batch = 0;
    double codecRelError = 0;     // ||x - decode(encode(x))|| / ||x|| of the cut activations
    uint64_t activationBytes = 0; // the codec blob alone
};

/// What a U-shaped device's head computed (DeviceSide::Head).
struct HeadResult
{
    double loss = 0;
    int correct = 0;
    uint64_t headGradientBytes = 0; // the codec blob alone
};

class DeviceSide
{
  public:
    virtual ~DeviceSide() = default;

    /// Samples on this device (its FedAvg weight).
    virtual size_t ShardSize() const = 0;
    /// Steps in one pass over its shard (the last batch may be smaller).
    virtual int StepsPerEpoch() const = 0;
    /// FLOPs per sample of the device-side partition (for the compute-time model).
    virtual Flops FlopsPerSample() const = 0;
    /// The round (0-based) the next steps belong to (learning-rate schedule).
    virtual void SetRound(int round) = 0;
    /// The next batch through the device partition; appends the ACTIVATIONS body
    /// (sim/messages.h) to `body`.
    virtual ForwardResult Forward(std::vector<uint8_t>& body) = 0;
    /// From a GRADIENT body: back-propagates (straight through the uplink codec) and steps the
    /// optimizer. Throws DecodeError on a malformed body.
    virtual void Backward(const uint8_t* body, size_t size) = 0;
    /// Writes the WEIGHTS body: the device-side state through the sync codec.
    virtual void EncodeState(std::vector<uint8_t>& out) = 0;
    /// Loads the state a START body carries. Throws DecodeError on a malformed blob.
    virtual void LoadState(const uint8_t* blob, size_t size) = 0;

    // ---- U-shaped split learning (model.head_cut: TrainingDevice with a head); a plain split's
    // device has no head ----
    /// Whether this device holds the head (the last layers and the loss): a step is then two
    /// round trips, ACTIVATIONS up, SERVER_OUTPUT down, HEAD_GRADIENT up, GRADIENT down.
    virtual bool HoldsHead() const
    {
        return false;
    }

    /// FLOPs per sample of the head (for the compute-time model).
    virtual Flops HeadFlopsPerSample() const
    {
        return Flops();
    }

    /// From a SERVER_OUTPUT body: the head's forward, the loss on the batch's labels, its backward
    /// and optimizer step; writes the HEAD_GRADIENT body into `out`. Throws DecodeError on a
    /// malformed body. Only called when HoldsHead().
    virtual HeadResult Head(const uint8_t*, size_t, std::vector<uint8_t>&)
    {
        SLSIM_ASSERT_MSG(false, "Head() on a device without a head");
        return HeadResult();
    }
};

class TrainingDevice : public DeviceSide
{
  public:
    /// Device d of the scenario: `model` is its device-side partition (seeded init), `shard` its
    /// sample indices into data->train; it encodes with data->uplink and data->sync. Its streams:
    /// Rng(seed, "shuffle" / "augment" / "codec-device", d). `head` (U-shaped split learning,
    /// model.head_cut; else null): the device's last layers, which compute the loss, so that its
    /// labels never leave it; the head's gradients go up through data->headUplink.
    TrainingDevice(const ScenarioConfig& config, int d, std::shared_ptr<TrainingData> data,
                   std::vector<uint32_t> shard, std::unique_ptr<Partition> model, WallAccount* wall,
                   std::unique_ptr<Partition> head = nullptr);

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
        return m_model->FlopsPerSample();
    }

    void SetRound(int round) override;
    ForwardResult Forward(std::vector<uint8_t>& body) override;
    void Backward(const uint8_t* body, size_t size) override;
    void EncodeState(std::vector<uint8_t>& out) override;
    void LoadState(const uint8_t* blob, size_t size) override;

    bool HoldsHead() const override
    {
        return m_head != nullptr;
    }

    Flops HeadFlopsPerSample() const override
    {
        return m_head ? m_head->FlopsPerSample() : Flops();
    }

    HeadResult Head(const uint8_t* body, size_t size, std::vector<uint8_t>& out) override;

    /// The current device-side state (parameters and BN statistics; U-shaped: the front's, then
    /// the head's).
    std::vector<float> State() const;

    /// The device-side partition (for inspection: shapes, state).
    const Partition& Model() const
    {
        return *m_model;
    }

    /// The head (U-shaped), or null.
    const Partition* HeadPart() const
    {
        return m_head.get();
    }

    /// Run-state checkpoints (defined in sim/run-state.cc with the rest of the checkpoint code):
    /// the device-side part and head (state and training state), the shard cursor, the
    /// augmentation and codec streams. Load throws DecodeError when the state does not fit.
    void SaveRunState(ByteWriter& out);
    void LoadRunState(ByteReader& in);

  private:
    /// The run state's fields, listed once for both directions (sim/run-state.cc).
    template <typename Io>
    void TransferRunState(Io& io);
    /// Decodes a blob of this batch's values, perSample each, into the scratch's aligned buffer;
    /// `shape` gets the blob's. Throws DecodeError ("<what> message: ...").
    const float* DecodeBatch(const uint8_t* blob, size_t size, int64_t perSample, const char* what,
                             Shape& shape);

    const ScenarioConfig& m_config;
    int m_id;
    std::shared_ptr<TrainingData> m_data;
    ShardCursor m_cursor;
    Rng m_augment;
    Rng m_codecRng; // uplink activations and this device's state
    std::unique_ptr<Partition> m_model;
    WallAccount* m_wall;
    std::unique_ptr<Partition> m_head; // U-shaped, else null
    AlignedVector<float> m_input;      // the batch; must outlive Backward
    std::vector<int32_t> m_labels;
    AlignedVector<float> m_logitGrad; // U-shaped: the head's dLoss/dlogits
    int m_batch = 0;
};

} // namespace slsim

#endif
