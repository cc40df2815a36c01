// slsim: split-learning network simulator. Subcommands are dispatched here; every error from
// untrusted input (JSON, flags, files, bytes) ends as exit code 2 with a one-line message.
#include "app/commands.h"
#include "common/error.h"

#include <exception>
#include <iostream>
#include <string>
#include <vector>

int
main(int argc, char** argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    try
    {
        return slsim::Dispatch(args);
    }
    catch (const slsim::InputError& e)
    {
        std::cerr << "slsim: " << e.what() << "\n";
        return 2;
    }
    catch (const std::exception& e)
    {
        std::cerr << "slsim: error: " << e.what() << "\n";
        return 1;
    }
}
