#include "app/fs-util.h"

#include "common/atomic-file.h"
#include "common/error.h"

#include <algorithm>
#include <cstdio>
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

void
WriteFileAtomicShared(const std::string& path, const std::string& content)
{
    WriteFileAtomic(path, content);
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

} // namespace slsim
