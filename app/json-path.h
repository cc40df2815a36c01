// The `--set` path language: "devices.list[2].delay_ms=80" sets one value of a JSON document.
// Used by `slsim run/validate/probe --set` and by sweeps (grid axes, "set").
#ifndef SLSIM_APP_JSON_PATH_H
#define SLSIM_APP_JSON_PATH_H

#include "app/json-reader.h"

#include <string>

namespace slsim
{

/// Applies one `--set key.path=value` override to a JSON document. The path is dot-separated
/// object keys with optional [index] for arrays ("devices.list[2].delay_ms", "codec.uplink.bits");
/// missing objects on the way are created. The value is parsed as JSON, and taken as a string
/// when it is not valid JSON ("method=ms" sets the string "ms"). Throws InputError naming the
/// override when the path cannot be followed (e.g. indexing into a number).
void ApplyOverride(Json& doc, const std::string& assignment);

/// Sets `path` (same syntax as ApplyOverride) to `value`.
void SetPath(Json& doc, const std::string& path, const Json& value);

} // namespace slsim

#endif
