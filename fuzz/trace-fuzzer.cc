// libFuzzer target: a device trace (devices.trace, CSV) resolved into device profiles, with and
// without devices.count (the first input byte chooses; the rest is the file).
#include "app/device-resolver.h"
#include "fuzz/fuzz-file.h"

#include <cstdint>

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0)
    {
        return 0;
    }
    const std::string path = slsim::WriteFuzzFile("trace.csv", data + 1, size - 1);
    const std::string devices = data[0] % 2 ? R"({"trace": "trace.csv", "count": 4})"
                                            : R"({"trace": "trace.csv", "uplink_mbps": 5})";
    slsim::ExpectInputErrorOnly([&] {
        slsim::ResolveDevices(slsim::ParseJsonText(devices, "devices"), "devices", 1,
                              slsim::FuzzDir());
    });
    return 0;
}
