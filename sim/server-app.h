// The server as an ns-3 Application: accepts the devices' connections, serves their activations
// with a pool of workers (a FIFO queue when devices outnumber workers), runs the schedule's phases
// and rounds, evaluates, and ends the simulation. It holds one ServerSide (sim/server-side.h),
// which computes, and one Schedule (sim/schedule.h), which decides who trains and what happens at
// a phase end; the app only moves bytes, keeps time (compute model, time-outs) and emits what
// happened through trace sources (sim/app-signals.h).
//
// States: evaluation at t=0 (EvalAtStart) and waiting for HELLOs (at most TimeoutS) -> round:
// phases (START to the phase's devices, serve ACTIVATIONS (U-shaped: and HEAD_GRADIENTs, each a
// queued request of its own), collect WEIGHTS/DONE or time out; at
// the first phase end at or after each multiple of EvalEverySteps device steps or of EvalEveryS
// simulated seconds, an evaluation) -> round end (evaluation every EvalEveryRounds) -> ... ->
// finished (Epochs rounds or the time budget; the simulator stops). Evaluation uses the agreed
// weights, which exist only at phase ends, and takes no simulated time; at most one evaluation per
// step count.
#ifndef SLSIM_SIM_SERVER_APP_H
#define SLSIM_SIM_SERVER_APP_H

#include "sim/app-signals.h"
#include "sim/compute-model.h"
#include "sim/frame-transport.h"
#include "sim/messages.h"
#include "sim/schedule.h"

#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/traced-callback.h"
#include "ns3/traced-value.h"

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

namespace slsim
{

class ServerSide;

/// What a run-state checkpoint keeps of the server app at a round start (sim/run-state.h): the
/// round about to begin, the phase and step counters, the evaluation clocks and the agreed
/// device-side weights.
struct ServerAppState
{
    int32_t round = 0;
    uint32_t phase = 0;
    int dropouts = 0;
    int64_t stepsServed = 0;
    int64_t lastEvalSteps = -1;
    int64_t nextEvalSteps = 0;
    double nextEvalS = 0;
    AgreedState agreed;
};

class ServerApp : public ns3::Application
{
  public:
    /// Attributes: Port, Devices, Workers, Gflops, TimeoutS, Epochs, EvalEveryRounds,
    /// EvalEverySteps, EvalEveryS, EvalAtStart, TimeBudgetS, MaxActiveDevices.
    /// Trace sources: sim/app-signals.h.
    static ns3::TypeId GetTypeId();

    /// The side that computes and the schedule (owned elsewhere; they outlive the simulation).
    void SetSides(ServerSide* side, Schedule* schedule);

    /// The nodes whose sockets take the devices' connections (the server's front-ends,
    /// sim/topology.h); by default the app's own node.
    void SetListenNodes(std::vector<ns3::Ptr<ns3::Node>> nodes);

    int Dropouts() const
    {
        return m_dropouts;
    }

    /// The device-side weights the next START carries (valid once a phase agreed on them).
    const AgreedState& Agreed() const
    {
        return m_agreed;
    }

    /// Rounds completed so far (the round under way while training).
    int Rounds() const
    {
        return m_round;
    }

    /// The state at this instant, for a checkpoint taken at a round start (RoundStarted).
    ServerAppState SaveState() const;
    /// Continues from a checkpoint (before the app starts): it then neither evaluates the initial
    /// weights nor restarts the evaluation clocks, and begins round state.round once the devices
    /// have connected (or TimeoutS has passed), as at a first start.
    void Resume(const ServerAppState& state);

  protected:
    void DoDispose() override;

  private:
    struct Connection
    {
        ns3::Ptr<ns3::Socket> socket;
        std::unique_ptr<FrameSender> sender;
        std::unique_ptr<FrameAssembler> assembler;
        int device = -1;
    };

    struct Request
    {
        int device;
        uint32_t phase;
        uint32_t step;
        std::vector<uint8_t> frame;
        double arrivalS;
        MessageKind kind; // ACTIVATIONS, or HEAD_GRADIENT (U-shaped: the step's second half)
    };

    void StartApplication() override;
    void StopApplication() override;
    void OnAccept(ns3::Ptr<ns3::Socket> socket, const ns3::Address& from);
    void OnFrame(ns3::Ptr<ns3::Socket> socket, std::vector<uint8_t>&& frame);
    void Send(int device, MessageKind kind, uint8_t flags, uint32_t step,
              const std::vector<uint8_t>& body);
    void ServeQueued();
    void Serve(Request request);
    void FinishServing(int device, uint32_t step, MessageKind kind, std::vector<uint8_t> reply);
    void BeginRound();
    void StartPhase();
    /// STARTs the phase's next waiting device while fewer than MaxActiveDevices are active.
    void StartNext();
    void DeviceReported(int device, const uint8_t* blob, size_t size);
    void Timeout(int device);
    void ArmTimer(int device);
    void ClosePhase();
    void EndRound();
    /// Evaluates when the step or time clock is due (at a phase or round end).
    void EvaluateIfDue();
    void Evaluate();
    void Finish();

    // attributes
    uint16_t m_port = 0;
    int m_devices = 0;
    int m_workers = 1;
    double m_gflops = 1;
    double m_timeoutS = 30;
    int m_epochs = 1;
    int m_evalEveryRounds = 1;
    int m_evalEverySteps = 0;
    double m_evalEveryS = 0;
    bool m_evalAtStart = true;
    double m_timeBudgetS = 0;
    int m_maxActive = 0;

    ServerSide* m_side = nullptr;
    Schedule* m_schedule = nullptr;

    std::vector<ns3::Ptr<ns3::Node>> m_listenNodes;
    std::vector<ns3::Ptr<ns3::Socket>> m_listen;
    std::map<ns3::Ptr<ns3::Socket>, std::unique_ptr<Connection>> m_connections; // by socket
    std::vector<Connection*> m_byDevice;
    int m_hellos = 0;
    bool m_started = false;
    ns3::EventId m_startTimer;

    std::deque<Request> m_queue;
    int m_busy = 0;

    ns3::TracedValue<int32_t> m_round{0};
    uint32_t m_phase = 0;
    std::set<int> m_waiting;                      // the phase's devices not yet reported
    std::deque<std::pair<int, int>> m_notStarted; // (device, steps) waiting for their START
    int m_active = 0;                             // STARTed, not yet reported or timed out
    uint8_t m_startFlags = 0;
    std::map<int, std::vector<uint8_t>> m_reports; // device -> weights blob, this phase
    std::vector<ns3::EventId> m_timers;
    AgreedState m_agreed; // the device-side weights the next START carries
    int m_dropouts = 0;
    bool m_finished = false;
    bool m_resumed = false;       // Resume() was called: the counters are a checkpoint's
    int64_t m_stepsServed = 0;    // device steps served, all devices, since the start
    int64_t m_lastEvalSteps = -1; // m_stepsServed at the last evaluation (-1: none yet)
    int64_t m_nextEvalSteps = 0;  // the step clock's next multiple of EvalEverySteps
    double m_nextEvalS = 0;       // the time clock's next multiple of EvalEveryS
    std::vector<uint8_t> m_header;

    ns3::TracedCallback<const FrameRecord&> m_frameSent, m_frameReceived;
    ns3::TracedCallback<const ServerStepRecord&> m_serverStepDone;
    ns3::TracedCallback<uint32_t> m_phaseStarted;
    ns3::TracedCallback<uint32_t, int> m_phaseClosed;
    ns3::TracedCallback<int> m_deviceTimedOut, m_roundStarted;
    ns3::TracedCallback<int, double, double, double> m_evaluationDone;
    ns3::TracedCallback<int, int, double> m_cutLeakage;
};

} // namespace slsim

#endif
