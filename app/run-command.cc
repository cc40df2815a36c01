#include "app/commands.h"

#include "common/error.h"

namespace slsim
{

int
RunCommand(const std::vector<std::string>&)
{
    throw InputError("run: not built yet");
}

} // namespace slsim
