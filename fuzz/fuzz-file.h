// Shared by the file-reader targets: the input goes to a file in a private scratch folder (the
// readers take paths), and every exception but InputError is a finding.
#ifndef SLSIM_FUZZ_FUZZ_FILE_H
#define SLSIM_FUZZ_FUZZ_FILE_H

#include "common/error.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace slsim
{

/// This process's scratch folder ($TMPDIR or /tmp, slsim-fuzz-<pid>), made on first use.
inline const std::string&
FuzzDir()
{
    // Never destroyed: the atexit handler that removes the folder runs after static destructors.
    static const std::string* dir = [] {
        const char* t = std::getenv("TMPDIR");
        auto* d = new std::string(std::string(t && *t ? t : "/tmp") + "/slsim-fuzz-"
                                  + std::to_string(static_cast<long>(getpid())));
        std::filesystem::create_directories(*d);
        std::atexit([] { std::filesystem::remove_all(FuzzDir()); });
        return d;
    }();
    return *dir;
}

/// Writes bytes to FuzzDir()/name and returns the path.
inline std::string
WriteFuzzFile(const std::string& name, const uint8_t* data, size_t size)
{
    const std::string path = FuzzDir() + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out)
    {
        std::abort();
    }
    return path;
}

/// Splits an input holding two files: a 2-byte little-endian length of the first, then the two.
inline void
SplitTwo(const uint8_t* data, size_t size, std::string& first, std::string& second)
{
    size_t n = size >= 2 ? (size_t{data[0]} | size_t{data[1]} << 8) : 0;
    const size_t rest = size >= 2 ? size - 2 : 0;
    n = n < rest ? n : rest;
    const char* p = reinterpret_cast<const char*>(data) + (size >= 2 ? 2 : size);
    first.assign(p, n);
    second.assign(p + n, rest - n);
}

/// Writes text to FuzzDir()/name and returns the path.
inline std::string
WriteFuzzFile(const std::string& name, const std::string& text)
{
    return WriteFuzzFile(name, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

/// Runs f; an InputError is the expected refusal, anything else aborts (a finding).
template <class F>
void
ExpectInputErrorOnly(F f)
{
    try
    {
        f();
    }
    catch (const InputError& e)
    {
        // One line, as every refusal promises.
        if (std::string(e.what()).find('\n') != std::string::npos)
        {
            std::fprintf(stderr, "multi-line InputError: %s\n", e.what());
            std::abort();
        }
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "not an InputError: %s\n", e.what());
        std::abort();
    }
}

} // namespace slsim

#endif
