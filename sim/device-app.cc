#include "sim/device-app.h"

#include "sim/metrics-collector.h"
#include "sim/split-trainer.h"

#include "ns3/inet-socket-address.h"
#include "ns3/simulator.h"
#include "ns3/tcp-socket-factory.h"

namespace slsim
{

ns3::TypeId
DeviceApp::GetTypeId()
{
    static ns3::TypeId tid = ns3::TypeId("slsim::DeviceApp")
                                 .SetParent<ns3::Application>()
                                 .SetGroupName("slsim")
                                 .AddConstructor<DeviceApp>();
    return tid;
}

void
DeviceApp::Setup(int device, ns3::Ipv4Address server, uint16_t port, SplitTrainer* trainer,
                 MetricsCollector* metrics, double timeBudgetS, int* round)
{
    m_device = device;
    m_server = server;
    m_port = port;
    m_trainer = trainer;
    m_metrics = metrics;
    m_timeBudgetS = timeBudgetS;
    m_round = round;
}

void
DeviceApp::DoDispose()
{
    m_sender.reset();
    m_socket = nullptr;
    ns3::Application::DoDispose();
}

void
DeviceApp::StartApplication()
{
    m_socket = ns3::Socket::CreateSocket(GetNode(), ns3::TcpSocketFactory::GetTypeId());
    m_socket->Bind();
    m_sender = std::make_unique<FrameSender>(m_socket);
    m_assembler = std::make_unique<FrameAssembler>(
        [this](std::vector<uint8_t>&& frame) { OnFrame(std::move(frame)); });
    m_socket->SetRecvCallback(ns3::MakeCallback(&FrameAssembler::OnReceive, m_assembler.get()));
    m_socket->SetConnectCallback(ns3::MakeCallback(&DeviceApp::OnConnected, this),
                                 ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>>());
    m_socket->Connect(ns3::InetSocketAddress(m_server, m_port));
}

void
DeviceApp::StopApplication()
{
    m_pendingEvent.Cancel();
    if (m_socket)
    {
        m_socket->Close();
    }
}

void
DeviceApp::OnConnected(ns3::Ptr<ns3::Socket>)
{
    Send(MessageKind::HELLO, 0, 0, {});
}

void
DeviceApp::Send(MessageKind kind, uint8_t flags, uint32_t step, const std::vector<uint8_t>& body)
{
    MessageHeader h;
    h.kind = kind;
    h.flags = flags;
    h.device = static_cast<uint32_t>(m_device);
    h.phase = m_phase;
    h.step = step;
    WriteMessageHeader(h, m_header);
    m_sender->Send(m_header, body);
    const uint64_t bytes = FRAME_PREFIX_BYTES + m_header.size() + body.size();
    m_metrics->FrameSent(kind, m_device, true, bytes, ns3::Simulator::Now().GetSeconds());
    if (kind == MessageKind::ACTIVATIONS)
    {
        m_metrics->Pending(m_device).bytesUp = bytes;
    }
}

void
DeviceApp::OnFrame(std::vector<uint8_t>&& frame)
{
    const MessageHeader h = ReadMessageHeader(frame);
    if (h.kind == MessageKind::START)
    {
        // A new phase replaces whatever was running (after a time-out the server moved on).
        m_pendingEvent.Cancel();
        m_awaitingGradient = false;
        m_phase = h.phase;
        m_stepsLeft = h.step;
        m_reportWeights = (h.flags & START_REPORT_WEIGHTS) != 0;
        if (h.flags & START_HAS_WEIGHTS)
        {
            std::vector<float> state;
            m_trainer->DecodeState(frame.data() + MESSAGE_HEADER_BYTES,
                                   frame.size() - MESSAGE_HEADER_BYTES, state);
            m_trainer->SetDeviceState(m_device, state);
        }
        BeginStep();
        return;
    }
    if (h.kind != MessageKind::GRADIENT || h.phase != m_phase || !m_awaitingGradient ||
        h.step != m_stepCounter)
    {
        return; // stale: from a phase the server already closed
    }
    m_awaitingGradient = false;
    m_trainer->DeviceBackward(m_device, frame.data() + MESSAGE_HEADER_BYTES,
                              frame.size() - MESSAGE_HEADER_BYTES);
    StepRecord& rec = m_metrics->Pending(m_device);
    rec.bytesDown = frame.size() + FRAME_PREFIX_BYTES;
    const double backward = m_trainer->DeviceBackwardSeconds(m_device, rec.batch);
    rec.deviceComputeS += backward;
    m_pendingEvent = ns3::Simulator::Schedule(ns3::Seconds(backward), &DeviceApp::FinishStep, this);
}

void
DeviceApp::BeginStep()
{
    const bool outOfTime =
        m_timeBudgetS > 0 && ns3::Simulator::Now().GetSeconds() >= m_timeBudgetS;
    if (m_stepsLeft == 0 || outOfTime)
    {
        Report();
        return;
    }
    ++m_stepCounter;
    StepRecord& rec = m_metrics->Pending(m_device);
    rec = StepRecord();
    rec.startS = ns3::Simulator::Now().GetSeconds();
    rec.round = *m_round;
    rec.phase = m_phase;
    rec.step = m_stepCounter;
    rec.device = m_device;
    m_body.clear();
    const ForwardResult fwd = m_trainer->DeviceForward(m_device, m_body);
    rec.batch = fwd.batch;
    rec.codecRelError = fwd.codecRelError;
    const double forward = m_trainer->DeviceForwardSeconds(m_device, fwd.batch);
    rec.deviceComputeS = forward;
    m_pendingEvent = ns3::Simulator::Schedule(ns3::Seconds(forward), &DeviceApp::SendActivations, this);
}

void
DeviceApp::SendActivations()
{
    m_awaitingGradient = true;
    Send(MessageKind::ACTIVATIONS, 0, m_stepCounter, m_body);
}

void
DeviceApp::FinishStep()
{
    StepRecord& rec = m_metrics->Pending(m_device);
    rec.endS = ns3::Simulator::Now().GetSeconds();
    m_metrics->StepCompleted(rec);
    --m_stepsLeft;
    BeginStep();
}

void
DeviceApp::Report()
{
    if (m_reportWeights)
    {
        m_trainer->EncodeDeviceState(m_device, m_body);
        Send(MessageKind::WEIGHTS, 0, 0, m_body);
    }
    else
    {
        Send(MessageKind::DONE, 0, 0, {});
    }
}

} // namespace slsim
