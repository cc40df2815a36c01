// The server's front-end nodes (sim/topology.h): addressing, and results identical to one node.
#include "sim/run.h"
#include "sim/topology.h"
#include "tests/sim/tiny-scenario.h"

#include "ns3/simulator.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

using namespace slsim;

namespace
{

/// The CSV files of a run in `dir` (a fresh folder under the temporary directory), by name.
std::map<std::string, std::string>
RunCsv(const ScenarioConfig& config, const std::string& name)
{
    const auto dir = std::filesystem::temp_directory_path() / ("slsim-test-topology-" + name);
    std::filesystem::remove_all(dir);
    RunScenario(config, dir.string());
    std::map<std::string, std::string> files;
    for (const char* f : {"steps.csv", "eval.csv", "events.csv", "devices.csv"})
    {
        std::ifstream in(dir / f, std::ios::binary);
        files[f] = std::string(std::istreambuf_iterator<char>(in), {});
        REQUIRE(!files[f].empty());
    }
    return files;
}

} // namespace

TEST_CASE("Devices beyond one server node's connections are spread over front-end nodes",
          "[sim][topology]")
{
    ScenarioConfig c = Tiny("splitfed_v2", 10);
    c.network.serverNodeConnections = 4;
    {
        const Network net = BuildNetwork(c.network, 1);
        REQUIRE(net.serverNodes.size() == 3); // ceil(10 / 4)
        REQUIRE(net.perServerNode == 4);
        std::set<uint32_t> addresses;
        for (size_t k = 0; k < net.serverNodes.size(); ++k)
        {
            REQUIRE(net.serverNodes[k] != net.server);
            addresses.insert(net.serverNodeAddresses[k].Get());
        }
        REQUIRE(addresses.size() == 3);
        REQUIRE(net.ServerAddressFor(0) == net.serverNodeAddresses[0]);
        REQUIRE(net.ServerAddressFor(4) == net.serverNodeAddresses[1]);
        REQUIRE(net.ServerAddressFor(9) == net.serverNodeAddresses[2]);
        ns3::Simulator::Destroy();
    }
    for (uint32_t m : {0u, 10u, 100u})
    {
        c.network.serverNodeConnections = m; // 0: never; 10 devices: not more than one node
        const Network net = BuildNetwork(c.network, 1);
        REQUIRE(net.serverNodes.size() == 1);
        REQUIRE(net.serverNodes[0] == net.server);
        REQUIRE(net.ServerAddressFor(9) == net.serverAddress);
        ns3::Simulator::Destroy();
    }
}

// The ideal links cross within the sending event, so every event happens at the same instant and
// in the same order as with one node. (One ns-3 3.37 behaviour differs between the two: a
// listening socket echoes the newest timestamp of any SYN it has seen, so when a device's SYN
// arrives after another's with a later timestamp, its SYN-ACK echoes the other's and the device's
// first RTT sample is off; fewer connections per listener make that rarer. Equal link delays, as
// here, keep SYNs in timestamp order.)
TEST_CASE("Front-end nodes give byte-identical CSV to one server node", "[sim][topology]")
{
    for (const char* schedule : {"sequential", "splitfed_v2"})
    {
        ScenarioConfig c = Tiny(schedule, 6);
        c.training.epochs = 1;
        const auto one = RunCsv(c, std::string("one-") + schedule);
        for (uint32_t m : {1u, 4u})
        {
            c.network.serverNodeConnections = m;
            INFO(schedule << ", " << m << " connections per node");
            REQUIRE(one == RunCsv(c, schedule + std::to_string(m)));
        }
    }
}
