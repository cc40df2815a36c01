// What the applications emit (OMNeT++/INET's signals, as ns-3 trace sources): the records their
// traced callbacks carry. The apps fire them and keep no statistics; MetricsCollector (and any
// other recorder) connects to them with TraceConnectWithoutContext. A new metric adds a recorder
// or a field here, never a line in an app.
//
// Trace sources (name: signature):
//   DeviceApp  FrameSent, FrameReceived: FrameCallback; StepStarted: StepStartedCallback;
//              StepCompleted: StepCompletedCallback; HeadStarted: HeadStartedCallback (U-shaped);
//              Connecting: DeviceCallback (the app started and opens its connection)
//   ServerApp  FrameSent, FrameReceived: FrameCallback; ServerStepDone: ServerStepCallback;
//              PhaseStarted: PhaseCallback (before its STARTs are sent);
//              PhaseClosed: PhaseClosedCallback; DeviceTimedOut: DeviceCallback;
//              EvaluationDone: EvaluationCallback; CutLeakage: CutLeakageCallback (per-device
//              cuts); RoundStarted: RoundCallback;
//              Round: ns3::TracedValueCallback::Int32 (completed rounds, the round under way)
// Every record describes the current simulated instant (ns3::Simulator::Now()).
#ifndef SLSIM_SIM_APP_SIGNALS_H
#define SLSIM_SIM_APP_SIGNALS_H

#include "sim/messages.h"

#include <cstdint>

namespace slsim
{

/// A whole frame (prefix, header, body) handed to a socket or delivered by one.
struct FrameRecord
{
    MessageKind kind = MessageKind::HELLO;
    int device = 0;        // the device end of the connection
    bool toServer = false; // direction of travel
    uint64_t bytes = 0;    // FRAME_PREFIX_BYTES + MESSAGE_HEADER_BYTES + body
    uint32_t phase = 0;    // the header's phase (0: before the first)
};

/// A device began a step: its forward pass is computed and takes forwardS simulated seconds.
struct StepStartRecord
{
    int device = 0;
    uint32_t phase = 0;
    uint32_t step = 0; // the device's own step counter, from 1
    int batch = 0;
    double codecRelError = 0; // of the cut activations it sends
    double forwardS = 0;
};

/// A device finished its optimizer step (the step's last instant).
struct StepEndRecord
{
    int device = 0;
    uint32_t step = 0;
    uint64_t gradientFrameBytes = 0; // the GRADIENT frame that completed it (U-shaped: plus the
                                     // step's SERVER_OUTPUT frame: all it received)
    double backwardS = 0;            // simulated seconds of the device's backward pass
    double headS = 0; // U-shaped: its head's forward and backward (HeadStarted's), else 0
    // U-shaped (model.head_cut): the device computed the loss (the labels never left it).
    bool deviceLoss = false;
    double loss = 0;
    int correct = 0;
};

/// U-shaped (model.head_cut): the server output came down and the device's head computes the
/// loss, its backward and optimizer step, taking headS simulated seconds from now; the head
/// gradient goes up when they end.
struct HeadStartRecord
{
    int device = 0;
    uint32_t step = 0;
    double headS = 0;
};

/// The server ran a step for a device (it will take computeS simulated seconds from now).
struct ServerStepRecord
{
    int device = 0;
    uint32_t step = 0;
    double loss = 0;
    int correct = 0;
    int batch = 0;
    double queueS = 0; // waiting for a free worker
    double computeS = 0;
};

using FrameCallback = void (*)(const FrameRecord&);
using StepStartedCallback = void (*)(const StepStartRecord&);
using StepCompletedCallback = void (*)(const StepEndRecord&);
using HeadStartedCallback = void (*)(const HeadStartRecord&);
using ServerStepCallback = void (*)(const ServerStepRecord&);
using PhaseCallback = void (*)(uint32_t phase);
using PhaseClosedCallback = void (*)(uint32_t phase, int reports);
using DeviceCallback = void (*)(int device);
/// cutDcorSq: the cut-layer leakage (sim/leakage.h), NaN when not measured.
using EvaluationCallback = void (*)(int round, double accuracy, double loss, double cutDcorSq);
/// Per-device cuts: the evaluation's leakage at cut group `group`'s cut (sim/sides.h DeviceCuts;
/// group 0 is device 0's, EvaluationDone's cutDcorSq), fired per group after EvaluationDone.
using CutLeakageCallback = void (*)(int round, int group, double cutDcorSq);
using RoundCallback = void (*)(int round);

} // namespace slsim

#endif
