// The simulated network: N devices, a hub, a server (a star with a shared bottleneck).
//
//   device_i --(access link: uplink/downlink rate or capacity trace, delay, loss)--> hub
//            --(bottleneck)--> server
//
// Each point-to-point link has its own rate per direction (the device-side NetDevice transmits at
// the uplink rate, the hub-side one at the downlink rate). Static default routes only: a star
// needs no global routing (PopulateRoutingTables costs ~1 s at 1000 nodes).
#ifndef SLSIM_SIM_TOPOLOGY_H
#define SLSIM_SIM_TOPOLOGY_H

#include "sim/network-config.h"

#include "ns3/error-model.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"

namespace slsim
{

struct Network
{
    ns3::NodeContainer devices;
    ns3::Ptr<ns3::Node> hub;
    ns3::Ptr<ns3::Node> server;
    ns3::Ipv4Address serverAddress;
    /// Device-side and hub-side NetDevices of each access link (for outages).
    std::vector<ns3::Ptr<ns3::NetDevice>> deviceSide, hubSide;
    /// The bottleneck's NetDevices: hub side (transmits towards the server) and server side.
    ns3::Ptr<ns3::NetDevice> coreHubSide, coreServerSide;
    /// Receive error models of access link i: [2i] on the device side, [2i+1] on the hub side.
    std::vector<ns3::Ptr<ns3::RateErrorModel>> errorModels;
};

/// Sets TCP defaults (must run before any socket exists) and builds the topology. `seed` feeds
/// ns-3's RngSeedManager and the loss models' streams, so runs are reproducible. Access links
/// with a capacity trace (config.linkTraces) replay it from time 0 (sim/link-trace.h): `config`
/// must then outlive the run.
Network BuildNetwork(const NetworkConfig& config, uint64_t seed);

} // namespace slsim

#endif
