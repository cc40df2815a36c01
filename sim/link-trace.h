// Trace-driven access links: a time series of an access link's capacity, replayed as the
// simulation runs by changing the point-to-point NetDevice's DataRate at the trace's instants.
//
// Two file formats (read here, before any ns-3 object exists; errors name file and line):
//   csv       a header "time_s,mbps", then rows of ascending time (s, from 0) and the rate that
//             holds from then until the next row (> 0 Mbit/s); '#' comments and blank lines
//             allowed. The link's own rate holds before the first row; the last rate holds
//             after the last row.
//   mahimahi  Mahimahi's packet-delivery trace (Netravali et al., USENIX ATC 2015): one integer
//             millisecond timestamp per line, non-decreasing; each line is one opportunity to
//             deliver a 1500-byte packet at that millisecond, and the trace repeats with its
//             last timestamp as period (as mm-link replays it). Replayed as the mean rate over
//             windows of `windowMs`: rate = opportunities x 1500 x 8 bit / window. A window
//             without an opportunity gets one opportunity's rate (1500 B per window): a
//             point-to-point device fixes a packet's transmission time when it starts, so a
//             rate of 0 would hold that packet for good.
//
// Example (csv): "time_s,mbps\n0,20\n0.4,5\n" -- 20 Mbit/s for 0.4 s, then 5 Mbit/s. A 1 MB
// frame sent at 0 moves 1 MB of capacity-time: 0.4 s x 20 Mbit/s = 1 MB, so it needs about
// 0.4 s (plus TCP's own overhead), where 5 Mbit/s throughout would need 1.6 s.
#ifndef SLSIM_SIM_LINK_TRACE_H
#define SLSIM_SIM_LINK_TRACE_H

#include "sim/network-config.h"

#include "ns3/net-device.h"
#include "ns3/ptr.h"

#include <string>

namespace slsim
{

/// Reads a csv rate trace. Throws InputError / CsvError naming the file (and line).
RateTrace ReadCsvRateTrace(const std::string& file);

/// Reads a Mahimahi trace and turns it into window rates. Throws InputError naming the file and
/// line.
RateTrace ReadMahimahiTrace(const std::string& file, double windowMs);

/// The trace that drives device `device`'s uplink (or downlink), or null: the last entry of
/// config.linkTraces naming the device (or every device) and the direction.
const RateTrace* AccessTrace(const NetworkConfig& config, int device, bool uplink);

/// Replays `trace` on a point-to-point NetDevice from simulated time 0: one event at a time,
/// each scheduling the next (a looping trace keeps one event pending until the run stops). Call
/// before Simulator::Run; the trace must outlive the run.
void PlayRateTrace(ns3::Ptr<ns3::NetDevice> device, const RateTrace& trace);

} // namespace slsim

#endif
