#include "app/arguments.h"
#include "app/commands.h"
#include "app/fs-util.h"
#include "app/scenario-loader.h"
#include "app/sweep.h"
#include "common/atomic-file.h"
#include "common/csv-reader.h"
#include "common/csv-writer.h"
#include "common/error.h"
#include "common/rng.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <iostream>
#include <map>
#include <signal.h>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace slsim
{

namespace
{

std::string
DurationText(double s)
{
    if (!(s >= 0) || s > 1e7)
    {
        return "?";
    }
    const long t = static_cast<long>(s + 0.5);
    char buf[32];
    if (t >= 3600)
    {
        std::snprintf(buf, sizeof(buf), "%ldh%02ldm", t / 3600, (t / 60) % 60);
    }
    else if (t >= 60)
    {
        std::snprintf(buf, sizeof(buf), "%ldm%02lds", t / 60, t % 60);
    }
    else
    {
        std::snprintf(buf, sizeof(buf), "%lds", t);
    }
    return buf;
}

std::string
LastLine(const std::string& file)
{
    std::string text;
    try
    {
        text = ReadTextFile(file);
    }
    catch (const InputError&)
    {
        return "(no log)";
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    {
        text.pop_back();
    }
    const size_t nl = text.find_last_of('\n');
    return nl == std::string::npos ? text : text.substr(nl + 1);
}

std::string
SelfExecutable()
{
    char buf[4096];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0)
    {
        throw InputError("sweep: cannot find the slsim executable (/proc/self/exe)");
    }
    return std::string(buf, static_cast<size_t>(n));
}

/// Starts `exe run <dir>/scenario.json --out <dir> --quiet` with output in <dir>/run.log; the
/// child dies with this process (PR_SET_PDEATHSIG), so a killed sweep leaves no runner behind.
pid_t
StartRun(const std::string& exe, const std::string& dir)
{
    const std::string scenario = dir + "/scenario.json";
    const std::string log = dir + "/run.log";
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0)
    {
        throw std::runtime_error("sweep: fork failed");
    }
    if (pid == 0)
    {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)
        {
            ::_exit(1);
        }
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
        {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            ::close(fd);
        }
        const char* argv[]
            = {exe.c_str(), "run", scenario.c_str(), "--out", dir.c_str(), "--quiet", nullptr};
        ::execv(exe.c_str(), const_cast<char* const*>(argv));
        ::_exit(127);
    }
    return pid;
}

struct SweepArgs
{
    std::string file;
    std::string out;
    int jobs = 1;
    bool combineOnly = false;
    std::vector<std::string> overrides;
};

SweepArgs
ParseSweepArgs(const std::vector<std::string>& args)
{
    SweepArgs a;
    Arguments("sweep")
        .Positional("SWEEP.json", a.file)
        .Value("out", a.out)
        .Count("jobs,j", a.jobs)
        .List("set", a.overrides)
        .Flag("combine-only", a.combineOnly)
        .Parse(args);
    if (a.out.empty())
    {
        throw InputError("sweep: missing --out DIR");
    }
    return a;
}

/// Progress on stderr: a bar redrawn in place on a terminal, one line per event otherwise.
class Progress
{
  public:
    Progress(size_t total, size_t done, std::string prefix)
        : m_total(total),
          m_done(done),
          m_startDone(done),
          m_prefix(std::move(prefix)),
          m_tty(::isatty(2) != 0),
          m_start(std::chrono::steady_clock::now())
    {
    }

    void PointDone(const SweepPoint& p, bool ok, double seconds, const std::string& why,
                   size_t running)
    {
        ++m_done;
        const double elapsed
            = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
        const size_t finished = m_done - m_startDone;
        const double eta = static_cast<double>(m_total - m_done) * elapsed
                           / static_cast<double>(std::max<size_t>(finished, 1));
        if (m_tty)
        {
            if (!ok)
            {
                std::cerr << "\r\033[K" << m_prefix << p.id << " FAILED: " << why << "\n";
            }
            const int width = 30;
            const int filled = static_cast<int>(width * m_done / std::max<size_t>(m_total, 1));
            std::cerr << "\r\033[K" << m_prefix << "[" << std::string(filled, '#')
                      << std::string(width - filled, '.') << "] " << m_done << "/" << m_total
                      << " points, " << running << " running, ETA " << DurationText(eta)
                      << std::flush;
            if (m_done == m_total)
            {
                std::cerr << "\n";
            }
        }
        else
        {
            std::cerr << m_prefix << "[" << m_done << "/" << m_total << "] " << p.id
                      << (ok ? " done in " + FormatDouble(std::round(seconds * 10) / 10) + " s"
                             : " FAILED: " + why)
                      << ", ETA " << DurationText(eta) << "\n";
        }
    }

    void Finish()
    {
        if (m_tty && m_done < m_total)
        {
            std::cerr << "\n";
        }
    }

  private:
    size_t m_total, m_done, m_startDone;
    std::string m_prefix;
    bool m_tty;
    std::chrono::steady_clock::time_point m_start;
};

} // namespace

void
MpiRankFromEnvironment(int& rank, int& size)
{
    rank = 0;
    size = 1;
    for (const auto& [r, s] :
         {std::pair<const char*, const char*>{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
          std::pair<const char*, const char*>{"PMI_RANK", "PMI_SIZE"}})
    {
        const char* rv = std::getenv(r);
        const char* sv = std::getenv(s);
        if (!rv || !sv)
        {
            continue;
        }
        char* end1 = nullptr;
        char* end2 = nullptr;
        const long ri = std::strtol(rv, &end1, 10);
        const long si = std::strtol(sv, &end2, 10);
        if (*rv == '\0' || *end1 != '\0' || *sv == '\0' || *end2 != '\0' || si < 1 || ri < 0
            || ri >= si || si > 1000000)
        {
            throw InputError(std::string("sweep: bad MPI environment ") + r + "=" + rv + " " + s
                             + "=" + sv);
        }
        rank = static_cast<int>(ri);
        size = static_cast<int>(si);
        return;
    }
}

namespace
{

/// The configurations a sweep left out as duplicates, on stderr (at most 10 named).
void
ReportDuplicates(const Sweep& sweep, const std::string& prefix)
{
    if (sweep.duplicates.empty())
    {
        return;
    }
    std::cerr << prefix << sweep.duplicates.size()
              << " duplicate configuration(s) left out (they resolve to the same scenario as an "
                 "earlier one; listed in sweep-points.json):\n";
    for (size_t i = 0; i < sweep.duplicates.size() && i < 10; ++i)
    {
        std::cerr << "  " << sweep.duplicates[i] << "\n";
    }
    if (sweep.duplicates.size() > 10)
    {
        std::cerr << "  ... and " << sweep.duplicates.size() - 10 << " more\n";
    }
}

} // namespace

int
SweepCommand(const std::vector<std::string>& args)
{
    const SweepArgs a = ParseSweepArgs(args);
    const Sweep sweep = LoadSweep(a.file, a.overrides);
    MakeDirectories(a.out);
    MakeDirectories(PointsDir(a.out));
    if (a.combineOnly)
    {
        const size_t missing = CombineSweep(sweep, a.out);
        std::cerr << "slsim sweep: " << a.out << "/sweep.csv: " << sweep.points.size() - missing
                  << " of " << sweep.points.size() << " points"
                  << (missing ? " (" + std::to_string(missing) + " missing)" : std::string())
                  << "\n";
        return missing ? 1 : 0;
    }
    int rank = 0, ranks = 1;
    MpiRankFromEnvironment(rank, ranks);
    const std::string prefix = ranks > 1 ? "slsim sweep [rank " + std::to_string(rank) + "/"
                                               + std::to_string(ranks) + "]: "
                                         : "slsim sweep: ";

    std::vector<const SweepPoint*> mine, todo;
    for (const auto& p : sweep.points)
    {
        if (p.index % static_cast<size_t>(ranks) == static_cast<size_t>(rank))
        {
            mine.push_back(&p);
        }
    }
    // Leftovers of an interrupted attempt at our points (their runners died with that sweep).
    const std::vector<std::string> entries = ListDirectory(a.out);
    for (const SweepPoint* p : mine)
    {
        for (const auto& name : entries)
        {
            // ".tmp-ID-PID" is the point's folder, "..tmp-ID-PID.tmp-PID2" its run's staging.
            if (name.rfind(".tmp-" + p->id + "-", 0) == 0
                || name.rfind("..tmp-" + p->id + "-", 0) == 0)
            {
                RemoveTree(a.out + "/" + name);
            }
        }
        if (!PointComplete(a.out, *p))
        {
            todo.push_back(p);
        }
    }
    if (rank == 0)
    {
        Json record
            = {{"sweep_file", a.file}, {"overrides", a.overrides}, {"points", Json::array()}};
        for (const auto& p : sweep.points)
        {
            Json values = Json::object();
            for (size_t k = 0; k < sweep.axes.size(); ++k)
            {
                values[sweep.axes[k].column] = p.values[k];
            }
            record["points"].push_back(
                {{"id", p.id}, {"values", values}, {"repetition", p.repetition}, {"seed", p.seed}});
        }
        record["duplicates_removed"] = sweep.duplicates;
        WriteFileAtomic(a.out + "/sweep-points.json", record.dump(2) + "\n");
    }
    ReportDuplicates(sweep, prefix);
    std::cerr << prefix << sweep.points.size() << " points, " << mine.size()
              << " for this process, " << mine.size() - todo.size() << " already complete, running "
              << todo.size() << " with -j " << a.jobs << "\n";

    const std::string exe = SelfExecutable();
    // The runs side by side share this process's CPUs: their default thread count (model.threads
    // 0) is the CPUs divided by SLSIM_CONCURRENT_RUNS (models/split-model.h DefaultThreadCount).
    const size_t concurrent = std::max<size_t>(1, std::min(todo.size(), size_t(a.jobs)));
    ::setenv("SLSIM_CONCURRENT_RUNS", std::to_string(concurrent).c_str(), 1);
    Progress progress(mine.size(), mine.size() - todo.size(), prefix);

    struct Running
    {
        const SweepPoint* point;
        std::string dir;
        std::chrono::steady_clock::time_point start;
    };

    std::map<pid_t, Running> running;
    size_t next = 0, failed = 0;
    while (next < todo.size() || !running.empty())
    {
        while (next < todo.size() && running.size() < static_cast<size_t>(a.jobs))
        {
            const SweepPoint& p = *todo[next++];
            const std::string dir = a.out + "/.tmp-" + p.id + "-" + std::to_string(::getpid());
            RemoveTree(dir);
            MakeDirectories(dir);
            WriteFileAtomic(dir + "/scenario.json", p.scenario.dump(2) + "\n");
            Json info = {{"id", p.id},
                         {"index", p.index},
                         {"repetition", p.repetition},
                         {"seed", p.seed},
                         {"values", Json::object()}};
            for (size_t k = 0; k < sweep.axes.size(); ++k)
            {
                info["values"][sweep.axes[k].column] = p.values[k];
            }
            WriteFileAtomic(dir + "/point.json", info.dump(2) + "\n");
            running[StartRun(exe, dir)] = {&p, dir, std::chrono::steady_clock::now()};
        }
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, 0);
        if (pid < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            throw std::runtime_error("sweep: waitpid failed");
        }
        auto it = running.find(pid);
        if (it == running.end())
        {
            continue;
        }
        const Running job = it->second;
        running.erase(it);
        const double seconds
            = std::chrono::duration<double>(std::chrono::steady_clock::now() - job.start).count();
        const bool ok
            = WIFEXITED(status) && WEXITSTATUS(status) == 0 && PathExists(job.dir + "/summary.csv");
        std::string why;
        if (ok)
        {
            const std::string final = PointsDir(a.out) + "/" + job.point->id;
            // The run saw its temporary folder; the manifest names where the point's scenario
            // stays, and the sweep it came from.
            const std::string manifest = job.dir + "/manifest.json";
            Json m = ReadJsonFile(manifest);
            m["scenario_file"] = final + "/scenario.json";
            m["sweep_file"] = a.file;
            WriteFileAtomic(manifest, m.dump(2) + "\n");
            if (std::rename(job.dir.c_str(), final.c_str()) != 0)
            {
                RemoveTree(job.dir); // completed meanwhile by another process: keep that one
            }
        }
        else
        {
            why = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                      : "exit " + std::to_string(WEXITSTATUS(status));
            why += ": " + LastLine(job.dir + "/run.log");
            MakeDirectories(a.out + "/failed");
            const std::string dest = a.out + "/failed/" + job.point->id;
            RemoveTree(dest);
            if (std::rename(job.dir.c_str(), dest.c_str()) != 0)
            {
                RemoveTree(job.dir);
            }
            ++failed;
        }
        // The next point starts right after this report: count it as running.
        progress.PointDone(
            *job.point, ok, seconds, why,
            std::min(running.size() + (todo.size() - next), static_cast<size_t>(a.jobs)));
    }
    progress.Finish();

    // Whoever sees every point complete writes the combined CSV: the last process to finish a
    // point always does (it checks after its own final rename).
    size_t complete = 0;
    for (const auto& p : sweep.points)
    {
        complete += PointComplete(a.out, p) ? 1 : 0;
    }
    if (complete == sweep.points.size())
    {
        CombineSweep(sweep, a.out);
        std::cerr << prefix << "all " << complete << " points complete -> " << a.out
                  << "/sweep.csv\n";
    }
    else if (failed == 0)
    {
        std::cerr << prefix << "this process's points are complete; " << complete << " of "
                  << sweep.points.size()
                  << " overall (the last rank to finish writes sweep.csv, or run with "
                     "--combine-only)\n";
    }
    if (failed > 0)
    {
        std::cerr << prefix << failed << " point(s) failed; logs in " << a.out
                  << "/failed/; re-run to retry them\n";
        return 1;
    }
    return 0;
}

} // namespace slsim
