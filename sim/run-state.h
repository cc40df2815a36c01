// Run-state checkpoints: what a run needs to continue mid-way with its training state exact.
//
// Taken at a round (epoch) start, when no step, report or evaluation is under way: every model
// part (each device's device-side part and head, every server copy) with its optimizer buffers
// and step count and its layers' random streams; every device's shard order, position, shuffle,
// augmentation and codec streams; the server's codec streams and agreed weights; the server app's
// round, phase and step counters and evaluation clocks; every device app's step counter; and the
// recorders' running totals and rows (steps, evaluations, events, frames, bytes, device
// timelines, TCP and link counts, energy). The learning rate is not stored: the schedule sets it
// from the round when the round begins.
//
// What is not stored is the network: ns-3's state (sockets, queues, TCP windows) cannot be saved.
// A resumed run builds a fresh network and starts the apps at the checkpoint's simulated instant:
// the devices connect again (a TCP handshake and a HELLO each, with the same start jitter) and the
// checkpoint's round begins when all have. Simulated times after a resume are therefore later than
// an uninterrupted run's by about one connection set-up, and TCP restarts from slow start. Training
// that does not depend on network timing (one device, or the sequential schedule, or
// splitfed_v1's per-device server copies) continues exactly as without the interruption: the same
// loss, accuracy and weights bit for bit. splitfed_v2 with several devices trains its shared
// server part in arrival order, so its later steps may take another order than the uninterrupted
// run's: the resumed run is a run of the same scenario from the same exact state, not a copy.
// Time-dependent network inputs (link traces, outages, churn, batteries) and wireless access
// (WiFi, LTE) are refused (CheckResumable), as is a network-only replay.
//
// File layout (all little-endian; an internal file of one slsim build, refused by another):
//   "SLSIMRS1"  8-byte magic
//   string      slsim version (u64 length, bytes)
//   string      the scenario's fingerprint (its resolved JSON, app/'s choice of text)
//   i32         the round about to begin;  f64  the simulated instant of the checkpoint (s)
//   u64         devices
//   ...         the server app's counters and agreed weights, the device apps' step counters
//               and phases, each device's side (parts, cursor, streams), the server side (copies,
//               streams), the metrics collector, the energy recorder, the network counters; the
//               fields are listed once, in sim/run-state.cc's Transfer functions
//   "SLSIMEND"  8-byte end mark (a truncated file is refused)
// It is written through an AtomicFile (common/atomic-file.h): a crash mid-write leaves the previous
// checkpoint, never a partial one.
#ifndef SLSIM_SIM_RUN_STATE_H
#define SLSIM_SIM_RUN_STATE_H

#include "ns3/ptr.h"

#include <cstdint>
#include <string>
#include <vector>

namespace slsim
{

class DeviceApp;
class EnergyRecorder;
class MetricsCollector;
class NetworkStats;
class ServerApp;
struct ScenarioConfig;
struct Sides;

/// What the header of a run-state file says.
struct RunStateInfo
{
    std::string version;
    std::string fingerprint;
    int round = 0;
    double simTimeS = 0;
};

/// Everything a checkpoint saves or restores (owned by RunScenario).
struct RunStateParts
{
    Sides* sides = nullptr;
    ServerApp* server = nullptr;
    std::vector<ns3::Ptr<DeviceApp>> apps;
    MetricsCollector* metrics = nullptr;
    EnergyRecorder* energy = nullptr;
    NetworkStats* net = nullptr;
};

/// Throws InputError with a one-line reason when a scenario cannot be checkpointed and resumed
/// (a replay, time-dependent network inputs, wireless access).
void CheckResumable(const ScenarioConfig& config);

/// Writes the state at this instant (a round start) to `path` atomically. Throws InputError
/// naming the file when it cannot be written.
void WriteRunState(const std::string& path, const std::string& fingerprint, RunStateParts& parts);

/// Reads a run-state file's header. Throws InputError naming the file when it is missing, not a
/// run state, or from another slsim version.
RunStateInfo ReadRunStateInfo(const std::string& path);

/// Restores the state of `path` into freshly built parts (before the simulation starts) and
/// returns its header. Throws InputError naming the file when it does not fit the run.
RunStateInfo LoadRunState(const std::string& path, RunStateParts& parts);

} // namespace slsim

#endif
