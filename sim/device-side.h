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
};

class TrainingDevice : public DeviceSide
{
  public:
    /// Device d of the scenario: `model` is its device-side partition (seeded init), `shard` its
    /// sample indices into data->train; it encodes with data->uplink and data->sync. Its streams:
    /// Rng(seed, "shuffle" / "augment" / "codec-device", d).
    TrainingDevice(const ScenarioConfig& config, int d, std::shared_ptr<TrainingData> data,
                   std::vector<uint32_t> shard, std::unique_ptr<Partition> model,
                   WallAccount* wall);

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

    /// The current device-side state (parameters and BN statistics).
    std::vector<float> State() const;

    /// The device-side partition (for inspection: shapes, state).
    const Partition& Model() const
    {
        return *m_model;
    }

  private:
    const ScenarioConfig& m_config;
    int m_id;
    std::shared_ptr<TrainingData> m_data;
    ShardCursor m_cursor;
    Rng m_augment;
    Rng m_codecRng; // uplink activations and this device's state
    std::unique_ptr<Partition> m_model;
    WallAccount* m_wall;
    AlignedVector<float> m_input; // the batch; must outlive Backward
    std::vector<int32_t> m_labels;
    int m_batch = 0;
};

} // namespace slsim

#endif
