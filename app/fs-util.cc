#include "app/fs-util.h"

#include "common/atomic-file.h"
#include "common/error.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <unistd.h>

namespace slsim
{

namespace fs = std::filesystem;

void
MakeDirectories(const std::string& dir)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
    {
        throw InputError(dir + ": cannot create folder" + (ec ? ": " + ec.message() : ""));
    }
}

void
RemoveFileIfExists(const std::string& path)
{
    std::error_code ec;
    fs::remove(path, ec);
}

void
RemoveTree(const std::string& path)
{
    std::error_code ec;
    fs::remove_all(path, ec);
}

bool
PathExists(const std::string& path)
{
    std::error_code ec;
    return fs::exists(path, ec);
}

std::string
ReadTextFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
        throw InputError(path + ": cannot open file");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string>
ListDirectory(const std::string& dir)
{
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    {
        names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string
AbsolutePath(const std::string& path)
{
    std::error_code ec;
    fs::path p = fs::absolute(path, ec);
    return (ec ? fs::path(path) : p).lexically_normal().string();
}

namespace
{

/// Whether a name in a run folder is a result of the run (or a temporary of one).
bool
IsResultEntry(const std::string& name)
{
    const auto endsWith = [&](const std::string& suffix) {
        return name.size() >= suffix.size()
               && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return endsWith(".csv") || name.find(".csv.tmp") != std::string::npos || name == "manifest.json"
           || name.rfind("manifest.json.tmp", 0) == 0;
}

/// Whether the process `pid` (from a temporary's name) may still be writing it.
bool
ProcessAlive(const std::string& pid)
{
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos || pid.size() > 9)
    {
        return false;
    }
    const long n = std::stol(pid);
    return n == ::getpid() || ::kill(static_cast<pid_t>(n), 0) == 0 || errno != ESRCH;
}

} // namespace

StagedFolder::StagedFolder(const std::string& dir)
{
    fs::path p = fs::path(dir).lexically_normal();
    if (!p.has_filename()) // "out/" -> "out"
    {
        p = p.parent_path();
    }
    if (p.empty() || p == "." || p == ".." || p.filename() == "..")
    {
        throw InputError(dir
                         + ": not usable as an output folder (name a folder, e.g. results/run1)");
    }
    m_dir = p.string();
    const fs::path parent = p.parent_path();
    const std::string name = p.filename().string();
    const std::string prefix = "." + name + ".tmp-";
    if (!parent.empty())
    {
        MakeDirectories(parent.string());
    }
    const std::string parentDir = parent.empty() ? "." : parent.string();
    // Leftovers of killed runs into the same folder ("*-old" are replaced folders not yet removed).
    for (const auto& entry : ListDirectory(parentDir))
    {
        if (entry.rfind(prefix, 0) == 0)
        {
            std::string pid = entry.substr(prefix.size());
            const size_t dash = pid.find('-');
            if (!ProcessAlive(pid.substr(0, dash)))
            {
                RemoveTree((parent / entry).string());
            }
        }
    }
    m_tmp = (parent / (prefix + std::to_string(::getpid()))).string();
    RemoveTree(m_tmp);
    MakeDirectories(m_tmp);
}

StagedFolder::~StagedFolder()
{
    if (!m_committed)
    {
        RemoveTree(m_tmp);
    }
}

void
StagedFolder::Commit()
{
    std::error_code ec;
    if (fs::is_directory(m_dir, ec))
    {
        for (const auto& name : ListDirectory(m_dir))
        {
            const std::string from = m_dir + "/" + name;
            const std::string to = m_tmp + "/" + name;
            if (IsResultEntry(name) || PathExists(to))
            {
                continue;
            }
            // A hard link leaves the old folder whole until the exchange (an open log keeps
            // writing to the same file); a folder cannot be linked and is moved.
            if (::link(from.c_str(), to.c_str()) != 0)
            {
                fs::rename(from, to, ec);
            }
        }
        if (::renameat2(AT_FDCWD, m_tmp.c_str(), AT_FDCWD, m_dir.c_str(), RENAME_EXCHANGE) == 0)
        {
            m_committed = true;
            RemoveTree(m_tmp); // now the replaced folder
            return;
        }
        // No RENAME_EXCHANGE on this file system: move the old folder aside first (a kill
        // between the two renames leaves the folder absent, never mixed).
        const std::string old = m_tmp + "-old";
        if (std::rename(m_dir.c_str(), old.c_str()) != 0)
        {
            throw InputError(m_dir + ": cannot replace folder: " + std::strerror(errno));
        }
        if (std::rename(m_tmp.c_str(), m_dir.c_str()) != 0)
        {
            throw InputError(m_dir + ": cannot create folder: " + std::strerror(errno));
        }
        m_committed = true;
        RemoveTree(old);
        return;
    }
    if (std::rename(m_tmp.c_str(), m_dir.c_str()) != 0)
    {
        throw InputError(m_dir + ": cannot create folder: " + std::strerror(errno));
    }
    m_committed = true;
}

} // namespace slsim
