// Devices of a scenario -> one DeviceProfile per device.
//
// The "devices" object gives each per-device quantity (uplink_mbps, downlink_mbps, delay_ms, loss,
// gflops, and the energy profile: compute_w or joules_per_gflop, radio_tx_w, radio_rx_w,
// radio_idle_w, battery_j or battery_wh; wifi_distance_m) as a constant, a distribution drawn with
// the run's seed, a named profile (itself of constants or distributions) chosen per device, a CSV
// trace, or an explicit list. For device i and a quantity, the value comes from the first of: its
// trace row or list entry; the "devices" object's own entry for the quantity; the device's profile;
// DeviceProfile's default (a trace without a row for device i, or with an empty cell, gives nothing
// there). Draws use Rng(seed, "devices", i): the profile choice first, then the quantities in the
// order above, so device i's values do not depend on how many devices there are. The device's
// `access` ("wired", "wifi" or "lte", a string: no distributions; a draw goes through profiles)
// comes from its list entry, devices.access or its profile, in that order.
#ifndef SLSIM_APP_DEVICE_RESOLVER_H
#define SLSIM_APP_DEVICE_RESOLVER_H

#include "app/json-reader.h"
#include "sim/network-config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace slsim
{

/// Resolves the "devices" object at JSON path `path`. `baseDir` resolves a relative trace path.
/// Throws InputError naming the JSON path (or the trace file and line).
std::vector<DeviceProfile> ResolveDevices(const Json& devices, const std::string& path,
                                          uint64_t seed, const std::string& baseDir);

/// One device as a JSON object of its quantities.
Json DeviceToJson(const DeviceProfile& d);

/// The JSON Schema of the "devices" object (quantities, distributions, profiles, trace, list).
Json DevicesSchema();

/// The key table of the per-device quantities (markdown) for scenarios/README.md.
void DevicesMarkdown(const std::string& path, std::string& md);

} // namespace slsim

#endif
