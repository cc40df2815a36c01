// The simulated network: N devices, a hub, a server (a star with a shared bottleneck).
//
//   device_i --(access link: uplink/downlink rate or capacity trace, delay, loss)--> hub
//            --(bottleneck)--> server
//   device_j ~~(WiFi, sim/wifi-access.h)~~ AP_k --(Ethernet)--> hub        (access "wifi")
//
// Each point-to-point link has its own rate per direction (the device-side NetDevice transmits at
// the uplink rate, the hub-side one at the downlink rate). Static default routes only: a star
// needs no global routing (PopulateRoutingTables costs ~1 s at 1000 nodes).
//
// Server front-ends: ns-3 3.37 finds the socket of each received TCP segment by scanning every
// socket of the node (Ipv4EndPointDemux::Lookup), so a server with N connections pays O(N) per
// packet (87 % of the time at 10,000 devices). Above NetworkConfig::serverNodeConnections (M)
// devices, the connections therefore terminate on K = ceil(N / M) front-end nodes, device i on
// front-end i / M, each joined to the server node by an ideal link (sim/ideal-link.h: a packet
// crosses it within the event that sends it): what a deployment does with a load balancer. The
// bottleneck, its queues and the server's compute are unchanged, and so is every result, byte for
// byte (tests/sim/test-topology.cc); the server node forwards (HubRouting, O(1)). At or below M
// devices, the server node terminates every connection itself.
//
//   device_i --> hub --(bottleneck)--> server ==(ideal)==> front-end_k   (k = i / M)
#ifndef SLSIM_SIM_TOPOLOGY_H
#define SLSIM_SIM_TOPOLOGY_H

#include "sim/hub-routing.h"
#include "sim/network-config.h"

#include "ns3/error-model.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"

#include <memory>

namespace slsim
{

class LteAccess;

struct Network
{
    ns3::NodeContainer devices;
    ns3::Ptr<ns3::Node> hub;
    ns3::Ptr<ns3::Node> server;
    /// The server's address on the bottleneck.
    ns3::Ipv4Address serverAddress;
    /// The nodes that terminate the devices' connections (the server, or its front-ends), the
    /// address of each, and how many devices each takes (device i -> node i / perServerNode).
    std::vector<ns3::Ptr<ns3::Node>> serverNodes;
    std::vector<ns3::Ipv4Address> serverNodeAddresses;
    size_t perServerNode = 0;
    /// Device-side and hub-side NetDevices of each access link (for outages): point-to-point
    /// (wired), or the station's WifiNetDevice and its AP's (wifi; sim/wifi-access.h).
    /// An LTE device's are its UE NetDevice and its eNodeB's (sim/lte-access.h).
    std::vector<ns3::Ptr<ns3::NetDevice>> deviceSide, hubSide;
    /// WiFi access points (none without WiFi devices) and the two ends of each AP's wired link
    /// to the hub (AP side, hub side).
    std::vector<ns3::Ptr<ns3::Node>> accessPoints;
    std::vector<ns3::Ptr<ns3::NetDevice>> apSide, apHubSide;
    /// The bottleneck's NetDevices: hub side (transmits towards the server) and server side.
    ns3::Ptr<ns3::NetDevice> coreHubSide, coreServerSide;
    /// Receive error models of access link i: [2i] on the device side, [2i+1] on the hub side;
    /// null for a WiFi device (an outage switches its radio off instead: SetWifiRadio).
    /// (An LTE device's are consulted where its packets enter IP, sim/lte-access.h.)
    std::vector<ns3::Ptr<ns3::RateErrorModel>> errorModels;
    /// The LTE cells, when some device's access is "lte".
    std::shared_ptr<LteAccess> lte;

    /// The address device `device` connects to.
    ns3::Ipv4Address ServerAddressFor(size_t device) const
    {
        return serverNodeAddresses[device / perServerNode];
    }
};

/// Sets TCP defaults (must run before any socket exists) and builds the topology. `seed` feeds
/// ns-3's RngSeedManager and the loss models' streams, so runs are reproducible. Access links
/// with a capacity trace (config.linkTraces) replay it from time 0 (sim/link-trace.h): `config`
/// must then outlive the run.
Network BuildNetwork(const NetworkConfig& config, uint64_t seed);

// Building blocks shared by the access technologies (sim/lte-access.h).

/// A router's queue limit for a link of `mbps` carrying flows of round-trip time `rttMs`
/// (network.tcp: an explicit size, else sized from the bandwidth-delay product).
ns3::QueueSize DeviceQueue(const TcpConfig& tcp, double mbps, double rttMs);
/// Installs network.tcp's queue disc on both ends of a link, or none (packets go straight to the
/// device queue). Must run before addresses are assigned (which would install ns-3's default).
void InstallQueueDisc(const TcpConfig& tcp, const ns3::NetDeviceContainer& link);
/// The HubRouting in a node's Ipv4ListRouting.
ns3::Ptr<HubRouting> FindHubRouting(ns3::Ptr<ns3::Node> node);

} // namespace slsim

#endif
