// The server: accepts the devices' connections, serves their activations with a pool of workers
// (a FIFO queue when devices outnumber workers), runs the schedule's phases and rounds, averages
// or hands on device-side weights, evaluates, and ends the simulation.
#ifndef SLSIM_SIM_SERVER_APP_H
#define SLSIM_SIM_SERVER_APP_H

#include "sim/frame-transport.h"
#include "sim/messages.h"
#include "sim/scenario-config.h"
#include "sim/strategy.h"

#include "ns3/application.h"
#include "ns3/event-id.h"

#include <deque>
#include <map>
#include <memory>
#include <set>

namespace slsim
{

class SplitTrainer;
class MetricsCollector;

class ServerApp : public ns3::Application
{
  public:
    static ns3::TypeId GetTypeId();

    void Setup(const ScenarioConfig* config, uint16_t port, SplitTrainer* trainer,
               MetricsCollector* metrics, int* round);
    int Dropouts() const
    {
        return m_dropouts;
    }

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
    };

    void StartApplication() override;
    void StopApplication() override;
    void OnAccept(ns3::Ptr<ns3::Socket> socket, const ns3::Address& from);
    void OnFrame(Connection* conn, std::vector<uint8_t>&& frame);
    void Send(int device, MessageKind kind, uint8_t flags, uint32_t step,
              const std::vector<uint8_t>& body);
    void ServeQueued();
    void Serve(Request request);
    void FinishServing(int device, uint32_t step, std::vector<uint8_t> grad);
    void BeginRound();
    void StartPhase();
    void DeviceReported(int device, const uint8_t* blob, size_t size);
    void Timeout(int device);
    void ArmTimer(int device);
    void ClosePhase();
    void EndRound();
    void Evaluate();
    void Finish();

    const ScenarioConfig* m_config = nullptr;
    uint16_t m_port = 0;
    SplitTrainer* m_trainer = nullptr;
    MetricsCollector* m_metrics = nullptr;
    int* m_round = nullptr;
    std::unique_ptr<Strategy> m_strategy;

    ns3::Ptr<ns3::Socket> m_listen;
    std::vector<std::unique_ptr<Connection>> m_connections;
    std::vector<Connection*> m_byDevice;
    int m_hellos = 0;
    bool m_started = false;
    ns3::EventId m_startTimer;

    std::deque<Request> m_queue;
    int m_busy = 0;

    uint32_t m_phase = 0;
    std::set<int> m_waiting;
    std::map<int, std::vector<uint8_t>> m_reports; // device -> weights blob, this phase
    std::vector<ns3::EventId> m_timers;
    std::vector<bool> m_timedOut;                   // dropped in the current round
    std::vector<float> m_state;                     // the device-side weights now agreed on
    std::vector<uint8_t> m_stateBlob;               // the same through the sync codec
    bool m_haveState = false;
    int m_dropouts = 0;
    bool m_finished = false;
    int m_lastEvalRound = -1;
    std::vector<uint8_t> m_header;
};

} // namespace slsim

#endif
