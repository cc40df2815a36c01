#include "sim/metrics-collector.h"

#include "common/csv-writer.h"
#include "common/error.h"
#include "common/state-io.h"
#include "sim/device-app.h"
#include "sim/energy.h"
#include "sim/network-stats.h"
#include "sim/server-app.h"

#include "ns3/callback.h"
#include "ns3/simulator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace slsim
{

MetricsCollector::MetricsCollector(int devices, bool recordFrames)
    : m_recordFrames(recordFrames),
      m_pending(static_cast<size_t>(devices)),
      m_socketUp(static_cast<size_t>(devices), 0),
      m_socketDown(static_cast<size_t>(devices), 0),
      m_deviceUp(static_cast<size_t>(devices), 0),
      m_deviceDown(static_cast<size_t>(devices), 0),
      m_deviceSync(static_cast<size_t>(devices), 0),
      m_timelines(static_cast<size_t>(devices))
{
}

void
MetricsCollector::Watch(ns3::Ptr<DeviceApp> device)
{
    device->TraceConnectWithoutContext("FrameSent",
                                       ns3::MakeCallback(&MetricsCollector::OnFrameSent, this));
    device->TraceConnectWithoutContext("StepStarted",
                                       ns3::MakeCallback(&MetricsCollector::OnStepStarted, this));
    device->TraceConnectWithoutContext("StepCompleted",
                                       ns3::MakeCallback(&MetricsCollector::OnStepCompleted, this));
    device->TraceConnectWithoutContext("Connecting",
                                       ns3::MakeCallback(&MetricsCollector::OnConnecting, this));
}

void
MetricsCollector::Watch(ns3::Ptr<ServerApp> server)
{
    server->TraceConnectWithoutContext("FrameSent",
                                       ns3::MakeCallback(&MetricsCollector::OnFrameSent, this));
    server->TraceConnectWithoutContext("ServerStepDone",
                                       ns3::MakeCallback(&MetricsCollector::OnServerStep, this));
    server->TraceConnectWithoutContext(
        "DeviceTimedOut", ns3::MakeCallback(&MetricsCollector::OnDeviceTimedOut, this));
    server->TraceConnectWithoutContext("EvaluationDone",
                                       ns3::MakeCallback(&MetricsCollector::OnEvaluation, this));
    server->TraceConnectWithoutContext("CutLeakage",
                                       ns3::MakeCallback(&MetricsCollector::OnCutLeakage, this));
    server->TraceConnectWithoutContext("Round",
                                       ns3::MakeCallback(&MetricsCollector::OnRound, this));
    server->TraceConnectWithoutContext(
        "FrameReceived", ns3::MakeCallback(&MetricsCollector::OnServerFrameReceived, this));
    server->TraceConnectWithoutContext("PhaseStarted",
                                       ns3::MakeCallback(&MetricsCollector::OnPhaseStarted, this));
}

void
MetricsCollector::Enter(int device, Activity a)
{
    Timeline& tl = m_timelines[static_cast<size_t>(device)];
    const double now = ns3::Simulator::Now().GetSeconds();
    const double spent = now - tl.sinceS;
    switch (tl.activity)
    {
    case Activity::CONNECT:
        tl.time.connect += spent;
        break;
    case Activity::SYNC:
        tl.time.sync += spent;
        break;
    case Activity::IDLE:
    case Activity::STEP: // a step left before it completed: the server gave up on it
        tl.time.idle += spent;
        break;
    }
    tl.activity = a;
    tl.sinceS = now;
}

void
MetricsCollector::OnConnecting(int device)
{
    Enter(device, Activity::CONNECT);
}

void
MetricsCollector::OnServerFrameReceived(const FrameRecord& f)
{
    switch (f.kind)
    {
    case MessageKind::HELLO:   // connected: waits for the others
    case MessageKind::WEIGHTS: // reported: waits at the barrier
    case MessageKind::DONE:
        if (f.phase == m_timelines[static_cast<size_t>(f.device)].phase)
        {
            Enter(f.device, Activity::IDLE);
        }
        break;
    default:
        break;
    }
}

void
MetricsCollector::OnPhaseStarted(uint32_t phase)
{
    m_phase = phase;
}

void
MetricsCollector::OnRto(const RtoRecord& rto)
{
    m_rtos.push_back(RtoRow{ns3::Simulator::Now().GetSeconds(), rto, m_round, m_phase,
                            m_timelines[static_cast<size_t>(rto.device)].activity});
}

DeviceTime
MetricsCollector::TimeOf(int device, double endS) const
{
    const Timeline& tl = m_timelines[static_cast<size_t>(device)];
    DeviceTime t = tl.time;
    const double spent = endS - tl.sinceS;
    switch (tl.activity)
    {
    case Activity::CONNECT:
        t.connect += spent;
        break;
    case Activity::SYNC:
        t.sync += spent;
        break;
    case Activity::IDLE:
    case Activity::STEP: // the run ended in it
        t.idle += spent;
        break;
    }
    return t;
}

namespace
{

/// The length of the union of the intervals [from, to] (sorted here).
double
UnionLength(std::vector<std::pair<double, double>> spans)
{
    std::sort(spans.begin(), spans.end());
    double length = 0;
    double coveredTo = 0;
    for (const auto& [from, to] : spans)
    {
        length += std::max(0.0, to - std::max(from, coveredTo));
        coveredTo = std::max(coveredTo, to);
    }
    return length;
}

} // namespace

RtoSummary
MetricsCollector::Rto() const
{
    RtoSummary r;
    r.timeouts = m_rtos.size();
    // Each expiry stands for the interval [expiry - wait, expiry] in which its connection stood
    // still. The run's figure and each phase's are unions over connections (simulated time in
    // which at least one waited), so neither exceeds the simulated time; a connection's own
    // waits follow one another (one timer per connection), so its sum is its union.
    std::vector<std::pair<double, double>> spans;
    spans.reserve(m_rtos.size());
    // Ordered maps: the first of equals wins, so the report is deterministic.
    std::map<std::pair<int, bool>, double> byLink;
    std::map<std::tuple<int, uint32_t, int>, std::vector<std::pair<double, double>>> byPhase;
    for (const RtoRow& row : m_rtos)
    {
        const std::pair<double, double> span{std::max(0.0, row.timeS - row.rto.waitS), row.timeS};
        spans.push_back(span);
        byLink[{row.rto.device, !row.rto.uplink}] += row.rto.waitS;
        byPhase[{row.round, row.phase, static_cast<int>(row.activity)}].push_back(span);
    }
    r.stallS = UnionLength(std::move(spans));
    for (const auto& [link, s] : byLink)
    {
        if (s > r.deviceWaitS)
        {
            r.device = link.first;
            r.uplink = !link.second;
            r.deviceWaitS = s;
        }
    }
    static const char* const NAMES[] = {"idle", "connect", "sync", "steps"};
    for (const auto& [phase, phaseSpans] : byPhase)
    {
        const double s = UnionLength(phaseSpans);
        if (s > r.phaseStallS)
        {
            r.round = std::get<0>(phase);
            r.phase = std::get<1>(phase);
            r.activity = NAMES[std::get<2>(phase)];
            r.phaseStallS = s;
            r.phaseTimeouts = phaseSpans.size();
        }
    }
    return r;
}

void
MetricsCollector::OnFrameSent(const FrameRecord& f)
{
    const double timeS = ns3::Simulator::Now().GetSeconds();
    const auto d = static_cast<size_t>(f.device);
    (f.toServer ? m_socketUp : m_socketDown)[d] += f.bytes;
    switch (f.kind)
    {
    case MessageKind::ACTIVATIONS:
        m_bytesUp += f.bytes;
        m_deviceUp[d] += f.bytes;
        // a device has one step under way: these are its activations
        m_pending[d].bytesUp = f.bytes;
        break;
    case MessageKind::HEAD_GRADIENT: // U-shaped: the step's second uplink frame
        m_bytesUp += f.bytes;
        m_deviceUp[d] += f.bytes;
        m_pending[d].bytesUp += f.bytes;
        break;
    case MessageKind::GRADIENT:
    case MessageKind::SERVER_OUTPUT: // U-shaped (the device reports both in its step's end)
        m_bytesDown += f.bytes;
        m_deviceDown[d] += f.bytes;
        break;
    case MessageKind::WEIGHTS:
        m_bytesSync += f.bytes;
        m_deviceSync[d] += f.bytes;
        break;
    case MessageKind::START:
        m_timelines[d].phase = f.phase;
        Enter(f.device, Activity::SYNC);
        // A START that carries weights is synchronisation traffic; a bare one is control.
        if (f.bytes > MESSAGE_HEADER_BYTES + 4)
        {
            m_bytesSync += f.bytes;
            m_deviceSync[d] += f.bytes;
        }
        else
        {
            m_bytesControl += f.bytes;
        }
        break;
    default:
        m_bytesControl += f.bytes;
    }
    if (m_recordFrames)
    {
        m_frames.push_back(FrameRow{timeS, f.kind, f.device, f.toServer, f.bytes});
    }
}

void
MetricsCollector::OnStepStarted(const StepStartRecord& start)
{
    if (start.phase == m_timelines[static_cast<size_t>(start.device)].phase)
    {
        Enter(start.device, Activity::STEP); // else a stale step: the START is on its way
    }
    StepRecord& rec = m_pending[static_cast<size_t>(start.device)];
    rec = StepRecord();
    rec.startS = ns3::Simulator::Now().GetSeconds();
    rec.round = m_round;
    rec.phase = start.phase;
    rec.step = start.step;
    rec.device = start.device;
    rec.batch = start.batch;
    rec.codecRelError = start.codecRelError;
    rec.deviceComputeS = start.forwardS;
}

void
MetricsCollector::OnServerStep(const ServerStepRecord& step)
{
    StepRecord& rec = m_pending[static_cast<size_t>(step.device)];
    rec.loss = step.loss;
    rec.batchAccuracy = static_cast<double>(step.correct) / step.batch;
    // U-shaped runs serve a step in two requests (forward, then backward): both count.
    rec.queueS += step.queueS;
    rec.serverComputeS += step.computeS;
}

void
MetricsCollector::OnStepCompleted(const StepEndRecord& end)
{
    StepRecord& rec = m_pending[static_cast<size_t>(end.device)];
    rec.bytesDown = end.gradientFrameBytes;
    // U-shaped: plus the head's forward and backward
    rec.deviceComputeS += end.headS + end.backwardS;
    if (end.deviceLoss) // U-shaped: the head on the device computed it
    {
        rec.loss = end.loss;
        rec.batchAccuracy = static_cast<double>(end.correct) / rec.batch;
    }
    rec.endS = ns3::Simulator::Now().GetSeconds();
    m_steps.push_back(rec);
    Timeline& tl = m_timelines[static_cast<size_t>(end.device)];
    if (tl.activity == Activity::STEP && tl.sinceS == rec.startS)
    {
        // The step's own split (as steps.csv); then the device starts its next step or reports.
        DeviceTime& t = tl.time;
        t.deviceCompute += rec.deviceComputeS;
        t.serverCompute += rec.serverComputeS;
        t.queue += rec.queueS;
        t.comm += (rec.endS - rec.startS) - rec.deviceComputeS - rec.serverComputeS - rec.queueS;
        tl.activity = Activity::SYNC;
        tl.sinceS = rec.endS;
    }
    // else: the server had given up on this step (a START came in between): its time is counted
    // as it was spent (idle, then sync), not again here.
}

void
MetricsCollector::OnDeviceTimedOut(int device)
{
    Event(device, "timeout");
}

void
MetricsCollector::OnEvaluation(int round, double accuracy, double loss, double cutDcorSq)
{
    m_evals.push_back(EvalRow{ns3::Simulator::Now().GetSeconds(), round, Steps(), m_bytesUp,
                              m_bytesDown, m_bytesSync, accuracy, loss, cutDcorSq});
}

void
MetricsCollector::OnCutLeakage(int round, int group, double cutDcorSq)
{
    m_leakage.push_back(LeakageRow{ns3::Simulator::Now().GetSeconds(), round, group, cutDcorSq});
}

void
MetricsCollector::OnRound(int32_t, int32_t now)
{
    m_round = now;
}

void
MetricsCollector::Event(int device, const std::string& what)
{
    m_events.push_back(EventRow{ns3::Simulator::Now().GetSeconds(), device, what, m_round});
}

void
MetricsCollector::Write(const std::string& dir, RunSummary& summary, double targetAccuracy,
                        const NetworkStats* net, const EnergyRecorder* energy) const
{
    // The energy recorder keeps one row per StepCompleted, as this collector does.
    SLSIM_ASSERT(!energy || energy->Steps().size() == m_steps.size());

    CsvWriter steps(dir + "/steps.csv",
                    {"sim_time_s", "round", "phase", "step", "device", "batch", "loss",
                     "batch_accuracy", "bytes_up", "bytes_down", "cum_bytes_up", "cum_bytes_down",
                     "device_compute_s", "server_compute_s", "queue_s", "comm_s", "codec_rel_error",
                     "compute_j", "radio_j"});
    uint64_t cumUp = 0, cumDown = 0;
    for (size_t i = 0; i < m_steps.size(); ++i)
    {
        const StepRecord& s = m_steps[i];
        const StepEnergy stepEnergy = energy ? energy->Steps()[i] : StepEnergy();
        cumUp += s.bytesUp;
        cumDown += s.bytesDown;
        const double total = s.endS - s.startS;
        const double comm = total - s.deviceComputeS - s.serverComputeS - s.queueS;
        steps.Add(s.endS)
            .Add(s.round)
            .Add(static_cast<int64_t>(s.phase))
            .Add(static_cast<int64_t>(s.step))
            .Add(s.device)
            .Add(s.batch)
            .Add(s.loss)
            .Add(s.batchAccuracy)
            .Add(s.bytesUp)
            .Add(s.bytesDown)
            .Add(cumUp)
            .Add(cumDown)
            .Add(s.deviceComputeS)
            .Add(s.serverComputeS)
            .Add(s.queueS)
            .Add(comm)
            .Add(s.codecRelError)
            .Add(stepEnergy.computeJ)
            .Add(stepEnergy.radioJ);
        steps.EndRow();
    }

    CsvWriter eval(dir + "/eval.csv",
                   {"sim_time_s", "round", "steps", "cum_bytes_up", "cum_bytes_down",
                    "cum_bytes_sync", "test_accuracy", "test_loss", "cut_dcor_sq"});
    summary.bestAccuracy = std::numeric_limits<double>::quiet_NaN(); // until an evaluation
    summary.timeToTargetS = -1;
    summary.bytesUpToTarget = -1;
    for (const EvalRow& e : m_evals)
    {
        eval.Add(e.timeS)
            .Add(e.round)
            .Add(e.steps)
            .Add(e.up)
            .Add(e.down)
            .Add(e.sync)
            .Add(e.accuracy)
            .Add(e.loss)
            .Add(std::isnan(e.cutDcorSq) ? std::string() : FormatDouble(e.cutDcorSq));
        eval.EndRow();
        if (!(summary.bestAccuracy >= e.accuracy)) // also when best is still NaN (none yet)
        {
            summary.bestAccuracy = e.accuracy;
        }
        if (targetAccuracy > 0 && summary.timeToTargetS < 0 && e.accuracy >= targetAccuracy)
        {
            summary.timeToTargetS = e.timeS;
            summary.bytesUpToTarget = static_cast<double>(e.up);
        }
    }
    if (!m_evals.empty())
    {
        summary.finalAccuracy = m_evals.back().accuracy;
        summary.finalLoss = m_evals.back().loss;
    }

    CsvWriter events(dir + "/events.csv", {"sim_time_s", "device", "event", "round"});
    for (const EventRow& e : m_events)
    {
        events.Add(e.timeS).Add(e.device).Add(e.what).Add(e.round);
        events.EndRow();
    }

    std::unique_ptr<CsvWriter> leakage;
    if (!m_leakage.empty())
    {
        leakage = std::make_unique<CsvWriter>(
            dir + "/leakage.csv",
            std::vector<std::string>{"sim_time_s", "round", "cut", "cut_dcor_sq"});
        for (const LeakageRow& l : m_leakage)
        {
            const auto g = static_cast<size_t>(l.group);
            leakage->Add(l.timeS)
                .Add(l.round)
                .Add(g < m_cutNames.size() ? m_cutNames[g] : std::to_string(l.group))
                .Add(l.cutDcorSq);
            leakage->EndRow();
        }
    }

    std::unique_ptr<CsvWriter> frames;
    if (m_recordFrames)
    {
        frames = std::make_unique<CsvWriter>(
            dir + "/frames.csv",
            std::vector<std::string>{"sim_time_s", "kind", "device", "direction", "bytes"});
        for (const FrameRow& f : m_frames)
        {
            frames->Add(f.timeS)
                .Add(MessageKindName(f.kind))
                .Add(f.device)
                .Add(f.toServer ? "up" : "down")
                .Add(f.bytes);
            frames->EndRow();
        }
    }

    CsvWriter devices(dir + "/devices.csv", {"device",
                                             "bytes_up",
                                             "bytes_down",
                                             "bytes_sync",
                                             "tcp_retransmissions",
                                             "tcp_timeouts",
                                             "bytes_retransmitted",
                                             "queue_drops",
                                             "wire_losses",
                                             "device_compute_s",
                                             "server_compute_s",
                                             "queue_s",
                                             "comm_s",
                                             "connect_s",
                                             "sync_s",
                                             "idle_s",
                                             "rto_wait_s",
                                             "wire_bytes_up",
                                             "wire_bytes_down",
                                             "compute_j",
                                             "radio_j",
                                             "radio_tx_s",
                                             "radio_rx_s",
                                             "battery_empty_s",
                                             "airtime_up_s",
                                             "airtime_down_s",
                                             "mac_retries_up",
                                             "mac_retries_down"});
    DeviceTime mean; // over the devices
    const double n = static_cast<double>(m_timelines.size());
    for (size_t d = 0; d < m_timelines.size(); ++d)
    {
        const int device = static_cast<int>(d);
        const TcpCounts up = net ? net->Uplink(device) : TcpCounts();
        const TcpCounts down = net ? net->Downlink(device) : TcpCounts();
        const LinkCounts linkUp = net ? net->AccessUp(device) : LinkCounts();
        const LinkCounts linkDown = net ? net->AccessDown(device) : LinkCounts();
        const DeviceTime t = TimeOf(device, summary.simTimeS);
        mean.deviceCompute += t.deviceCompute / n;
        mean.serverCompute += t.serverCompute / n;
        mean.queue += t.queue / n;
        mean.comm += t.comm / n;
        mean.connect += t.connect / n;
        mean.sync += t.sync / n;
        mean.idle += t.idle / n;
        const DeviceEnergy e = energy ? energy->Device(device) : DeviceEnergy();
        devices.Add(device)
            .Add(m_deviceUp[d])
            .Add(m_deviceDown[d])
            .Add(m_deviceSync[d])
            .Add(up.retransmissions + down.retransmissions)
            .Add(up.timeouts + down.timeouts)
            .Add(up.bytesRetransmitted + down.bytesRetransmitted)
            .Add(linkUp.queueDrops + linkDown.queueDrops)
            .Add(linkUp.wireLosses + linkDown.wireLosses)
            .Add(t.deviceCompute)
            .Add(t.serverCompute)
            .Add(t.queue)
            .Add(t.comm)
            .Add(t.connect)
            .Add(t.sync)
            .Add(t.idle)
            .Add(up.rtoWaitS + down.rtoWaitS)
            .Add(linkUp.bytesSent)
            .Add(linkDown.bytesSent)
            .Add(e.computeJ)
            .Add(e.radioJ)
            .Add(e.txS)
            .Add(e.rxS)
            .Add(std::isnan(e.emptyAtS) ? std::string() : FormatDouble(e.emptyAtS))
            .Add(linkUp.airtimeS)
            .Add(linkDown.airtimeS)
            .Add(linkUp.macRetries)
            .Add(linkDown.macRetries);
        devices.EndRow();
    }

    const TcpCounts tcp = net ? net->TcpTotal() : TcpCounts();
    summary.tcpRetransmissions = tcp.retransmissions;
    summary.tcpTimeouts = tcp.timeouts;
    summary.bytesRetransmitted = tcp.bytesRetransmitted;
    summary.queueDrops = net ? net->LinkTotal().queueDrops : 0;
    summary.bytesUp = m_bytesUp;
    summary.bytesDown = m_bytesDown;
    summary.bytesSync = m_bytesSync;
    summary.steps = Steps();
    const DeviceEnergy totalEnergy = energy ? energy->Total() : DeviceEnergy();
    summary.computeJ = totalEnergy.computeJ;
    summary.radioJ = totalEnergy.radioJ;
    summary.batteryDropouts = energy ? energy->Emptied() : 0;

    CsvWriter sum(dir + "/summary.csv", {"final_accuracy",
                                         "best_accuracy",
                                         "final_loss",
                                         "time_to_target_s",
                                         "bytes_up_to_target",
                                         "bytes_up",
                                         "bytes_down",
                                         "bytes_sync",
                                         "sim_time_s",
                                         "steps",
                                         "rounds",
                                         "dropouts",
                                         "wall_time_s",
                                         "training_wall_s",
                                         "ns3_wall_s",
                                         "diverged",
                                         "tcp_retransmissions",
                                         "tcp_timeouts",
                                         "queue_drops",
                                         "bytes_retransmitted",
                                         "mean_device_compute_s",
                                         "mean_server_compute_s",
                                         "mean_queue_s",
                                         "mean_comm_s",
                                         "mean_connect_s",
                                         "mean_sync_s",
                                         "mean_idle_s",
                                         "rto_stall_s",
                                         "compute_j",
                                         "radio_j",
                                         "battery_dropouts"});
    // No evaluation (diverged before the first): empty cells, not numbers.
    const auto measured = [](double v) { return std::isnan(v) ? std::string() : FormatDouble(v); };
    sum.Add(measured(summary.finalAccuracy))
        .Add(measured(summary.bestAccuracy))
        .Add(measured(summary.finalLoss))
        .Add(summary.timeToTargetS)
        .Add(summary.bytesUpToTarget)
        .Add(summary.bytesUp)
        .Add(summary.bytesDown)
        .Add(summary.bytesSync)
        .Add(summary.simTimeS)
        .Add(summary.steps)
        .Add(summary.rounds)
        .Add(summary.dropouts)
        .Add(summary.wallTimeS)
        .Add(summary.trainingWallS)
        .Add(summary.ns3WallS)
        .Add(static_cast<int64_t>(summary.diverged ? 1 : 0))
        .Add(summary.tcpRetransmissions)
        .Add(summary.tcpTimeouts)
        .Add(summary.queueDrops)
        .Add(summary.bytesRetransmitted)
        .Add(mean.deviceCompute)
        .Add(mean.serverCompute)
        .Add(mean.queue)
        .Add(mean.comm)
        .Add(mean.connect)
        .Add(mean.sync)
        .Add(mean.idle)
        .Add(Rto().stallS)
        .Add(summary.computeJ)
        .Add(summary.radioJ)
        .Add(summary.batteryDropouts);
    sum.EndRow();

    // Commit only once every file is complete: a failed run leaves no result files.
    steps.Commit();
    eval.Commit();
    events.Commit();
    devices.Commit();
    if (frames)
    {
        frames->Commit();
    }
    if (leakage)
    {
        leakage->Commit();
    }
    sum.Commit();
}

void
MetricsCollector::SaveState(ByteWriter& out) const
{
    PutPod(out, m_round);
    PutPod(out, m_phase);
    PutPodVector(out, m_pending);
    PutPodVector(out, m_steps);
    PutPodVector(out, m_evals);
    PutPodVector(out, m_leakage);
    out.PutU64(m_events.size());
    for (const EventRow& e : m_events)
    {
        PutPod(out, e.timeS);
        PutPod(out, e.device);
        PutString(out, e.what);
        PutPod(out, e.round);
    }
    PutPodVector(out, m_frames);
    PutPodVector(out, m_socketUp);
    PutPodVector(out, m_socketDown);
    PutPodVector(out, m_deviceUp);
    PutPodVector(out, m_deviceDown);
    PutPodVector(out, m_deviceSync);
    for (uint64_t v : {m_bytesUp, m_bytesDown, m_bytesSync, m_bytesControl})
    {
        out.PutU64(v);
    }
    PutPodVector(out, m_timelines);
    PutPodVector(out, m_rtos);
}

void
MetricsCollector::LoadState(ByteReader& in)
{
    const size_t devices = m_timelines.size();
    GetPod(in, m_round);
    GetPod(in, m_phase);
    GetPodVector(in, m_pending, "pending steps", devices);
    GetPodVector(in, m_steps, "steps");
    GetPodVector(in, m_evals, "evaluations");
    GetPodVector(in, m_leakage, "leakage rows");
    const uint64_t events = in.GetU64();
    m_events.clear();
    for (uint64_t i = 0; i < events; ++i)
    {
        EventRow e;
        GetPod(in, e.timeS);
        GetPod(in, e.device);
        e.what = GetString(in, "event");
        GetPod(in, e.round);
        m_events.push_back(std::move(e));
    }
    GetPodVector(in, m_frames, "frames");
    GetPodVector(in, m_socketUp, "socket bytes", devices);
    GetPodVector(in, m_socketDown, "socket bytes", devices);
    GetPodVector(in, m_deviceUp, "device bytes", devices);
    GetPodVector(in, m_deviceDown, "device bytes", devices);
    GetPodVector(in, m_deviceSync, "device bytes", devices);
    m_bytesUp = in.GetU64();
    m_bytesDown = in.GetU64();
    m_bytesSync = in.GetU64();
    m_bytesControl = in.GetU64();
    GetPodVector(in, m_timelines, "device timelines", devices);
    GetPodVector(in, m_rtos, "retransmission timeouts");
}

} // namespace slsim
