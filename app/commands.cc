#include "app/commands.h"

#include "common/error.h"

#include <algorithm>
#include <iostream>
#include <vector>

#if __has_include("app/codec-command.h")
#include "app/codec-command.h"
#define SLSIM_HAVE_CODEC_COMMAND 1
#endif
#include "app/probe-command.h"
#include "app/scenario-keys.h"

namespace slsim
{

namespace
{

/// One subcommand: its name, usage lines and what it does (shown by `slsim CMD --help` and,
/// together, by `slsim --help`).
struct Subcommand
{
    const char* name;
    std::string usage;
};

const std::vector<Subcommand>&
Subcommands()
{
    static const std::vector<Subcommand> list{
        {"run", "  slsim run SCENARIO.json --out DIR [--set key.path=value ...] [--quiet]\n"
                "      run one scenario; writes steps.csv, eval.csv, summary.csv, events.csv,\n"
                "      devices.csv and manifest.json (the fully resolved scenario) to DIR;\n"
                "      progress on stderr (--quiet: none)\n"
                "      run state (sim/run-state.h; wired networks without time-dependent inputs):\n"
                "      --state-every N: write DIR.run-state (or --run-state FILE) every N rounds;\n"
                "      --resume: continue from it if it exists (exit 2 if of another scenario);\n"
                "      --stop-at-round K, --stop-after-wall-s S: write it at a round start and\n"
                "      stop with exit 3, no results; a completed run removes it\n"},
        {"validate", "  slsim validate SCENARIO.json|SWEEP.json [--set key.path=value ...]\n"
                     "      check a scenario (or every point of a sweep) without running anything\n"
                     "      (exit 2 and one line naming the file and the JSON path)\n"},
        {"sweep",
         "  slsim sweep SWEEP.json --out DIR [-j N] [--set key.path=value ...] [--combine-only]\n"
         "      run a grid of scenarios, N at a time; re-running resumes; DIR/sweep.csv combines\n"
         "      them. Under mpirun -np K, rank r runs the points i with i % K == r.\n"},
        {"codec",
         "  slsim codec --method ms --sparsity 0.99 --bits 2 --in x.npy --out y.npy [--wire "
         "w.bin]\n"
         "      compress one float32 .npy tensor and report size and error as one JSON line\n"
         "      (all options: slsim codec --help)\n"},
        {"probe", PROBE_USAGE},
        {"schema",
         "  slsim schema [--markdown]\n"
         "      print the scenario JSON Schema (scenarios/scenario.schema.json), or the key\n"
         "      tables of scenarios/README.md, both derived from the key tables in the code\n"},
    };
    return list;
}

} // namespace

std::string
HelpText()
{
    std::string text = "slsim " SLSIM_VERSION " - split-learning network simulator (ns-3)\n"
                       "\n"
                       "usage:\n";
    for (const Subcommand& c : Subcommands())
    {
        text += c.usage;
    }
    return text
           + "  slsim --help | --version | CMD --help\n"
             "\n"
             "Exit codes: 0 success, 2 bad input (scenario, flags, files), 1 internal error or "
             "failed\n"
             "sweep points.\n";
}

int
Dispatch(const std::vector<std::string>& args)
{
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help")
    {
        std::cout << HelpText();
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version")
    {
        std::cout << "slsim " SLSIM_VERSION "\n";
        return 0;
    }
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    // `slsim CMD --help` (anywhere among CMD's words): its usage on stdout, exit 0. The codec
    // command prints its own, longer list of options.
    const bool help = std::find_if(rest.begin(), rest.end(),
                                   [](const std::string& a) { return a == "--help" || a == "-h"; })
                      != rest.end();
    for (const Subcommand& c : Subcommands())
    {
        if (help && args[0] == c.name && args[0] != "codec")
        {
            std::cout << "usage:\n" << c.usage;
            return 0;
        }
    }
    if (args[0] == "run")
    {
        return RunCommand(rest);
    }
    if (args[0] == "validate")
    {
        return ValidateCommand(rest);
    }
    if (args[0] == "sweep")
    {
        return SweepCommand(rest);
    }
#ifdef SLSIM_HAVE_CODEC_COMMAND
    if (args[0] == "codec")
    {
        return RunCodecCommand(rest);
    }
#endif
    if (args[0] == "schema")
    {
        if (rest.size() > 1 || (rest.size() == 1 && rest[0] != "--markdown"))
        {
            throw InputError("schema: usage: slsim schema [--markdown]");
        }
        if (rest.empty())
        {
            std::cout << ScenarioSchema().dump(2) << "\n";
        }
        else
        {
            std::cout << ScenarioMarkdown();
        }
        return 0;
    }
    if (args[0] == "probe")
    {
        return ProbeCommand(rest);
    }
    throw InputError("unknown command '" + args[0] + "' (see slsim --help)");
}

} // namespace slsim
