#include "common/error.h"

#include <cstdio>
#include <cstdlib>

namespace slsim
{

void
AssertFailed(const char* expr, const char* file, int line, const char* message)
{
    std::fprintf(stderr, "slsim: internal error: assertion `%s` failed at %s:%d %s\n", expr, file,
                 line, message);
    std::abort();
}

} // namespace slsim
