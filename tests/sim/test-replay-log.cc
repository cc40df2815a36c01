// sim/replay-log.cc reads a finished run's steps.csv through common/csv-reader.h: a bad cell is
// reported at its real line, blank lines included.
#include "common/error.h"
#include "sim/replay-log.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

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

TEST_CASE("fuzz finding: a replayed run's step, device or steps count that is not a whole number "
          "in range is refused at its line",
          "[sim][replay]")
{
    // Seen while writing fuzz/run's replay target, which reproduces it: a nan or 1e300 step
    // count was cast to an integer (undefined behaviour; UBSan: "1e+300 is outside the range of
    // representable values of type 'long'").
    const std::string dir = "test-replay-log-integers";
    std::filesystem::create_directories(dir);
    const std::string header = "device,round,step,batch,loss,batch_accuracy,codec_rel_error\n";
    for (const char* bad : {"nan", "inf", "1e300", "-1", "2.5", "4294967296"})
    {
        INFO(bad);
        std::ofstream(dir + "/steps.csv") << header << "0,0," << bad << ",32,2.3,0.1,0\n";
        std::ofstream(dir + "/eval.csv") << "steps,test_accuracy,test_loss\n1,0.5,1\n";
        CHECK_THROWS_WITH(ReplayLog(dir), Catch::StartsWith("training.replay: " + dir
                                                            + "/steps.csv:2: step: expected an "
                                                              "integer in 0..4294967295, got "));
        if (std::string(bad) == "4294967296")
        {
            continue; // a valid steps count for eval.csv
        }
        std::ofstream(dir + "/steps.csv") << header << "0,0,1,32,2.3,0.1,0\n";
        std::ofstream(dir + "/eval.csv") << "steps,test_accuracy,test_loss\n" << bad << ",0.5,1\n";
        CHECK_THROWS_WITH(ReplayLog(dir),
                          Catch::StartsWith("training.replay: " + dir + "/eval.csv:2: steps: "));
    }
    std::ofstream(dir + "/steps.csv") << header << "1,0,2,32,2.3,0.1,0\n";
    std::ofstream(dir + "/eval.csv") << "steps,test_accuracy,test_loss\n2,0.5,1\n";
    const ReplayLog log(dir);
    CHECK(log.StepOf(1, 0, 2).batch == 32);
    CHECK(log.EvalAfter(2).accuracy == 0.5);
    std::filesystem::remove_all(dir);
}
