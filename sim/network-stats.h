// Network diagnostics recorded from ns-3's own trace sources: what TCP and the queues did.
//
// Per device (both directions of its connection to the server):
//   retransmissions  TCP segments sent again (data whose sequence range was sent before, or a
//                    repeated SYN), from TcpSocketBase's "Tx" trace;
//   timeouts         retransmission-timer expiries: TcpSocketBase's "RTO" trace changes to
//                    min(2 x RTO, 60 s) exactly when the timer fires (RFC 6298 5.5 back-off; an RTT
//                    sample never lands on exactly twice the old value); a SYN sent again is a
//                    connection-timer expiry;
//   rto wait         seconds the expired timers had run (the RTO that expired; for a SYN, the
//                    socket's ConnTimeout): the time the connection stood still waiting;
//   tcp bytes        payload bytes TCP sent, and how many of them were retransmissions (sent
//                    minus retransmitted = goodput at the TCP layer).
// Per link direction: packets dropped by the device queue (the traffic-control layer's "TcDrop"
// when the full queue has stopped it, else the queue's "Drop") or the queue disc above it, packets
// lost on the wire (the error model: "PhyRxDrop" at the receiver), packets and bytes sent.
// A WiFi device's directions (sim/wifi-access.h) count what its PHY sends (up) and what its AP's
// PHY sends to it (down): PSDUs and their bytes on the air, airtime and MAC retries; an MPDU the
// MAC drops after its retry limit is a wire loss, one dropped for another reason a queue drop.
// On LTE (sim/lte-access.h) the link's counts are the IP packets the device sent and received
// (the RLC buffers and HARQ are the radio's business).
//
// Sockets are created by the apps, after this recorder: a device's socket is found in its node's
// socket list when the node sends a SYN; the server's listening socket when the first SYN reaches
// the server, and the connections it accepts inherit its trace sinks (TcpSocketBase's copy
// constructor copies them), so no per-packet cost grows with the device count.
#ifndef SLSIM_SIM_NETWORK_STATS_H
#define SLSIM_SIM_NETWORK_STATS_H

#include "common/byte-io.h"
#include "sim/hub-routing.h"
#include "sim/topology.h"

#include "ns3/tcp-socket-base.h"

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

namespace slsim
{

struct TcpCounts
{
    uint64_t retransmissions = 0;
    uint64_t timeouts = 0;
    uint64_t bytesSent = 0;          // TCP payload bytes, retransmissions included
    uint64_t bytesRetransmitted = 0; // of bytesSent
    double rtoWaitS = 0;             // the expired timers' durations, summed
};

/// One retransmission-timer expiry (at the current simulated instant).
struct RtoRecord
{
    int device = 0;     // the device end of the connection
    bool uplink = true; // the device's socket (data to the server); false: the server's
    double waitS = 0;   // how long the timer had run: the connection stood still [now - waitS, now]
};

struct LinkCounts
{
    uint64_t packetsSent = 0;
    uint64_t bytesSent = 0;
    uint64_t queueDrops = 0; // device queue and queue disc
    uint64_t wireLosses = 0; // dropped by the link's error model at the receiver
    /// WiFi only (0 on wired links): time on air of the frames sent this way (preambles, MAC
    /// acknowledgements and retries included), and MPDUs sent again (the Retry bit set).
    double airtimeS = 0;
    uint64_t macRetries = 0;
};

class NetworkStats
{
  public:
    /// Connects to the links' trace sources; call after BuildNetwork and before Simulator::Run.
    /// `net` must outlive the run.
    explicit NetworkStats(const Network& net);
    NetworkStats(const NetworkStats&) = delete;
    NetworkStats& operator=(const NetworkStats&) = delete;

    /// Called at every retransmission-timer expiry of a device's connection (e.g. so that a
    /// recorder can say in which phase it fell).
    void OnRtoExpired(std::function<void(const RtoRecord&)> hook)
    {
        m_rtoHook = std::move(hook);
    }

    /// TCP counts of the device's socket (uplink data) and of the server's socket to it
    /// (downlink data).
    const TcpCounts& Uplink(int device) const
    {
        return m_up[static_cast<size_t>(device)];
    }

    const TcpCounts& Downlink(int device) const
    {
        return m_down[static_cast<size_t>(device)];
    }

    /// The access link of a device: device -> hub and hub -> device.
    const LinkCounts& AccessUp(int device) const
    {
        return m_accessUp[static_cast<size_t>(device)];
    }

    const LinkCounts& AccessDown(int device) const
    {
        return m_accessDown[static_cast<size_t>(device)];
    }

    /// The bottleneck: hub -> server and server -> hub.
    const LinkCounts& BottleneckUp() const
    {
        return m_coreUp;
    }

    const LinkCounts& BottleneckDown() const
    {
        return m_coreDown;
    }

    /// Sums over every device, both directions.
    TcpCounts TcpTotal() const;
    /// Sums over every link (access links and the bottleneck, both directions).
    LinkCounts LinkTotal() const;

    /// Run-state checkpoints (sim/run-state.h): the counts so far; after a load the counts of the
    /// new connections and links add to them. Load throws DecodeError when the shape differs.
    void SaveState(ByteWriter& out) const;
    void LoadState(ByteReader& in);

  private:
    struct Socket
    {
        NetworkStats* stats = nullptr;
        TcpCounts* counts = nullptr; // null: not attributed (a listening socket)
        int device = -1;
        bool uplink = true;
        ns3::SequenceNumber32 sentEnd{0};
        bool sentData = false;
        bool sentSyn = false;
    };

    void WatchLink(ns3::Ptr<ns3::NetDevice> tx, ns3::Ptr<ns3::NetDevice> rx, LinkCounts* counts);
    /// Device `device`'s WiFi access, and (once per AP) its AP's transmissions and drops.
    void WatchWifi(size_t device);
    void OnSendOutgoing(uint32_t node, const ns3::Ipv4Header& h, ns3::Ptr<const ns3::Packet> p,
                        uint32_t interface);
    void OnHubDrop(ns3::Ptr<const ns3::Packet> p);
    /// A packet reached server node `node` (Network::serverNodes).
    void OnServerRx(uint32_t node, ns3::Ptr<const ns3::Packet> p, ns3::Ptr<ns3::Ipv4> ipv4,
                    uint32_t interface);
    /// Connects the TCP sockets of `node` not watched yet; `device` < 0: a server node. Whether
    /// it found a socket.
    bool ScanSockets(ns3::Ptr<ns3::Node> node, int device);
    /// `connectTx` false: an accepted socket, which inherited the listening socket's "Tx" sink.
    Socket& Watch(ns3::Ptr<ns3::TcpSocketBase> s, TcpCounts* counts, bool connectTx);
    void OnTx(ns3::Ptr<const ns3::Packet> p, const ns3::TcpHeader& h,
              ns3::Ptr<const ns3::TcpSocketBase> s);
    static void OnRto(Socket* s, ns3::Time before, ns3::Time after);
    void Expired(const Socket& s, double waitS);

    const Network& m_net;
    std::vector<TcpCounts> m_up, m_down;
    std::vector<LinkCounts> m_accessUp, m_accessDown;
    LinkCounts m_coreUp, m_coreDown;
    /// APs' wired links: AP -> hub (with the drops at the AP itself), hub -> AP.
    std::vector<LinkCounts> m_apUp, m_apDown;
    /// A WiFi station's down counts by its MAC address, and the APs watched.
    std::unordered_map<uint64_t, LinkCounts*> m_wifiDown;
    std::unordered_map<const ns3::NetDevice*, bool> m_wifiApWatched;
    std::unordered_map<const ns3::TcpSocketBase*, Socket> m_sockets; // node-based: stable
    std::unordered_map<uint32_t, int> m_deviceByAddress;
    std::vector<bool> m_serverListening; // per server node: its listening socket is watched
    std::unordered_map<const ns3::NetDevice*, LinkCounts*> m_linkByDevice; // by sending device
    ns3::Ptr<HubRouting> m_hubRouting;
    std::function<void(const RtoRecord&)> m_rtoHook;
};

} // namespace slsim

#endif
