#include "sim/device-app.h"

#include "common/error.h"
#include "sim/device-side.h"
#include "sim/small-queues.h"

#include "ns3/double.h"
#include "ns3/inet-socket-address.h"
#include "ns3/integer.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"

namespace slsim
{

NS_LOG_COMPONENT_DEFINE("SlsimDeviceApp");

ns3::TypeId
DeviceApp::GetTypeId()
{
    static ns3::TypeId tid
        = ns3::TypeId("slsim::DeviceApp")
              .SetParent<ns3::Application>()
              .SetGroupName("slsim")
              .AddConstructor<DeviceApp>()
              .AddAttribute("Device", "This device's id (network.devices index).",
                            ns3::IntegerValue(0), ns3::MakeIntegerAccessor(&DeviceApp::m_device),
                            ns3::MakeIntegerChecker<int>(0))
              .AddAttribute("ServerAddress", "The server's IPv4 address.", ns3::Ipv4AddressValue(),
                            ns3::MakeIpv4AddressAccessor(&DeviceApp::m_server),
                            ns3::MakeIpv4AddressChecker())
              .AddAttribute("Port", "The server's TCP port.", ns3::UintegerValue(0),
                            ns3::MakeUintegerAccessor(&DeviceApp::m_port),
                            ns3::MakeUintegerChecker<uint16_t>())
              .AddAttribute("Gflops", "Compute speed in GFLOP/s (network.devices[i].gflops).",
                            ns3::DoubleValue(1), ns3::MakeDoubleAccessor(&DeviceApp::m_gflops),
                            ns3::MakeDoubleChecker<double>(0))
              .AddAttribute(
                  "TimeBudgetS",
                  "No step starts at or after this simulated time (training.time_budget_s; "
                  "0: no budget).",
                  ns3::DoubleValue(0), ns3::MakeDoubleAccessor(&DeviceApp::m_timeBudgetS),
                  ns3::MakeDoubleChecker<double>(0))
              .AddTraceSource("FrameSent", "A whole frame handed to the socket.",
                              ns3::MakeTraceSourceAccessor(&DeviceApp::m_frameSent),
                              "slsim::FrameCallback")
              .AddTraceSource("FrameReceived", "A whole frame delivered by the socket.",
                              ns3::MakeTraceSourceAccessor(&DeviceApp::m_frameReceived),
                              "slsim::FrameCallback")
              .AddTraceSource("StepStarted", "A step began (its forward pass is computed).",
                              ns3::MakeTraceSourceAccessor(&DeviceApp::m_stepStarted),
                              "slsim::StepStartedCallback")
              .AddTraceSource("StepCompleted", "A step ended with the optimizer step.",
                              ns3::MakeTraceSourceAccessor(&DeviceApp::m_stepCompleted),
                              "slsim::StepCompletedCallback")
              .AddTraceSource("HeadStarted",
                              "U-shaped: the head's forward and backward begin (their length).",
                              ns3::MakeTraceSourceAccessor(&DeviceApp::m_headStarted),
                              "slsim::HeadStartedCallback")
              .AddTraceSource("Connecting", "The app started and opens its connection (device).",
                              ns3::MakeTraceSourceAccessor(&DeviceApp::m_connecting),
                              "slsim::DeviceCallback");
    return tid;
}

void
DeviceApp::SetSide(DeviceSide* side)
{
    m_side = side;
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
    SLSIM_ASSERT(m_side);
    NS_LOG_INFO("device " << m_device << ": connecting");
    m_connecting(m_device);
    m_compute = ComputeModel(m_side->FlopsPerSample(), m_gflops);
    m_headCompute = ComputeModel(m_side->HeadFlopsPerSample(), m_gflops);
    m_socket = CreateTcpSocket(GetNode());
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
    NS_LOG_INFO("device " << m_device << ": connected");
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
    m_frameSent(FrameRecord{kind, m_device, true,
                            FRAME_PREFIX_BYTES + m_header.size() + body.size(), m_phase});
}

void
DeviceApp::OnFrame(std::vector<uint8_t>&& frame)
{
    const MessageHeader h = ReadMessageHeader(frame);
    const uint64_t frameBytes = frame.size() + FRAME_PREFIX_BYTES;
    m_frameReceived(FrameRecord{h.kind, m_device, false, frameBytes, h.phase});
    const uint8_t* body = frame.data() + MESSAGE_HEADER_BYTES;
    const size_t bodySize = frame.size() - MESSAGE_HEADER_BYTES;
    if (h.kind == MessageKind::START)
    {
        // A new phase replaces whatever was running (after a time-out the server moved on).
        NS_LOG_INFO("device " << m_device << ": START phase " << h.phase << ", " << h.step
                              << " steps");
        m_pendingEvent.Cancel();
        m_awaitingGradient = false;
        m_awaitingServerOutput = false;
        m_phase = h.phase;
        m_stepsLeft = h.step;
        m_reportWeights = (h.flags & START_REPORT_WEIGHTS) != 0;
        if (h.flags & START_HAS_WEIGHTS)
        {
            m_side->LoadState(body, bodySize);
        }
        BeginStep();
        return;
    }
    if (h.kind == MessageKind::SERVER_OUTPUT && h.phase == m_phase && m_awaitingServerOutput
        && h.step == m_stepCounter)
    {
        // U-shaped: the head computes the loss here; its gradient goes up after its compute time.
        m_awaitingServerOutput = false;
        m_body.clear();
        const HeadResult head = m_side->Head(body, bodySize, m_body);
        m_headS = m_headCompute.StepSeconds(m_batch);
        m_serverOutputBytes = frameBytes;
        m_stepEnd.deviceLoss = true;
        m_stepEnd.loss = head.loss;
        m_stepEnd.correct = head.correct;
        m_headStarted(HeadStartRecord{m_device, m_stepCounter, m_headS});
        m_pendingEvent
            = ns3::Simulator::Schedule(ns3::Seconds(m_headS), &DeviceApp::SendHeadGradient, this);
        return;
    }
    if (h.kind != MessageKind::GRADIENT || h.phase != m_phase || !m_awaitingGradient
        || h.step != m_stepCounter)
    {
        NS_LOG_LOGIC("device " << m_device << ": stale " << MessageKindName(h.kind));
        return; // stale: from a phase the server already closed
    }
    m_awaitingGradient = false;
    m_side->Backward(body, bodySize);
    const double backward = m_compute.BackwardSeconds(m_batch);
    m_stepEnd.device = m_device;
    m_stepEnd.step = m_stepCounter;
    m_stepEnd.gradientFrameBytes = m_serverOutputBytes + frameBytes;
    m_stepEnd.backwardS = backward;
    m_stepEnd.headS = m_headS;
    m_pendingEvent = ns3::Simulator::Schedule(ns3::Seconds(backward), &DeviceApp::FinishStep, this);
}

void
DeviceApp::BeginStep()
{
    const bool outOfTime = m_timeBudgetS > 0 && ns3::Simulator::Now().GetSeconds() >= m_timeBudgetS;
    if (m_stepsLeft == 0 || outOfTime)
    {
        Report();
        return;
    }
    ++m_stepCounter;
    m_stepEnd = StepEndRecord();
    m_serverOutputBytes = 0;
    m_headS = 0;
    m_body.clear();
    const ForwardResult fwd = m_side->Forward(m_body);
    m_batch = fwd.batch;
    const double forward = m_compute.ForwardSeconds(fwd.batch);
    m_stepStarted(
        StepStartRecord{m_device, m_phase, m_stepCounter, fwd.batch, fwd.codecRelError, forward});
    m_pendingEvent
        = ns3::Simulator::Schedule(ns3::Seconds(forward), &DeviceApp::SendActivations, this);
}

void
DeviceApp::SendActivations()
{
    (m_side->HoldsHead() ? m_awaitingServerOutput : m_awaitingGradient) = true;
    Send(MessageKind::ACTIVATIONS, 0, m_stepCounter, m_body);
}

void
DeviceApp::SendHeadGradient()
{
    m_awaitingGradient = true;
    Send(MessageKind::HEAD_GRADIENT, 0, m_stepCounter, m_body);
}

void
DeviceApp::FinishStep()
{
    m_stepCompleted(m_stepEnd);
    --m_stepsLeft;
    BeginStep();
}

void
DeviceApp::Report()
{
    NS_LOG_INFO("device " << m_device << ": phase " << m_phase << " done"
                          << (m_reportWeights ? ", sending weights" : ""));
    if (m_reportWeights)
    {
        m_side->EncodeState(m_body);
        Send(MessageKind::WEIGHTS, 0, 0, m_body);
    }
    else
    {
        Send(MessageKind::DONE, 0, 0, {});
    }
}

} // namespace slsim
