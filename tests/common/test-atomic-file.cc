// The atomic-file writer: a file appears whole or not at all, and a failure leaves neither a
// partial file nor a temporary sibling behind.
#include "common/atomic-file.h"
#include "common/csv-writer.h"
#include "common/error.h"
#include "scratch-dir.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <sys/resource.h>

using namespace slsim;
using slsim::test::ScratchDir;

TEST_CASE("WriteFileAtomic writes and replaces whole files", "[common][atomic-file]")
{
    ScratchDir dir("atomic-write");
    const std::string path = dir.File("a.json");
    WriteFileAtomic(path, "first\n");
    CHECK(ScratchDir::Read(path) == "first\n");
    std::string big(200000, 'x'); // more than the writer's buffer
    big[123456] = 'y';
    WriteFileAtomic(path, big);
    CHECK(ScratchDir::Read(path) == big);
    CHECK(dir.Names() == std::vector<std::string>{"a.json"}); // no temporary sibling left
}

TEST_CASE("AtomicFile: nothing visible before Commit, nothing left when abandoned",
          "[common][atomic-file]")
{
    ScratchDir dir("atomic-abandon");
    const std::string path = dir.File("r.csv");
    WriteFileAtomic(path, "old\n");
    {
        AtomicFile f(path);
        f.Write("new, half-");
        CHECK(f.TemporaryPath().rfind(path + ".tmp.", 0) == 0); // a sibling in the same folder
        CHECK(ScratchDir::Read(path) == "old\n");               // readers still see the old file
        // destroyed without Commit(): as if the run had failed
    }
    CHECK(ScratchDir::Read(path) == "old\n");
    CHECK(dir.Names() == std::vector<std::string>{"r.csv"});

    {
        CsvWriter w(dir.File("c.csv"), {"a"});
        w.Add(1);
        w.EndRow();
    }
    CHECK(dir.Names() == std::vector<std::string>{"r.csv"}); // no c.csv, no temporary
}

TEST_CASE("AtomicFile: two writers of one path each leave a whole file", "[common][atomic-file]")
{
    ScratchDir dir("atomic-two");
    const std::string path = dir.File("s.csv");
    AtomicFile a(path);
    AtomicFile b(path);
    CHECK(a.TemporaryPath() != b.TemporaryPath());
    a.Write("from a\n");
    b.Write("from b\n");
    b.Commit();
    CHECK(ScratchDir::Read(path) == "from b\n");
    a.Commit(); // the last rename wins
    CHECK(ScratchDir::Read(path) == "from a\n");
    CHECK(dir.Names() == std::vector<std::string>{"s.csv"});
}

TEST_CASE("AtomicFile failures name the file and leave no partial file", "[common][atomic-file]")
{
    ScratchDir dir("atomic-fail");
    CHECK_THROWS_WITH(
        WriteFileAtomic(dir.File("missing/x.csv"), "x"),
        Catch::Matchers::StartsWith(dir.File("missing/x.csv") + ": cannot open for writing ("));
    // The rename fails when the target is a non-empty folder: the folder stays, the temporary
    // file goes.
    const std::string target = dir.File("taken");
    std::filesystem::create_directories(target + "/inside");
    AtomicFile f(target);
    f.Write("data");
    CHECK_THROWS_WITH(f.Commit(), Catch::Matchers::StartsWith(
                                      target + ": cannot rename the temporary file into place ("));
    CHECK(std::filesystem::is_directory(target));
    CHECK(dir.Names() == std::vector<std::string>{"taken"});
    CHECK_THROWS_AS(WriteFileAtomic(target, "x"), InputError);
    CHECK(dir.Names() == std::vector<std::string>{"taken"});
}

TEST_CASE("AtomicFile: a write the disk refuses leaves neither a partial file nor a temporary",
          "[common][atomic-file]")
{
    // A file-size limit makes write(2) fail with EFBIG part-way, as a full disk would (SIGXFSZ
    // ignored so that the process survives it); both are restored before any CHECK.
    ScratchDir dir("atomic-efbig");
    const std::string path = dir.File("big.csv");
    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = old;
    small.rlim_cur = 1000;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string message;
    try
    {
        WriteFileAtomic(path, std::string(100000, 'x'));
    }
    catch (const InputError& e)
    {
        message = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, oldHandler);
    CHECK(message == path + ": write failed (" + std::strerror(EFBIG) + ")");
    CHECK(dir.Names().empty());
}
