// A scratch folder per test case for tests/common (std::filesystem only: common/ links nothing).
#ifndef SLSIM_TESTS_COMMON_SCRATCH_DIR_H
#define SLSIM_TESTS_COMMON_SCRATCH_DIR_H

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace slsim::test
{

class ScratchDir
{
  public:
    explicit ScratchDir(const std::string& name)
        : m_dir(std::filesystem::temp_directory_path()
                / ("slsim-common-" + std::to_string(::getpid()) + "-" + name))
    {
        std::filesystem::remove_all(m_dir);
        std::filesystem::create_directories(m_dir);
    }

    ~ScratchDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(m_dir, ec);
    }

    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    std::string File(const std::string& name) const
    {
        return (m_dir / name).string();
    }

    /// Names in the folder, sorted.
    std::vector<std::string> Names() const
    {
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(m_dir))
        {
            names.push_back(e.path().filename().string());
        }
        std::sort(names.begin(), names.end());
        return names;
    }

    static std::string Read(const std::string& path)
    {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }

  private:
    std::filesystem::path m_dir;
};

} // namespace slsim::test

#endif
