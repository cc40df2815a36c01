// RunProgress: the plain lines a non-terminal stderr gets (format, when they come), the in-place
// line a terminal gets, silence when disabled, and that it finds the apps' trace sources.
#include "sim/device-app.h"
#include "sim/progress.h"
#include "sim/server-app.h"

#include "ns3/core-module.h"

#include <catch2/catch.hpp>
#include <regex>
#include <sstream>

using namespace slsim;

namespace
{

ProgressSettings
To(std::ostringstream& out, bool terminal, double intervalS)
{
    ProgressSettings s;
    s.enabled = true;
    s.out = &out;
    s.terminal = terminal;
    s.intervalS = intervalS;
    return s;
}

std::vector<std::string>
Lines(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
    {
        lines.push_back(line);
    }
    return lines;
}

const std::regex LINE(R"(slsim: step \d+/\d+ \(\d+%\) rounds \d+/\d+ sim \d+\.\d{3} s )"
                      R"(acc (-|\d\.\d{4}) wall \d+ s eta (-|\d+ s))");

} // namespace

TEST_CASE("progress: a plain line at each evaluation and after each interval of wall time")
{
    std::ostringstream out;
    {
        RunProgress p(To(out, false, 3600), 40, 2, 0);
        p.OnStep(1, 0.5);
        p.OnStep(20, 10.25);
        CHECK(out.str().empty()); // an hour has not passed
        p.OnRound(1);
        p.OnEvaluation(1, 0.5, 10.5);
        p.OnStep(21, 11);
    }
    auto lines = Lines(out.str());
    REQUIRE(lines.size() == 1);
    CHECK(std::regex_match(lines[0], LINE));
    CHECK(lines[0].find("step 20/40 (50%) rounds 1/2 sim 10.500 s acc 0.5000")
          != std::string::npos);

    std::ostringstream every;
    {
        RunProgress p(To(every, false, 0), 40, 2, 0);
        p.OnStep(1, 0.5);
        p.OnStep(2, 1.0);
        p.OnEvaluation(1, 0.25, 1.0);
    }
    lines = Lines(every.str());
    REQUIRE(lines.size() == 3);
    for (const auto& l : lines)
    {
        CHECK(std::regex_match(l, LINE));
    }
    CHECK(lines[0].find("step 1/40 (2%) rounds 0/2 sim 0.500 s acc - ") != std::string::npos);
    CHECK(lines[2].find("acc 0.2500") != std::string::npos);
}

TEST_CASE("progress: a time budget counts towards the fraction done")
{
    std::ostringstream out;
    RunProgress p(To(out, false, 0), 0, 3, 20);
    p.OnStep(5, 10);
    const std::string line = p.Line();
    CHECK(line.rfind("slsim: step 5 rounds 0/3 sim 10.000 s acc - wall ", 0) == 0);
    CHECK(line.find("eta -") == std::string::npos); // half the budget is spent: an ETA exists
}

TEST_CASE("progress: a terminal gets one line rewritten in place, ended at the end")
{
    std::ostringstream out;
    {
        RunProgress p(To(out, true, 10), 4, 1, 0);
        p.OnStep(1, 1);
        p.OnEvaluation(1, 0.75, 1);
    }
    const std::string s = out.str();
    CHECK(s.front() == '\r');
    CHECK(s.back() == '\n');
    CHECK(std::count(s.begin(), s.end(), '\n') == 1);
    CHECK(std::count(s.begin(), s.end(), '\r') == 3); // first step, evaluation, final redraw
}

TEST_CASE("progress: disabled (--quiet) prints nothing")
{
    std::ostringstream out;
    ProgressSettings s = To(out, false, 0);
    s.enabled = false;
    {
        RunProgress p(s, 4, 1, 0);
        p.OnStep(1, 1);
        p.OnEvaluation(1, 0.75, 1);
    }
    CHECK(out.str().empty());
    CHECK_FALSE(ProgressReporting().enabled); // library users are silent unless app/ says so
}

TEST_CASE("progress: connects to the apps' trace sources")
{
    std::ostringstream out;
    RunProgress p(To(out, false, 10), 4, 1, 0);
    CHECK_NOTHROW(p.Watch(ns3::CreateObject<DeviceApp>()));
    CHECK_NOTHROW(p.Watch(ns3::CreateObject<ServerApp>()));
}
