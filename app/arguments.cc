#include "app/arguments.h"

#include "common/error.h"

namespace po = boost::program_options;

namespace slsim
{

Arguments::Arguments(std::string command)
    : m_command(std::move(command))
{
}

Arguments&
Arguments::Value(const char* name, std::string& out)
{
    m_options.add_options()(name, po::value<std::string>(&out));
    return *this;
}

Arguments&
Arguments::Count(const char* name, int& out)
{
    std::string text = name;
    m_counts.push_back({text.substr(0, text.find(',')), &out});
    m_options.add_options()(name, po::value<std::string>());
    return *this;
}

Arguments&
Arguments::List(const char* name, std::vector<std::string>& out)
{
    m_options.add_options()(name, po::value<std::vector<std::string>>(&out)->composing());
    return *this;
}

Arguments&
Arguments::Flag(const char* name, bool& out)
{
    m_options.add_options()(name, po::bool_switch(&out));
    return *this;
}

Arguments&
Arguments::Positional(const char* name, std::string& out)
{
    m_positionalName = name;
    m_positional = &out;
    return *this;
}

void
Arguments::Parse(const std::vector<std::string>& args)
{
    po::options_description all = m_options;
    std::vector<std::string> positional;
    all.add_options()("positional-words", po::value<std::vector<std::string>>(&positional));
    po::positional_options_description pos;
    pos.add("positional-words", -1);
    // Unix style without guessing: --ou is not --out, and -j4 is -j 4.
    const int style = po::command_line_style::unix_style & ~po::command_line_style::allow_guessing;
    po::variables_map vm;
    try
    {
        po::store(po::command_line_parser(args).options(all).positional(pos).style(style).run(),
                  vm);
        po::notify(vm);
    }
    catch (const po::unknown_option& e)
    {
        throw InputError(m_command + ": unknown option " + e.get_option_name() + " (see slsim "
                         + m_command + " --help)");
    }
    catch (const po::invalid_command_line_syntax& e)
    {
        if (e.kind() == po::invalid_syntax::missing_parameter)
        {
            throw InputError(m_command + ": " + e.get_option_name() + " needs a value");
        }
        throw InputError(m_command + ": " + e.what());
    }
    catch (const po::error& e)
    {
        throw InputError(m_command + ": " + e.what());
    }
    for (const CountTarget& c : m_counts)
    {
        if (!vm.count(c.name))
        {
            continue;
        }
        const std::string v = vm[c.name].as<std::string>();
        if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos
            || std::stoi(v) < 1)
        {
            throw InputError(m_command + ": -" + (c.name == "jobs" ? "j" : "-" + c.name)
                             + " must be a positive integer, got \"" + v + "\"");
        }
        *c.out = std::stoi(v);
    }
    if (m_positional)
    {
        if (positional.size() > 1)
        {
            throw InputError(m_command + ": unexpected argument " + positional[1]);
        }
        if (positional.empty())
        {
            throw InputError(m_command + ": missing " + m_positionalName);
        }
        *m_positional = positional[0];
    }
    else if (!positional.empty())
    {
        throw InputError(m_command + ": unexpected argument " + positional[0]);
    }
}

} // namespace slsim
