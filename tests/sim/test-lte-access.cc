// LTE access (sim/lte-access.h): a UE's TCP goodput up and down against the cell's peak rate,
// determinism, a mixed wired + LTE run, and outages on an LTE device.
#include "sim/frame-transport.h"
#include "sim/lte-access.h"
#include "sim/run.h"
#include "sim/topology.h"
#include "tests/sim/run-output.h"
#include "tests/sim/tiny-scenario.h"

#include "ns3/core-module.h"
#include "ns3/internet-module.h"

#include <catch2/catch.hpp>

using namespace slsim;

namespace
{

NetworkConfig
OneUe(uint32_t rbs)
{
    NetworkConfig c;
    DeviceProfile d;
    d.access = "lte";
    c.devices = {d};
    c.bottleneckMbps = 10000; // not the limit here
    c.bottleneckDelayMs = 0;
    c.lte.bandwidthRbs = rbs;
    return c;
}

/// TCP goodput (Mbit/s) of a bulk transfer of `bytes` between device 0 and the server, started
/// at 0.5 s (the UE has attached by then), measured between the instants 10 % and 90 % of the
/// bytes have arrived (past slow start, before the tail).
double
Goodput(const NetworkConfig& config, bool uplink, size_t bytes)
{
    using namespace ns3;
    Network net = BuildNetwork(config, 1);
    size_t received = 0;
    double quarter = -1, threeQuarters = -1;
    auto onRecv = [&](Ptr<Socket> s) {
        while (Ptr<Packet> p = s->Recv())
        {
            received += p->GetSize();
            if (quarter < 0 && received >= bytes / 10)
            {
                quarter = Simulator::Now().GetSeconds();
            }
            if (threeQuarters < 0 && received >= 9 * bytes / 10)
            {
                threeQuarters = Simulator::Now().GetSeconds();
            }
        }
    };
    Ptr<Node> receiver = uplink ? net.server : net.devices.Get(0);
    Ptr<Node> sender = uplink ? net.devices.Get(0) : net.server;
    const Ipv4Address to = uplink
                               ? net.serverAddress
                               : net.devices.Get(0)->GetObject<Ipv4>()->GetAddress(1, 0).GetLocal();
    auto listen = Socket::CreateSocket(receiver, TcpSocketFactory::GetTypeId());
    listen->Bind(InetSocketAddress(Ipv4Address::GetAny(), 5000));
    listen->Listen();
    listen->SetAcceptCallback(
        MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
        Callback<void, Ptr<Socket>, const Address&>([&](Ptr<Socket> s, const Address&) {
            s->SetRecvCallback(Callback<void, Ptr<Socket>>(onRecv));
        }));
    std::unique_ptr<FrameSender> frames;
    const std::vector<uint8_t> payload(bytes, 7);
    Simulator::Schedule(Seconds(0.5), [&] {
        auto s = Socket::CreateSocket(sender, TcpSocketFactory::GetTypeId());
        s->Bind();
        s->Connect(InetSocketAddress(to, 5000));
        frames = std::make_unique<FrameSender>(s);
        frames->Send(payload);
    });
    Simulator::Stop(Seconds(30));
    Simulator::Run();
    Simulator::Destroy();
    REQUIRE(threeQuarters > quarter);
    REQUIRE(quarter > 0.5);
    return double(bytes) * 0.8 * 8 / (threeQuarters - quarter) / 1e6;
}

} // namespace

TEST_CASE("An LTE UE's TCP goodput is the cell's peak rate less the headers", "[sim][lte]")
{
    // Expected: the largest transport block per 1 ms subframe (TS 36.213 Table 7.1.7.2.1-1 at
    // MCS 28, which every UE gets at 100 m) for the RBs a lone UE is given, times the TCP payload
    // share of a packet: 1448 payload bytes of 1448 + 52 TCP/IP + 2 PDCP + ~2 RLC + ~1 MAC.
    // Uplink: every RB (6: 4,392 bit; 25: 18,336). Downlink: ns-3's schedulers allocate whole
    // resource-block groups (TS 36.213 Table 7.1.6.1-1: 1 RB up to 10 RBs, 2 up to 26) and drop
    // the partial last group, so 25 RBs give 12 groups = 24 RBs (17,568 bit). Measured: within
    // 1 % (6 RBs: 4.215 both ways; 25 RBs: 16.78-16.91 down, 17.66 up). Tolerance 5 %: the
    // 10-90 % window starts or ends inside a loss recovery by a few tens of ms.
    const double payloadShare = 1448.0 / (1448 + 52 + 2 + 2 + 1);

    struct Case
    {
        uint32_t rbs;
        uint32_t downlinkTbsBits, uplinkTbsBits;
        size_t bytes;
    };

    for (const Case& k : {Case{6, 4392, 4392, 600000}, Case{25, 17568, 18336, 2000000}})
    {
        CHECK(LtePeakMbps(k.rbs) == k.uplinkTbsBits / 1e3);
        const double expectedDown = k.downlinkTbsBits / 1e3 * payloadShare;
        const double expectedUp = k.uplinkTbsBits / 1e3 * payloadShare;
        const double down = Goodput(OneUe(k.rbs), false, k.bytes);
        const double up = Goodput(OneUe(k.rbs), true, k.bytes);
        INFO("RBs " << k.rbs << ": downlink " << down << " Mbit/s (expected " << expectedDown
                    << "), uplink " << up << " (expected " << expectedUp << ")");
        CHECK(down == Approx(expectedDown).epsilon(0.05));
        CHECK(up == Approx(expectedUp).epsilon(0.05));
    }
}

TEST_CASE("An LTE run is deterministic, and mixes with wired devices", "[sim][lte]")
{
    ScenarioConfig c = Tiny("splitfed_v2", 3);
    c.training.epochs = 1;
    c.network.devices[1].access = "lte";
    c.network.devices[2].access = "lte";
    for (DeviceProfile& d : c.network.devices)
    {
        d.radioTxW = 2;
        d.radioRxW = 1;
        d.radioIdleW = 0.5;
    }
    const std::string a = TempDir("lte-a");
    const std::string b = TempDir("lte-b");
    RunScenario(c, a);
    RunScenario(c, b);
    for (const char* f : {"/steps.csv", "/eval.csv", "/events.csv", "/devices.csv"})
    {
        const std::string x = Slurp(a + f);
        REQUIRE(!x.empty());
        REQUIRE(x == Slurp(b + f));
    }
    const auto devices = ReadCsv(a + "/devices.csv");
    REQUIRE(devices.size() == 3);
    for (const auto& d : devices)
    {
        INFO("device " << d.at("device"));
        CHECK(std::stod(d.at("bytes_up")) > 0);
        // Every device's radio sent and received something, and idled in between.
        CHECK(std::stod(d.at("radio_tx_s")) > 0);
        CHECK(std::stod(d.at("radio_rx_s")) > 0);
        CHECK(std::stod(d.at("radio_j")) > 0);
    }
}

TEST_CASE("An LTE device's loss and outages act where its packets enter IP", "[sim][lte]")
{
    // LTE NetDevices take no receive error model: the gates of sim/lte-access.h apply the
    // device's pair of error models. Loss on device 0 only: TCP retransmits there, and an
    // outage of device 1 is recorded and the run completes.
    ScenarioConfig c = Tiny("splitfed_v2", 2);
    c.training.epochs = 1;
    c.faults.timeoutS = 10; // a lost SYN is sent again after ns-3's 3-s connection timer
    for (DeviceProfile& d : c.network.devices)
    {
        d.access = "lte";
    }
    c.network.devices[0].loss = 0.05;
    OutageConfig o;
    o.device = 1;
    o.fromS = 0.3;
    o.untilS = 0.6;
    c.faults.outages = {o};
    const std::string dir = TempDir("lte-loss");
    RunScenario(c, dir);
    const auto devices = ReadCsv(dir + "/devices.csv");
    REQUIRE(devices.size() == 2);
    CHECK(std::stoull(devices[0].at("tcp_retransmissions")) > 0);
    const std::string events = Slurp(dir + "/events.csv");
    CHECK(events.find(",1,offline,") != std::string::npos);
    CHECK(events.find(",1,online,") != std::string::npos);
}
