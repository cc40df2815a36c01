// Shared WiFi access (sim/wifi-access.h): saturation goodput against Bianchi's analytic model,
// airtime and MAC retry counts, determinism, and a mixed wired + WiFi training run.
#include "sim/network-stats.h"
#include "sim/run.h"
#include "sim/topology.h"
#include "sim/wifi-access.h"
#include "tests/sim/run-output.h"
#include "tests/sim/tiny-scenario.h"

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/queue-disc.h"
#include "ns3/traffic-control-layer.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace slsim;

namespace
{

/// Saturation throughput of 802.11 DCF with basic access (G. Bianchi, "Performance analysis of
/// the IEEE 802.11 distributed coordination function", IEEE JSAC 18(3), 2000, eqs. 7, 9, 13),
/// payload bits per second. n stations always have a frame of `payloadBits` to send; W = CWmin
/// + 1, m backoff stages; T_s / T_c: the channel time of a success / a collision; sigma: a slot.
double
BianchiThroughput(int n, int w, int m, double slotS, double successS, double collisionS,
                  double payloadBits)
{
    // tau(p) = 2 (1 - 2p) / ((1 - 2p)(W + 1) + p W (1 - (2p)^m)) (eq. 7) and
    // p = 1 - (1 - tau)^(n-1) (eq. 9): bisection on p of the fixed point.
    const auto tauOf = [w, m](double p) {
        const double q = 1 - 2 * p;
        return 2 * q / (q * (w + 1) + p * w * (1 - std::pow(2 * p, m)));
    };
    double lo = 0, hi = 0.999;
    for (int i = 0; i < 200; ++i)
    {
        const double p = (lo + hi) / 2;
        (1 - std::pow(1 - tauOf(p), n - 1) > p ? lo : hi) = p;
    }
    const double tau = tauOf((lo + hi) / 2);
    const double ptr = 1 - std::pow(1 - tau, n);                // some station transmits
    const double ps = n * tau * std::pow(1 - tau, n - 1) / ptr; // exactly one does
    return ps * ptr * payloadBits                               // eq. 13
           / ((1 - ptr) * slotS + ptr * ps * successS + ptr * (1 - ps) * collisionS);
}

/// A PPDU's duration, s: `preambleUs` then 4 us OFDM symbols of `bitsPerSymbol` carrying
/// SERVICE (16 bits) + the PSDU + tail (6 bits) (IEEE 802.11-2020 17.3.5.4, 19.3.9.4).
double
PpduS(double preambleUs, uint32_t psduBytes, uint32_t bitsPerSymbol)
{
    return (preambleUs + 4 * std::ceil((16 + 8.0 * psduBytes + 6) / bitsPerSymbol)) * 1e-6;
}

NetworkConfig
WifiNetwork(int stations)
{
    NetworkConfig net;
    DeviceProfile p;
    p.access = "wifi";
    net.devices.assign(static_cast<size_t>(stations), p);
    net.bottleneckMbps = 1000; // the WiFi channel is the only bottleneck
    return net;
}

/// Bytes a PacketSink at the server received from `stations` saturating UDP senders between
/// 1 and 3 s (association and ARP done by then).
struct Saturation
{
    double goodputMbps = 0;
    std::vector<LinkCounts> up, down;
    /// Per station: the packets its root queue disc's own statistics say it dropped (a child's
    /// drop included once, as CHILD_QUEUE_DISC_DROP) and the MPDUs its MAC dropped from its
    /// queues (not for the retry limit).
    std::vector<uint64_t> discDrops, macQueueDrops;
};

Saturation
Saturate(const NetworkConfig& config, uint32_t payloadBytes, const char* rate = "100Mbps")
{
    using namespace ns3;
    Network net = BuildNetwork(config, 11);
    NetworkStats stats(net);
    const uint16_t port = 9;
    PacketSinkHelper sink("ns3::UdpSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), port));
    ApplicationContainer sinks = sink.Install(net.server);
    OnOffHelper source("ns3::UdpSocketFactory", InetSocketAddress(net.serverAddress, port));
    source.SetConstantRate(DataRate(rate), payloadBytes); // above a station's share
    for (uint32_t i = 0; i < net.devices.GetN(); ++i)
    {
        ApplicationContainer a = source.Install(net.devices.Get(i));
        a.Start(Seconds(0.5 + 0.01 * i));
    }
    auto received = [&sinks] { return DynamicCast<PacketSink>(sinks.Get(0))->GetTotalRx(); };
    Saturation s;
    s.macQueueDrops.assign(net.devices.GetN(), 0);
    for (uint32_t i = 0; i < net.devices.GetN(); ++i)
    {
        uint64_t* drops = &s.macQueueDrops[i];
        WatchWifiDrops(net.deviceSide[i],
                       [drops](Mac48Address, bool retryLimit) { *drops += retryLimit ? 0 : 1; });
    }
    uint64_t at1 = 0, at3 = 0;
    Simulator::Schedule(Seconds(1), [&] { at1 = received(); });
    Simulator::Schedule(Seconds(3), [&] { at3 = received(); });
    Simulator::Stop(Seconds(3));
    Simulator::Run();
    s.goodputMbps = double(at3 - at1) * 8 / 2 / 1e6;
    for (uint32_t i = 0; i < net.devices.GetN(); ++i)
    {
        s.up.push_back(stats.AccessUp(static_cast<int>(i)));
        s.down.push_back(stats.AccessDown(static_cast<int>(i)));
        Ptr<NetDevice> station = net.deviceSide[i];
        Ptr<QueueDisc> root
            = station->GetNode()->GetObject<TrafficControlLayer>()->GetRootQueueDiscOnDevice(
                station);
        s.discDrops.push_back(root ? root->GetStats().nTotalDroppedPackets : 0);
    }
    Simulator::Destroy();
    return s;
}

} // namespace

TEST_CASE("Saturated WiFi uplink goodput matches Bianchi's model within 10 %", "[sim][wifi]")
{
    // 802.11n, 5 GHz, 20 MHz, constant HT MCS 7 (65 Mbit/s at an 800 ns guard interval), no
    // aggregation: each frame is one MPDU and a normal ACK, as in Bianchi's basic access.
    const int n = 5;
    NetworkConfig config = WifiNetwork(n);
    config.wifi.channelWidthMhz = 20;
    config.wifi.rateManager = "constant";
    config.wifi.mcs = 7;
    config.wifi.shortGuardInterval = false;
    config.wifi.maxAmpduBytes = 0;
    const uint32_t payload = 1472; // UDP payload of a 1500-byte IP packet
    const Saturation s = Saturate(config, payload);

    // Timing of the 5 GHz OFDM PHY (IEEE 802.11-2020 Table 17-21) and EDCA's best-effort
    // category (Table 9-155): slot 9 us, SIFS 16 us, AIFS = SIFS + 3 slots, CWmin 15, CWmax 1023
    // (W = 16, m = 6). Data: HT-mixed preamble 36 us (L-STF, L-LTF, L-SIG, HT-SIG, HT-STF, one
    // HT-LTF), 260 data bits per symbol (MCS 7, 20 MHz); the MPDU is UDP/IP (28) + LLC/SNAP (8)
    // + QoS MAC header (26) + FCS (4) around the payload. ACK (14 bytes) at 24 Mbit/s (96 bits
    // per symbol, legacy preamble 20 us): the highest mandatory rate not above the data rate's
    // non-HT reference (10.6.6.5.2). A collision costs the frame and EIFS (SIFS + an ACK at
    // 6 Mbit/s + AIFS, 10.3.2.3.7).
    const double slot = 9e-6, sifs = 16e-6, aifs = sifs + 3 * slot;
    const double data = PpduS(36, payload + 28 + 8 + 26 + 4, 260);
    const double ack = PpduS(20, 14, 96);
    const double ackLowest = PpduS(20, 14, 24);
    const double expected = BianchiThroughput(n, 16, 6, slot, data + sifs + ack + aifs,
                                              data + sifs + ackLowest + aifs, payload * 8.0)
                            / 1e6;
    INFO("goodput " << s.goodputMbps << " Mbit/s, Bianchi " << expected << " Mbit/s");
    WARN("saturation: goodput " << s.goodputMbps << " Mbit/s, Bianchi " << expected);
    CHECK(s.goodputMbps == Approx(expected).epsilon(0.10));

    // Every station got a share (no starvation): within a factor 2 of the mean's airtime.
    double airtime = 0;
    uint64_t retries = 0;
    for (const LinkCounts& up : s.up)
    {
        airtime += up.airtimeS;
        retries += up.macRetries;
    }
    for (const LinkCounts& up : s.up)
    {
        CHECK(up.airtimeS > airtime / n / 2);
        CHECK(up.airtimeS < airtime / n * 2);
    }
    // Collisions happen (Bianchi: p = 0.27 at n = 5) and cost retries; the uplink frames' own
    // airtime fits in the 3 s run.
    CHECK(retries > 0);
    CHECK(airtime < 3);
    CHECK(airtime > 1);
}

TEST_CASE("The paper testbed's WiFi gives ten saturating stations about 100 Mbit/s", "[sim][wifi]")
{
    // scenarios/paper-testbed-wifi.json: network.wifi's defaults (802.11n, 5 GHz, 40 MHz, one
    // stream, short guard interval; A-MPDUs up to 65535 bytes) at a constant MCS 5 (120 Mbit/s)
    // with RTS/CTS before every PSDU: 106.8 Mbit/s measured, 75.2 without RTS/CTS (collisions
    // cost whole A-MPDUs). At MCS 7 (150 Mbit/s): 131 with RTS/CTS, as one station alone.
    NetworkConfig config = WifiNetwork(10);
    config.wifi.rateManager = "constant";
    config.wifi.mcs = 5;
    config.wifi.rtsCtsThresholdBytes = 0;
    const double rtsCts = Saturate(config, 1448).goodputMbps;
    config.wifi.rtsCtsThresholdBytes = 65535;
    const double plain = Saturate(config, 1448).goodputMbps;
    INFO("goodput " << rtsCts << " Mbit/s with RTS/CTS, " << plain << " without");
    CHECK(rtsCts > 95);
    CHECK(rtsCts < 118);
    // rts_cts_threshold_bytes reaches ns-3 at a constant rate too.
    CHECK(plain < 0.85 * rtsCts);
}

TEST_CASE("A saturated WiFi station's queue drops are counted once", "[sim][wifi]")
{
    // ns-3's default WiFi queue disc is an mq root with one FqCoDel child per access category;
    // QueueDisc reports a child's drop again as its parent's (CHILD_QUEUE_DISC_DROP), so the
    // root's Drop trace alone sees every drop once. UDP at 100 Mbit/s from each of two stations
    // overflows their queues.
    NetworkConfig config = WifiNetwork(2);
    const Saturation s = Saturate(config, 1472);
    for (size_t i = 0; i < s.up.size(); ++i)
    {
        INFO("station " << i << ": counted " << s.up[i].queueDrops << ", root disc "
                        << s.discDrops[i] << ", MAC queue " << s.macQueueDrops[i]);
        REQUIRE(s.discDrops[i] > 100);
        CHECK(s.up[i].queueDrops == s.discDrops[i] + s.macQueueDrops[i]);
    }
}

TEST_CASE("WiFi airtime and MAC retry counts are consistent with the frames sent", "[sim][wifi]")
{
    NetworkConfig config = WifiNetwork(3);
    config.wifi.rateManager = "constant";
    config.wifi.mcs = 7;
    config.wifi.maxAmpduBytes = 0;
    config.wifi.shortGuardInterval = false;
    config.wifi.channelWidthMhz = 20;
    const Saturation s = Saturate(config, 1472);
    for (size_t i = 0; i < s.up.size(); ++i)
    {
        INFO("station " << i);
        const LinkCounts& up = s.up[i];
        const LinkCounts& down = s.down[i];
        // Uplink: data frames of 1538 bytes, each 228 us on air at MCS 7 (one MPDU per PSDU
        // without aggregation); a few management frames besides.
        REQUIRE(up.packetsSent > 1000);
        CHECK(up.airtimeS == Approx(up.packetsSent * PpduS(36, 1538, 260)).epsilon(0.02));
        CHECK(up.macRetries > 0);
        CHECK(up.macRetries < up.packetsSent);
        // Downlink: the AP's ACKs to the station, one per data frame received (14 bytes, 28 us
        // at 24 Mbit/s), and some management frames.
        CHECK(down.packetsSent > 1000);
        CHECK(down.packetsSent <= up.packetsSent + 20);
        CHECK(down.airtimeS < down.packetsSent * 60e-6);
        // ACKs are never retried: only the AP's few other frames (association, ARP) may be.
        CHECK(down.macRetries < 10);
    }
}

TEST_CASE("A WiFi run is deterministic and mixes with wired devices", "[sim][wifi][run]")
{
    // Two WiFi stations on one AP and one wired device, two epochs of SplitFed.
    ScenarioConfig c = Tiny("splitfed_v2", 3);
    c.network.devices[0].access = "wifi";
    c.network.devices[2].access = "wifi";
    c.network.devices[2].wifiDistanceM = 20;
    for (DeviceProfile& p : c.network.devices)
    {
        p.radioTxW = 1.14; // ns-3's WifiRadioEnergyModel: 0.380 A x 3 V
        p.radioRxW = 0.939;
        p.radioIdleW = 0.819;
    }
    const std::string a = TempDir("wifi-mixed-a");
    const std::string b = TempDir("wifi-mixed-b");
    const RunSummary s = RunScenario(c, a);
    RunScenario(c, b);
    CHECK(s.rounds == 2);
    for (const char* file : {"steps.csv", "devices.csv", "events.csv"})
    {
        CHECK(Slurp(a + "/" + file) == Slurp(b + "/" + file));
    }
    const auto devices = ReadCsv(a + "/devices.csv");
    for (int d : {0, 2})
    {
        INFO("wifi device " << d);
        const auto& row = devices.at(static_cast<size_t>(d));
        CHECK(std::stod(row.at("airtime_up_s")) > 0);
        CHECK(std::stod(row.at("airtime_down_s")) > 0);
        // The radio transmitted its frames' airtime, less the association's frames (sent
        // before the device powered on, when the energy recorder starts counting); it also
        // received others' frames.
        CHECK(std::stod(row.at("radio_tx_s")) <= std::stod(row.at("airtime_up_s")) + 1e-12);
        CHECK(std::stod(row.at("radio_tx_s")) > 0.9 * std::stod(row.at("airtime_up_s")));
        CHECK(std::stod(row.at("radio_rx_s")) >= std::stod(row.at("airtime_down_s")) * 0.99);
        CHECK(std::stod(row.at("radio_j")) > 0.819 * s.simTimeS * 0.5);
        CHECK(std::stod(row.at("bytes_up")) > 0);
    }
    const auto& wired = devices.at(1);
    CHECK(wired.at("airtime_up_s") == "0");
    CHECK(wired.at("mac_retries_up") == "0");
    CHECK(std::stod(wired.at("bytes_up")) > 0);
}

TEST_CASE("No WiFi station stalls after a late ADDBA response (ns-3.37 block-ack window)",
          "[sim][wifi][run]")
{
    // scenarios/quickstart.json with 10 Minstrel-HT stations, RTS/CTS, one epoch of SplitFed v1,
    // seed 1: the AP's ADDBA Response from one station came 9 ms late (contention), after the
    // AP's 1-ms AddBaResponseTimeout, so 11 MPDUs went under Normal Ack; the station's block-ack
    // window then started 11 below the AP's, and everything later sat in its reordering buffer
    // (sim/wifi-access.cc, ResyncBlockAckWindows). Without the BlockAckReq after each
    // agreement, that station's connection saw 6 retransmission timeouts and the run ended
    // 30.2 s in, at the server's time-out (faults.timeout_s); with it, 0.41 s.
    ScenarioConfig c = Tiny("splitfed_v1", 10);
    c.seed = 1;
    c.dataset.syntheticTrain = 1200;
    c.dataset.syntheticTest = 300;
    c.model.hidden = {128, 64};
    c.training.batchSize = 32;
    c.training.epochs = 1;
    c.network.wifi.rtsCtsThresholdBytes = 0;
    for (DeviceProfile& p : c.network.devices)
    {
        p.access = "wifi";
        p.gflops = 5;
    }
    const std::string dir = TempDir("wifi-no-stall");
    const RunSummary s = RunScenario(c, dir);
    CHECK(s.rounds == 1);
    CHECK(Slurp(dir + "/events.csv").find("timeout") == std::string::npos);
    for (const auto& row : ReadCsv(dir + "/devices.csv"))
    {
        INFO("device " << row.at("device"));
        CHECK(std::stod(row.at("rto_wait_s")) < 1);
    }
    CHECK(s.simTimeS < 5);
}
