// A device: connects to the server, runs the steps it is told to run (forward on its shard,
// activations up, gradient down, backward, optimizer step) and reports its weights.
#ifndef SLSIM_SIM_DEVICE_APP_H
#define SLSIM_SIM_DEVICE_APP_H

#include "sim/frame-transport.h"
#include "sim/messages.h"

#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/ipv4-address.h"

#include <memory>

namespace slsim
{

class SplitTrainer;
class MetricsCollector;

class DeviceApp : public ns3::Application
{
  public:
    static ns3::TypeId GetTypeId();

    void Setup(int device, ns3::Ipv4Address server, uint16_t port, SplitTrainer* trainer,
               MetricsCollector* metrics, double timeBudgetS, int* round);

  protected:
    void DoDispose() override;

  private:
    void StartApplication() override;
    void StopApplication() override;
    void OnConnected(ns3::Ptr<ns3::Socket> socket);
    void OnFrame(std::vector<uint8_t>&& frame);
    void BeginStep();
    void SendActivations();
    void FinishStep();
    void Report();
    void Send(MessageKind kind, uint8_t flags, uint32_t step, const std::vector<uint8_t>& body);

    int m_device = 0;
    ns3::Ipv4Address m_server;
    uint16_t m_port = 0;
    SplitTrainer* m_trainer = nullptr;
    MetricsCollector* m_metrics = nullptr;
    double m_timeBudgetS = 0;
    int* m_round = nullptr;

    ns3::Ptr<ns3::Socket> m_socket;
    std::unique_ptr<FrameSender> m_sender;
    std::unique_ptr<FrameAssembler> m_assembler;
    uint32_t m_phase = 0;
    uint32_t m_stepsLeft = 0;
    uint32_t m_stepCounter = 0;
    bool m_reportWeights = false;
    bool m_awaitingGradient = false;
    ns3::EventId m_pendingEvent;
    std::vector<uint8_t> m_body, m_header;
};

} // namespace slsim

#endif
