// Reading a run's output folder in the sim tests: files, CSV rows by column name, scratch folders.
#ifndef SLSIM_TESTS_SIM_RUN_OUTPUT_H
#define SLSIM_TESTS_SIM_RUN_OUTPUT_H

#include "common/error.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace slsim
{

inline std::string
Slurp(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// The fields of one CSV line (no quoting in these files), empty ones included.
inline std::vector<std::string>
SplitCsvLine(const std::string& line)
{
    std::vector<std::string> fields(1);
    for (const char ch : line)
    {
        if (ch == ',')
        {
            fields.emplace_back();
        }
        else
        {
            fields.back() += ch;
        }
    }
    return fields;
}

/// Rows of a CSV file as column -> cell.
inline std::vector<std::map<std::string, std::string>>
ReadCsv(const std::string& path)
{
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    const std::vector<std::string> cols = SplitCsvLine(line);
    std::vector<std::map<std::string, std::string>> rows;
    while (std::getline(in, line))
    {
        const std::vector<std::string> cells = SplitCsvLine(line);
        std::map<std::string, std::string> row;
        for (size_t i = 0; i < cells.size(); ++i)
        {
            row[cols.at(i)] = cells[i];
        }
        rows.push_back(row);
    }
    return rows;
}

/// Writes `text` to a scratch file named after `name`; returns its path.
inline std::string
WriteTempFile(const std::string& name, const std::string& text)
{
    const auto path = std::filesystem::temp_directory_path() / ("slsim-test-" + name);
    std::ofstream(path) << text;
    return path.string();
}

/// The message of the InputError `f` throws ("" when it throws none).
inline std::string
InputErrorOf(const std::function<void()>& f)
{
    try
    {
        f();
    }
    catch (const InputError& e)
    {
        return e.what();
    }
    return "";
}

inline std::string
TempDir(const std::string& name)
{
    auto dir = std::filesystem::temp_directory_path() / ("slsim-test-" + name);
    std::filesystem::remove_all(dir);
    return dir.string();
}

} // namespace slsim

#endif
