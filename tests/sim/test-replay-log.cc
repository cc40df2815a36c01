// sim/replay-log.cc reads a finished run's steps.csv through common/csv-reader.h: a bad cell is
// reported at its real line, blank lines included.
#include "common/error.h"
#include "sim/replay-log.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace slsim;

TEST_CASE("a replayed run's bad cell is reported at its file and line", "[sim][replay]")
{
    const std::string dir = "test-replay-log-run";
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/steps.csv")
        << "device,round,step,batch,loss,batch_accuracy,codec_rel_error\n"
           "0,0,1,32,2.3,0.1,nan\n\n0,0,2,32,x,0.1,0\n";
    CHECK_THROWS_WITH(ReplayLog(dir),
                      Catch::StartsWith("training.replay: " + dir + "/steps.csv:4: loss"));
    std::filesystem::remove_all(dir);
}
