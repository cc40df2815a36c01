// What the training device and server sides share: the data sets and their batch makers, the
// wall-clock account of model compute, one device's walk over its shard, and the divergence error.
// No ns-3 here.
#ifndef SLSIM_SIM_TRAINING_DATA_H
#define SLSIM_SIM_TRAINING_DATA_H

#include "common/aligned-vector.h"
#include "common/byte-io.h"
#include "common/rng.h"
#include "compression/codec.h"
#include "models/data/dataset.h"

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

/// Throws TrainingDiverged(what) when any of the n values is NaN or infinite.
void RequireFinite(const float* x, size_t n, const std::string& what);

/// Wall-clock seconds spent in model compute and codecs (summary.csv's training_wall_s), shared by
/// every side of a run.
class WallAccount
{
  public:
    double Seconds() const
    {
        return m_total.count();
    }

    /// Adds the lifetime of this object to the account.
    class Scope
    {
      public:
        explicit Scope(WallAccount* account)
            : m_account(account),
              m_start(std::chrono::steady_clock::now())
        {
        }

        ~Scope()
        {
            if (m_account)
            {
                m_account->m_total += std::chrono::steady_clock::now() - m_start;
            }
        }

        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

      private:
        WallAccount* m_account;
        std::chrono::steady_clock::time_point m_start;
    };

  private:
    std::chrono::duration<double> m_total{0};
};

/// Scratch buffers for cut-sized tensors and states. The sides of a run share one set: the
/// simulation runs on one thread and every side finishes with them before its call returns, so
/// one set per run serves where one per device would hold devices x (cut or state) floats.
struct SplitScratch
{
    std::vector<uint8_t> blob;       // a codec blob
    std::vector<float> decoded;      // a decoded blob
    AlignedVector<float> modelInput; // `decoded` copied 64-byte aligned, for a model
};

/// What the training sides of a run share: the data sets, the codecs and scratch. Held by shared
/// pointer: the batch makers point into the sets. One codec object per wire format for the whole
/// run, as for the scratch: a codec keeps only scratch between calls (its randomness comes from
/// the caller's Rng), and a top-k codec's scratch is as large as its tensor.
struct TrainingData
{
    Dataset train, test;
    std::unique_ptr<BatchMaker> trainBatches, testBatches;
    std::unique_ptr<Codec> uplink;   // cut activations, device -> server
    std::unique_ptr<Codec> downlink; // gradient w.r.t. the cut activations, server -> device
    std::unique_ptr<Codec> sync;     // device-side states, both ways
    // U-shaped runs (model.head_cut): the server's output down, its gradient up.
    std::unique_ptr<Codec> headDownlink, headUplink;
    SplitScratch scratch;
};

/// One device's walk over its shard: shuffled once at the start and again at every new pass; a
/// batch is the next batchSize indices (the last batch of a pass may be smaller).
class ShardCursor
{
  public:
    /// shuffle: the device's stream Rng(seed, "shuffle", device).
    ShardCursor(std::vector<uint32_t> shard, int batchSize, Rng shuffle);

    size_t Size() const
    {
        return m_shard.size();
    }

    /// Batches in one pass (ceil(size / batchSize)).
    int StepsPerPass() const;
    /// The next batch: its first index and its size, advancing the cursor.
    const uint32_t* Next(size_t& batch);
    /// Run-state checkpoints (sim/run-state.h): the pass's order, the position in it and the
    /// shuffle stream. Load throws DecodeError when the shard size differs.
    void SaveRunState(ByteWriter& out) const;
    void LoadRunState(ByteReader& in);

  private:
    std::vector<uint32_t> m_shard;
    size_t m_batchSize;
    size_t m_cursor = 0;
    Rng m_shuffle;
};

} // namespace slsim

#endif
