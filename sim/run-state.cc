#include "sim/run-state.h"

#include "common/atomic-file.h"
#include "common/error.h"
#include "common/state-io.h"
#include "sim/device-app.h"
#include "sim/energy.h"
#include "sim/metrics-collector.h"
#include "sim/network-stats.h"
#include "sim/scenario-config.h"
#include "sim/server-app.h"
#include "sim/sides.h"

#include "ns3/simulator.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>

namespace slsim
{
namespace
{

constexpr char MAGIC[] = "SLSIMRS1";
constexpr char END_MARK[] = "SLSIMEND";
constexpr size_t MARK_BYTES = 8;

void
PutMark(ByteWriter& w, const char* mark)
{
    w.PutBytes(reinterpret_cast<const uint8_t*>(mark), MARK_BYTES);
}

bool
TakeMark(ByteReader& r, const char* mark)
{
    if (r.Remaining() < MARK_BYTES)
    {
        return false;
    }
    return std::equal(mark, mark + MARK_BYTES,
                      reinterpret_cast<const char*>(r.Take(MARK_BYTES, "a mark")));
}

/// A partition's state (GetState) and training state.
void
SavePartition(ByteWriter& w, const Partition& p)
{
    std::vector<float> state(p.StateSize());
    p.GetState(state.data());
    PutPodVector(w, state);
    p.SaveTrainingState(w);
}

void
LoadPartition(ByteReader& r, Partition& p)
{
    std::vector<float> state;
    GetPodVector(r, state, "model state", p.StateSize());
    p.SetState(state.data());
    p.LoadTrainingState(r);
}

// The run state's fields are listed once, in Transfer functions templated on the direction:
// StateOut writes each field, StateIn reads it back into the same place (and checks that counts
// fit the run being resumed).

class StateOut
{
  public:
    explicit StateOut(ByteWriter& w)
        : m_w(w)
    {
    }

    template <typename T>
    void Pod(const T& v)
    {
        PutPod(m_w, v);
    }

    /// A vector; `fixed`: the reader's vector has the right size already.
    template <typename T>
    void Vector(const std::vector<T>& v, const char* /*what*/, bool /*fixed*/ = false)
    {
        PutPodVector(m_w, v);
    }

    /// A count the reader must have too (`what` names it when it has not).
    void Count(uint64_t n, const char* /*what*/)
    {
        m_w.PutU64(n);
    }

    /// A count the reader takes (resizing `v`).
    template <typename T>
    void Size(std::vector<T>& v)
    {
        m_w.PutU64(v.size());
    }

    void Part(Partition& p)
    {
        SavePartition(m_w, p);
    }

    /// A side (TrainingDevice, TrainingServer) or a recorder.
    template <typename T>
    void Side(T& side)
    {
        side.SaveRunState(m_w);
    }

    template <typename T>
    void Recorder(T& recorder)
    {
        recorder.SaveState(m_w);
    }

  private:
    ByteWriter& m_w;
};

class StateIn
{
  public:
    explicit StateIn(ByteReader& r)
        : m_r(r)
    {
    }

    template <typename T>
    void Pod(T& v)
    {
        GetPod(m_r, v);
    }

    template <typename T>
    void Vector(std::vector<T>& v, const char* what, bool fixed = false)
    {
        GetPodVector(m_r, v, what, fixed ? v.size() : SIZE_MAX);
    }

    void Count(uint64_t n, const char* what)
    {
        if (m_r.GetU64() != n)
        {
            throw DecodeError(std::string(what) + " differs");
        }
    }

    template <typename T>
    void Size(std::vector<T>& v)
    {
        const uint64_t n = m_r.GetU64();
        if (n > m_r.Remaining())
        {
            throw DecodeError("truncated: a count");
        }
        v.resize(static_cast<size_t>(n));
    }

    void Part(Partition& p)
    {
        LoadPartition(m_r, p);
    }

    template <typename T>
    void Side(T& side)
    {
        side.LoadRunState(m_r);
    }

    template <typename T>
    void Recorder(T& recorder)
    {
        recorder.LoadState(m_r);
    }

  private:
    ByteReader& m_r;
};

/// A device app's step counter and phase.
struct AppCounters
{
    uint32_t steps = 0;
    uint32_t phase = 0;
};

/// After the header: the server app's counters, each device's app counters and side, the
/// server side, the recorders.
template <typename Io>
void
TransferBody(Io& io, ServerAppState& server, std::vector<AppCounters>& counters,
             RunStateParts& parts)
{
    Sides& sides = *parts.sides;
    SLSIM_ASSERT(sides.trainingServer && sides.trainingDevices.size() == parts.apps.size());
    io.Count(parts.apps.size(), "the device count");
    io.Pod(server.phase);
    io.Pod(server.dropouts);
    io.Pod(server.stepsServed);
    io.Pod(server.lastEvalSteps);
    io.Pod(server.nextEvalSteps);
    io.Pod(server.nextEvalS);
    AgreedState& a = server.agreed;
    io.Pod(a.valid);
    io.Vector(a.weights, "agreed weights");
    io.Vector(a.blob, "agreed blob");
    io.Size(a.groupBlobs);
    for (auto& b : a.groupBlobs)
    {
        io.Vector(b, "agreed group blob");
    }
    io.Vector(a.groupOf, "agreed groups");
    io.Vector(counters, "device step counters", true);
    for (TrainingDevice* d : sides.trainingDevices)
    {
        io.Side(*d);
    }
    io.Side(*sides.trainingServer);
    io.Recorder(*parts.metrics);
    io.Recorder(*parts.energy);
    io.Recorder(*parts.net);
}

std::vector<uint8_t>
ReadAll(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        throw InputError(path + ": cannot read the run state");
    }
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>());
}

RunStateInfo
ReadHeader(ByteReader& r, const std::string& path)
{
    if (!TakeMark(r, MAGIC))
    {
        throw InputError(path + ": not a slsim run state");
    }
    RunStateInfo info;
    info.version = GetString(r, "version");
    if (info.version != SLSIM_VERSION)
    {
        throw InputError(path + ": run state of slsim " + info.version + ", this is "
                         + SLSIM_VERSION
                         + " (a run state loads only into the version that wrote it)");
    }
    info.fingerprint = GetString(r, "scenario");
    GetPod(r, info.round);
    GetPod(r, info.simTimeS);
    return info;
}

} // namespace

template <typename Io>
void
TrainingDevice::TransferRunState(Io& io)
{
    io.Part(*m_model);
    io.Count(m_head ? 1 : 0, "the device head");
    if (m_head)
    {
        io.Part(*m_head);
    }
    io.Side(m_cursor);
    io.Pod(m_augment);
    io.Pod(m_codecRng);
}

void
TrainingDevice::SaveRunState(ByteWriter& out)
{
    StateOut io(out);
    TransferRunState(io);
}

void
TrainingDevice::LoadRunState(ByteReader& in)
{
    StateIn io(in);
    TransferRunState(io);
}

template <typename Io>
void
TrainingServer::TransferRunState(Io& io)
{
    io.Count(m_copies.size(), "the number of server copies");
    for (auto& c : m_copies)
    {
        io.Part(*c);
    }
    io.Count(m_copyRngs.size(), "the number of server codec streams");
    for (Rng& rng : m_copyRngs)
    {
        io.Pod(rng);
    }
    io.Pod(m_stateRng);
    io.Count(m_groupAgreed.size(), "the number of cut groups");
    for (auto& g : m_groupAgreed)
    {
        io.Vector(g, "cut group state", true);
    }
}

void
TrainingServer::SaveRunState(ByteWriter& out)
{
    StateOut io(out);
    TransferRunState(io);
}

void
TrainingServer::LoadRunState(ByteReader& in)
{
    StateIn io(in);
    TransferRunState(io);
}

void
CheckResumable(const ScenarioConfig& c)
{
    const auto refuse = [](const std::string& why) {
        throw InputError("run state (checkpoint/resume): " + why
                         + " is not supported: the network restarts at a resume");
    };
    if (!c.training.replay.empty())
    {
        refuse("training.replay (a network-only replay is fast to rerun)");
    }
    if (!c.faults.outages.empty())
    {
        refuse("faults.outages");
    }
    if (!c.faults.churn.file.empty() || !c.faults.churn.intervals.empty()
        || c.faults.churn.meanOnS > 0)
    {
        refuse("faults.churn");
    }
    if (!c.network.linkTraces.empty())
    {
        refuse("network.link_traces");
    }
    for (size_t d = 0; d < c.network.devices.size(); ++d)
    {
        const DeviceProfile& p = c.network.devices[d];
        const std::string where = "network.devices[" + std::to_string(d) + "]";
        if (p.access != "wired")
        {
            refuse(where + ".access " + p.access);
        }
        if (p.BatteryCapacityJ() > 0)
        {
            refuse(where + " with a battery");
        }
    }
}

void
WriteRunState(const std::string& path, const std::string& fingerprint, RunStateParts& parts)
{
    std::vector<uint8_t> bytes;
    ByteWriter w(bytes);
    PutMark(w, MAGIC);
    PutString(w, SLSIM_VERSION);
    PutString(w, fingerprint);
    ServerAppState server = parts.server->SaveState();
    PutPod(w, server.round);
    PutPod(w, ns3::Simulator::Now().GetSeconds());
    std::vector<AppCounters> counters;
    for (const auto& app : parts.apps)
    {
        counters.push_back(AppCounters{app->StepCounter(), app->Phase()});
    }
    StateOut io(w);
    TransferBody(io, server, counters, parts);
    PutMark(w, END_MARK);
    WriteFileAtomic(path,
                    std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

RunStateInfo
ReadRunStateInfo(const std::string& path)
{
    const std::vector<uint8_t> bytes = ReadAll(path);
    ByteReader r(bytes.data(), bytes.size());
    try
    {
        return ReadHeader(r, path);
    }
    catch (const DecodeError& e)
    {
        throw InputError(path + ": damaged run state: " + e.what());
    }
}

RunStateInfo
LoadRunState(const std::string& path, RunStateParts& parts)
{
    const std::vector<uint8_t> bytes = ReadAll(path);
    ByteReader r(bytes.data(), bytes.size());
    try
    {
        const RunStateInfo info = ReadHeader(r, path);
        ServerAppState server;
        server.round = info.round;
        std::vector<AppCounters> counters(parts.apps.size());
        StateIn io(r);
        TransferBody(io, server, counters, parts);
        parts.server->Resume(server);
        for (size_t d = 0; d < parts.apps.size(); ++d)
        {
            parts.apps[d]->Resume(counters[d].steps, counters[d].phase);
        }
        if (!TakeMark(r, END_MARK) || r.Remaining() != 0)
        {
            throw DecodeError("no end mark where the state should end");
        }
        return info;
    }
    catch (const DecodeError& e)
    {
        throw InputError(path + ": run state does not fit this run: " + e.what());
    }
}

} // namespace slsim
