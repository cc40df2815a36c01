// Tests of the slsim binary: malformed scenarios, determinism, sweeps (resume after SIGKILL,
// MPI-style sharing). They run SLSIM_BINARY_DIR/slsim as a child process.
#include "app/fs-util.h"
#include "tests/sim/run-output.h"
#include "tests/test-support.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace slsim;
using namespace slsim::test;

namespace
{

const std::string SLSIM = SLSIM_BINARY_DIR "/slsim";
const std::string SRC = SLSIM_SOURCE_DIR;
const std::string TESTS = SRC + "/tests/app";

size_t
Lines(const std::string& s)
{
    size_t n = 0;
    for (char ch : s)
    {
        n += ch == '\n';
    }
    return n + (!s.empty() && s.back() != '\n');
}

/// A CSV file's text without the columns whose name contains "wall" (wall-clock times).
std::string
WithoutWallColumns(const std::string& file)
{
    std::ifstream in(file);
    REQUIRE(in);
    std::string line, out;
    std::vector<bool> keep;
    while (std::getline(in, line))
    {
        std::vector<std::string> cells;
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, ','))
        {
            cells.push_back(cell);
        }
        if (keep.empty())
        {
            for (const auto& c : cells)
            {
                keep.push_back(c.find("wall") == std::string::npos);
            }
        }
        for (size_t i = 0; i < cells.size(); ++i)
        {
            if (i >= keep.size() || keep[i])
            {
                out += cells[i] + ",";
            }
        }
        out += "\n";
    }
    return out;
}

} // namespace

TEST_CASE("every malformed scenario gives exit 2 and one line naming the JSON path", "[app][cli]")
{
    std::ifstream table(TESTS + "/bad-scenarios/expected.tsv");
    REQUIRE(table);
    std::string line;
    int cases = 0;
    std::set<std::string> paths;
    const std::string parent = TempDir() + "/refused-corpus";
    const std::string out = parent + "/out";
    RemoveTree(parent);
    MakeDirectories(parent);
    while (std::getline(table, line))
    {
        if (line.empty() || line[0] == '#')
        {
            continue;
        }
        const size_t tab = line.find('\t');
        REQUIRE(tab != std::string::npos);
        const std::string file = TESTS + "/bad-scenarios/" + line.substr(0, tab);
        const std::string expected = line.substr(tab + 1);
        INFO(file);
        // From tests/app: the data-* cases name their dataset folders relative to it.
        const Result r = Shell("cd " + TESTS + " && " + SLSIM + " validate " + file);
        CHECK(r.rc == 2);
        CHECK(Lines(r.output) == 1);
        CHECK(r.output.find(expected) != std::string::npos);
        CHECK(r.output.find(file) != std::string::npos); // names the file too
        // `run` refuses it the same way and writes nothing, not even a temporary.
        const Result run = Shell("cd " + TESTS + " && " + SLSIM + " run " + file + " --out " + out);
        CHECK(run.rc == 2);
        CHECK(ListDirectory(parent).empty());
        paths.insert(expected.substr(0, expected.find(':')));
        ++cases;
    }
    CHECK(cases >= 25);
    CHECK(paths.size() >= 25); // different mistakes, not one mistake many times
}

TEST_CASE("run refuses bad input before writing anything", "[app][cli]")
{
    const std::string out = TempDir() + "/refused";
    Result r = Shell(SLSIM + " run " + TESTS + "/bad-scenarios/ms-bits-12.json --out " + out);
    CHECK(r.rc == 2);
    CHECK(r.output.find("codec.uplink.bits") != std::string::npos);
    CHECK(!PathExists(out));
    r = Shell(SLSIM + " run " + TESTS + "/no-such-file.json --out " + out);
    CHECK(r.rc == 2);
    CHECK(r.output.find("no-such-file.json: cannot open") != std::string::npos);
    r = Shell(SLSIM + " run " + TESTS + "/tiny-scenario.json --out " + out
              + " --set codec.uplink.bits=12");
    CHECK(r.rc == 2);
    CHECK(r.output.find("codec.uplink.bits: ") != std::string::npos);
    r = Shell(SLSIM + " validate " + TESTS + "/tiny-scenario.json --set devices.count.x=1");
    CHECK(r.rc == 2);
    CHECK(Lines(r.output) == 1);
    r = Shell(SLSIM + " validate " + TESTS + "/tiny-scenario.json --set codec.uplink.method=topk");
    CHECK(r.rc == 0);
    r = Shell(SLSIM + " frobnicate");
    CHECK(r.rc == 2);
    CHECK(!PathExists(out));
}

TEST_CASE("the memory estimate is printed by validate and checked before a run", "[app][cli]")
{
    const std::string tiny = TESTS + "/tiny-scenario.json";
    Result r = Shell("SLSIM_MEMORY_AVAILABLE_MB=100000 " + SLSIM + " validate " + tiny);
    CHECK(r.rc == 0);
    CHECK(r.output.find(": memory: estimated ") != std::string::npos);
    CHECK(r.output.find("of 100 GB available (SLSIM_MEMORY_AVAILABLE_MB)") != std::string::npos);
    // The tiny run needs tens of MB: refused with 1 MB available, before anything is written.
    const std::string out = TempDir() + "/memory-refused";
    RemoveTree(out);
    r = Shell("SLSIM_MEMORY_AVAILABLE_MB=1 " + SLSIM + " run " + tiny + " --out " + out);
    CHECK(r.rc == 2);
    CHECK(Lines(r.output) == 1);
    CHECK(r.output.find("tiny-scenario.json: memory: the run needs an estimated ")
          != std::string::npos);
    CHECK(r.output.find("more than the 1 MB available (SLSIM_MEMORY_AVAILABLE_MB")
          != std::string::npos);
    CHECK(!PathExists(out));
    // 1,000 devices of the tiny scenario fit in 1 GB, not in 100 MB.
    const std::string many = " --set devices.count=1000 --set dataset.synthetic.train=2000";
    CHECK(Shell("SLSIM_MEMORY_AVAILABLE_MB=1000 " + SLSIM + " validate " + tiny + many).rc == 0);
    CHECK(Shell("SLSIM_MEMORY_AVAILABLE_MB=100 " + SLSIM + " validate " + tiny + many).rc == 2);
    r = Shell("SLSIM_MEMORY_AVAILABLE_MB=lots " + SLSIM + " validate " + tiny);
    CHECK(r.rc == 2);
    CHECK(r.output.find("SLSIM_MEMORY_AVAILABLE_MB: expected a positive number of MB, got 'lots'")
          != std::string::npos);
}

TEST_CASE("the same seed gives byte-identical CSV and the manifest holds the resolved scenario",
          "[app][cli]")
{
    const std::string a = TempDir() + "/det-a", b = TempDir() + "/det-b";
    REQUIRE(Shell(SLSIM + " run " + TESTS + "/tiny-scenario.json --out " + a).rc == 0);
    REQUIRE(Shell(SLSIM + " run " + TESTS + "/tiny-scenario.json --out " + b).rc == 0);
    for (const char* f : {"steps.csv", "eval.csv", "summary.csv", "events.csv"})
    {
        INFO(f);
        CHECK(WithoutWallColumns(a + "/" + f) == WithoutWallColumns(b + "/" + f));
    }
    CHECK(WithoutWallColumns(a + "/steps.csv").size() > 100);
    const std::string manifest = ReadTextFile(a + "/manifest.json");
    CHECK(manifest.find("\"slsim_version\"") != std::string::npos);
    CHECK(manifest.find("\"label_histograms\"") != std::string::npos);
    CHECK(manifest.find("\"list\"") != std::string::npos); // devices resolved one by one
    // The resolved scenario in the manifest is itself a valid scenario.
    const Result r
        = Shell("/usr/bin/python3 -c \"import json,sys; json.dump(json.load(open('" + a
                + "/manifest.json'))['scenario'], open('" + a + "/resolved.json','w'))\" && "
                + SLSIM + " validate " + a + "/resolved.json");
    CHECK(r.rc == 0);
    // Another seed gives other numbers.
    const std::string c = TempDir() + "/det-c";
    REQUIRE(Shell(SLSIM + " run " + TESTS + "/tiny-scenario.json --out " + c + " --set seed=4").rc
            == 0);
    CHECK(WithoutWallColumns(a + "/steps.csv") != WithoutWallColumns(c + "/steps.csv"));
}

TEST_CASE("run --stop-at-round and --resume continue a run; a state of another scenario exits 2",
          "[app][cli][run-state]")
{
    const std::string scenario = SLSIM + " run " + TESTS + "/tiny-scenario.json";
    const std::string sets = " --set schedule.kind=sequential --set training.epochs=3";
    const std::string whole = TempDir() + "/state-whole", parts = TempDir() + "/state-parts";
    REQUIRE(Shell(scenario + sets + " --out " + whole).rc == 0);
    // Stopped at the start of round 2: exit 3, no results, the state beside the folder.
    Result r = Shell(scenario + sets + " --out " + parts + " --state-every 1 --stop-at-round 2");
    REQUIRE(r.rc == 3);
    CHECK(r.output.find("stopped at the start of round 2") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(parts));
    REQUIRE(std::filesystem::exists(parts + ".run-state"));
    // Another scenario: exit 2, one line naming the state and the first difference.
    r = Shell(scenario + sets + " --set optimizer.lr=0.2 --out " + parts + " --resume --quiet");
    CHECK(r.rc == 2);
    CHECK(Lines(r.output) == 1);
    CHECK(r.output.find(parts + ".run-state: run state of another scenario") != std::string::npos);
    CHECK(r.output.find("/optimizer/lr") != std::string::npos);
    // Another thread count is the same scenario; the completed run removes the state.
    r = Shell(scenario + sets + " --set model.threads=2 --out " + parts + " --resume --quiet");
    REQUIRE(r.rc == 0);
    CHECK_FALSE(std::filesystem::exists(parts + ".run-state"));
    CHECK(ReadTextFile(parts + "/manifest.json").find("\"resumed_from_round\": 2")
          != std::string::npos);
    for (const char* f : {"eval.csv", "steps.csv"})
    {
        INFO(f);
        const auto a = ReadCsv(whole + "/" + f), b = ReadCsv(parts + "/" + f);
        REQUIRE(a.size() == b.size());
        for (size_t i = 0; i < a.size(); ++i)
        {
            for (const char* column : {"test_accuracy", "test_loss", "loss", "steps", "step"})
            {
                CHECK((a[i].count(column) ? a[i].at(column) : "")
                      == (b[i].count(column) ? b[i].at(column) : ""));
            }
        }
    }
}

TEST_CASE("a sweep killed with SIGKILL and re-run equals an uninterrupted one", "[app][sweep]")
{
    const std::string sweep = TESTS + "/tiny-sweep.json";
    const std::string whole = TempDir() + "/sweep-whole", cut = TempDir() + "/sweep-cut";
    REQUIRE(Shell(SLSIM + " sweep " + sweep + " --out " + whole + " -j 2").rc == 0);
    const std::string expected = WithoutWallColumns(whole + "/sweep.csv");
    CHECK(Lines(expected) == 9); // header + 8 points
    // Each point's manifest names its scenario where it stays (not the temporary run folder).
    for (const std::string& id : ListDirectory(whole + "/points"))
    {
        const std::string manifest = ReadTextFile(whole + "/points/" + id + "/manifest.json");
        const std::string file = whole + "/points/" + id + "/scenario.json";
        CHECK(manifest.find("\"scenario_file\": \"" + file + "\"") != std::string::npos);
        CHECK(PathExists(file));
    }

    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
    {
        const std::string log = TempDir() + "/sweep-cut.log";
        REQUIRE(std::freopen(log.c_str(), "w", stderr) != nullptr);
        ::execl(SLSIM.c_str(), SLSIM.c_str(), "sweep", sweep.c_str(), "--out", cut.c_str(), "-j",
                "2", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Kill it once the first point is complete (or after 20 s at the latest).
    const auto start = std::chrono::steady_clock::now();
    while (ListDirectory(cut + "/points").empty()
           && std::chrono::steady_clock::now() - start < std::chrono::seconds(20))
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    const size_t doneAtKill = ListDirectory(cut + "/points").size();
    INFO("points complete when killed: " << doneAtKill);
    CHECK(doneAtKill >= 1);
    CHECK(!PathExists(cut + "/sweep.csv"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100)); // runners die with the sweep

    const Result r = Shell(SLSIM + " sweep " + sweep + " --out " + cut + " -j 2");
    REQUIRE(r.rc == 0);
    CHECK(WithoutWallColumns(cut + "/sweep.csv") == expected);
    CHECK(ListDirectory(cut + "/points").size() == 8);
    for (const auto& name : ListDirectory(cut))
    {
        CHECK(name.rfind(".tmp-", 0) != 0); // no leftovers
    }
    // A third run has nothing to do and changes nothing.
    const Result again = Shell(SLSIM + " sweep " + sweep + " --out " + cut);
    CHECK(again.rc == 0);
    CHECK(again.output.find("8 already complete, running 0") != std::string::npos);
    CHECK(WithoutWallColumns(cut + "/sweep.csv") == expected);
}

namespace
{

/// Whether a run folder is complete: a manifest and every CSV a run writes, nothing else.
bool
RunFolderComplete(const std::string& dir)
{
    const std::vector<std::string> expected
        = {"devices.csv", "eval.csv", "events.csv", "manifest.json", "steps.csv", "summary.csv"};
    return ListDirectory(dir) == expected;
}

} // namespace

TEST_CASE("a run killed with SIGKILL leaves --out absent or complete", "[app][cli]")
{
    // About two seconds of training, killed at several moments, first into a new folder, then
    // over a complete one (which must survive whole until the new run completes).
    const std::string scenario = TESTS + "/tiny-scenario.json";
    const std::string parent = TempDir() + "/run-kill";
    const std::string out = parent + "/out";
    RemoveTree(parent);
    MakeDirectories(parent);
    const auto runAndKill = [&](int ms) {
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0)
        {
            ::execl(SLSIM.c_str(), SLSIM.c_str(), "run", scenario.c_str(), "--out", out.c_str(),
                    "-q", "--set", "training.epochs=200", "--set", "dataset.synthetic.train=960",
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        return WIFSIGNALED(status);
    };
    bool sawAbsent = false;
    for (const int ms : {0, 30, 150, 600, 1200})
    {
        INFO("killed after " << ms << " ms");
        runAndKill(ms);
        CHECK((!PathExists(out) || RunFolderComplete(out)));
        sawAbsent = sawAbsent || !PathExists(out);
        for (const auto& name : ListDirectory(parent))
        {
            CHECK((name == "out" || name.rfind(".out.tmp-", 0) == 0)); // no other leftovers
        }
    }
    CHECK(sawAbsent);

    REQUIRE(Shell(SLSIM + " run " + scenario + " --out " + out + " -q").rc == 0);
    REQUIRE(RunFolderComplete(out));
    CHECK(ListDirectory(parent) == std::vector<std::string>{"out"}); // temporaries cleaned
    const std::string manifest = ReadTextFile(out + "/manifest.json");
    for (const int ms : {0, 30, 150, 600})
    {
        INFO("killed after " << ms << " ms over a complete folder");
        if (runAndKill(ms))
        {
            REQUIRE(RunFolderComplete(out));
            CHECK(ReadTextFile(out + "/manifest.json") == manifest); // the previous run, whole
        }
    }
    // A run that completes replaces the folder.
    REQUIRE(Shell(SLSIM + " run " + scenario + " --out " + out + " -q --set seed=4").rc == 0);
    CHECK(RunFolderComplete(out));
    CHECK(ReadTextFile(out + "/manifest.json") != manifest);
    CHECK(ListDirectory(parent) == std::vector<std::string>{"out"});
}

TEST_CASE("MPI ranks share the points and the last one writes the same sweep.csv", "[app][sweep]")
{
    const std::string sweep = TESTS + "/tiny-sweep.json";
    const std::string whole = TempDir() + "/mpi-whole", shared = TempDir() + "/mpi-shared";
    REQUIRE(Shell(SLSIM + " sweep " + sweep + " --out " + whole).rc == 0);
    Result r = Shell("OMPI_COMM_WORLD_RANK=1 OMPI_COMM_WORLD_SIZE=3 " + SLSIM + " sweep " + sweep
                     + " --out " + shared);
    REQUIRE(r.rc == 0);
    CHECK(ListDirectory(shared + "/points").size() == 3); // points 1, 4, 7
    CHECK(!PathExists(shared + "/sweep.csv"));
    // --combine-only on a partial sweep: the rows that exist, and a non-zero exit.
    r = Shell(SLSIM + " sweep " + sweep + " --out " + shared + " --combine-only");
    CHECK(r.rc == 1);
    CHECK(Lines(ReadTextFile(shared + "/sweep.csv")) == 4);
    RemoveFileIfExists(shared + "/sweep.csv");
    REQUIRE(Shell("OMPI_COMM_WORLD_RANK=0 OMPI_COMM_WORLD_SIZE=3 " + SLSIM + " sweep " + sweep
                  + " --out " + shared)
                .rc
            == 0);
    CHECK(!PathExists(shared + "/sweep.csv"));
    REQUIRE(Shell("OMPI_COMM_WORLD_RANK=2 OMPI_COMM_WORLD_SIZE=3 " + SLSIM + " sweep " + sweep
                  + " --out " + shared)
                .rc
            == 0);
    CHECK(WithoutWallColumns(shared + "/sweep.csv") == WithoutWallColumns(whole + "/sweep.csv"));
    r = Shell("OMPI_COMM_WORLD_RANK=5 OMPI_COMM_WORLD_SIZE=3 " + SLSIM + " sweep " + sweep
              + " --out " + shared);
    CHECK(r.rc == 2);
}

TEST_CASE("the small shipped scenarios run (one epoch each)", "[app][cli]")
{
    for (const char* name : {"quickstart", "churn", "lossy-wireless"})
    {
        INFO(name);
        const std::string out = TempDir() + "/shipped-" + name;
        const Result r = Shell(SLSIM + " run " + SRC + "/scenarios/" + name + ".json --out " + out
                               + " --set training.epochs=1");
        CHECK(r.rc == 0);
        CHECK(PathExists(out + "/manifest.json"));
        CHECK(Lines(ReadTextFile(out + "/eval.csv")) >= 2);
    }
}

TEST_CASE("the analysis scripts turn a run and a sweep into plots", "[app][analysis]")
{
    if (Shell(SRC + "/scripts/python -c 'import matplotlib, pandas'").rc != 0)
    {
        WARN("no Python with matplotlib and pandas: analysis not tested");
        return;
    }
    const std::string run = TempDir() + "/plot-run";
    REQUIRE(Shell(SLSIM + " run " + TESTS + "/tiny-scenario.json --out " + run).rc == 0);
    Result r = Shell(SRC + "/scripts/python " + SRC + "/analysis/plot_run.py " + run);
    INFO(r.output);
    CHECK(r.rc == 0);
    for (const char* f : {"accuracy_vs_time.png", "accuracy_vs_bytes.png", "loss_vs_epoch.png",
                          "time_breakdown.png", "codec_error.png", "summary.md"})
    {
        CHECK(PathExists(run + "/plots/" + f));
    }
    const std::string sweep = TempDir() + "/plot-sweep";
    REQUIRE(Shell(SLSIM + " sweep " + TESTS + "/tiny-sweep.json --out " + sweep + " -j 2").rc == 0);
    r = Shell(SRC + "/scripts/python " + SRC + "/analysis/plot_sweep.py " + sweep);
    CHECK(r.rc == 0);
    for (const char* f : {"accuracy_vs_time.png", "accuracy_vs_bytes.png", "final_accuracy.png",
                          "codec_error.png", "table.md"})
    {
        CHECK(PathExists(sweep + "/plots/" + f));
    }
    const std::string table = ReadTextFile(sweep + "/plots/table.md");
    // one row per configuration: the two repetitions of a sparsity (their device links drawn
    // with different seeds) are one configuration
    size_t rows = 0;
    for (size_t at = table.find("\n| MS s="); at != std::string::npos;
         at = table.find("\n| MS s=", at + 1))
    {
        ++rows;
    }
    CHECK(table.find("| MS s=0.9 |") != std::string::npos);
    CHECK(rows == 4);
}

TEST_CASE("a point that fails at run time is reported and kept aside and retried", "[app][sweep]")
{
    const std::string dir = TempDir() + "/fail";
    RemoveTree(dir);
    MakeDirectories(dir + "/cifar");
    {
        // gzip CIFAR-10 batches of one record each pass validation (their labels are read only
        // when the files are decompressed), but one record has label 12: that point fails.
        for (const char* name : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                 "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"})
        {
            std::ofstream batch(dir + "/cifar/" + name, std::ios::binary);
            batch << static_cast<char>(std::string(name) == "data_batch_2.bin" ? 12 : 1)
                  << std::string(3072, '\0');
        }
        REQUIRE(Shell("gzip -n " + dir + "/cifar/*.bin").rc == 0);
        std::ofstream out(dir + "/sweep.json");
        out << R"({"base": {"name": "f", "model": {"name": "mlp", "hidden": [8], "threads": 1},
                   "dataset": {"path": ")"
            << dir << R"(/cifar"}, "training": {"epochs": 1}, "devices": {"count": 2}},
                   "grid": {"dataset.name": ["synthetic", "cifar10"]}})";
    }
    const std::string cmd = SLSIM + " sweep " + dir + "/sweep.json --out " + dir + "/out";
    Result r = Shell(cmd);
    CHECK(r.rc == 1);
    CHECK(r.output.find("FAILED") != std::string::npos);
    CHECK(ListDirectory(dir + "/out/points").size() == 1);
    const auto failed = ListDirectory(dir + "/out/failed");
    REQUIRE(failed.size() == 1);
    CHECK(ReadTextFile(dir + "/out/failed/" + failed[0] + "/run.log").find("has label 12")
          != std::string::npos);
    CHECK(!PathExists(dir + "/out/sweep.csv"));
    r = Shell(cmd); // retried, fails again; the complete point is not re-run
    CHECK(r.rc == 1);
    CHECK(r.output.find("1 already complete, running 1") != std::string::npos);
    r = Shell(cmd + " --combine-only");
    CHECK(r.rc == 1);
    CHECK(Lines(ReadTextFile(dir + "/out/sweep.csv")) == 2);
}

TEST_CASE("every subcommand answers --help with its usage and exit 0; unknown options exit 2",
          "[app][cli]")
{
    for (const char* cmd : {"run", "validate", "sweep", "probe", "codec", "schema"})
    {
        INFO(cmd);
        const Result help = Shell(SLSIM + " " + cmd + " --help");
        CHECK(help.rc == 0);
        CHECK(help.output.find("usage") != std::string::npos);
        CHECK(help.output.find(std::string("slsim ") + cmd) != std::string::npos);
        const Result bad = Shell(SLSIM + " " + cmd + " --no-such-option");
        CHECK(bad.rc == 2);
        CHECK(Lines(bad.output) == 1);
    }
}
