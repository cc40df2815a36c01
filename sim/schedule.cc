#include "sim/schedule.h"

#include "common/error.h"
#include "sim/fed-avg.h"
#include "sim/server-side.h"

#include <algorithm>

namespace slsim
{

void
HandOff(const std::map<int, std::vector<uint8_t>>& reports, ServerSide& server, AgreedState& agreed)
{
    SLSIM_ASSERT(!reports.empty());
    if (server.MergeMixedCuts(reports, {}, true, agreed))
    {
        return; // per-device cuts: the whole model handed on (sim/sides.h)
    }
    // The weights go on to the next device as they came.
    agreed.blob = reports.rbegin()->second;
    server.DecodeState(agreed.blob.data(), agreed.blob.size(), agreed.weights);
    agreed.valid = true;
}

void
AverageReports(const std::map<int, std::vector<uint8_t>>& reports, const ScheduleContext& context,
               bool averageServerCopies, ServerSide& server, AgreedState& agreed)
{
    SLSIM_ASSERT(!reports.empty());
    if (server.MergeMixedCuts(reports, context.shardSizes, false, agreed))
    {
        return; // per-device cuts: FedAvg of the tensors the copies share (sim/sides.h)
    }
    std::vector<std::vector<float>> states;
    std::vector<int> devices;
    std::vector<size_t> samples;
    for (const auto& [d, blob] : reports)
    {
        states.emplace_back();
        server.DecodeState(blob.data(), blob.size(), states.back());
        devices.push_back(d);
        samples.push_back(context.shardSizes[static_cast<size_t>(d)]);
    }
    agreed.weights = FedAvg(states, samples);
    if (averageServerCopies)
    {
        server.AverageCopies(devices, samples);
    }
    server.EncodeState(agreed.weights, agreed.blob);
    agreed.valid = true;
}

namespace
{

/// Vanilla split learning: one device at a time, a whole pass over its shard, then hand-off.
class SequentialSchedule : public Schedule
{
  public:
    explicit SequentialSchedule(const ScheduleContext& context)
        : m_context(context)
    {
    }

    void BeginRound() override
    {
        m_next = 0;
    }

    PhasePlan NextPhase() override
    {
        PhasePlan plan;
        if (m_next < m_context.Devices())
        {
            plan.devices.emplace_back(m_next, m_context.stepsPerEpoch[static_cast<size_t>(m_next)]);
            ++m_next;
        }
        return plan;
    }

    void PhaseResult(int, bool) override
    {
    }

    void ClosePhase(const std::map<int, std::vector<uint8_t>>& reports, ServerSide& server,
                    AgreedState& agreed) override
    {
        HandOff(reports, server, agreed);
    }

    bool PerDeviceServerCopies() const override
    {
        return false;
    }

    bool SupportsReplay() const override
    {
        return true; // one device at a time: nothing depends on arrival order
    }

  private:
    ScheduleContext m_context;
    int m_next = 0;
};

/// SplitFed (Thapa et al. 2022): every device in parallel; FedAvg of the device sides after
/// `syncEverySteps` steps or once a round. v1 keeps one server copy per device and averages them
/// too; v2 shares one server model, which then trains in arrival order.
class SplitFedSchedule : public Schedule
{
  public:
    SplitFedSchedule(const ScheduleContext& context, bool perDeviceServer)
        : m_context(context),
          m_perDeviceServer(perDeviceServer),
          m_remaining(context.stepsPerEpoch.size(), 0),
          m_planned(context.stepsPerEpoch.size(), 0)
    {
    }

    void BeginRound() override
    {
        m_remaining = m_context.stepsPerEpoch;
    }

    PhasePlan NextPhase() override
    {
        PhasePlan plan;
        const int sync = m_context.syncEverySteps;
        for (int d = 0; d < m_context.Devices(); ++d)
        {
            const int left = m_remaining[static_cast<size_t>(d)];
            if (left > 0)
            {
                const int steps = sync > 0 ? std::min(sync, left) : left;
                m_planned[static_cast<size_t>(d)] = steps;
                plan.devices.emplace_back(d, steps);
            }
        }
        return plan;
    }

    void PhaseResult(int d, bool completed) override
    {
        int& left = m_remaining[static_cast<size_t>(d)];
        // A device that timed out sits out the rest of the round; it is invited again next round.
        left = completed ? left - m_planned[static_cast<size_t>(d)] : 0;
    }

    void ClosePhase(const std::map<int, std::vector<uint8_t>>& reports, ServerSide& server,
                    AgreedState& agreed) override
    {
        AverageReports(reports, m_context, m_perDeviceServer, server, agreed);
    }

    bool PerDeviceServerCopies() const override
    {
        return m_perDeviceServer;
    }

    bool SupportsReplay() const override
    {
        // v1: each device's server copy sees only that device's steps, in its own order. v2: the
        // shared server model trains in arrival order, which the network decides.
        return m_perDeviceServer;
    }

  private:
    ScheduleContext m_context;
    bool m_perDeviceServer;
    std::vector<int> m_remaining;
    std::vector<int> m_planned;
};

std::map<std::string, ScheduleFactory>&
Registry()
{
    // The built-in rows; RegisterSchedule adds more.
    static std::map<std::string, ScheduleFactory> rows = {
        {"sequential",
         [](const ScheduleContext& c) { return std::make_unique<SequentialSchedule>(c); }},
        {"splitfed_v1",
         [](const ScheduleContext& c) { return std::make_unique<SplitFedSchedule>(c, true); }},
        {"splitfed_v2",
         [](const ScheduleContext& c) { return std::make_unique<SplitFedSchedule>(c, false); }},
    };
    return rows;
}

} // namespace

bool
RegisterSchedule(const std::string& kind, ScheduleFactory factory)
{
    Registry()[kind] = std::move(factory);
    return true;
}

std::vector<std::string>
ScheduleKinds()
{
    std::vector<std::string> kinds;
    for (const auto& [kind, factory] : Registry())
    {
        kinds.push_back(kind);
    }
    return kinds;
}

std::unique_ptr<Schedule>
MakeSchedule(const std::string& kind, const ScheduleContext& context)
{
    const auto it = Registry().find(kind);
    if (it == Registry().end())
    {
        std::string known;
        for (const std::string& k : ScheduleKinds())
        {
            known += (known.empty() ? "" : ", ") + k;
        }
        throw InputError("schedule.kind: must be one of " + known + ", got '" + kind + "'");
    }
    return it->second(context);
}

bool
ScheduleSupportsReplay(const std::string& kind)
{
    return MakeSchedule(kind, ScheduleContext())->SupportsReplay();
}

} // namespace slsim
