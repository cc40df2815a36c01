// Helpers shared by the test executables that run the slsim binary or load scenarios.
#ifndef SLSIM_TESTS_TEST_SUPPORT_H
#define SLSIM_TESTS_TEST_SUPPORT_H

#include "app/fs-util.h"
#include "app/scenario-loader.h"
#include "common/error.h"

#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace slsim::test
{

/// A scratch folder for this test process, removed when the process ends (kept while it runs,
/// for child processes).
inline std::string
TempDir()
{
    static const std::string dir = [] {
        const std::string d = "/tmp/slsim-test-" + std::to_string(::getpid());
        RemoveTree(d);
        MakeDirectories(d);
        return d;
    }();

    static const struct Cleanup
    {
        ~Cleanup()
        {
            RemoveTree(dir);
        }
    } cleanup;

    return dir;
}

struct Result
{
    int rc;
    std::string output; // stdout and stderr together
};

/// Runs a shell command line, capturing its output.
inline Result
Shell(const std::string& cmd)
{
    const std::string log = TempDir() + "/shell.log";
    const int status = std::system((cmd + " > " + log + " 2>&1").c_str());
    return Result{WIFEXITED(status) ? WEXITSTATUS(status) : 128, ReadTextFile(log)};
}

/// The InputError message LoadScenario gives for a scenario document ("" when it loads).
inline std::string
ErrorOf(const Json& doc)
{
    try
    {
        LoadScenario(doc, ".");
    }
    catch (const InputError& e)
    {
        return e.what();
    }
    return "";
}

} // namespace slsim::test

#endif
