#include "sim/energy.h"

#include "common/error.h"
#include "common/state-io.h"
#include "sim/device-app.h"
#include "sim/topology.h"
#include "sim/wifi-access.h"

#include "ns3/callback.h"
#include "ns3/nstime.h"
#include "ns3/packet.h"
#include "ns3/point-to-point-net-device.h"
#include "ns3/simulator.h"

#include <algorithm>
#include <cmath>

namespace slsim
{

EnergyRecorder::EnergyRecorder(const std::vector<DeviceProfile>& profiles,
                               std::function<void(int)> onEmpty)
    : m_devices(profiles.size()),
      m_onEmpty(std::move(onEmpty))
{
    for (size_t d = 0; d < profiles.size(); ++d)
    {
        m_devices[d].profile = profiles[d];
        m_devices[d].capacityJ = profiles[d].BatteryCapacityJ();
    }
}

EnergyRecorder::~EnergyRecorder() = default;

void
EnergyRecorder::WatchLinks(const Network& net, const std::vector<double>& delaysS)
{
    using PacketCallback = ns3::Callback<void, ns3::Ptr<const ns3::Packet>>;
    SLSIM_ASSERT(net.deviceSide.size() == m_devices.size() && delaysS.size() == m_devices.size());
    for (size_t i = 0; i < m_devices.size(); ++i)
    {
        const int d = static_cast<int>(i);
        m_devices[i].delayS = delaysS[i];
        if (IsWifi(net.deviceSide[i]))
        {
            m_radios.push_back(std::make_unique<WifiRadioWatch>(
                net.deviceSide[i], [this, d](bool tx, bool rx) { OnRadio(d, tx, rx); }));
            continue;
        }
        if (!ns3::DynamicCast<ns3::PointToPointNetDevice>(net.deviceSide[i]))
        {
            continue; // a radio access technology feeds OnTx/OnHubTx itself (sim/lte-access.h)
        }
        for (const bool begin : {true, false})
        {
            const char* source = begin ? "PhyTxBegin" : "PhyTxEnd";
            net.deviceSide[i]->TraceConnectWithoutContext(
                source,
                PacketCallback([this, d, begin](ns3::Ptr<const ns3::Packet>) { OnTx(d, begin); }));
            net.hubSide[i]->TraceConnectWithoutContext(
                source, PacketCallback(
                            [this, d, begin](ns3::Ptr<const ns3::Packet>) { OnHubTx(d, begin); }));
        }
    }
}

void
EnergyRecorder::Watch(ns3::Ptr<DeviceApp> app)
{
    app->TraceConnectWithoutContext("StepStarted",
                                    ns3::MakeCallback(&EnergyRecorder::OnStepStarted, this));
    app->TraceConnectWithoutContext("StepCompleted",
                                    ns3::MakeCallback(&EnergyRecorder::OnStepCompleted, this));
    app->TraceConnectWithoutContext("HeadStarted",
                                    ns3::MakeCallback(&EnergyRecorder::OnHeadStarted, this));
}

double
EnergyRecorder::PowerW(const State& s) const
{
    if (!s.powered || s.empty)
    {
        return 0;
    }
    const DeviceProfile& p = s.profile;
    if (s.tx && s.rx)
    {
        return p.radioTxW + p.radioRxW - p.radioIdleW;
    }
    return s.tx ? p.radioTxW : s.rx ? p.radioRxW : p.radioIdleW;
}

void
EnergyRecorder::Advance(State& s, double t)
{
    // Piecewise-constant power: integrate each stretch up to the next receive change, then on.
    const auto integrate = [this, &s](double until) {
        const double dt = until - s.lastS;
        if (dt <= 0)
        {
            return;
        }
        s.energy.radioJ += PowerW(s) * dt;
        if (s.powered && !s.empty)
        {
            s.energy.txS += s.tx ? dt : 0;
            s.energy.rxS += s.rx ? dt : 0;
        }
        s.lastS = until;
    };
    while (!s.rxChanges.empty() && s.rxChanges.front().first <= t)
    {
        integrate(s.rxChanges.front().first);
        s.rx = s.rxChanges.front().second;
        s.rxChanges.pop_front();
    }
    integrate(t);
}

void
EnergyRecorder::SetPowered(int device, bool on)
{
    State& s = m_devices[static_cast<size_t>(device)];
    Advance(s, ns3::Simulator::Now().GetSeconds());
    s.powered = on;
    CheckBattery(device);
}

void
EnergyRecorder::OnTx(int device, bool begin)
{
    State& s = m_devices[static_cast<size_t>(device)];
    Advance(s, ns3::Simulator::Now().GetSeconds());
    s.tx = begin;
    CheckBattery(device);
}

void
EnergyRecorder::OnRadio(int device, bool tx, bool rx)
{
    State& s = m_devices[static_cast<size_t>(device)];
    Advance(s, ns3::Simulator::Now().GetSeconds());
    s.tx = tx;
    s.rx = rx;
    CheckBattery(device);
}

void
EnergyRecorder::OnHubTx(int device, bool begin)
{
    State& s = m_devices[static_cast<size_t>(device)];
    const double now = ns3::Simulator::Now().GetSeconds();
    Advance(s, now);
    // The device receives the packet's bits one propagation delay after the hub sends them.
    s.rxChanges.emplace_back(now + s.delayS, begin);
    CheckBattery(device); // plans a check at the change
}

void
EnergyRecorder::Charge(int device, double computeJ)
{
    State& s = m_devices[static_cast<size_t>(device)];
    Advance(s, ns3::Simulator::Now().GetSeconds());
    if (!s.empty)
    {
        s.energy.computeJ += computeJ;
        s.stepComputeJ += computeJ;
    }
    CheckBattery(device);
}

void
EnergyRecorder::OnStepStarted(const StepStartRecord& start)
{
    State& s = m_devices[static_cast<size_t>(start.device)];
    Advance(s, ns3::Simulator::Now().GetSeconds());
    s.stepStartRadioJ = s.energy.radioJ;
    s.stepComputeJ = 0;
    Charge(start.device, s.profile.ComputePowerW() * start.forwardS);
}

void
EnergyRecorder::OnHeadStarted(const HeadStartRecord& head)
{
    const State& s = m_devices[static_cast<size_t>(head.device)];
    Charge(head.device, s.profile.ComputePowerW() * head.headS);
}

void
EnergyRecorder::OnStepCompleted(const StepEndRecord& end)
{
    State& s = m_devices[static_cast<size_t>(end.device)];
    Charge(end.device, s.profile.ComputePowerW() * end.backwardS);
    m_steps.push_back(StepEnergy{s.stepComputeJ, s.energy.radioJ - s.stepStartRadioJ});
}

void
EnergyRecorder::CheckBattery(int device)
{
    State& s = m_devices[static_cast<size_t>(device)];
    if (s.capacityJ <= 0 || s.empty)
    {
        return;
    }
    s.check.Cancel();
    const double now = ns3::Simulator::Now().GetSeconds();
    const double power = PowerW(s);
    const double left = s.capacityJ - s.energy.computeJ - s.energy.radioJ;
    // Empty within what one nanosecond (ns-3's time step) at the current power spends, or a
    // relative 1e-12 of the capacity (rounding of the sums).
    if (left <= power * 1e-9 + s.capacityJ * 1e-12)
    {
        s.empty = true;
        s.energy.emptyAtS = now;
        s.rxChanges.clear();
        m_onEmpty(device);
        return;
    }
    // Next look: when the current power would spend the rest, or at the next receive change
    // (which changes the power), whichever is first.
    double at = power > 0 ? now + left / power : std::numeric_limits<double>::infinity();
    if (!s.rxChanges.empty())
    {
        at = std::min(at, s.rxChanges.front().first);
    }
    if (std::isfinite(at))
    {
        // Rounded up to the next nanosecond, so the look is never early.
        const auto ns = static_cast<int64_t>(std::ceil((at - now) * 1e9));
        s.check = ns3::Simulator::Schedule(ns3::NanoSeconds(ns), [this, device] {
            State& st = m_devices[static_cast<size_t>(device)];
            Advance(st, ns3::Simulator::Now().GetSeconds());
            CheckBattery(device);
        });
    }
}

void
EnergyRecorder::Finish()
{
    const double now = ns3::Simulator::Now().GetSeconds();
    for (State& s : m_devices)
    {
        Advance(s, now);
        s.check.Cancel();
    }
}

DeviceEnergy
EnergyRecorder::Total() const
{
    DeviceEnergy t;
    for (const State& s : m_devices)
    {
        t.computeJ += s.energy.computeJ;
        t.radioJ += s.energy.radioJ;
        t.txS += s.energy.txS;
        t.rxS += s.energy.rxS;
    }
    return t;
}

int
EnergyRecorder::Emptied() const
{
    return static_cast<int>(
        std::count_if(m_devices.begin(), m_devices.end(), [](const State& s) { return s.empty; }));
}

void
EnergyRecorder::SaveState(ByteWriter& out)
{
    const double now = ns3::Simulator::Now().GetSeconds();
    out.PutU64(m_devices.size());
    for (State& s : m_devices)
    {
        Advance(s, now);
        PutPod(out, s.energy);
        PutPod(out, s.lastS);
        PutPod(out, s.powered);
        PutPod(out, s.empty);
    }
    PutPodVector(out, m_steps);
}

void
EnergyRecorder::LoadState(ByteReader& in)
{
    if (in.GetU64() != m_devices.size())
    {
        throw DecodeError("energy: the device count differs");
    }
    for (State& s : m_devices)
    {
        GetPod(in, s.energy);
        GetPod(in, s.lastS);
        GetPod(in, s.powered);
        GetPod(in, s.empty);
        s.tx = false;
        s.rx = false;
        s.rxChanges.clear();
    }
    GetPodVector(in, m_steps, "step energy");
}

} // namespace slsim
