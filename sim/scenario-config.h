// The fully resolved, validated scenario as plain structs. app/ fills it from JSON (validating
// every field and naming its JSON path on error); sim/ runs it. No ns-3 types here.
#ifndef SLSIM_SIM_SCENARIO_CONFIG_H
#define SLSIM_SIM_SCENARIO_CONFIG_H

#include "compression/codec.h"
#include "models/data/dataset.h"
#include "models/split-model.h"
#include "sim/network-config.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace slsim
{

struct ScheduleConfig
{
    /// sequential: vanilla SL, devices in turn, device-side weights handed on through the server;
    /// splitfed_v1: devices in parallel, one server-side copy per device, FedAvg of both sides;
    /// splitfed_v2: devices in parallel, one shared server model, device sides averaged.
    std::string kind = "splitfed_v2";
    /// Average every this many steps of each device (0: once per round = one local epoch).
    int syncEverySteps = 0;
    /// Devices of a phase training at once (0: all): the server STARTs the next device of the
    /// phase when one reports or times out (server-side pace steering).
    int maxActiveDevices = 0;
};

struct TrainingConfig
{
    int batchSize = 32;
    int epochs = 1;            // rounds; every device passes once over its shard per round
    double timeBudgetS = 0;    // > 0: stop at this simulated time (after the running step)
    int evalEveryRounds = 1;   // test evaluation after every this many rounds (and at the end)
    int evalEverySteps = 0;    // > 0: also at the first phase end after each multiple of it
    double evalEveryS = 0;     // > 0: also at the first phase end after each multiple (seconds)
    bool evalAtStart = true;   // evaluate the initial weights at t=0
    bool compressEval = true;  // evaluation passes the cut activations through the uplink codec
    double targetAccuracy = 0; // > 0: report time and bytes to reach it
    int evalBatch = 256;
    /// > 0: at every evaluation, the leakage of the cut activations as sent (sim/leakage.h) on the
    /// first this many test samples (0: off). 256: under independence the estimator's standard
    /// deviation is about 1/sqrt(n(n-3)/2) (Szekely and Rizzo 2013, the t-test of independence in
    /// high dimension), 0.0056 at n = 256, well below the differences between codecs, at a cost
    /// of n^2 (input + cut) multiply-adds, small against an evaluation of the test set.
    int leakageSamples = 256;
    /// > 0: checkpoints (safetensors, PyTorch names) every this many rounds and at the end, under
    /// the run folder's checkpoints/ (SaveCheckpoints in sim/sides.h).
    int saveEveryRounds = 0;
    /// Non-empty: a finished run's folder (manifest.json, steps.csv, eval.csv). The run does no
    /// model compute and takes losses and evaluations from it (network-only replay; sequential
    /// and splitfed_v1 only, validated by app/).
    std::string replay;
};

/// A device that is unreachable from `fromS` until `untilS` (simulated seconds; infinity = for
/// good). Its access link drops every packet meanwhile; the server skips it after `timeoutS`.
struct OutageConfig
{
    int device = 0;
    double fromS = 0;
    double untilS = std::numeric_limits<double>::infinity();
};

/// One off interval of a device's availability: switched off at `offS`, back at `onS`
/// (simulated seconds; infinity = for good). `line`: the row of the file it came from.
struct ChurnInterval
{
    int device = 0;
    double offS = 0;
    double onS = std::numeric_limits<double>::infinity();
    size_t line = 0;
};

/// Device churn (sim/churn.h): listed off intervals, and/or an exponential on/off model.
struct ChurnConfig
{
    std::string file;                     // CSV "device,off_s,on_s" ("" = none), as given
    std::vector<ChurnInterval> intervals; // the file's rows, read by app/
    double meanOnS = 0;                   // exponential model: mean on time (0: no model)
    double meanOffS = 0;                  // and mean off time
    double horizonS = 0;                  // no model switch-off from then on (0: the whole run)
};

struct FaultConfig
{
    std::vector<OutageConfig> outages;
    ChurnConfig churn;
    double timeoutS = 30; // the server waits this long for a device's message in a round
};

/// What the run reports besides its results.
struct DiagnosticsConfig
{
    // Warn on stderr when retransmission-timer waits cover more than this share of the simulated
    // time. 5 %: above the differences codec comparisons rest on (issue 13 found stalls reversing
    // rankings); one Linux minimum RTO (200 ms, TCP_RTO_MIN in include/net/tcp.h) in a 2-s run
    // (10 %) is reported.
    double rtoWarningShare = 0.05;
};

struct ScenarioConfig
{
    std::string name = "scenario";
    uint64_t seed = 1;
    DatasetConfig dataset;
    PartitionConfig partition;
    ModelConfig model;
    OptimizerConfig optimizer;
    CodecConfig uplink;   // cut activations, device -> server
    CodecConfig downlink; // gradient w.r.t. the cut activations, server -> device
    CodecConfig sync;     // device-side weights for hand-off and averaging
    // U-shaped (model.head_cut) only: the second cut's two directions.
    CodecConfig headDownlink; // the server's output, server -> device (the head's input)
    CodecConfig headUplink;   // the gradient w.r.t. it, device -> server
    NetworkConfig network;
    ScheduleConfig schedule;
    TrainingConfig training;
    FaultConfig faults;
    DiagnosticsConfig diagnostics;
    bool recordFrames = false; // frames.csv: one row per frame
};

} // namespace slsim

#endif
