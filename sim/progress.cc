#include "sim/progress.h"

#include "sim/device-app.h"
#include "sim/scenario-config.h"
#include "sim/server-app.h"
#include "sim/sides.h"

#include "ns3/callback.h"
#include "ns3/simulator.h"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace slsim
{
namespace
{

ProgressSettings&
Global()
{
    static ProgressSettings settings;
    return settings;
}

// A terminal line is redrawn at most this often (wall seconds), so that fast runs are not slowed.
constexpr double TERMINAL_REDRAW_S = 0.1;

std::string
Duration(double s)
{
    std::ostringstream o;
    const auto whole = static_cast<int64_t>(s + 0.5);
    if (whole >= 3600)
    {
        o << whole / 3600 << " h " << whole % 3600 / 60 << " min";
    }
    else if (whole >= 60)
    {
        o << whole / 60 << " min " << whole % 60 << " s";
    }
    else
    {
        o << whole << " s";
    }
    return o.str();
}

} // namespace

ProgressSettings
ProgressSettings::Stderr(bool enabled)
{
    ProgressSettings s;
    s.enabled = enabled;
    s.terminal = isatty(fileno(stderr)) != 0;
    return s;
}

void
SetProgressReporting(const ProgressSettings& settings)
{
    Global() = settings;
}

const ProgressSettings&
ProgressReporting()
{
    return Global();
}

RunProgress::RunProgress(const ProgressSettings& settings, int64_t totalSteps, int rounds,
                         double timeBudgetS)
    : m_settings(settings),
      m_totalSteps(totalSteps),
      m_rounds(rounds),
      m_timeBudgetS(timeBudgetS),
      m_start(std::chrono::steady_clock::now()),
      m_lastShown(m_start)
{
    if (m_settings.out == nullptr)
    {
        m_settings.out = &std::cerr;
    }
}

namespace
{

int64_t
TotalSteps(const ScenarioConfig& config, const Sides& sides)
{
    int64_t perRound = 0;
    for (const auto& d : sides.devices)
    {
        perRound += d->StepsPerEpoch();
    }
    return perRound * config.training.epochs;
}

// A trace source renamed in an app must fail loudly, not leave the progress line frozen.
void
Connected(bool ok)
{
    if (!ok)
    {
        throw std::logic_error("RunProgress: an app lacks a trace source it connects to");
    }
}

} // namespace

RunProgress::RunProgress(const ScenarioConfig& config, const Sides& sides)
    : RunProgress(ProgressReporting(), TotalSteps(config, sides), config.training.epochs,
                  config.training.timeBudgetS)
{
}

RunProgress::~RunProgress()
{
    if (m_settings.enabled && m_settings.terminal && m_shownOnce)
    {
        Show(true);
        *m_settings.out << '\n' << std::flush;
    }
}

void
RunProgress::Watch(ns3::Ptr<DeviceApp> device)
{
    if (!m_settings.enabled)
    {
        return;
    }
    Connected(device->TraceConnectWithoutContext(
        "StepCompleted", ns3::Callback<void, const StepEndRecord&>([this](const StepEndRecord&) {
            OnStep(m_steps + 1, ns3::Simulator::Now().GetSeconds());
        })));
}

void
RunProgress::Watch(ns3::Ptr<ServerApp> server)
{
    if (!m_settings.enabled)
    {
        return;
    }
    Connected(server->TraceConnectWithoutContext(
        "EvaluationDone", ns3::Callback<void, int, double, double, double>(
                              [this](int round, double accuracy, double, double) {
                                  OnEvaluation(round, accuracy, ns3::Simulator::Now().GetSeconds());
                              })));
    Connected(server->TraceConnectWithoutContext(
        "Round",
        ns3::Callback<void, int32_t, int32_t>([this](int32_t, int32_t now) { OnRound(now); })));
}

void
RunProgress::OnStep(int64_t stepsDone, double simTimeS)
{
    m_steps = stepsDone;
    m_simTimeS = simTimeS;
    Show(false);
}

void
RunProgress::OnEvaluation(int round, double accuracy, double simTimeS)
{
    m_accuracy = accuracy;
    m_round = std::max(m_round, round);
    m_simTimeS = simTimeS;
    Show(true);
}

void
RunProgress::OnRound(int32_t completed)
{
    m_round = completed;
}

std::string
RunProgress::Line() const
{
    std::ostringstream o;
    o << "slsim: step " << m_steps;
    double fraction = -1;
    if (m_totalSteps > 0)
    {
        fraction = std::min(1.0, static_cast<double>(m_steps) / static_cast<double>(m_totalSteps));
        o << '/' << m_totalSteps << " (" << static_cast<int>(100 * fraction) << "%)";
    }
    if (m_timeBudgetS > 0)
    {
        fraction = std::max(fraction, std::min(1.0, m_simTimeS / m_timeBudgetS));
    }
    o << " rounds " << m_round << '/' << m_rounds; // completed
    o << std::fixed << std::setprecision(3) << " sim " << m_simTimeS << " s";
    o << " acc ";
    if (m_accuracy >= 0)
    {
        o << std::setprecision(4) << m_accuracy;
    }
    else
    {
        o << '-';
    }
    const double wall
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    o << " wall " << Duration(wall) << " eta ";
    if (fraction > 0)
    {
        o << Duration(wall * (1 - fraction) / fraction);
    }
    else
    {
        o << '-';
    }
    return o.str();
}

void
RunProgress::Show(bool force)
{
    if (!m_settings.enabled)
    {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - m_lastShown).count();
    const double interval = m_settings.terminal ? TERMINAL_REDRAW_S : m_settings.intervalS;
    // a plain line waits a whole interval; a terminal line shows at once, then is throttled
    if (!force && since < interval && (m_shownOnce || !m_settings.terminal))
    {
        return;
    }
    m_lastShown = now;
    m_shownOnce = true;
    const std::string line = Line();
    std::ostream& out = *m_settings.out;
    if (m_settings.terminal)
    {
        // pad over what a longer previous line left behind
        out << '\r' << line
            << std::string(m_lastWidth > line.size() ? m_lastWidth - line.size() : 0, ' ');
        m_lastWidth = line.size();
    }
    else
    {
        out << line << '\n';
    }
    out << std::flush;
}

} // namespace slsim
