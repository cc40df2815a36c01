#include "sim/churn.h"

#include "common/csv-reader.h"
#include "common/error.h"
#include "sim/energy.h"
#include "sim/metrics-collector.h"
#include "sim/topology.h"
#include "sim/wifi-access.h"

#include "ns3/simulator.h"

#include <algorithm>
#include <cmath>
#include <map>

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
    ++m_state[static_cast<size_t>(device)].churnOffs;
    m_metrics->Event(device, "churn_off");
    Apply(device);
}

void
Availability::ChurnOn(int device)
{
    State& s = m_state[static_cast<size_t>(device)];
    SLSIM_ASSERT(s.churnOffs > 0);
    --s.churnOffs;
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
    const bool down = s.outages > 0 || s.churnOffs > 0 || s.empty;
    if (down != s.linkDown)
    {
        if (m_net->errorModels[2 * d])
        {
            const double loss = down ? 1.0 : m_loss[d];
            m_net->errorModels[2 * d]->SetRate(loss);
            m_net->errorModels[2 * d + 1]->SetRate(loss);
        }
        else
        {
            SetWifiRadio(m_net->deviceSide[d], !down); // sim/wifi-access.h
        }
        s.linkDown = down;
    }
    if (m_energy)
    {
        m_energy->SetPowered(device, s.started && s.churnOffs == 0 && !s.empty);
    }
}

std::vector<ChurnInterval>
ReadChurnIntervals(const std::string& file)
{
    const std::vector<CsvRow> rows = ReadHandWrittenCsv(file, "churn file", "device,off_s,on_s");
    if (rows.front().fields != std::vector<std::string>{"device", "off_s", "on_s"})
    {
        throw CsvError(file, rows.front().line, "header must be \"device,off_s,on_s\"");
    }
    std::vector<ChurnInterval> intervals;
    for (size_t r = 1; r < rows.size(); ++r)
    {
        const CsvRow& row = rows[r];
        if (row.fields.size() != 3)
        {
            throw CsvError(file, row.line,
                           "expected 3 fields, got " + std::to_string(row.fields.size()));
        }
        ChurnInterval c;
        c.line = row.line;
        const double device = CsvDouble(row.fields[0], file, row, "device");
        if (!(device >= 0 && device <= 1e9 && std::floor(device) == device))
        {
            throw CsvError(file, row.line, "device must be an integer >= 0");
        }
        c.device = static_cast<int>(device);
        c.offS = CsvDouble(row.fields[1], file, row, "off_s");
        if (!(c.offS >= 0 && c.offS <= 1e9))
        {
            throw CsvError(file, row.line, "off_s must be in [0, 1e9] s");
        }
        if (!row.fields[2].empty())
        {
            c.onS = CsvDouble(row.fields[2], file, row, "on_s");
            if (!(c.onS > c.offS && c.onS <= 1e9))
            {
                throw CsvError(file, row.line,
                               "on_s must be in (off_s, 1e9] s (or empty: off for good)");
            }
        }
        intervals.push_back(c);
    }
    // A device's intervals must not overlap: an overlap is a mistake in the file.
    std::map<int, std::vector<const ChurnInterval*>> byDevice;
    for (const ChurnInterval& c : intervals)
    {
        byDevice[c.device].push_back(&c);
    }
    for (auto& [device, list] : byDevice)
    {
        std::stable_sort(
            list.begin(), list.end(),
            [](const ChurnInterval* a, const ChurnInterval* b) { return a->offS < b->offS; });
        for (size_t i = 1; i < list.size(); ++i)
        {
            if (list[i]->offS < list[i - 1]->onS)
            {
                const ChurnInterval* later
                    = list[i]->line > list[i - 1]->line ? list[i] : list[i - 1];
                const ChurnInterval* other = later == list[i] ? list[i - 1] : list[i];
                throw CsvError(file, later->line,
                               "device " + std::to_string(device)
                                   + "'s interval overlaps the one "
                                     "at line "
                                   + std::to_string(other->line));
            }
        }
    }
    return intervals;
}

double
ExponentialDraw(Rng& rng, double mean)
{
    // Inverse transform: 1 - U is in (0, 1], so the logarithm is finite.
    return -mean * std::log(1.0 - rng.Uniform());
}

ChurnSchedule::ChurnSchedule(const ChurnConfig& config, int devices, uint64_t seed,
                             Availability* availability)
    : m_config(config),
      m_availability(availability)
{
    for (const ChurnInterval& c : m_config.intervals)
    {
        SLSIM_ASSERT(c.device >= 0 && c.device < devices);
        ns3::Simulator::Schedule(ns3::Seconds(c.offS),
                                 [availability, c] { availability->ChurnOff(c.device); });
        if (std::isfinite(c.onS))
        {
            ns3::Simulator::Schedule(ns3::Seconds(c.onS),
                                     [availability, c] { availability->ChurnOn(c.device); });
        }
    }
    if (m_config.meanOnS <= 0)
    {
        return;
    }
    SLSIM_ASSERT(m_config.meanOffS > 0);
    for (int d = 0; d < devices; ++d)
    {
        m_rng.emplace_back(seed, "churn", static_cast<uint64_t>(d));
    }
    for (int d = 0; d < devices; ++d)
    {
        ModelOn(d);
    }
}

void
ChurnSchedule::ModelOff(int device)
{
    m_availability->ChurnOff(device);
    const double off = ExponentialDraw(m_rng[static_cast<size_t>(device)], m_config.meanOffS);
    ns3::Simulator::Schedule(ns3::Seconds(off), [this, device] {
        m_availability->ChurnOn(device);
        ModelOn(device);
    });
}

void
ChurnSchedule::ModelOn(int device)
{
    const double on = ExponentialDraw(m_rng[static_cast<size_t>(device)], m_config.meanOnS);
    const double at = ns3::Simulator::Now().GetSeconds() + on;
    if (m_config.horizonS > 0 && at >= m_config.horizonS)
    {
        return; // on from now to the end
    }
    ns3::Simulator::Schedule(ns3::Seconds(on), [this, device] { ModelOff(device); });
}

} // namespace slsim
