// scripts/fetch-data's argument handling, offline: --for-scenario with synthetic data fetches
// nothing, unknown datasets and arguments fail with exit code 2 and a message.
#include "data-fixtures.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <sstream>
#include <sys/wait.h>

using namespace slsim::test;

namespace
{

/// Runs scripts/fetch-data with `args` (data dir redirected to an empty scratch folder); returns
/// the exit code and fills `output` with stdout+stderr.
int
RunFetch(const ScratchDir& dir, const std::string& args, std::string& output)
{
    const std::string log = dir.File("log");
    const std::string cmd = "SLSIM_DATA_DIR='" + dir.File("data") + "' '" + SLSIM_SOURCE_DIR
                            + "/scripts/fetch-data' " + args + " >'" + log + "' 2>&1";
    const int status = std::system(cmd.c_str());
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    output = ss.str();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void
WriteText(const std::string& path, const std::string& text)
{
    WriteBytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

} // namespace

TEST_CASE("fetch-data --for-scenario reads dataset.name and needs nothing for synthetic",
          "[data][fetch]")
{
    ScratchDir dir("fetch");
    std::string out;
    WriteText(dir.File("syn.json"),
              R"({"name": "x", "dataset": {"name": "synthetic", "synthetic_train": 100}})");
    CHECK(RunFetch(dir, "--for-scenario '" + dir.File("syn.json") + "'", out) == 0);
    CHECK(out.find("synthetic needs no files") != std::string::npos);

    WriteText(dir.File("none.json"), R"({"network": {"name": "star"}})");
    CHECK(RunFetch(dir, "--for-scenario '" + dir.File("none.json") + "'", out) == 0);
    CHECK(out.find("synthetic needs no files") != std::string::npos);

    WriteText(dir.File("c100.json"), R"({"dataset": {"name": "cifar100"}})");
    CHECK(RunFetch(dir, "--for-scenario '" + dir.File("c100.json") + "'", out) == 2);
    CHECK(out.find("cifar100") != std::string::npos);

    WriteText(dir.File("broken.json"), R"({"dataset": )");
    CHECK(RunFetch(dir, "--for-scenario '" + dir.File("broken.json") + "'", out) == 2);
    CHECK(out.find("broken.json") != std::string::npos);

    CHECK(RunFetch(dir, "--for-scenario '" + dir.File("absent.json") + "'", out) == 2);
    CHECK(out.find("absent.json") != std::string::npos);

    CHECK(RunFetch(dir, "imagenet", out) == 2);
    CHECK(out.find("unknown argument 'imagenet'") != std::string::npos);
    CHECK(!std::filesystem::exists(dir.File("data")));
}
