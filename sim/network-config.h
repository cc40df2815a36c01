// Plain, validated network settings (filled from the scenario by app/; no ns-3 types here, so
// nothing reaches ns-3's aborting string parsers before validation).
#ifndef SLSIM_SIM_NETWORK_CONFIG_H
#define SLSIM_SIM_NETWORK_CONFIG_H

#include <cstdint>
#include <string>
#include <vector>

namespace slsim
{

/// One device's access link to the hub and its compute speed.
struct DeviceProfile
{
    double uplinkMbps = 10.0;   // device -> hub
    double downlinkMbps = 10.0; // hub -> device
    double delayMs = 5.0;       // one-way propagation delay
    double loss = 0.0;          // packet loss probability on the access link, each direction
    double gflops = 10.0;       // device compute speed, GFLOP/s
};

struct TcpConfig
{
    std::string variant = "NewReno";     // ns-3 TcpCongestionOps name without "ns3::Tcp"
    uint32_t segmentBytes = 1448;        // ns-3 defaults to 536
    uint32_t sendBufferBytes = 4u << 20; // ns-3 defaults to 128 KiB, which caps long-delay links
    uint32_t receiveBufferBytes = 4u << 20;
    uint32_t queuePackets = 100; // point-to-point device queue (DropTail), ns-3's default
    /// false: packets go straight to the 100-packet device queue (tail drop in slow start, as on
    /// a plain router); true: ns-3's default fq_codel queue disc above it.
    bool queueDisc = false;
    uint32_t delayedAckCount = 2; // segments per delayed ACK, ns-3's default
};

struct NetworkConfig
{
    std::vector<DeviceProfile> devices; // one per device, resolved (constants, draws, or trace)
    double bottleneckMbps = 100.0;      // shared hub <-> server link (the paper: 100 Mbps wireless)
    double bottleneckDelayMs = 1.0;
    double serverGflops = 1000.0; // server compute speed
    int serverWorkers = 1;        // requests served in parallel; the rest queue
    /// Devices power on at a uniform random instant in [0, startJitterS): a thousand SYNs at the
    /// same instant overflow the hub's queue and back off for tens of seconds.
    double startJitterS = 0.1;
    TcpConfig tcp;
};

} // namespace slsim

#endif
