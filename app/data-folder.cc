#include "app/data-folder.h"

#include "app/fs-util.h"
#include "app/json-reader.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace slsim
{

namespace
{

/// The repository slsim was built in: the executable's folder's parent when it holds
/// scripts/fetch-data (build/slsim); "" otherwise (an installed or copied binary).
std::string
Repository()
{
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec)
    {
        return "";
    }
    const std::filesystem::path root = exe.parent_path().parent_path();
    return std::filesystem::exists(root / "scripts" / "fetch-data", ec) ? root.string() : "";
}

} // namespace

std::string
FindDataFolder(const std::string& name, const std::string& path)
{
    if (!path.empty())
    {
        if (!PathExists(path))
        {
            Fail("dataset.path", "folder " + AbsolutePath(path)
                                     + " not found (dataset.path is "
                                       "relative to the working directory)");
        }
        return path;
    }
    std::vector<std::string> searched;
    const char* env = std::getenv("SLSIM_DATA_DIR");
    const std::string repo = Repository();
    if (env && *env)
    {
        searched.push_back(std::string(env) + "/" + name);
    }
    else
    {
        searched.push_back("data/" + name);
        if (!repo.empty())
        {
            searched.push_back(repo + "/data/" + name);
        }
    }
    std::string list;
    for (const auto& folder : searched)
    {
        if (PathExists(folder))
        {
            return folder;
        }
        const std::string shown = AbsolutePath(folder);
        if (list.find(shown) == std::string::npos)
        {
            list += (list.empty() ? "" : ", ") + shown;
        }
    }
    const std::string command = (env && *env ? "SLSIM_DATA_DIR=" + std::string(env) + " " : "")
                                + "scripts/fetch-data " + name;
    const std::string fetch = repo.empty() ? command + " in the slsim repository"
                                           : "(cd " + repo + " && " + command + ")";
    Fail("dataset.path", "no " + name + " folder (searched " + list + "); fetch it with " + fetch
                             + (env && *env ? "" : ", or set SLSIM_DATA_DIR or dataset.path"));
}

} // namespace slsim
