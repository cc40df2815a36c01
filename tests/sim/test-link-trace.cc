// Trace-driven access links: the two file formats, and a frame's transfer time over a step trace
// against the integral of the trace's capacity.
#include "common/error.h"
#include "sim/frame-transport.h"
#include "sim/link-trace.h"
#include "sim/topology.h"
#include "tests/sim/run-output.h"

#include "ns3/core-module.h"
#include "ns3/internet-module.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

using namespace slsim;

namespace
{

NetworkConfig
OneLink(double mbps)
{
    NetworkConfig c;
    DeviceProfile d;
    d.uplinkMbps = mbps;
    d.downlinkMbps = 100;
    d.delayMs = 2;
    c.devices = {d};
    c.bottleneckMbps = 10000; // not the limit here
    c.bottleneckDelayMs = 0;
    return c;
}

/// Simulated time at which a frame of `payload` bytes sent from device 0 at time 0 (connection
/// set-up included) has fully arrived at the server.
double
FrameTime(const NetworkConfig& config, size_t payload)
{
    Network net = BuildNetwork(config, 1);
    std::unique_ptr<FrameAssembler> assembler;
    double arrived = -1;
    assembler = std::make_unique<FrameAssembler>(
        [&](std::vector<uint8_t>&&) { arrived = ns3::Simulator::Now().GetSeconds(); });
    auto listen = ns3::Socket::CreateSocket(net.server, ns3::TcpSocketFactory::GetTypeId());
    listen->Bind(ns3::InetSocketAddress(ns3::Ipv4Address::GetAny(), 5000));
    listen->Listen();
    listen->SetAcceptCallback(
        ns3::MakeNullCallback<bool, ns3::Ptr<ns3::Socket>, const ns3::Address&>(),
        ns3::Callback<void, ns3::Ptr<ns3::Socket>, const ns3::Address&>(
            [&](ns3::Ptr<ns3::Socket> s, const ns3::Address&) {
                s->SetRecvCallback(ns3::MakeCallback(&FrameAssembler::OnReceive, assembler.get()));
            }));
    std::unique_ptr<FrameSender> sender;
    const std::vector<uint8_t> frame(payload, 7);
    ns3::Simulator::ScheduleNow([&] {
        auto s = ns3::Socket::CreateSocket(net.devices.Get(0), ns3::TcpSocketFactory::GetTypeId());
        s->Bind();
        s->Connect(ns3::InetSocketAddress(net.serverAddress, 5000));
        sender = std::make_unique<FrameSender>(s);
        sender->Send(frame);
    });
    ns3::Simulator::Stop(ns3::Seconds(100));
    ns3::Simulator::Run();
    ns3::Simulator::Destroy();
    REQUIRE(arrived > 0);
    return arrived;
}

/// The instant at which the trace (from time 0) has offered `bits` of capacity.
double
TimeToOffer(const RateTrace& t, double bits)
{
    double at = 0, rate = 0;
    for (size_t i = 0; i <= t.timesS.size(); ++i)
    {
        const double until = i < t.timesS.size() ? t.timesS[i] : 1e18;
        const double offered = rate * 1e6 * (until - at);
        if (offered >= bits)
        {
            return at + bits / (rate * 1e6);
        }
        bits -= offered;
        at = until;
        rate = i < t.timesS.size() ? t.mbps[i] : rate;
    }
    return at;
}

} // namespace

TEST_CASE("A csv rate trace is read, and its mistakes name the file and line", "[sim][trace]")
{
    const RateTrace t = ReadCsvRateTrace(
        WriteTempFile("trace-ok.csv", "# a step\ntime_s,mbps\n0,20\n\n0.4, 5\n"));
    CHECK(t.timesS == std::vector<double>{0, 0.4});
    CHECK(t.mbps == std::vector<double>{20, 5});
    CHECK(t.periodS == 0);
    const std::string header = WriteTempFile("trace-header.csv", "t,rate\n0,1\n");
    CHECK(InputErrorOf([&] { ReadCsvRateTrace(header); })
          == header + ":1: header must be \"time_s,mbps\"");
    const std::string order = WriteTempFile("trace-order.csv", "time_s,mbps\n0,1\n2,1\n1,1\n");
    CHECK(InputErrorOf([&] { ReadCsvRateTrace(order); })
          == order + ":4: time_s must increase from row to row");
    const std::string zero = WriteTempFile("trace-zero.csv", "time_s,mbps\n0,0\n");
    CHECK(InputErrorOf([&] { ReadCsvRateTrace(zero); }).find(zero + ":2: mbps must be in") == 0);
    const std::string empty = WriteTempFile("trace-empty.csv", "time_s,mbps\n");
    CHECK(InputErrorOf([&] { ReadCsvRateTrace(empty); }) == empty + ": rate trace has no rows");
}

TEST_CASE("A Mahimahi trace becomes window rates that repeat with its last timestamp",
          "[sim][trace]")
{
    // Opportunities at 0, 1, 1 ms (window 0..2 ms: 3 x 1500 B / 2 ms = 18 Mbit/s) and 3, 4 ms
    // (window 2..4 ms, the period's own stamp included: 12 Mbit/s); period 4 ms.
    const RateTrace t = ReadMahimahiTrace(WriteTempFile("trace-m.txt", "0\n1\n1\n3\n4\n"), 2);
    CHECK(t.timesS == std::vector<double>{0, 0.002});
    CHECK(t.mbps[0] == Approx(18));
    CHECK(t.mbps[1] == Approx(12));
    CHECK(t.periodS == Approx(0.004));
    // Windows 0..5, 5..10, 10..15 ms (period 15: its own stamp counts in the last). One with no
    // opportunity gets one opportunity's rate, 1500 B / 5 ms = 2.4 Mbit/s; the last has two.
    const RateTrace gap = ReadMahimahiTrace(WriteTempFile("trace-gap.txt", "12\n15\n"), 5);
    REQUIRE(gap.mbps.size() == 3);
    CHECK(gap.mbps[0] == Approx(2.4));
    CHECK(gap.mbps[1] == Approx(2.4));
    CHECK(gap.mbps[2] == Approx(4.8));
    const std::string bad = WriteTempFile("trace-bad.txt", "0\n5\nx\n");
    CHECK(InputErrorOf([&] { ReadMahimahiTrace(bad, 10); })
          == bad + ":3: expected a millisecond timestamp (an integer >= 0)");
    const std::string back = WriteTempFile("trace-back.txt", "5\n4\n");
    CHECK(InputErrorOf([&] { ReadMahimahiTrace(back, 10); })
          == back + ":2: timestamps must not decrease");
}

TEST_CASE("A frame's transfer time over a step trace is the integral of the trace's capacity",
          "[sim][trace]")
{
    const size_t bytes = 2'000'000;
    // TCP's own overhead (handshake, slow start, headers, ACK clocking), measured on a constant
    // link as the capacity-time the frame took beyond its payload bits.
    const double constant = FrameTime(OneLink(10), bytes);
    const double overheadBits = constant * 10e6 - bytes * 8.0;
    INFO("constant 10 Mbit/s: " << constant << " s, TCP overhead " << overheadBits / 8 << " B");
    CHECK(overheadBits > 0);

    for (const auto& rates : {std::vector<double>{20, 5}, std::vector<double>{5, 20}})
    {
        NetworkConfig c = OneLink(10); // the trace replaces the configured rate from time 0
        LinkTraceConfig lt;
        lt.device = 0;
        lt.direction = "uplink";
        lt.trace.timesS = {0, 0.4};
        lt.trace.mbps = rates;
        c.linkTraces = {lt};
        const double t = FrameTime(c, bytes);
        // When the trace has offered the payload plus the same overhead.
        const double expected = TimeToOffer(lt.trace, bytes * 8.0 + overheadBits);
        const double naive = TimeToOffer(lt.trace, bytes * 8.0);
        INFO(rates[0] << " then " << rates[1] << " Mbit/s: " << t << " s; integral " << expected
                      << " s, payload alone " << naive << " s");
        CHECK(t == Approx(expected).epsilon(0.03));
        CHECK(t > naive);
    }
}

TEST_CASE("A later link trace entry wins for its device and direction", "[sim][trace]")
{
    NetworkConfig c = OneLink(10);
    c.devices.resize(3, c.devices[0]);
    LinkTraceConfig every, one;
    every.direction = "both";
    every.trace.timesS = {0};
    every.trace.mbps = {1};
    one = every;
    one.device = 1;
    one.direction = "downlink";
    one.trace.mbps = {2};
    c.linkTraces = {every, one};
    CHECK(AccessTrace(c, 0, true)->mbps[0] == 1);
    CHECK(AccessTrace(c, 1, true)->mbps[0] == 1);
    CHECK(AccessTrace(c, 1, false)->mbps[0] == 2);
    c.linkTraces = {one};
    CHECK(AccessTrace(c, 0, false) == nullptr);
    CHECK(AccessTrace(c, 1, true) == nullptr);
}
