#include "sim/server-app.h"

#include "common/error.h"
#include "sim/server-side.h"
#include "sim/small-queues.h"

#include "ns3/boolean.h"
#include "ns3/double.h"
#include "ns3/inet-socket-address.h"
#include "ns3/integer.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"

#include <cmath>

namespace slsim
{

NS_LOG_COMPONENT_DEFINE("SlsimServerApp");

ns3::TypeId
ServerApp::GetTypeId()
{
    static ns3::TypeId tid
        = ns3::TypeId("slsim::ServerApp")
              .SetParent<ns3::Application>()
              .SetGroupName("slsim")
              .AddConstructor<ServerApp>()
              .AddAttribute("Port", "TCP port to listen on.", ns3::UintegerValue(0),
                            ns3::MakeUintegerAccessor(&ServerApp::m_port),
                            ns3::MakeUintegerChecker<uint16_t>())
              .AddAttribute("Devices", "Devices expected to connect (network.devices).",
                            ns3::IntegerValue(0), ns3::MakeIntegerAccessor(&ServerApp::m_devices),
                            ns3::MakeIntegerChecker<int>(0))
              .AddAttribute("Workers", "Steps served at once (network.server_workers).",
                            ns3::IntegerValue(1), ns3::MakeIntegerAccessor(&ServerApp::m_workers),
                            ns3::MakeIntegerChecker<int>(1))
              .AddAttribute("Gflops",
                            "Compute speed per worker in GFLOP/s (network.server_gflops).",
                            ns3::DoubleValue(1), ns3::MakeDoubleAccessor(&ServerApp::m_gflops),
                            ns3::MakeDoubleChecker<double>(0))
              .AddAttribute("TimeoutS",
                            "Inactivity time-out per device, and the wait for all HELLOs "
                            "(faults.timeout_s).",
                            ns3::DoubleValue(30), ns3::MakeDoubleAccessor(&ServerApp::m_timeoutS),
                            ns3::MakeDoubleChecker<double>(0))
              .AddAttribute("Epochs", "Rounds to run (training.epochs).", ns3::IntegerValue(1),
                            ns3::MakeIntegerAccessor(&ServerApp::m_epochs),
                            ns3::MakeIntegerChecker<int>(0))
              .AddAttribute("EvalEveryRounds",
                            "Evaluate after every this many rounds and at the end "
                            "(training.eval_every_rounds).",
                            ns3::IntegerValue(1),
                            ns3::MakeIntegerAccessor(&ServerApp::m_evalEveryRounds),
                            ns3::MakeIntegerChecker<int>())
              .AddAttribute("EvalEverySteps",
                            "Also evaluate at the first phase end at or after every multiple of "
                            "this many device steps (training.eval_every_steps; 0: off).",
                            ns3::IntegerValue(0),
                            ns3::MakeIntegerAccessor(&ServerApp::m_evalEverySteps),
                            ns3::MakeIntegerChecker<int>(0))
              .AddAttribute("EvalEveryS",
                            "Also evaluate at the first phase end at or after every multiple of "
                            "this many simulated seconds (training.eval_every_s; 0: off).",
                            ns3::DoubleValue(0), ns3::MakeDoubleAccessor(&ServerApp::m_evalEveryS),
                            ns3::MakeDoubleChecker<double>(0))
              .AddAttribute(
                  "EvalAtStart", "Evaluate the initial weights at t=0 (training.eval_at_start).",
                  ns3::BooleanValue(true), ns3::MakeBooleanAccessor(&ServerApp::m_evalAtStart),
                  ns3::MakeBooleanChecker())
              .AddAttribute("TimeBudgetS",
                            "Finish at the first phase end at or after this simulated time "
                            "(training.time_budget_s; 0: none).",
                            ns3::DoubleValue(0), ns3::MakeDoubleAccessor(&ServerApp::m_timeBudgetS),
                            ns3::MakeDoubleChecker<double>(0))
              .AddAttribute("MaxActiveDevices",
                            "Devices of a phase training at once; the next is STARTed when one "
                            "reports or times out (schedule.max_active_devices; 0: all).",
                            ns3::IntegerValue(0), ns3::MakeIntegerAccessor(&ServerApp::m_maxActive),
                            ns3::MakeIntegerChecker<int>(0))
              .AddTraceSource("FrameSent", "A whole frame handed to a socket.",
                              ns3::MakeTraceSourceAccessor(&ServerApp::m_frameSent),
                              "slsim::FrameCallback")
              .AddTraceSource("FrameReceived", "A whole frame delivered by a socket.",
                              ns3::MakeTraceSourceAccessor(&ServerApp::m_frameReceived),
                              "slsim::FrameCallback")
              .AddTraceSource("ServerStepDone", "A step served for a device.",
                              ns3::MakeTraceSourceAccessor(&ServerApp::m_serverStepDone),
                              "slsim::ServerStepCallback")
              .AddTraceSource("PhaseStarted", "A phase begins (its index); its STARTs follow.",
                              ns3::MakeTraceSourceAccessor(&ServerApp::m_phaseStarted),
                              "slsim::PhaseCallback")
              .AddTraceSource("PhaseClosed", "A phase ended (phase, reports received).",
                              ns3::MakeTraceSourceAccessor(&ServerApp::m_phaseClosed),
                              "slsim::PhaseClosedCallback")
              .AddTraceSource("DeviceTimedOut", "The server gave up on a device for its phase.",
                              ns3::MakeTraceSourceAccessor(&ServerApp::m_deviceTimedOut),
                              "slsim::DeviceCallback")
              .AddTraceSource("EvaluationDone",
                              "A test evaluation (round, accuracy, loss, leakage).",
                              ns3::MakeTraceSourceAccessor(&ServerApp::m_evaluationDone),
                              "slsim::EvaluationCallback")
              .AddTraceSource("CutLeakage",
                              "Per-device cuts: an evaluation's leakage at one distinct cut "
                              "(round, cut group, cut_dcor_sq), after EvaluationDone.",
                              ns3::MakeTraceSourceAccessor(&ServerApp::m_cutLeakage),
                              "slsim::CutLeakageCallback")
              .AddTraceSource("RoundStarted", "A round began (its 0-based index).",
                              ns3::MakeTraceSourceAccessor(&ServerApp::m_roundStarted),
                              "slsim::RoundCallback")
              .AddTraceSource("Round", "Rounds completed (the round under way while training).",
                              ns3::MakeTraceSourceAccessor(&ServerApp::m_round),
                              "ns3::TracedValueCallback::Int32");
    return tid;
}

void
ServerApp::SetSides(ServerSide* side, Schedule* schedule)
{
    m_side = side;
    m_schedule = schedule;
}

void
ServerApp::SetListenNodes(std::vector<ns3::Ptr<ns3::Node>> nodes)
{
    m_listenNodes = std::move(nodes);
}

void
ServerApp::DoDispose()
{
    m_connections.clear();
    m_listen.clear();
    m_listenNodes.clear();
    ns3::Application::DoDispose();
}

void
ServerApp::StartApplication()
{
    SLSIM_ASSERT(m_side && m_schedule);
    const auto n = static_cast<size_t>(m_devices);
    m_byDevice.assign(n, nullptr);
    m_timers.resize(n);
    if (m_listenNodes.empty())
    {
        m_listenNodes.push_back(GetNode());
    }
    for (const ns3::Ptr<ns3::Node>& node : m_listenNodes)
    {
        ns3::Ptr<ns3::Socket> s = CreateTcpSocket(node);
        s->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), m_port));
        s->Listen();
        s->SetAcceptCallback(
            ns3::MakeNullCallback<bool, ns3::Ptr<ns3::Socket>, const ns3::Address&>(),
            ns3::MakeCallback(&ServerApp::OnAccept, this));
        m_listen.push_back(s);
    }
    if (!m_resumed)
    {
        m_nextEvalSteps = m_evalEverySteps;
        m_nextEvalS = m_evalEveryS;
        if (m_evalAtStart)
        {
            Evaluate(); // the initial weights: the accuracy curve starts at chance
        }
    }
    // Devices that cannot connect in time (an outage at the start) are not waited for.
    m_startTimer = ns3::Simulator::Schedule(ns3::Seconds(m_timeoutS), &ServerApp::BeginRound, this);
}

void
ServerApp::StopApplication()
{
    for (auto& t : m_timers)
    {
        t.Cancel();
    }
    m_startTimer.Cancel();
}

void
ServerApp::OnAccept(ns3::Ptr<ns3::Socket> socket, const ns3::Address&)
{
    auto conn = std::make_unique<Connection>();
    Connection* c = conn.get();
    c->socket = socket;
    c->sender = std::make_unique<FrameSender>(socket);
    c->assembler = std::make_unique<FrameAssembler>(
        [this, socket](std::vector<uint8_t>&& frame) { OnFrame(socket, std::move(frame)); });
    socket->SetRecvCallback(ns3::MakeCallback(&FrameAssembler::OnReceive, c->assembler.get()));
    m_connections[socket] = std::move(conn);
}

void
ServerApp::Send(int device, MessageKind kind, uint8_t flags, uint32_t step,
                const std::vector<uint8_t>& body)
{
    Connection* c = m_byDevice[static_cast<size_t>(device)];
    if (!c)
    {
        return; // never connected: its timer will expire
    }
    MessageHeader h;
    h.kind = kind;
    h.flags = flags;
    h.device = static_cast<uint32_t>(device);
    h.phase = m_phase;
    h.step = step;
    WriteMessageHeader(h, m_header);
    c->sender->Send(m_header, body);
    m_frameSent(FrameRecord{kind, device, false, FRAME_PREFIX_BYTES + m_header.size() + body.size(),
                            m_phase});
}

void
ServerApp::OnFrame(ns3::Ptr<ns3::Socket> socket, std::vector<uint8_t>&& frame)
{
    Connection* conn = m_connections.at(socket).get(); // O(log connections)
    const MessageHeader h = ReadMessageHeader(frame);
    if (h.device >= m_byDevice.size() || (conn->device >= 0 && conn->device != int(h.device)))
    {
        throw DecodeError("message from an unknown device " + std::to_string(h.device));
    }
    const int d = static_cast<int>(h.device);
    m_frameReceived(FrameRecord{h.kind, d, true, frame.size() + FRAME_PREFIX_BYTES, h.phase});
    if (h.kind == MessageKind::HELLO)
    {
        NS_LOG_INFO("device " << d << " connected");
        conn->device = d;
        m_byDevice[h.device] = conn;
        if (++m_hellos == m_devices && !m_started)
        {
            m_startTimer.Cancel();
            BeginRound();
        }
        return;
    }
    if (h.phase != m_phase || !m_waiting.count(d))
    {
        return; // stale: the phase closed without this device
    }
    ArmTimer(d); // the device is alive: restart its inactivity timer
    switch (h.kind)
    {
    case MessageKind::ACTIVATIONS:
    case MessageKind::HEAD_GRADIENT: // U-shaped: the step's second half queues like the first
        if (h.kind == MessageKind::HEAD_GRADIENT && !m_side->UShaped())
        {
            throw DecodeError("unexpected message kind head_gradient");
        }
        m_queue.push_back(Request{d, h.phase, h.step, std::move(frame),
                                  ns3::Simulator::Now().GetSeconds(), h.kind});
        ServeQueued();
        break;
    case MessageKind::WEIGHTS:
        DeviceReported(d, frame.data() + MESSAGE_HEADER_BYTES, frame.size() - MESSAGE_HEADER_BYTES);
        break;
    case MessageKind::DONE:
        DeviceReported(d, nullptr, 0);
        break;
    default:
        throw DecodeError(std::string("unexpected message kind ") + MessageKindName(h.kind));
    }
}

void
ServerApp::ServeQueued()
{
    while (m_busy < m_workers && !m_queue.empty())
    {
        Request r = std::move(m_queue.front());
        m_queue.pop_front();
        if (r.phase != m_phase || !m_waiting.count(r.device))
        {
            continue;
        }
        Serve(std::move(r));
    }
}

void
ServerApp::Serve(Request r)
{
    ++m_busy;
    std::vector<uint8_t> reply;
    const uint8_t* body = r.frame.data() + MESSAGE_HEADER_BYTES;
    const size_t size = r.frame.size() - MESSAGE_HEADER_BYTES;
    ServerResult res;
    double computeS = 0;
    MessageKind answer = MessageKind::GRADIENT;
    const ComputeModel compute(m_side->FlopsPerSampleFor(r.device), m_gflops); // d's server part
    if (r.kind == MessageKind::HEAD_GRADIENT)
    {
        // U-shaped, second half: backward through the server part and its optimizer step.
        res = m_side->StepBackward(r.device, body, size, reply);
        computeS = compute.BackwardSeconds(res.batch);
    }
    else
    {
        ++m_stepsServed;
        res = m_side->Step(r.device, body, size, reply);
        const bool u = m_side->UShaped(); // U-shaped: the forward only, its output goes down
        computeS = u ? compute.ForwardSeconds(res.batch) : compute.StepSeconds(res.batch);
        answer = u ? MessageKind::SERVER_OUTPUT : MessageKind::GRADIENT;
    }
    m_serverStepDone(ServerStepRecord{r.device, r.step, res.loss, res.correct, res.batch,
                                      ns3::Simulator::Now().GetSeconds() - r.arrivalS, computeS});
    ns3::Simulator::Schedule(ns3::Seconds(computeS), &ServerApp::FinishServing, this, r.device,
                             r.step, answer, std::move(reply));
}

void
ServerApp::FinishServing(int device, uint32_t step, MessageKind kind, std::vector<uint8_t> reply)
{
    --m_busy;
    Send(device, kind, 0, step, reply);
    ServeQueued();
}

void
ServerApp::BeginRound()
{
    m_started = true;
    if (m_round >= m_epochs)
    {
        Finish();
        return;
    }
    NS_LOG_INFO("round " << m_round << " begins");
    m_side->SetRound(m_round);
    m_roundStarted(m_round);
    m_schedule->BeginRound();
    StartPhase();
}

void
ServerApp::StartPhase()
{
    const PhasePlan plan = m_schedule->NextPhase();
    if (plan.devices.empty())
    {
        EndRound();
        return;
    }
    EvaluateIfDue(); // a phase end inside the round (the round's last one is EndRound's)
    ++m_phase;
    NS_LOG_INFO("phase " << m_phase << ": " << plan.devices.size() << " devices");
    m_phaseStarted(m_phase);
    m_reports.clear();
    m_waiting.clear();
    m_notStarted.clear();
    m_active = 0;
    for (const auto& [d, steps] : plan.devices)
    {
        m_waiting.insert(d);
        m_notStarted.emplace_back(d, steps);
    }
    m_startFlags = START_REPORT_WEIGHTS | (m_agreed.valid ? START_HAS_WEIGHTS : 0);
    StartNext();
}

void
ServerApp::StartNext()
{
    const std::vector<uint8_t> none;
    while (!m_notStarted.empty() && (m_maxActive == 0 || m_active < m_maxActive))
    {
        const auto [d, steps] = m_notStarted.front();
        m_notStarted.pop_front();
        ++m_active;
        Send(d, MessageKind::START, m_startFlags, static_cast<uint32_t>(steps),
             m_agreed.valid ? m_agreed.BlobFor(d) : none);
        ArmTimer(d);
    }
}

void
ServerApp::ArmTimer(int d)
{
    m_timers[static_cast<size_t>(d)].Cancel();
    m_timers[static_cast<size_t>(d)]
        = ns3::Simulator::Schedule(ns3::Seconds(m_timeoutS), &ServerApp::Timeout, this, d);
}

void
ServerApp::Timeout(int d)
{
    if (!m_waiting.erase(d))
    {
        return;
    }
    NS_LOG_INFO("device " << d << " timed out in phase " << m_phase);
    ++m_dropouts;
    m_deviceTimedOut(d);
    m_side->DeviceTimedOut(d, ns3::Simulator::Now().GetSeconds());
    m_schedule->PhaseResult(d, false);
    --m_active;
    if (m_waiting.empty())
    {
        ClosePhase();
        return;
    }
    StartNext();
}

void
ServerApp::DeviceReported(int d, const uint8_t* blob, size_t size)
{
    m_timers[static_cast<size_t>(d)].Cancel();
    m_waiting.erase(d);
    if (blob)
    {
        m_reports[d].assign(blob, blob + size);
    }
    m_schedule->PhaseResult(d, true);
    --m_active;
    if (m_waiting.empty())
    {
        ClosePhase();
        return;
    }
    StartNext();
}

void
ServerApp::ClosePhase()
{
    NS_LOG_INFO("phase " << m_phase << " closed with " << m_reports.size() << " reports");
    if (!m_reports.empty())
    {
        m_schedule->ClosePhase(m_reports, *m_side, m_agreed);
    }
    m_phaseClosed(m_phase, static_cast<int>(m_reports.size()));
    if (m_timeBudgetS > 0 && ns3::Simulator::Now().GetSeconds() >= m_timeBudgetS)
    {
        Finish();
        return;
    }
    StartPhase();
}

void
ServerApp::EndRound()
{
    ++m_round;
    const int every = std::max(1, m_evalEveryRounds);
    if (m_round % every == 0 || m_round == m_epochs)
    {
        Evaluate();
    }
    EvaluateIfDue();
    BeginRound();
}

void
ServerApp::EvaluateIfDue()
{
    // The clocks tick on fixed multiples (not since the last evaluation), so that runs which
    // differ in their round ends still evaluate near the same steps and times. A tick waits for
    // weights that differ from the last evaluated ones (a phase end before the first step does
    // not use it up; the initial weights are evaluated only at t=0, by EvalAtStart).
    if (m_stepsServed == std::max<int64_t>(m_lastEvalSteps, 0))
    {
        return;
    }
    const double now = ns3::Simulator::Now().GetSeconds();
    bool due = false;
    if (m_evalEverySteps > 0 && m_stepsServed >= m_nextEvalSteps)
    {
        due = true;
        m_nextEvalSteps = (m_stepsServed / m_evalEverySteps + 1) * m_evalEverySteps;
    }
    if (m_evalEveryS > 0 && now >= m_nextEvalS)
    {
        due = true;
        m_nextEvalS = (std::floor(now / m_evalEveryS) + 1) * m_evalEveryS;
    }
    if (due)
    {
        Evaluate();
    }
}

void
ServerApp::Evaluate()
{
    if (m_lastEvalSteps == m_stepsServed)
    {
        return; // the weights have not changed since the last evaluation
    }
    m_lastEvalSteps = m_stepsServed;
    const EvalResult r = m_side->Evaluate(m_agreed.valid ? &m_agreed.weights : nullptr);
    NS_LOG_INFO("evaluation after round " << m_round << ": accuracy " << r.accuracy);
    m_evaluationDone(m_round, r.accuracy, r.loss, r.cutDcorSq);
    for (size_t g = 0; g < r.groupCutDcorSq.size(); ++g)
    {
        m_cutLeakage(m_round, static_cast<int>(g), r.groupCutDcorSq[g]);
    }
}

void
ServerApp::Finish()
{
    if (m_finished)
    {
        return;
    }
    m_finished = true;
    Evaluate();
    NS_LOG_INFO("finished after " << m_round << " rounds");
    ns3::Simulator::Stop();
}

ServerAppState
ServerApp::SaveState() const
{
    return ServerAppState{m_round.Get(),   m_phase,         m_dropouts,  m_stepsServed,
                          m_lastEvalSteps, m_nextEvalSteps, m_nextEvalS, m_agreed};
}

void
ServerApp::Resume(const ServerAppState& s)
{
    m_resumed = true;
    m_round = s.round;
    m_phase = s.phase;
    m_dropouts = s.dropouts;
    m_stepsServed = s.stepsServed;
    m_lastEvalSteps = s.lastEvalSteps;
    m_nextEvalSteps = s.nextEvalSteps;
    m_nextEvalS = s.nextEvalS;
    m_agreed = s.agreed;
}

} // namespace slsim
