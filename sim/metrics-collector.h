// Records what the applications emit (OMNeT++-style: the models emit, the collector records) and
// writes tidy CSV at the end. It connects to the apps' trace sources (sim/app-signals.h) and
// builds its rows from them; the apps know nothing of it. Rows are kept in event order, so output
// is deterministic.
//
// Where each device's simulated time goes (devices.csv, summary.csv): every instant of [0, end of
// run] is in exactly one activity, switched by the signals:
//   idle     before its app starts; after the server has its HELLO until a START is sent to it
//            (waiting for the others to connect), and after the server has its report until the
//            next START to it (waiting at the phase or round barrier, or for its turn in
//            `sequential`), and after its last phase; a step the server gave up on (time-out) or
//            the run ended in, from its start;
//   connect  from its app's start until the server has its HELLO (TCP handshake and HELLO);
//   sync     synchronisation: from the server sending its START (with the agreed weights, or bare)
//            until its first step starts, and from its last step's end (or the START, if it runs
//            none) until the server has its WEIGHTS/DONE (averaging itself takes no simulated
//            time: FedAvg is not in the compute model);
//   a step   from its forward pass to its optimizer step, split as steps.csv: device compute,
//            server compute, queueing for a server worker, communication (the rest).
#ifndef SLSIM_SIM_METRICS_COLLECTOR_H
#define SLSIM_SIM_METRICS_COLLECTOR_H

#include "common/byte-io.h"
#include "sim/app-signals.h"
#include "sim/messages.h"
#include "sim/network-stats.h"
#include "sim/run.h"

#include "ns3/ptr.h"

#include <cstdint>
#include <string>
#include <vector>

namespace slsim
{

class DeviceApp;
class EnergyRecorder;
class NetworkStats;
class ServerApp;

/// One training step of one device, built from the signals of its device and of the server.
struct StepRecord
{
    double startS = 0; // device starts its forward pass
    double endS = 0;   // device finishes its optimizer step
    int round = 0;
    uint32_t phase = 0;
    uint32_t step = 0; // the device's own step counter
    int device = 0;
    int batch = 0;
    double loss = 0;
    double batchAccuracy = 0;
    uint64_t bytesUp = 0;   // the whole ACTIVATIONS frame: prefix, header, labels, codec blob
    uint64_t bytesDown = 0; // the whole GRADIENT frame
    double deviceComputeS = 0;
    double serverComputeS = 0;
    double queueS = 0;
    double codecRelError = 0;
};

/// A device's simulated time by activity, summed over the run; the parts add up to the run's
/// simulated time.
struct DeviceTime
{
    double deviceCompute = 0, serverCompute = 0, queue = 0, comm = 0; // in completed steps
    double connect = 0, sync = 0, idle = 0;
};

/// Where retransmission-timer expiries fell (from NetworkStats' RTO hook). Each expiry stands for
/// the interval in which its connection waited for the timer; the run's and the phase's figures
/// are unions of these intervals (simulated seconds in which at least one connection waited), not
/// sums over connections.
struct RtoSummary
{
    uint64_t timeouts = 0;
    double stallS = 0; // simulated time in which at least one connection waited for a timer
    int device = -1;   // the connection with the most waiting: device, direction, seconds
    bool uplink = true;
    double deviceWaitS = 0;
    int round = 0;        // the phase with the most stall: round, phase index (0: before the
    uint32_t phase = 0;   // first), what the devices did at the expiries (`steps`, `sync`,
    std::string activity; // `connect`, `idle`), the union of its waits, its expiries
    double phaseStallS = 0;
    uint64_t phaseTimeouts = 0;
};

class MetricsCollector
{
  public:
    MetricsCollector(int devices, bool recordFrames);

    /// Connects to a device app's trace sources (FrameSent, StepStarted, StepCompleted).
    void Watch(ns3::Ptr<DeviceApp> device);
    /// Connects to the server app's trace sources (FrameSent, FrameReceived, ServerStepDone,
    /// DeviceTimedOut, EvaluationDone, Round, PhaseStarted).
    void Watch(ns3::Ptr<ServerApp> server);

    // What the trace sources deliver (public so that a test can feed a collector directly).
    /// Every frame handed to a socket (both directions).
    void OnFrameSent(const FrameRecord& frame);
    void OnStepStarted(const StepStartRecord& start);
    void OnServerStep(const ServerStepRecord& step);
    void OnStepCompleted(const StepEndRecord& end);
    void OnDeviceTimedOut(int device);
    void OnEvaluation(int round, double accuracy, double loss, double cutDcorSq);
    /// Per-device cuts: leakage.csv's row of cut group `group` (named by SetCutNames).
    void OnCutLeakage(int round, int group, double cutDcorSq);

    /// The cut of each cut group (sim/sides.h DeviceCuts), for leakage.csv's `cut` column.
    void SetCutNames(std::vector<std::string> names)
    {
        m_cutNames = std::move(names);
    }

    void OnRound(int32_t before, int32_t now);
    /// Every frame a socket of the server delivered.
    void OnServerFrameReceived(const FrameRecord& frame);
    void OnConnecting(int device);
    void OnPhaseStarted(uint32_t phase);
    /// A retransmission timer of a device's connection expired (NetworkStats::OnRtoExpired).
    void OnRto(const RtoRecord& rto);

    /// The device's time split up to `endS` (the run's end: a later instant than any signal).
    DeviceTime TimeOf(int device, double endS) const;
    /// Where the retransmission-timer expiries fell.
    RtoSummary Rto() const;

    /// An event that no app emits (outages, divergence), in the current round.
    void Event(int device, const std::string& what);

    /// The round under way (as the server counts: completed rounds).
    int Round() const
    {
        return m_round;
    }

    uint64_t BytesUp() const
    {
        return m_bytesUp;
    }

    uint64_t BytesDown() const
    {
        return m_bytesDown;
    }

    uint64_t BytesSync() const
    {
        return m_bytesSync;
    }

    /// Bytes of every frame each way (what the sockets carried), per device.
    uint64_t SocketBytes(int d, bool toServer) const
    {
        return toServer ? m_socketUp[static_cast<size_t>(d)] : m_socketDown[static_cast<size_t>(d)];
    }

    int64_t Steps() const
    {
        return static_cast<int64_t>(m_steps.size());
    }

    /// Writes steps.csv, eval.csv, events.csv, devices.csv (+ frames.csv; + leakage.csv with
    /// per-device cuts: one row per evaluation and distinct cut) into dir and fills the
    /// summary; the TCP and queue columns come from `net`, the energy columns from `energy`
    /// (null: not recorded, they are 0).
    void Write(const std::string& dir, RunSummary& summary, double targetAccuracy,
               const NetworkStats* net, const EnergyRecorder* energy = nullptr) const;

    /// Run-state checkpoints (sim/run-state.h): every row recorded so far, the byte totals and
    /// the devices' timelines. Load throws DecodeError when the device count differs.
    void SaveState(ByteWriter& out) const;
    void LoadState(ByteReader& in);

  private:
    struct EvalRow
    {
        double timeS;
        int round;
        int64_t steps;
        uint64_t up, down, sync;
        double accuracy, loss;
        double cutDcorSq; // NaN: not measured (an empty cell)
    };

    struct LeakageRow
    {
        double timeS;
        int round, group;
        double cutDcorSq;
    };

    struct EventRow
    {
        double timeS;
        int device;
        std::string what;
        int round;
    };

    struct FrameRow
    {
        double timeS;
        MessageKind kind;
        int device;
        bool toServer;
        uint64_t bytes;
    };

    enum class Activity
    {
        IDLE,
        CONNECT,
        SYNC,
        STEP
    };

    struct Timeline
    {
        Activity activity = Activity::IDLE;
        double sinceS = 0;
        uint32_t phase = 0; // of the last START sent to it: signals of older phases are stale
        DeviceTime time;
    };

    struct RtoRow
    {
        double timeS;
        RtoRecord rto;
        int round;
        uint32_t phase;
        Activity activity;
    };

    /// The device switches to `a` now; the time since the last switch goes to what it did.
    void Enter(int device, Activity a);

    bool m_recordFrames;
    int m_round = 0;
    uint32_t m_phase = 0;
    std::vector<StepRecord> m_pending; // the step under way, per device
    std::vector<StepRecord> m_steps;
    std::vector<EvalRow> m_evals;
    std::vector<LeakageRow> m_leakage;
    std::vector<std::string> m_cutNames;
    std::vector<EventRow> m_events;
    std::vector<FrameRow> m_frames;
    std::vector<uint64_t> m_socketUp, m_socketDown;
    // Per device: activations up, gradients down, synchronisation (weights) both ways.
    std::vector<uint64_t> m_deviceUp, m_deviceDown, m_deviceSync;
    uint64_t m_bytesUp = 0, m_bytesDown = 0, m_bytesSync = 0, m_bytesControl = 0;
    std::vector<Timeline> m_timelines; // per device
    std::vector<RtoRow> m_rtos;
};

} // namespace slsim

#endif
