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
    // Energy (sim/energy.h). All 0 by default: energy is not modelled unless a profile says so.
    double computeW = 0;       // power drawn while computing (forward/backward), W
    double joulesPerGflop = 0; // or energy per GFLOP computed, J (= W / (GFLOP/s))
    double radioTxW = 0;       // access radio power while transmitting, W
    double radioRxW = 0;       // ... while receiving, W
    double radioIdleW = 0;     // ... while neither (powered on), W
    double batteryJ = 0;       // battery capacity, J; 0 = unlimited (mains power)
    double batteryWh = 0;      // or in Wh (1 Wh = 3600 J); at most one of the two is non-zero
    /// How the device reaches the hub: "wired" (a point-to-point link with the rates, delay and
    /// loss above), "wifi" (a station of an access point, NetworkConfig::wifi; the rates,
    /// delay and loss above do not apply) or "lte" (a UE of network.lte's cell(s); the rates and
    /// delay above are unused, loss still applies, sim/lte-access.h).
    std::string access = "wired";
    /// WiFi: distance to its access point, m (the path loss model's input). 5 m: a device in the
    /// same room as the AP (the paper's testbed: devices on a desk around one AP).
    double wifiDistanceM = 5;
    // The device's own split point, as model.cut ("" = model.cut; sim/sides.h), and the JSON
    // path it was given at (app/ resolves it against the model once the model is known).
    std::string cut;
    std::string cutPath;

    /// Power while computing, W: computeW, or joulesPerGflop * gflops (J/GFLOP * GFLOP/s).
    double ComputePowerW() const
    {
        return computeW + joulesPerGflop * gflops;
    }

    /// Battery capacity in J; 0 = unlimited.
    double BatteryCapacityJ() const
    {
        return batteryJ + 3600 * batteryWh;
    }
};

/// Transport settings. `profile` picks the defaults of every other field (app/ applies it before
/// reading the explicit keys); the values below are the "linux" profile's.
struct TcpConfig
{
    /// "linux": what a Linux 5.x/6.x end host does by default (the values below, each with its
    /// source). "legacy": slsim 0.1's settings (NewReno, ns-3's 1 s minimum RTO and 200 ms delayed
    /// ACK timeout, fixed 100-packet DropTail queues), kept so old results can be re-made.
    std::string profile = "linux";
    /// TcpCongestionOps name without "ns3::Tcp". Cubic: Linux's default since 2.6.19 (RFC 9438).
    std::string variant = "Cubic";
    uint32_t segmentBytes = 1448; // 1500-byte Ethernet MTU - 20 IP - 20 TCP - 12 timestamp option
    /// Linux's tcp_wmem/tcp_rmem autotuning ceiling is 4 MiB / 6 MiB; ns-3 defaults to 128 KiB,
    /// which caps long-delay links.
    uint32_t sendBufferBytes = 4u << 20;
    uint32_t receiveBufferBytes = 4u << 20;
    /// Point-to-point device queue limit in packets; 0 = sized from the bandwidth-delay product
    /// (see queueBdpFactor; topology.h says how). Legacy: 100, ns-3's DropTail default.
    uint32_t queuePackets = 0;
    /// Device queue limit in bytes instead of packets (0 = use queuePackets).
    uint32_t queueBytes = 0;
    /// BDP-sized queues hold this many bandwidth-delay products (1: the Villamizar-Song rule).
    double queueBdpFactor = 1.0;
    /// Legacy switch: true is aqm = "fq_codel" (ns-3's default queue disc).
    bool queueDisc = false;
    /// Queue disc above each device queue: "fq_codel" (RFC 8290; Linux's default qdisc since
    /// systemd 217 sets net.core.default_qdisc; RFC 7567 recommends AQM over static buffers; and
    /// ns-3.37 has no tail-loss probe, RFC 8985, so a tail drop of a frame's last segment costs a
    /// 200 ms RTO that Linux would not pay), "none" (packets go straight to the DropTail device
    /// queue, as on a plain router; legacy), "codel" (RFC 8289), "pie" (RFC 8033).
    std::string aqm = "fq_codel";
    uint32_t delayedAckCount = 2; // segments per delayed ACK: RFC 1122 / RFC 5681 section 4.2
    /// Delayed-ACK timer: Linux's TCP_DELACK_MIN is 40 ms (ns-3's default 200 ms is RFC 1122's
    /// upper bound).
    double delayedAckTimeoutMs = 40;
    bool sack = true;                  // RFC 2018; Linux net.ipv4.tcp_sack = 1
    bool windowScaling = true;         // RFC 7323; Linux net.ipv4.tcp_window_scaling = 1
    bool timestamps = true;            // RFC 7323; Linux net.ipv4.tcp_timestamps = 1
    double minRtoMs = 200;             // Linux TCP_RTO_MIN (RFC 6298 suggests 1 s, ns-3's default)
    double clockGranularityMs = 1;     // RFC 6298's G; Linux's jiffy at HZ=1000, ns-3's default
    uint32_t initialCwndSegments = 10; // RFC 6928; Linux since 2.6.39
    /// Explicit congestion notification (RFC 3168) on every TCP socket, so that a queue disc that
    /// marks (fq_codel: Linux's and ns-3's default; not codel or pie) marks instead of dropping.
    /// Off: Linux's net.ipv4.tcp_ecn = 2 negotiates ECN only when the peer asks, and the devices,
    /// which open the connections, do not ask (ip-sysctl documentation).
    bool ecn = false;
    /// TCP small queues (sim/small-queues.h): the most a socket keeps in its own host's queue
    /// disc and device queue, Linux's net.ipv4.tcp_limit_output_bytes (1 MiB since Linux 4.20,
    /// Debian 12's 6.1 included; ip-sysctl documentation); the dynamic limit (two packets or ~1 ms
    /// at the pacing rate) is usually smaller. 0: no limit, as ns-3 (legacy).
    uint32_t tsqLimitBytes = 1u << 20;
};

/// The named transport profile's settings ("linux" or "legacy"; anything else asserts).
inline TcpConfig
TcpProfile(const std::string& name)
{
    TcpConfig t;
    t.profile = name;
    if (name == "legacy")
    {
        // slsim 0.1: ns-3 3.37's own defaults except the buffers and segment size above.
        t.variant = "NewReno";
        t.queuePackets = 100;
        t.delayedAckTimeoutMs = 200;
        t.minRtoMs = 1000;
        t.aqm = "none";
        t.tsqLimitBytes = 0;
    }
    return t;
}

/// A time series of an access link's capacity (sim/link-trace.h says how it is replayed): rate
/// mbps[i] holds from timesS[i] until timesS[i + 1]; after the last, the trace repeats with
/// periodS (> 0) or the last rate holds (0).
struct RateTrace
{
    std::vector<double> timesS; // ascending, >= 0
    std::vector<double> mbps;   // > 0
    double periodS = 0;
};

/// A capacity trace for the access links of one device or of every device (`network.link_traces`).
struct LinkTraceConfig
{
    int device = -1;                // -1: every device
    std::string direction = "both"; // uplink, downlink or both
    std::string file;               // as given (relative to the scenario file)
    std::string format = "csv";     // csv or mahimahi
    double windowMs = 100;          // mahimahi: rates are averaged over windows this long
    RateTrace trace;                // the file's contents, read by app/
};

/// The access kinds a device profile may name (DeviceProfile::access).
inline const std::vector<std::string>&
AccessKinds()
{
    static const std::vector<std::string> kinds{"wired", "wifi", "lte"};
    return kinds;
}

/// Most stations per AP: association IDs are 1..2007 (IEEE 802.11-2020 9.4.1.8).
constexpr uint32_t WIFI_MAX_STATIONS_PER_AP = 2007;
/// Most APs: their BSS subnets (/20 each, sim/wifi-access.h) fill 10.160.0.0/11.
constexpr uint32_t WIFI_MAX_APS = 512;
/// Weakest signal a station must receive from its AP: the minimum input sensitivity of HT MCS 0
/// at 20 MHz (IEEE 802.11-2020 Table 19-23).
constexpr double WIFI_MIN_RX_DBM = -82;

/// Shared WiFi access (sim/wifi-access.h): the devices with access "wifi" are stations of one or
/// more access points, each AP wired to the hub. The defaults with a constant MCS 5 (120 Mbit/s)
/// and rts_cts_threshold_bytes 0 give the paper's testbed (10 stations on one AP, about 100 Mbps
/// of goodput; scenarios/paper-testbed-wifi.json, scenarios/README.md).
struct WifiConfig
{
    /// "802.11n" (HT), "802.11ac" (VHT), "802.11ax" (HE): ns-3's WIFI_STANDARD_80211n/ac/ax.
    std::string standard = "802.11n";
    /// 2.4, 5 or 6 GHz (802.11ac: 5 only; 6: 802.11ax only). 5 GHz: the band of 802.11ac.
    double bandGhz = 5;
    /// 20, 40, 80 or 160 MHz (802.11n and 2.4 GHz: at most 40). 802.11n, 40 MHz, one spatial
    /// stream: at most MCS 7 = 150 Mbit/s (IEEE 802.11-2020 Table 19-27); MCS 5 (120 Mbit/s) with
    /// RTS/CTS gives about 100 Mbit/s of goodput for one AP's 10 stations together (paper testbed).
    uint32_t channelWidthMhz = 40;
    /// "minstrel_ht" (ns3::MinstrelHtWifiManager, Minstrel as in Linux's mac80211) or
    /// "constant" (ns3::ConstantRateWifiManager at `mcs`).
    std::string rateManager = "minstrel_ht";
    /// The constant rate's MCS index (one spatial stream): 802.11n 0-7, ac 0-9, ax 0-11.
    uint32_t mcs = 7;
    /// Short guard interval: 400 ns for HT/VHT (IEEE 802.11-2020 19.3.2 / 21.3.2), 800 ns for HE
    /// (HE's shortest, 27.3.11); false: 800 ns (HT/VHT) or 3200 ns (HE).
    bool shortGuardInterval = true;
    /// A-MPDU size limit, bytes (0: no aggregation). 65535: IEEE 802.11's HT maximum
    /// (Maximum A-MPDU Length Exponent 3) and ns-3's BE_MaxAmpduSize default.
    uint32_t maxAmpduBytes = 65535;
    /// PSDUs above this many bytes are protected by RTS/CTS (a collision then costs an RTS, not
    /// an A-MPDU); 65535: off for anything one PSDU holds here (ns-3's RtsCtsThreshold default).
    uint32_t rtsCtsThresholdBytes = 65535;
    uint32_t apCount = 1;
    /// How the WiFi devices are spread over the APs, in device order: "round_robin" (the k-th
    /// WiFi device joins AP k mod ap_count) or "block" (consecutive runs of equal size).
    std::string assignment = "round_robin";
    /// Each AP's wired link to the hub: Gigabit Ethernet (IEEE 802.3ab), ~100 m of cable (IEEE
    /// 802.3's segment limit) at ~2/3 c = 0.5 us.
    double apLinkMbps = 1000;
    double apLinkDelayMs = 0.0005;
    /// Path loss over the station's distance (ns3::LogDistancePropagationLossModel): exponent 3
    /// and 46.6777 dB at 1 m (ns-3's defaults: Friis at 5.15 GHz, an indoor exponent).
    double lossExponent = 3;
    double referenceLossDb = 46.6777;
    /// Transmit power of APs and stations: 16.0206 dBm (40 mW), ns-3's WifiPhy TxPowerStart.
    double txPowerDbm = 16.0206;
};

/// LTE access (sim/lte-access.h): eNodeBs with ns-3's EPC, the PGW wired to the hub. Each default
/// names its source.
struct LteConfig
{
    /// eNodeBs; UE i is attached to eNodeB i mod enbCount.
    uint32_t enbCount = 1;
    /// Uplink and downlink bandwidth in resource blocks (TS 36.101 Table 5.6-1: 6, 15, 25, 50, 75,
    /// 100 = 1.4, 3, 5, 10, 15, 20 MHz). 25: ns-3's LteEnbNetDevice UlBandwidth/DlBandwidth
    /// default.
    uint32_t bandwidthRbs = 25;
    /// MAC scheduler, ns3::<name>FfMacScheduler: "Pf" is ns-3's LteHelper default (proportional
    /// fair).
    std::string scheduler = "Pf";
    /// Distance of every UE from its eNodeB, m (UEs on a circle around it, fixed positions).
    /// 100 m: a small urban cell; at this distance every UE gets the highest MCS.
    double ueDistanceM = 100;
    /// Path loss: "friis" (ns-3 LteHelper's PathlossModel default) or "log_distance" (ns-3's
    /// LogDistancePropagationLossModel, exponent 3, reference loss 46.68 dB at 1 m).
    std::string pathLoss = "friis";
    /// Transmit powers: ns-3's LteEnbPhy TxPower (30 dBm) and LteUePhy TxPower (10 dBm) defaults.
    double enbTxPowerDbm = 30;
    double ueTxPowerDbm = 10;
    /// The eNodeB's RLC buffer per bearer, bytes; 0: sized like the other queues, network.tcp's
    /// queue_bdp_factor x the cell's peak rate x the round trip (ns-3's own default, 10 KiB, holds
    /// 7 packets: TCP could not fill the cell).
    uint32_t rlcBufferBytes = 0;
    /// PGW <-> hub link: the rate and delay of ns-3's lena-simple-epc example's remote-host link
    /// (100 Gbit/s, 10 ms), so the bottleneck to the server is unchanged.
    double pgwMbps = 100000;
    double pgwDelayMs = 10;
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
    /// Connections one server node terminates; above this many devices the server's sockets are
    /// spread over front-end nodes behind its bottleneck, as a load balancer would (topology.h).
    /// 0: never. ns-3 finds a received segment's socket by scanning every socket of the node.
    uint32_t serverNodeConnections = 1000;
    TcpConfig tcp;
    /// Time-varying access capacities; a later entry wins for a device and direction.
    std::vector<LinkTraceConfig> linkTraces;
    /// Settings of the devices with access "wifi".
    WifiConfig wifi;
    /// Cellular access of the devices whose access is "lte".
    LteConfig lte;
};

} // namespace slsim

#endif
