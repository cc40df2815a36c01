#include "sim/server-app.h"

#include "common/error.h"
#include "sim/metrics-collector.h"
#include "sim/split-trainer.h"

#include "ns3/inet-socket-address.h"
#include "ns3/simulator.h"
#include "ns3/tcp-socket-factory.h"

namespace slsim
{

ns3::TypeId
ServerApp::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("slsim::ServerApp")
                                 .SetParent<ns3::Application>()
                                 .SetGroupName("slsim")
                                 .AddConstructor<ServerApp>();
    return tid;
}

void
ServerApp::Setup(const ScenarioConfig* config, uint16_t port, SplitTrainer* trainer,
                 MetricsCollector* metrics, int* round)
{
    m_config = config;
    m_port = port;
    m_trainer = trainer;
    m_metrics = metrics;
    m_round = round;
    const auto n = static_cast<size_t>(trainer->Devices());
    m_byDevice.assign(n, nullptr);
    m_timers.resize(n);
    m_timedOut.assign(n, false);
    m_strategy = MakeStrategy(config->schedule.kind, *trainer, config->schedule.syncEverySteps);
}

void
ServerApp::DoDispose()
{
    m_connections.clear();
    m_listen = nullptr;
    ns3::Application::DoDispose();
}

void
ServerApp::StartApplication()
{
    m_listen = ns3::Socket::CreateSocket(GetNode(), ns3::TcpSocketFactory::GetTypeId());
    m_listen->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), m_port));
    m_listen->Listen();
    m_listen->SetAcceptCallback(
        ns3::MakeNullCallback<bool, ns3::Ptr<ns3::Socket>, const ns3::Address&>(),
        ns3::MakeCallback(&ServerApp::OnAccept, this));
    // Devices that cannot connect in time (an outage at the start) are not waited for.
    m_startTimer = ns3::Simulator::Schedule(ns3::Seconds(m_config->faults.timeoutS),
                                            &ServerApp::BeginRound, this);
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
        [this, c](std::vector<uint8_t>&& frame) { OnFrame(c, std::move(frame)); });
    socket->SetRecvCallback(ns3::MakeCallback(&FrameAssembler::OnReceive, c->assembler.get()));
    m_connections.push_back(std::move(conn));
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
    m_metrics->FrameSent(kind, device, false, FRAME_PREFIX_BYTES + m_header.size() + body.size(),
                         ns3::Simulator::Now().GetSeconds());
}

void
ServerApp::OnFrame(Connection* conn, std::vector<uint8_t>&& frame)
{
    const MessageHeader h = ReadMessageHeader(frame);
    if (h.device >= m_byDevice.size() || (conn->device >= 0 && conn->device != int(h.device)))
    {
        throw DecodeError("message from an unknown device " + std::to_string(h.device));
    }
    const int d = static_cast<int>(h.device);
    if (h.kind == MessageKind::HELLO)
    {
        conn->device = d;
        m_byDevice[h.device] = conn;
        if (++m_hellos == m_trainer->Devices() && !m_started)
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
        m_queue.push_back(Request{d, h.phase, h.step, std::move(frame),
                                  ns3::Simulator::Now().GetSeconds()});
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
    while (m_busy < m_config->network.serverWorkers && !m_queue.empty())
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
    std::vector<uint8_t> grad;
    const int copy = m_trainer->ServerCopyFor(r.device);
    const ServerResult res = m_trainer->ServerStep(copy, r.frame.data() + MESSAGE_HEADER_BYTES,
                                                   r.frame.size() - MESSAGE_HEADER_BYTES, grad);
    StepRecord& rec = m_metrics->Pending(r.device);
    rec.loss = res.loss;
    rec.batchAccuracy = static_cast<double>(res.correct) / res.batch;
    rec.queueS = ns3::Simulator::Now().GetSeconds() - r.arrivalS;
    rec.serverComputeS = m_trainer->ServerSeconds(res.batch);
    ns3::Simulator::Schedule(ns3::Seconds(rec.serverComputeS), &ServerApp::FinishServing, this,
                             r.device, r.step, std::move(grad));
}

void
ServerApp::FinishServing(int device, uint32_t step, std::vector<uint8_t> grad)
{
    --m_busy;
    Send(device, MessageKind::GRADIENT, 0, step, grad);
    ServeQueued();
}

void
ServerApp::BeginRound()
{
    m_started = true;
    if (*m_round >= m_config->training.epochs)
    {
        Finish();
        return;
    }
    m_trainer->SetEpoch(*m_round);
    std::fill(m_timedOut.begin(), m_timedOut.end(), false);
    m_strategy->BeginRound();
    StartPhase();
}

void
ServerApp::StartPhase()
{
    const PhasePlan plan = m_strategy->NextPhase();
    if (plan.devices.empty())
    {
        EndRound();
        return;
    }
    ++m_phase;
    m_reports.clear();
    m_waiting.clear();
    for (const auto& [d, steps] : plan.devices)
    {
        m_waiting.insert(d);
    }
    const uint8_t flags = START_REPORT_WEIGHTS | (m_haveState ? START_HAS_WEIGHTS : 0);
    for (const auto& [d, steps] : plan.devices)
    {
        Send(d, MessageKind::START, flags, static_cast<uint32_t>(steps),
             m_haveState ? m_stateBlob : std::vector<uint8_t>());
        ArmTimer(d);
    }
}

void
ServerApp::ArmTimer(int d)
{
    m_timers[static_cast<size_t>(d)].Cancel();
    m_timers[static_cast<size_t>(d)] = ns3::Simulator::Schedule(
        ns3::Seconds(m_config->faults.timeoutS), &ServerApp::Timeout, this, d);
}

void
ServerApp::Timeout(int d)
{
    if (!m_waiting.erase(d))
    {
        return;
    }
    ++m_dropouts;
    m_timedOut[static_cast<size_t>(d)] = true;
    m_metrics->Event(ns3::Simulator::Now().GetSeconds(), d, "timeout", *m_round);
    m_trainer->DeviceTimedOut(d, ns3::Simulator::Now().GetSeconds());
    m_strategy->PhaseResult(d, false);
    if (m_waiting.empty())
    {
        ClosePhase();
    }
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
    m_strategy->PhaseResult(d, true);
    if (m_waiting.empty())
    {
        ClosePhase();
    }
}

void
ServerApp::ClosePhase()
{
    if (!m_reports.empty())
    {
        if (m_strategy->Averages())
        {
            std::vector<std::vector<float>> states;
            std::vector<int> devices;
            for (const auto& [d, blob] : m_reports)
            {
                states.emplace_back();
                m_trainer->DecodeState(blob.data(), blob.size(), states.back());
                devices.push_back(d);
            }
            m_state = m_trainer->Average(states, devices);
            m_trainer->AverageServerCopies(devices);
            m_trainer->EncodeState(m_state, m_stateBlob);
        }
        else
        {
            // Vanilla SL: the weights go on to the next device as they came.
            m_stateBlob = m_reports.rbegin()->second;
            m_trainer->DecodeState(m_stateBlob.data(), m_stateBlob.size(), m_state);
        }
        m_haveState = true;
    }
    const double budget = m_config->training.timeBudgetS;
    if (budget > 0 && ns3::Simulator::Now().GetSeconds() >= budget)
    {
        Finish();
        return;
    }
    StartPhase();
}

void
ServerApp::EndRound()
{
    ++*m_round;
    const int every = std::max(1, m_config->training.evalEveryRounds);
    if (*m_round % every == 0 || *m_round == m_config->training.epochs)
    {
        Evaluate();
    }
    BeginRound();
}

void
ServerApp::Evaluate()
{
    if (m_lastEvalRound == *m_round && m_lastEvalRound >= 0)
    {
        return;
    }
    m_lastEvalRound = *m_round;
    const std::vector<float> state = m_haveState ? m_state : m_trainer->DeviceStateOf(0);
    const EvalResult r = m_trainer->Evaluate(state, 0);
    m_metrics->EvalCompleted(ns3::Simulator::Now().GetSeconds(), *m_round, r.accuracy, r.loss);
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
    ns3::Simulator::Stop();
}

} // namespace slsim
