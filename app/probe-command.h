// `slsim probe SCENARIO.json --out DIR [...]`: codec error vs budget and gradient bias per codec on
// the scenario's real cut-layer feature maps (app/probe.h).
#ifndef SLSIM_APP_PROBE_COMMAND_H
#define SLSIM_APP_PROBE_COMMAND_H

#include <string>
#include <vector>

namespace slsim
{

/// Usage text of `slsim probe` (also part of `slsim --help`).
extern const char* PROBE_USAGE;

/// Runs `slsim probe`; returns the exit code. Throws InputError on bad input (exit 2).
int ProbeCommand(const std::vector<std::string>& args);

} // namespace slsim

#endif
