#include "app/fs-util.h"
#include "app/sweep.h"
#include "common/atomic-file.h"
#include "common/csv-reader.h"
#include "common/error.h"

#include <algorithm>
#include <map>

namespace slsim
{

namespace
{

std::string
CsvField(const std::string& s)
{
    if (s.find_first_of(",\"\n\r") == std::string::npos)
    {
        return s;
    }
    std::string q = "\"";
    for (char ch : s)
    {
        q += ch;
        if (ch == '"')
        {
            q += '"';
        }
    }
    return q + "\"";
}

} // namespace

std::string
PointsDir(const std::string& outDir)
{
    return outDir + "/points";
}

bool
PointComplete(const std::string& outDir, const SweepPoint& p)
{
    return PathExists(PointsDir(outDir) + "/" + p.id + "/summary.csv");
}

size_t
CombineSweep(const Sweep& sweep, const std::string& outDir)
{
    std::vector<std::string> columns{"point"};
    for (const auto& a : sweep.axes)
    {
        columns.push_back(a.column);
    }
    columns.push_back("repetition");
    columns.push_back("seed");
    const size_t fixed = columns.size();
    std::vector<std::map<std::string, std::string>> rows;
    size_t missing = 0;
    for (const auto& p : sweep.points)
    {
        if (!PointComplete(outDir, p))
        {
            ++missing;
            continue;
        }
        const std::string file = PointsDir(outDir) + "/" + p.id + "/summary.csv";
        const std::vector<CsvRow> csv = ReadCsvFile(file);
        if (csv.size() < 2 || csv[0].fields.size() != csv[1].fields.size())
        {
            throw InputError(file + ": expected a header and one row");
        }
        const std::vector<std::string>& header = csv[0].fields;
        const std::vector<std::string>& values = csv[1].fields;
        std::map<std::string, std::string> row;
        row["point"] = p.id;
        for (size_t k = 0; k < sweep.axes.size(); ++k)
        {
            row[sweep.axes[k].column] = p.values[k];
        }
        row["repetition"] = std::to_string(p.repetition);
        row["seed"] = std::to_string(p.seed);
        for (size_t c = 0; c < header.size(); ++c)
        {
            const std::string& name = header[c];
            if (std::find(columns.begin(), columns.begin() + static_cast<long>(fixed), name)
                != columns.begin() + static_cast<long>(fixed))
            {
                continue; // a grid column or the seed again: ours is authoritative
            }
            if (std::find(columns.begin(), columns.end(), name) == columns.end())
            {
                columns.push_back(name);
            }
            row[name] = values[c];
        }
        rows.push_back(std::move(row));
    }
    std::string out;
    for (size_t c = 0; c < columns.size(); ++c)
    {
        out += (c ? "," : "") + CsvField(columns[c]);
    }
    out += "\n";
    for (const auto& row : rows)
    {
        for (size_t c = 0; c < columns.size(); ++c)
        {
            auto it = row.find(columns[c]);
            out += (c ? "," : "") + CsvField(it == row.end() ? "" : it->second);
        }
        out += "\n";
    }
    WriteFileAtomic(outDir + "/sweep.csv", out);
    return missing;
}

} // namespace slsim
