// One argument parser for every subcommand, on Boost.Program_options. A subcommand declares its
// options (a value, a repeatable value, a flag, the positional file) and parses its words; every
// mistake is one InputError "CMD: ..." (exit 2): "run: unknown option --bogus (see slsim
// --help)", "sweep: --out needs a value". `--help` is answered by Dispatch before parsing.
//
//   ScenarioArgs a;
//   Arguments p("run");
//   p.Positional("SCENARIO.json", a.scenario).Value("out", a.out).List("set", a.overrides)
//    .Flag("quiet,q", a.quiet);
//   p.Parse(words);   // "s.json --out=d --set a=1 -q" or "--out d s.json"
#ifndef SLSIM_APP_ARGUMENTS_H
#define SLSIM_APP_ARGUMENTS_H

#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace slsim
{

class Arguments
{
  public:
    explicit Arguments(std::string command);

    /// `--name VALUE` or `--name=VALUE` ("name,n" adds -n VALUE and -nVALUE); the last wins.
    Arguments& Value(const char* name, std::string& out);
    /// A positive integer option (-j 4, -j4, --jobs=4).
    Arguments& Count(const char* name, int& out);
    /// A repeatable option (--set a=1 --set b=2), in order.
    Arguments& List(const char* name, std::vector<std::string>& out);
    /// A switch without a value.
    Arguments& Flag(const char* name, bool& out);
    /// The one positional word (named in "missing NAME").
    Arguments& Positional(const char* name, std::string& out);

    /// Parses the words after the subcommand; throws InputError naming the command.
    void Parse(const std::vector<std::string>& args);

  private:
    std::string m_command;
    boost::program_options::options_description m_options;
    std::string m_positionalName;
    std::string* m_positional = nullptr;

    struct CountTarget
    {
        std::string name;
        int* out;
    };

    std::vector<CountTarget> m_counts;
};

} // namespace slsim

#endif
