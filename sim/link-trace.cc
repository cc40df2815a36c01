#include "sim/link-trace.h"

#include "common/csv-reader.h"
#include "common/error.h"

#include "ns3/data-rate.h"
#include "ns3/simulator.h"

#include <cmath>
#include <fstream>
#include <memory>

namespace slsim
{
namespace
{

/// Bytes of one Mahimahi delivery opportunity (an MTU-sized packet).
constexpr double MAHIMAHI_PACKET_BYTES = 1500;
/// The rates a trace may give, in Mbit/s: what an access link may be set to (app/'s RATE_MBPS).
constexpr double MIN_MBPS = 1e-6;
constexpr double MAX_MBPS = 1e13;

} // namespace

RateTrace
ReadCsvRateTrace(const std::string& file)
{
    const std::vector<CsvRow> rows = ReadHandWrittenCsv(file, "rate trace", "time_s,mbps");
    const CsvRow& header = rows.front();
    if (header.fields != std::vector<std::string>{"time_s", "mbps"})
    {
        throw CsvError(file, header.line, "header must be \"time_s,mbps\"");
    }
    RateTrace trace;
    for (size_t r = 1; r < rows.size(); ++r)
    {
        const CsvRow& row = rows[r];
        if (row.fields.size() != 2)
        {
            throw CsvError(file, row.line,
                           "expected 2 fields, got " + std::to_string(row.fields.size()));
        }
        const double t = CsvDouble(row.fields[0], file, row, "time_s");
        const double mbps = CsvDouble(row.fields[1], file, row, "mbps");
        if (!(t >= 0 && t <= 1e9))
        {
            throw CsvError(file, row.line, "time_s must be in [0, 1e9] s");
        }
        if (!trace.timesS.empty() && !(t > trace.timesS.back()))
        {
            throw CsvError(file, row.line, "time_s must increase from row to row");
        }
        if (!(mbps >= MIN_MBPS && mbps <= MAX_MBPS))
        {
            throw CsvError(file, row.line, "mbps must be in [1e-06, 1e+13] Mbit/s");
        }
        trace.timesS.push_back(t);
        trace.mbps.push_back(mbps);
    }
    if (trace.timesS.empty())
    {
        throw InputError(file + ": rate trace has no rows");
    }
    return trace;
}

RateTrace
ReadMahimahiTrace(const std::string& file, double windowMs)
{
    SLSIM_ASSERT(windowMs > 0);
    std::ifstream in(file);
    if (!in)
    {
        throw InputError(file + ": cannot open Mahimahi trace");
    }
    std::vector<int64_t> stamps; // ms
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n)
    {
        if (!line.empty() && line.back() == '\r')
        {
            line.pop_back();
        }
        size_t used = 0;
        long long ms = -1;
        try
        {
            ms = std::stoll(line, &used);
        }
        catch (const std::exception&)
        {
            used = 0;
        }
        if (line.empty() || used != line.size() || ms < 0 || ms > 1'000'000'000'000LL)
        {
            throw CsvError(file, n, "expected a millisecond timestamp (an integer >= 0)");
        }
        if (!stamps.empty() && ms < stamps.back())
        {
            throw CsvError(file, n, "timestamps must not decrease");
        }
        stamps.push_back(ms);
    }
    if (stamps.empty() || stamps.back() == 0)
    {
        throw InputError(file + ": Mahimahi trace must span more than 0 ms");
    }
    // Mahimahi's period is the last timestamp; the windows cover [0, period), the last one
    // possibly shorter, and an opportunity at the period itself counts in the last window.
    const auto periodMs = static_cast<double>(stamps.back());
    const auto windows = static_cast<size_t>(std::ceil(periodMs / windowMs));
    std::vector<double> count(windows, 0);
    for (const int64_t ms : stamps)
    {
        const auto w = static_cast<size_t>(static_cast<double>(ms) / windowMs);
        count[std::min(w, windows - 1)] += 1;
    }
    RateTrace trace;
    trace.periodS = periodMs / 1e3;
    for (size_t w = 0; w < windows; ++w)
    {
        const double startMs = double(w) * windowMs;
        const double lengthMs = std::min(windowMs, periodMs - startMs);
        // opportunities x 1500 B x 8 bit / window: bit/ms = kbit/s; / 1e3 = Mbit/s
        const double mbps = std::max(count[w], 1.0) * MAHIMAHI_PACKET_BYTES * 8 / lengthMs / 1e3;
        trace.timesS.push_back(startMs / 1e3);
        trace.mbps.push_back(mbps);
    }
    return trace;
}

const RateTrace*
AccessTrace(const NetworkConfig& config, int device, bool uplink)
{
    const RateTrace* found = nullptr;
    for (const LinkTraceConfig& t : config.linkTraces)
    {
        const bool direction
            = t.direction == "both" || t.direction == (uplink ? "uplink" : "downlink");
        if (direction && (t.device < 0 || t.device == device))
        {
            found = &t.trace;
        }
    }
    return found;
}

namespace
{

/// Where a replay is: the next row, and the start of the current period.
struct TraceCursor
{
    ns3::Ptr<ns3::NetDevice> device;
    const RateTrace* trace;
    size_t next = 0;
    double offsetS = 0;
};

void
Play(const std::shared_ptr<TraceCursor>& c)
{
    const RateTrace& t = *c->trace;
    // Whole bits per second (ns-3's DataRate): rates below 1 bit/s are rejected by app/.
    const auto bps = static_cast<uint64_t>(std::llround(t.mbps[c->next] * 1e6));
    c->device->SetAttribute("DataRate", ns3::DataRateValue(ns3::DataRate(bps)));
    ++c->next;
    if (c->next == t.timesS.size())
    {
        if (t.periodS <= 0)
        {
            return; // the last rate holds
        }
        c->next = 0;
        c->offsetS += t.periodS;
    }
    const double at = c->offsetS + t.timesS[c->next];
    ns3::Simulator::Schedule(ns3::Seconds(at) - ns3::Simulator::Now(), [c] { Play(c); });
}

} // namespace

void
PlayRateTrace(ns3::Ptr<ns3::NetDevice> device, const RateTrace& trace)
{
    SLSIM_ASSERT(!trace.timesS.empty() && trace.timesS.size() == trace.mbps.size());
    auto c = std::make_shared<TraceCursor>();
    c->device = device;
    c->trace = &trace;
    ns3::Simulator::Schedule(ns3::Seconds(trace.timesS[0]), [c] { Play(c); });
}

} // namespace slsim
