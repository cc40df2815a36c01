// A device as an ns-3 Application: connects to the server, runs the steps it is told to run and
// reports its weights. It holds one DeviceSide (sim/device-side.h), which computes and writes the
// bodies; the app only moves bytes, schedules the compute time (sim/compute-model.h) and emits
// what happened through trace sources (sim/app-signals.h).
//
// States: connecting -> (HELLO sent) idle -> START: stepping (forward, ACTIVATIONS up, wait for
// GRADIENT, backward) x steps -> WEIGHTS or DONE -> idle. A U-shaped device (its side holds the
// head) waits for SERVER_OUTPUT after ACTIVATIONS, runs its head (forward, loss, backward) and
// sends HEAD_GRADIENT before it waits for the GRADIENT. A START always replaces what runs (the
// server moved on after a time-out); frames of another phase are stale and ignored.
#ifndef SLSIM_SIM_DEVICE_APP_H
#define SLSIM_SIM_DEVICE_APP_H

#include "sim/app-signals.h"
#include "sim/compute-model.h"
#include "sim/frame-transport.h"
#include "sim/messages.h"

#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/ipv4-address.h"
#include "ns3/traced-callback.h"

#include <memory>

namespace slsim
{

class DeviceSide;

class DeviceApp : public ns3::Application
{
  public:
    /// Attributes: Device (id), ServerAddress, Port, Gflops (compute speed), TimeBudgetS (no new
    /// step at or after this simulated time; 0: none). Trace sources: sim/app-signals.h.
    static ns3::TypeId GetTypeId();

    /// The side this device computes with (owned elsewhere; outlives the simulation).
    void SetSide(DeviceSide* side);

    /// Run-state checkpoints (sim/run-state.h): the device's step counter (steps.csv's `step`)
    /// and the phase of its last START, saved at a round start and set before the app starts.
    uint32_t StepCounter() const
    {
        return m_stepCounter;
    }

    uint32_t Phase() const
    {
        return m_phase;
    }

    void Resume(uint32_t stepCounter, uint32_t phase)
    {
        m_stepCounter = stepCounter;
        m_phase = phase;
    }

  protected:
    void DoDispose() override;

  private:
    void StartApplication() override;
    void StopApplication() override;
    void OnConnected(ns3::Ptr<ns3::Socket> socket);
    void OnFrame(std::vector<uint8_t>&& frame);
    void BeginStep();
    void SendActivations();
    void SendHeadGradient();
    void FinishStep();
    void Report();
    void Send(MessageKind kind, uint8_t flags, uint32_t step, const std::vector<uint8_t>& body);

    // attributes
    int m_device = 0;
    ns3::Ipv4Address m_server;
    uint16_t m_port = 0;
    double m_gflops = 1;
    double m_timeBudgetS = 0;

    DeviceSide* m_side = nullptr;
    ComputeModel m_compute;
    ComputeModel m_headCompute; // U-shaped: the head's FLOPs
    ns3::Ptr<ns3::Socket> m_socket;
    std::unique_ptr<FrameSender> m_sender;
    std::unique_ptr<FrameAssembler> m_assembler;
    uint32_t m_phase = 0;
    uint32_t m_stepsLeft = 0;
    uint32_t m_stepCounter = 0;
    bool m_reportWeights = false;
    bool m_awaitingGradient = false;
    bool m_awaitingServerOutput = false; // U-shaped
    uint64_t m_serverOutputBytes = 0;    // U-shaped: this step's SERVER_OUTPUT frame
    double m_headS = 0;                  // U-shaped: this step's head compute
    int m_batch = 0;
    StepEndRecord m_stepEnd; // filled when the gradient arrives, emitted after the backward pass
    ns3::EventId m_pendingEvent;
    std::vector<uint8_t> m_body, m_header;

    ns3::TracedCallback<const FrameRecord&> m_frameSent, m_frameReceived;
    ns3::TracedCallback<const StepStartRecord&> m_stepStarted;
    ns3::TracedCallback<const StepEndRecord&> m_stepCompleted;
    ns3::TracedCallback<const HeadStartRecord&> m_headStarted;
    ns3::TracedCallback<int> m_connecting;
};

} // namespace slsim

#endif
