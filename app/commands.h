// Subcommands of the slsim executable.
#ifndef SLSIM_APP_COMMANDS_H
#define SLSIM_APP_COMMANDS_H

#include <string>
#include <vector>

namespace slsim
{

/// Runs the subcommand named by args[0]; returns the process exit code. Throws InputError on bad
/// input (main turns it into exit code 2).
int Dispatch(const std::vector<std::string>& args);

/// `slsim run SCENARIO.json --out DIR [--set key.path=value ...]`
int RunCommand(const std::vector<std::string>& args);

/// `slsim validate SCENARIO.json [--set key.path=value ...]`: checks without running.
int ValidateCommand(const std::vector<std::string>& args);

/// `slsim sweep SWEEP.json --out DIR [-j N] [--combine-only]`
int SweepCommand(const std::vector<std::string>& args);

std::string HelpText();

} // namespace slsim

#endif
