#include "sim/churn.h"

#include "common/error.h"
#include "sim/energy.h"
#include "sim/metrics-collector.h"
#include "sim/topology.h"

namespace slsim
{

Availability::Availability(Network* net, std::vector<double> loss, MetricsCollector* metrics,
                           EnergyRecorder* energy)
    : m_net(net),
      m_loss(std::move(loss)),
      m_metrics(metrics),
      m_energy(energy),
      m_state(m_loss.size())
{
    SLSIM_ASSERT(m_net->errorModels.size() == 2 * m_loss.size());
}

void
Availability::Start(int device)
{
    m_state[static_cast<size_t>(device)].started = true;
    Apply(device);
}

void
Availability::OutageBegin(int device)
{
    ++m_state[static_cast<size_t>(device)].outages;
    m_metrics->Event(device, "offline");
    Apply(device);
}

void
Availability::OutageEnd(int device)
{
    State& s = m_state[static_cast<size_t>(device)];
    SLSIM_ASSERT(s.outages > 0);
    --s.outages;
    m_metrics->Event(device, "online");
    Apply(device);
}

void
Availability::ChurnOff(int device)
{
    m_state[static_cast<size_t>(device)].churnOff = true;
    m_metrics->Event(device, "churn_off");
    Apply(device);
}

void
Availability::ChurnOn(int device)
{
    m_state[static_cast<size_t>(device)].churnOff = false;
    m_metrics->Event(device, "churn_on");
    Apply(device);
}

void
Availability::BatteryEmpty(int device)
{
    m_state[static_cast<size_t>(device)].empty = true;
    m_metrics->Event(device, "battery_empty");
    Apply(device);
}

bool
Availability::Reachable(int device) const
{
    return !m_state[static_cast<size_t>(device)].linkDown;
}

void
Availability::Apply(int device)
{
    const auto d = static_cast<size_t>(device);
    State& s = m_state[d];
    const bool down = s.outages > 0 || s.churnOff || s.empty;
    if (down != s.linkDown)
    {
        const double loss = down ? 1.0 : m_loss[d];
        m_net->errorModels[2 * d]->SetRate(loss);
        m_net->errorModels[2 * d + 1]->SetRate(loss);
        s.linkDown = down;
    }
    if (m_energy)
    {
        m_energy->SetPowered(device, s.started && !s.churnOff && !s.empty);
    }
}

} // namespace slsim
