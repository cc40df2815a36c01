// Device traces (devices.trace, app/device-resolver.cc): read through common/csv-reader.h; a
// duplicated column is refused; a partial trace (some devices, empty cells) falls back to
// devices.<quantity>, the profile and the default, as scenarios/README.md "How devices are given"
// says.
#include "app/device-resolver.h"
#include "app/json-reader.h"
#include "common/error.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

using namespace slsim;

namespace
{

/// Writes `text` to `file` (removed on destruction).
class TraceFile
{
  public:
    TraceFile(const std::string& file, const std::string& text)
        : m_file(file)
    {
        std::ofstream(m_file) << text;
    }

    ~TraceFile()
    {
        std::remove(m_file.c_str());
    }

  private:
    std::string m_file;
};

std::vector<DeviceProfile>
Resolve(const std::string& json)
{
    return ResolveDevices(ParseJsonText(json, "t"), "devices", 3, ".");
}

} // namespace

TEST_CASE("a trace with a duplicated column is refused with the file and line",
          "[app][devices][trace]")
{
    TraceFile f("test-trace-dup.csv", "# header next\ndevice_id,gflops,gflops\n0,1,2\n");
    CHECK_THROWS_WITH(Resolve(R"({"trace": "test-trace-dup.csv"})"),
                      Catch::StartsWith("./test-trace-dup.csv:2: ")
                          && Catch::Contains("duplicate column \"gflops\""));
    TraceFile g("test-trace-dup-id.csv", "device_id,device_id\n0,0\n");
    CHECK_THROWS_WITH(Resolve(R"({"trace": "test-trace-dup-id.csv"})"),
                      Catch::Contains("duplicate column \"device_id\""));
}

TEST_CASE("a trace for some devices only falls back for the others when count is given",
          "[app][devices][trace]")
{
    TraceFile f("test-trace-some.csv", "device_id,uplink_mbps\n3,7\n1,4\n");
    const auto d = Resolve(R"({"trace": "test-trace-some.csv", "count": 5, "uplink_mbps": 2})");
    REQUIRE(d.size() == 5);
    CHECK(d[0].uplinkMbps == 2);
    CHECK(d[1].uplinkMbps == 4);
    CHECK(d[2].uplinkMbps == 2);
    CHECK(d[3].uplinkMbps == 7);
    CHECK(d[4].uplinkMbps == 2);
    // Without count the number of devices is unknown: a gap is refused, with the hint.
    CHECK_THROWS_WITH(Resolve(R"({"trace": "test-trace-some.csv"})"),
                      Catch::Contains("device 0 is missing") && Catch::Contains("devices.count"));
    // A row beyond count is refused at its line.
    CHECK_THROWS_WITH(Resolve(R"({"trace": "test-trace-some.csv", "count": 3})"),
                      Catch::StartsWith("./test-trace-some.csv:2: ")
                          && Catch::Contains("beyond devices.count 3"));
}

TEST_CASE(
    "an empty trace cell falls back to devices.<quantity>, then the profile, then the default",
    "[app][devices][trace]")
{
    TraceFile f("test-trace-empty.csv", "device_id,gflops,delay_ms\n0,,5\n1,8,\n2, ,\n");
    const auto d = Resolve(R"({"trace": "test-trace-empty.csv", "gflops": 3,
        "profiles": {"p": {"delay_ms": 40}}, "profile": "p"})");
    REQUIRE(d.size() == 3);
    CHECK(d[0].gflops == 3);
    CHECK(d[0].delayMs == 5);
    CHECK(d[1].gflops == 8);
    CHECK(d[1].delayMs == 40);
    CHECK(d[2].gflops == 3);
    CHECK(d[2].delayMs == 40);
    // The default when nothing else gives the quantity.
    const auto plain = Resolve(R"({"trace": "test-trace-empty.csv"})");
    CHECK(plain[0].gflops == DeviceProfile().gflops);
    // An empty device_id is not a device.
    TraceFile g("test-trace-noid.csv", "device_id,gflops\n,2\n");
    CHECK_THROWS_WITH(Resolve(R"({"trace": "test-trace-noid.csv"})"),
                      Catch::StartsWith("./test-trace-noid.csv:2: device_id: not a number"));
}

TEST_CASE("a trace is read with quoting, comments and blank lines, and bad cells name the line",
          "[app][devices][trace]")
{
    TraceFile f("test-trace-quoted.csv",
                "# measured 2026-01\n\n\"device_id\",\"loss\"\n0,\"0.01\"\n\n1,0.02\n");
    const auto d = Resolve(R"({"trace": "test-trace-quoted.csv"})");
    REQUIRE(d.size() == 2);
    CHECK(d[0].loss == 0.01);
    CHECK(d[1].loss == 0.02);
    TraceFile g("test-trace-bad.csv", "device_id,loss\n0,0.1\n\n1,2\n");
    CHECK_THROWS_WITH(Resolve(R"({"trace": "test-trace-bad.csv"})"),
                      Catch::StartsWith("./test-trace-bad.csv:4: ") && Catch::Contains("loss"));
    TraceFile h("test-trace-open.csv", "device_id,loss\n0,\"0.1\n");
    CHECK_THROWS_WITH(Resolve(R"({"trace": "test-trace-open.csv"})"),
                      Catch::StartsWith("./test-trace-open.csv:2: "));
}

TEST_CASE("choice weights at the ends of double range draw as their ratios say", "[app][devices]")
{
    // Found by the numeric-key property test's extremes: weights [1e308, 1e308] summed to inf
    // and every device drew the last value; weights [5e-324, 0] summed to a denormal that half
    // the draws rounded up to, and those devices got the value of weight 0.
    const auto even = Resolve(R"({"count": 200, "uplink_mbps": {"dist": "choice",
        "values": [1, 2], "weights": [1e308, 1e308]}})");
    size_t ones = 0;
    for (const auto& d : even)
    {
        ones += d.uplinkMbps == 1;
    }
    CHECK(ones > 50);
    CHECK(ones < 150);
    const auto first = Resolve(R"({"count": 200, "uplink_mbps": {"dist": "choice",
        "values": [1, 2], "weights": [5e-324, 0]}})");
    for (const auto& d : first)
    {
        CHECK(d.uplinkMbps == 1);
    }
}
